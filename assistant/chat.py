"""Conversations: answering a question from the documents, with history, citations and refusals."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Callable
from dataclasses import asdict

from .generation import GenerationRequest, GenerationStats, Generator
from .prompts import build_prompt, extract_citations, source_label
from .retrieval import RRF_K
from .types import Answer, Hit

NOT_COVERED = "Your documents do not seem to cover this, so I will not answer from general knowledge."
_REFUSAL = re.compile(r"\b(documents? (do|does) not (say|mention|contain|cover)|do not (know|have enough)|"
                      r"don't (know|have enough)|no information|not (mentioned|stated) in)", re.IGNORECASE)

TokenFn = Callable[[str], None]


def merge_hits(lists: list[list[Hit]], k: int) -> list[Hit]:
    """Fuse several result lists by reciprocal rank; a chunk keeps its best-scoring appearance."""
    score: dict[int, float] = {}
    best: dict[int, Hit] = {}
    for hits in lists:
        for rank, h in enumerate(hits, 1):
            score[h.chunk_id] = score.get(h.chunk_id, 0.0) + 1.0 / (RRF_K + rank)
            if h.chunk_id not in best or (h.cosine or 0) > (best[h.chunk_id].cosine or 0):
                best[h.chunk_id] = h
    order = sorted(score, key=lambda cid: -score[cid])
    return [best[cid] for cid in order[:k]]


def not_covered_text(hits: list[Hit]) -> str:
    if not hits:
        return NOT_COVERED + " Nothing is indexed that comes close."
    lines = [NOT_COVERED, "", "The closest passages, none of them about your question:", ""]
    lines += [f"- [{i}] {source_label(h)}" for i, h in enumerate(hits, 1)]
    return "\n".join(lines)


def generate_answer(
    generator: Generator, question: str, hits: list[Hit], history: list[tuple[str, str]], chat_id: str, *,
    answer_tokens: int, temperature: float, seed: int, on_token: TokenFn | None = None,
    cancel: threading.Event | None = None,
) -> Answer:
    """Answer from relevant hits, or refuse without generating when none is relevant."""
    relevant = [h for h in hits if h.relevant]
    if not relevant:
        text = not_covered_text(hits)
        if on_token:
            on_token(text)
        return Answer(text, False, hits, [], chat_id, asdict(GenerationStats()))
    prompt = build_prompt(generator, question, relevant, history, answer_tokens)
    stats = GenerationStats()
    request = GenerationRequest(prompt.messages, answer_tokens, temperature, seed, cancel or threading.Event())
    pieces = []
    for piece in generator.stream(request, stats):
        pieces.append(piece)
        if on_token:
            on_token(piece)
    raw = "".join(pieces)
    answer, cited = extract_citations(raw, len(prompt.sources))
    grounded = bool(answer) and not _REFUSAL.search(answer)
    data = asdict(stats) | {"dropped_sources": prompt.dropped_sources, "dropped_turns": prompt.dropped_turns}
    return Answer(answer, grounded, prompt.sources, cited, chat_id, data)


def sources_json(answer: Answer) -> str:
    return json.dumps({"sources": [h.to_dict() for h in answer.sources], "citations": answer.citations})
