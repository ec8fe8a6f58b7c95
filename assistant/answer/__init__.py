"""Answer: evidence -> prompt -> generate -> verify -> cite (chat.answer_question drives it)."""
