"""The relevance gate, calibrated to the library it runs on.

How close a passage must be to count as being about a question depends on the library: a small library
scores every question lower, and natural questions reuse fewer of the passage's words than reading-test
questions do. So the threshold is not one global constant. A fixed set of generic probe questions, about
everyday topics no particular library is about, is searched against this library; the threshold is put
just above the 90th percentile of their best relevance. A few probes do hit a library on their topic
(on the PEPs, "How do I tie a tie?" finds tie-breaking rules and "How many time zones does Russia have?"
the time-zone PEP), which is why it is a percentile and not the maximum.

The result is kept in the index (meta table) with the chunk count it was computed at, and computed again
when the library has grown or shrunk by more than RECALIBRATE_CHANGE.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

PERCENTILE = 90.0
MARGIN = 0.03  # above the percentile, so a question has to beat the probes clearly
FLOOR, CEILING = 0.30, 0.62  # the threshold stays within these, whatever the probes score
# ...unless the library's embedding model scores every pair of texts higher: multilingual-e5-small's cosines lie
# between ~0.7 (unrelated) and ~0.95. On XQuAD's German articles a ceiling of 0.85 let through all German
# questions and 89% of English ones, and held back 60% of the probes and 40% of off-topic German questions (0.90:
# 99%, 83%, 71%, 40%; 0.80: 100%, 96%, 56%, 5%; docs/benchmarks/languages.md).
RANGES = {"multilingual-e5-small": (0.75, 0.85)}
RECALIBRATE_CHANGE = 0.2  # share of chunks added or removed since the last calibration
VERSION = 1  # bump when the probes or the formula change, so stored thresholds are recomputed
GATE_META = "gate_calibration"  # meta key the calibration is kept under

PROBES = tuple(line.strip() for line in """
What currency is used in Switzerland?
How many players are on a soccer team?
What is the best way to cook rice?
What is the most visited museum in the world?
How cold is it at the South Pole?
What time does the sun set in winter?
How do I lose weight quickly?
What is a good name for a cat?
Who won the last football world cup?
How do you make pancakes from scratch?
What is the boiling point of water?
How many time zones does Russia have?
How long do dogs live?
What should I wear to a wedding?
How do I unclog a bathroom sink?
What is the population of Brazil?
How many plays did Shakespeare write?
How many calories are in a banana?
What is the speed of light?
Where do penguins live?
How do I grow tomatoes on a balcony?
What is the tallest building in the world?
How does a microwave oven heat food?
When was the Eiffel Tower built?
What is the chemical symbol for gold?
How do I iron a linen shirt?
Which ocean is the largest?
How many bones are in the human body?
What is the plot of the movie Titanic?
How can I stop snoring?
What language is spoken in Brazil?
Who invented the telephone?
What is the recipe for chocolate chip cookies?
How far away is the Moon?
What are the symptoms of the flu?
Why do cats purr?
What is the rarest blood type?
Who is the fastest runner in history?
What causes thunderstorms?
What is the offside rule in ice hockey?
What is the price of gold today?
Which country has the most islands?
How do bees make honey?
What are the rules of chess?
How much water should I drink a day?
Who was the first person on the Moon?
What is the best time to visit Japan?
How do I change a car tyre?
Why is the sky blue?
What is the largest desert on Earth?
How many strings does a violin have?
What do koalas eat?
What is the best way to store coffee beans?
Who discovered penicillin?
What is the deepest lake in the world?
How can I improve my singing voice?
What is the meaning of the word serendipity?
How many hearts does an octopus have?
Which band sang Bohemian Rhapsody?
How do I plant a rose bush?
What are the lyrics of happy birthday?
How do I make a paper airplane?
What is the national animal of Scotland?
How do I get rid of ants in the kitchen?
Who won the Nobel Peace Prize last year?
What is the difference between a frog and a toad?
How do airplanes stay in the air?
How many push-ups should I do a day?
Where is the Great Barrier Reef?
How many legs does a spider have?
What temperature should a fridge be?
Who composed the Four Seasons?
How do I whiten my teeth?
What is the longest river in Africa?
How do I tie a tie?
What is the main ingredient of guacamole?
Which animal is the largest mammal?
How does a rainbow form?
What is the favourite food of pandas?
How do I learn to juggle?
""".strip().splitlines())


@dataclass(frozen=True)
class Calibration:
    threshold: float
    chunks: int  # library size it was computed at
    probe_p50: float
    probe_high: float  # the probes' PERCENTILE-th percentile
    version: int = VERSION
    params: str = ""  # the relevance settings it was computed with (coverage weight, stem length)

    def to_json(self) -> str:
        return json.dumps(self.__dict__)

    @classmethod
    def from_json(cls, text: str | None) -> Calibration | None:
        try:
            data = json.loads(text or "")
            cal = cls(**data)
        except (ValueError, TypeError):
            return None
        return cal if cal.version == VERSION else None

    def stale(self, chunks: int, params: str = "") -> bool:
        """True when the library changed enough since this calibration to compute it again, or the relevance
        is now computed with other settings."""
        return (abs(chunks - self.chunks) > RECALIBRATE_CHANGE * max(self.chunks, 1)
                or (chunks > 0) != (self.chunks > 0) or params != self.params)


def calibrate(best_relevance: Callable[[list[str]], list[float]], chunks: int, params: str = "",
              floor: float = FLOOR, ceiling: float = CEILING) -> Calibration:
    """Compute the threshold from the probes' best relevance against this library.

    Args:
        best_relevance: given the probe questions, the relevance of each one's best passage.
        chunks: the library's chunk count now.
        params: the relevance settings it is computed with (a changed setting makes it stale).
        floor, ceiling: the range the threshold stays within (the embedding model's: RANGES).
    """
    if chunks == 0:
        return Calibration(ceiling, chunks, 0.0, 0.0, params=params)
    scores = np.asarray(best_relevance(list(PROBES)), dtype=np.float64)
    high = float(np.percentile(scores, PERCENTILE))
    threshold = min(ceiling, max(floor, high + MARGIN))
    return Calibration(round(threshold, 4), chunks, round(float(np.median(scores)), 4), round(high, 4), params=params)


class Gate:
    """The relevance gate of one library, as one process keeps it: the calibration stored in the index (or, in a
    process that cannot write the index, in memory), computed again when missing, stale or forced."""

    def __init__(self, readonly: bool = False) -> None:
        self.readonly = readonly
        self._kept: Calibration | None = None  # a read-only process's own calibration
        self._seen: tuple[Any, Calibration] | None = None  # (what it was checked against, it)

    def threshold(self, store: Any, setting: str | float, params: str, probe: Callable[[list[str]], list[float]]
                  ) -> float:
        """The relevance a passage needs: the setting when it is a number, else this library's calibration."""
        if setting != "auto":
            return float(setting)
        return self.calibration(store, params, probe).threshold

    def calibration(self, store: Any, params: str, probe: Callable[[list[str]], list[float]],
                    force: bool = False) -> Calibration:
        """This library's calibration; `probe` gives the probes' best relevance (calibrate's best_relevance),
        `params` the relevance settings it is computed with."""
        model = store.meta("embedding_model") or ""
        floor, ceiling = RANGES.get(model, (FLOOR, CEILING))
        if model in RANGES:
            params = f"{params} range={floor},{ceiling}"
        epoch = (store.vector_epoch(), store.meta(GATE_META), params)
        if not force and self._seen is not None and self._seen[0] == epoch:
            return self._seen[1]  # no vector changed since the last look: counting is not needed
        chunks = store.counts()["chunks"]
        cal = Calibration.from_json(store.meta(GATE_META))
        if cal is not None and not force and not cal.stale(chunks, params):
            self._seen = (epoch, cal)
            return cal
        if self.readonly:  # this process cannot keep it in the index: it keeps it in memory
            if self._kept is None or force or self._kept.stale(chunks, params):
                self._kept = calibrate(probe, chunks, params, floor, ceiling)
            return self._kept
        old = cal
        cal = calibrate(probe, chunks, params, floor, ceiling)
        try:
            with store.transaction():
                store.set_meta(GATE_META, cal.to_json())
                if old is None or old.threshold != cal.threshold:
                    store.clear_answer_cache()  # which passages count as relevant has changed
        except Exception:  # a busy index still answers; the next writer keeps it
            pass
        return cal
