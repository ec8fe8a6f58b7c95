"""Measuring retrieval quality on a question set: hit@1, hit@k, MRR, the relevance gate and latency.

The question file is JSON Lines: {"question": str, "answers": [str, ...], "source": str (optional)}.
A question is a hit at rank r when the r-th passage contains one of its answers (case-insensitive).
Questions with no answers (off-topic sets) count only towards `relevant_rate`.
"""

from __future__ import annotations

import json
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import AssistantError


@dataclass(frozen=True)
class Question:
    question: str
    answers: tuple[str, ...]
    source: str | None = None


def load_questions(path: Path) -> list[Question]:
    """Read a JSONL question file.

    Raises:
        AssistantError: the file is missing or a line is not a valid question object.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise AssistantError(f"cannot read the question file {path}: {exc.strerror or exc}") from exc
    out = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
            q = obj["question"]
            answers = obj.get("answers", [])
            if not isinstance(q, str) or not isinstance(answers, list):
                raise TypeError("'question' must be a string and 'answers' a list")
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise AssistantError(f"{path}, line {number}: not a question object ({exc}); expected "
                                 '{"question": "...", "answers": ["..."]}') from exc
        out.append(Question(q, tuple(str(a) for a in answers), obj.get("source")))
    if not out:
        raise AssistantError(f"{path} holds no questions")
    return out


def _percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def evaluate(
    assistant: Any, questions: list[Question], k: int = 5, mode: str = "hybrid",
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Run every question through search and score the results.

    Latency covers retrieval only (the questions are embedded together beforehand), which is the part
    that grows with the library.
    """
    vectors = assistant.embedder.embed([q.question for q in questions])
    ranks: list[int | None] = []
    relevant = 0
    latencies = []
    for i, (q, vec) in enumerate(zip(questions, vectors, strict=True)):
        t0 = time.perf_counter()
        hits = assistant.search_vector(q.question, vec, k=k, mode=mode)
        latencies.append((time.perf_counter() - t0) * 1000)
        if hits and hits[0].relevant:
            relevant += 1
        if q.answers:
            answers = [a.lower() for a in q.answers if a.strip()]
            rank = next((r for r, h in enumerate(hits, 1) if any(a in h.text.lower() for a in answers)), None)
            ranks.append(rank)
        if progress:
            progress(i + 1, len(questions))
    n = len(ranks)
    return {
        "questions": len(questions),
        "hit@1": round(sum(r == 1 for r in ranks) / n, 4) if n else None,
        "hit@k": round(sum(r is not None for r in ranks) / n, 4) if n else None,
        "k": k,
        "mrr": round(sum(1 / r for r in ranks if r) / n, 4) if n else None,
        "relevant_rate": round(relevant / len(questions), 4),
        "latency_ms_p50": round(statistics.median(latencies), 2),
        "latency_ms_p95": round(_percentile(latencies, 95), 2),
        "mode": mode,
    }


def evaluate_answers(
    assistant: Any, questions: list[Question], k: int = 5, limit: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Generate an answer for each question (with answers) and report how often it contains a gold
    answer (case-insensitive) and how often the assistant refused (not grounded)."""
    chosen = [q for q in questions if q.answers][: limit or None]
    contains = refused = 0
    times = []
    for i, q in enumerate(chosen, 1):
        t0 = time.perf_counter()
        ans = assistant.ask(q.question, k=k, save=False)
        times.append(time.perf_counter() - t0)
        if not ans.grounded:
            refused += 1
        if any(a.lower() in ans.answer.lower() for a in q.answers if a.strip()):
            contains += 1
        if progress:
            progress(i, len(chosen))
    n = max(1, len(chosen))
    return {
        "answers_evaluated": len(chosen),
        "answer_contains_gold": round(contains / n, 4),
        "refusal_rate": round(refused / n, 4),
        "answer_s_p50": round(statistics.median(times), 2) if times else None,
    }
