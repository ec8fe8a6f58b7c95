"""Hybrid search: FTS5 (BM25) and sqlite-vec (cosine) candidates, fused, diversified and gated.

- Any user text is a valid query: words are extracted and quoted, so FTS5 syntax never reaches SQLite.
- The vector stage is an exact scan of an in-process copy of the vectors (see vectors.py).
- Fusion is reciprocal rank fusion (RRF, k=60); `bench/` and the README compare it with each mode alone.
- Duplicate chunks and chunks adjacent to a better hit of the same document are moved behind the others,
  so one document cannot fill the top k with neighbouring passages.
- Every hit carries `relevant`: its cosine similarity to the question is at least the calibrated
  `relevance_threshold` (see README), so callers can tell "here are the passages" from "nothing here".
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

import numpy as np

from .errors import EmptyQueryError
from .store import Store
from .types import Hit
from .vectors import VectorIndex

RRF_K = 60
MODES = ("hybrid", "bm25", "dense")

_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves""".split()
)


@dataclass(frozen=True)
class Filters:
    """Restrict a search to part of the library."""

    paths: tuple[str, ...] = ()  # glob patterns (or plain folders) on the absolute path
    types: tuple[str, ...] = ()  # file extensions, with or without the dot

    def __bool__(self) -> bool:
        return bool(self.paths or self.types)

    def globs(self) -> list[str]:
        """Path patterns as SQLite GLOBs over absolute paths."""
        out = []
        for p in self.paths:
            p = os.path.expanduser(p)
            if not any(ch in p for ch in "*?["):
                out.append(os.path.abspath(p).rstrip(os.sep) + "*")  # a plain folder or file: a prefix
            elif os.path.isabs(p) or p.startswith("*"):
                out.append(p)
            else:
                out.append("*" + os.sep + p)
        return out

    def extensions(self) -> list[str]:
        return ["." + t.lower().lstrip(".") for t in self.types]


def fts_query(text: str) -> str | None:
    """A safe FTS5 MATCH expression for free text: its words, quoted, OR-ed; stop words dropped when
    other words remain. None when the text has no words at all."""
    words = [w.lower() for w in _WORD.findall(text)]
    content = [w for w in words if w not in STOPWORDS]
    chosen = list(dict.fromkeys(content or words))
    if not chosen:
        return None
    return " OR ".join(f'"{w}"' for w in chosen)


@dataclass
class Candidate:
    chunk_id: int
    cosine: float | None = None
    vector_rank: int | None = None
    bm25_rank: int | None = None
    fused: float = 0.0
    extra: dict[str, object] = field(default_factory=dict)


class Retriever:
    """Runs one search mode over a Store."""

    def __init__(self, store: Store, vectors: VectorIndex, relevance_threshold: float, pool: int = 50) -> None:
        self.store = store
        self.vectors = vectors
        self.threshold = relevance_threshold
        self.pool = pool

    def search(
        self, query: str, vector: np.ndarray, k: int, mode: str = "hybrid", filters: Filters | None = None
    ) -> list[Hit]:
        """Search with an already embedded query (the vector is needed for scoring in every mode).

        Raises:
            EmptyQueryError: the query is empty or whitespace.
            ValueError: unknown mode.
        """
        if not query or not query.strip():
            raise EmptyQueryError("the query is empty; type some words to search for")
        if mode not in MODES:
            raise ValueError(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
        filters = filters or Filters()
        globs, exts = filters.globs(), filters.extensions()
        pool = max(self.pool, 4 * k)
        cands: dict[int, Candidate] = {}
        if mode in ("hybrid", "dense"):
            self.vectors.sync(self.store)
            allowed = self.store.allowed_chunk_ids(globs, exts)
            for rank, (cid, cos) in enumerate(self.vectors.search(vector, pool, allowed), start=1):
                cands[cid] = Candidate(cid, cosine=cos, vector_rank=rank)
        if mode in ("hybrid", "bm25"):
            match = fts_query(query)
            if match:
                for rank, (cid, _score) in enumerate(self.store.keyword_search(match, pool, globs, exts), start=1):
                    cands.setdefault(cid, Candidate(cid)).bm25_rank = rank
        if not cands:
            return []
        missing = [c.chunk_id for c in cands.values() if c.cosine is None]
        for cid, cos in self.store.cosines(missing, vector).items():
            cands[cid].cosine = cos
        for c in cands.values():
            c.fused = sum(1.0 / (RRF_K + r) for r in (c.vector_rank, c.bm25_rank) if r is not None)
        ranked = sorted(cands.values(), key=lambda c: (-c.fused, -(c.cosine or 0.0)))
        rows = self.store.chunk_rows([c.chunk_id for c in ranked])
        ranked = _diversify([c for c in ranked if c.chunk_id in rows], rows, k)
        hits = []
        for c in ranked[:k]:
            r = rows[c.chunk_id]
            cos = float(c.cosine or 0.0)
            score = {"hybrid": c.fused, "dense": cos, "bm25": 1.0 / (RRF_K + (c.bm25_rank or 0))}[mode]
            hits.append(Hit(
                r["path"], c.chunk_id, round(score, 6), r["text"], r["heading"], r["page"], r["start_line"], r["end_line"],
                relevant=cos >= self.threshold, cosine=round(cos, 4),
                bm25_rank=c.bm25_rank, vector_rank=c.vector_rank,
            ))
        return hits


def _diversify(ranked: list[Candidate], rows: dict[int, dict[str, object]], k: int) -> list[Candidate]:
    """Keep the order, but move exact duplicates and neighbours of an already chosen chunk of the same
    document behind everything else."""
    chosen: list[Candidate] = []
    later: list[Candidate] = []
    seen_text: set[str] = set()
    taken: set[tuple[object, int]] = set()
    for c in ranked:
        r = rows[c.chunk_id]
        text = str(r["text"])
        pos = int(r["position"])  # type: ignore[call-overload]
        doc = r["document_id"]
        if text in seen_text or (doc, pos - 1) in taken or (doc, pos + 1) in taken:
            later.append(c)
            continue
        chosen.append(c)
        seen_text.add(text)
        taken.add((doc, pos))
    return chosen + later
