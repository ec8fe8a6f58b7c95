"""Deterministic filler for benchmarks."""

from __future__ import annotations

import random

WORDS = ("index chunk vector folder watcher answer source model token passage document query library "
         "sqlite embedding search citation context window offline private file").split()


def sentence(rng: random.Random) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 14))).capitalize() + "."


def long_history(turns: int) -> list[tuple[str, str]]:
    rng = random.Random(11)
    return [(" ".join(sentence(rng) for _ in range(2)), " ".join(sentence(rng) for _ in range(8)))
            for _ in range(turns)]
