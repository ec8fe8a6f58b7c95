"""A scripted generator for TUI tests where exact output or timing matters (layout, cancel, snapshots).
Feature tests of answering use the real model (tests/integration/test_answers.py and the app tests)."""

from __future__ import annotations

import time
from collections.abc import Iterator

from assistant.answer.generation import GenerationRequest, GenerationStats


class ScriptedGenerator:
    model_id = "scripted"
    n_ctx = 4096

    def __init__(self, text: str = "The lighthouse was built by Margaret Hale [1].", delay: float = 0.0) -> None:
        self.text = text
        self.delay = delay

    def count_tokens(self, text: str) -> int:
        return max(1, len(text) // 4)

    def render(self, messages: list[dict[str, str]]) -> str:
        return "\n".join(m["content"] for m in messages)

    def stream(self, request: GenerationRequest, stats: GenerationStats) -> Iterator[str]:
        stats.stopped = "eos"
        for n, word in enumerate(self.text.split(" "), 1):
            if request.cancel.is_set():
                stats.stopped = "cancelled"
                return
            if n > request.max_tokens:  # one word stands for one token
                stats.stopped = "length"
                return
            stats.completion_tokens = n
            yield word + " "
            if self.delay:
                time.sleep(self.delay)
