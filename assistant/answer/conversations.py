"""Conversations: the questions and answers kept in the index file, read back, rated and exported.

An answer is stored with what checking it needs later (its sources, evidence, checks and direct answer:
chat.sources_json), so a conversation read back is the answers as they were given, citations and all.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.answer.chat import answer_from_json
from assistant.answer.export import FORMATS, export_json, export_markdown
from assistant.errors import AssistantError
from assistant.store.protocol import LibraryStore
from assistant.types import ChatSummary, Hit, Turn


class Conversations:
    """The conversations of one index (`store`: this thread's connection)."""

    def __init__(self, store: Callable[[], LibraryStore]) -> None:
        self._store = store

    def history(self, chat_id: str) -> list[tuple[str, str]]:
        """(question, answer text) of each answered question of a conversation, oldest first."""
        return [(q["content"], a["content"]) for q, a in _exchanges(self._store().chat_messages(chat_id)) if a]

    def listing(self) -> list[dict[str, Any]]:
        """The conversations, most recent first, as plain dicts (see summaries for typed ones)."""
        return self._store().list_chats()

    def summaries(self) -> list[ChatSummary]:
        """The conversations, most recent first."""
        return [ChatSummary(**c) for c in self._store().list_chats()]

    def messages(self, chat_id: str) -> list[dict[str, Any]]:
        """The stored messages of a conversation as plain dicts (role, content, grounded, sources JSON)."""
        return self._store().chat_messages(chat_id)

    def turns(self, chat_id: str) -> list[Turn]:
        """A conversation's exchanges, oldest first, each answer rebuilt with its sources and evidence.

        Raises:
            AssistantError: there is no conversation with this id.
        """
        if self._store().chat(chat_id) is None:
            raise AssistantError(f"no conversation with id {chat_id!r}; `assistant chats` lists them")
        return [Turn(q["content"], answer_from_json(a["content"], bool(a["grounded"]), a["sources"], chat_id)
                     if a else None, float(q["created_at"] or 0))
                for q, a in _exchanges(self._store().chat_messages(chat_id))]

    def export(self, chat_id: str, fmt: str = "md") -> str:
        """A conversation as Markdown (questions, answers, citations as footnotes with path and lines) or
        JSON (everything, sources and checks included).

        Raises:
            AssistantError: no such conversation, or an unknown format.
        """
        if fmt not in FORMATS:
            raise AssistantError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
        turns = self.turns(chat_id)
        summary = ChatSummary(**self._store().chat(chat_id), turns=len(turns))  # chat_turns checked it exists
        return export_markdown(summary, turns) if fmt == "md" else export_json(summary, turns)

    def rate(self, chat_id: str, rating: str, turn: int | None = None, note: str | None = None) -> dict[str, Any]:
        """Rate an answer of a conversation up or down (its `turn`, 1-based; default: the last answer),
        with an optional note. Rating it again replaces the rating.

        Raises:
            AssistantError: an unknown rating, no such conversation, or no such answer in it.
        """
        if rating not in ("up", "down"):
            raise AssistantError(f"a rating is up or down, not {rating!r}")
        if self._store().chat(chat_id) is None:
            raise AssistantError(f"no conversation with id {chat_id!r}; `assistant chats` lists them")
        done = self._store().rate_answer(chat_id, turn, 1 if rating == "up" else -1, note or None)
        if done is None:
            raise AssistantError(f"conversation {chat_id} has no answer {turn}" if turn else
                                 f"conversation {chat_id} has no answer to rate yet")
        return {"chat_id": chat_id, "turn": done["turn"], "rating": rating, "note": note or None}

    def feedback(self) -> list[dict[str, Any]]:
        """Every rated answer, newest first: chat_id, turn, rating (up/down), note, question, answer, and
        the sources it cited (path, location, heading, text)."""
        out = []
        for r in self._store().feedback():
            answer = answer_from_json(r["answer"], False, r["sources"], r["chat_id"])
            cited = [answer.sources[i - 1] for i in answer.citations if 0 < i <= len(answer.sources)] \
                or answer.sources
            out.append({"chat_id": r["chat_id"], "turn": r["turn"], "rating": "up" if r["rating"] > 0 else "down",
                        "note": r["note"], "question": r["question"], "answer": r["answer"],
                        "cited": [{"path": h.path, "location": h.location, "heading": h.heading, "text": h.text}
                                  for h in cited], "rated_at": r["created_at"]})
        return out

    def rename(self, chat_id: str, title: str) -> bool:
        return self._store().rename_chat(chat_id, title)

    def delete(self, chat_id: str) -> bool:
        return self._store().delete_chat(chat_id)

    def cited_source(self, chat_id: str, n: int, turn: int | None = None) -> tuple[Hit, list[str]]:
        """Source `n` (1-based) of a conversation's answer (`turn`, 1-based; default the last answered),
        and the sentences of it the answer quoted.

        Raises:
            AssistantError: no such conversation, answer or source.
        """
        answered = [(i, t) for i, t in enumerate(self.turns(chat_id), 1) if t.answer is not None]
        if not answered:
            raise AssistantError(f"conversation {chat_id} has no answer yet")
        if turn is not None:
            answered = [(i, t) for i, t in answered if i == turn]
            if not answered:
                raise AssistantError(f"conversation {chat_id} has no answer {turn}")
        _, last = answered[-1]
        answer = last.answer
        assert answer is not None
        if not 1 <= n <= len(answer.sources):
            raise AssistantError(f"that answer has {len(answer.sources)} source(s), not a source {n}")
        return answer.sources[n - 1], [e.text for e in answer.evidence if e.source == n]


def _exchanges(messages: list[dict[str, Any]]) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
    """Each question of a conversation with the answer stored right after it (None when there is none:
    the process ended before the answer)."""
    out: list[tuple[dict[str, Any], dict[str, Any] | None]] = []
    for m in messages:
        if m["role"] == "user":
            out.append((m, None))
        elif out and out[-1][1] is None:
            out[-1] = (out[-1][0], m)
    return out
