"""Hybrid search: FTS5 (BM25) and sqlite-vec (cosine) candidates, fused, diversified and gated.

- Any user text is a valid query: words are extracted and quoted, so FTS5 syntax never reaches SQLite.
- The vector stage scans an int8 in-process copy of the vectors, memory-mapped (see vectors.py).
- Fusion is linear: 0.75 x cosine + 0.25 x BM25 / the query's best BM25 (README: measured against
  reciprocal rank fusion and each mode alone; RRF is kept as `fusion="rrf"`).
- Duplicate chunks go last; chunks adjacent to a better hit of the same document are moved behind the
  others while a relevant passage of another document waits, so neighbours cannot crowd it out.
- A chunk still waiting for its vector (its document is being indexed) is found by keywords alone: its
  score is its BM25 share and its cosine None.
- Every hit carries `relevance` = cosine similarity + 0.5 x the share of the question's content words
  found in the passage, and `relevant` = relevance >= the calibrated `relevance_threshold` (0.58; see
  README), so callers can tell "here are the passages" from "nothing in the library is about this".
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant import language
from assistant.config import SearchSettings
from assistant.errors import AssistantError, EmptyQueryError
from assistant.store.protocol import LibraryStore, VectorSearch
from assistant.text import STOPWORDS, Coverage, content_words, stem
from assistant.types import DocumentHit, Hit

RRF_K = 60
COMMON_SHARE, COMMON_MIN = 0.01, 2000
# Words in more than this share of the chunks (and more than this many) still count towards a passage's
# BM25, but a passage holding none of the question's rarer words is not scored at all: at 1M chunks the
# keyword stage's p50 went from 13-16 to 6-8 ms and hit@1 from 0.754 to 0.767 (its pool was filling with
# passages that share only such words with the question); NFCorpus and 30k chunks unchanged (README "Scale").
FREQUENT_SHARE, FREQUENT_MIN = 0.001, 1000
MODES = ("hybrid", "bm25", "dense")
LIBRARY_LANGUAGE = 0.1  # a language this share of the library is in: a question is also read in it
CROSS_LINGUAL = frozenset({"multilingual-e5-small"})  # embedding models trained to match meaning across languages
DOCUMENT_POOL = 4  # candidate passages per list for each document asked for
# Chunks from which a hybrid search runs FTS5 in a thread beside the vector scan (SQLite and ONNX Runtime
# both let go of the GIL): at 1M chunks the two stages took 47 ms one after the other, 36 ms side by
# side, on 2 cores (README "Scale"); below this the keyword search takes a millisecond or two.
PARALLEL_MIN = 100_000
FEEDBACK_DOCUMENTS = 3  # documents whose best passage moves the query
FEEDBACK_WEIGHT = 0.5  # how far (Rocchio's beta, the query's own weight being 1)
# Document support (the setting document_support; _supported): the documents that can be lifted, and how many
# of the nearest of them each one reads.
SUPPORT_DOCUMENTS = 200
SUPPORT_NEIGHBOURS = 5
SUPPORT_LIKENESS = 0.3  # a neighbour counts by how far its cosine to the document is above this

@dataclass(frozen=True)
class Filters:
    """Restrict a search to part of the library."""

    paths: tuple[str, ...] = ()  # glob patterns (or plain folders) on the absolute path
    types: tuple[str, ...] = ()  # file extensions, with or without the dot
    files: tuple[str, ...] = ()  # documents' exact paths as the index holds them (and what is inside them)

    def __bool__(self) -> bool:
        return bool(self.paths or self.types or self.files)

    def globs(self) -> list[str]:
        """Path patterns as SQLite GLOBs over absolute paths."""
        out = []
        for p in self.paths:
            p = os.path.expanduser(p)
            if not any(ch in p for ch in "*?["):
                # A plain path names a file (and what is inside it: a mail's attachments, an archive's members)
                # or a folder and what is under it; "report.xls" is not a prefix of "report.xlsx".
                base = os.path.abspath(p).rstrip(os.sep) or os.sep
                out += [base, base.rstrip(os.sep) + os.sep + "*"]
            elif os.path.isabs(p) or p.startswith("*"):
                out.append(p)
            else:
                out.append("*" + os.sep + p)
        return out

    def extensions(self) -> list[str]:
        return ["." + t.lower().lstrip(".") for t in self.types]


def fts_query(text: str, common: Collection[str] = (), languages: Sequence[str] = ("en",)) -> str | None:
    """A safe FTS5 MATCH expression for free text: its content words, and each pair of adjacent content
    words as a phrase (chunks holding the exact phrase rank higher), quoted and OR-ed, as the keyword index
    holds them in each of `languages` (language.analyze: an English word as it is, another language's as its
    stem, Chinese as character pairs; the first is the question's own, whose stop words every reading leaves
    out). Stop words are left out: their posting lists cover nearly every chunk
    and would make every query slow. So are the `common` words (see common_words), and phrases made only of
    them. None when the text has no words.
    """
    terms: list[str] = []
    pairs: list[str] = []
    for toks, stop, content in _readings(text, languages):
        terms += [f'"{f}"' for f in content if f not in common]
        pairs += [f'"{fa} {fb}"' for (a, fa), (b, fb) in zip(toks, toks[1:], strict=False)
                  if a not in stop and b not in stop and not (fa in common and fb in common)]
    return " OR ".join(dict.fromkeys(terms + pairs)) or None


def keyword_forms(text: str, languages: Sequence[str] = ("en",)) -> list[str]:
    """The forms of a text's content words fts_query looks for (for common_words)."""
    return list(dict.fromkeys(f for _, _, content in _readings(text, languages) for f in content))


def _readings(text: str, languages: Sequence[str]
              ) -> list[tuple[tuple[tuple[str, str], ...], frozenset[str], list[str]]]:
    """Each language's reading of a text: its (word, form) pairs (language.analyze), the stop words it leaves
    out (English's, the first language's and its own), and the forms of its content words (all of them when
    the text holds only stop words)."""
    out = []
    for lang in languages:
        toks = language.analyze(text, lang)
        stop = STOPWORDS | language.stopwords(languages[0]) | language.stopwords(lang)
        out.append((toks, stop, [f for w, f in toks if w not in stop] or [f for _, f in toks]))
    return out


def common_words(
    words: list[str], frequencies: Callable[[list[str]], dict[str, int]], chunks: int,
    share: float = COMMON_SHARE, minimum: int = COMMON_MIN,
) -> set[str]:
    """The words found in more than `share` of the chunks (and more than `minimum` chunks): with the
    defaults, the words left out of the keyword search, since in a large library their posting lists cost
    it most of its time (at 1M chunks, p50 72 ms with them, 15 ms without) while BM25 gives them little
    weight. The two rarest words are always kept."""
    cap = max(minimum, share * chunks)
    if chunks <= cap:
        return set()
    counts = frequencies(list(dict.fromkeys(words)))
    common = {w for w, n in counts.items() if n > cap}
    for w in sorted(counts, key=counts.__getitem__)[:2]:
        common.discard(w)
    return common


@dataclass
class Candidate:
    chunk_id: int
    cosine: float | None = None
    vector_rank: int | None = None
    bm25_rank: int | None = None
    bm25: float = 0.0  # FTS5 bm25() negated: higher is better, 0 when not a keyword match
    fused: float = 0.0
    relevance: float = 0.0
    feedback: float | None = None  # cosine to the query moved toward the first pass's best passages


class Retriever:
    """Runs one search mode over a store (the local index or the team index: store/protocol.py)."""

    def __init__(self, store: LibraryStore, vectors: VectorSearch, relevance_threshold: float,
                 settings: SearchSettings | None = None) -> None:
        settings = settings or SearchSettings()
        self.support = settings.document_support
        self.feedback = settings.query_feedback
        self.coverage_weight = settings.coverage_weight
        self.stem_length = settings.stem_length
        self.fusion = settings.fusion
        self.weight = settings.fusion_weight
        self.store = store
        self.vectors = vectors
        self.threshold = relevance_threshold
        self.pool = settings.pool

    def search(
        self, query: str, vector: np.ndarray, k: int, mode: str = "hybrid", filters: Filters | None = None
    ) -> list[Hit]:
        """Search with an already embedded query (the vector is needed for scoring in every mode).

        Raises:
            EmptyQueryError: the query is empty or whitespace.
            ValueError: unknown mode.
        """
        feedback = FEEDBACK_DOCUMENTS if self.feedback == "always" else 0
        ranked, rows = self._ranked(query, vector, max(self.pool, 4 * k), mode, filters, feedback)
        ranked = _diversify(ranked, rows, self.threshold)
        return [self._hit(c, rows[c.chunk_id], mode) for c in ranked[:k]]

    def search_documents(
        self, query: str, vector: np.ndarray, k: int, mode: str = "hybrid", filters: Filters | None = None
    ) -> list[DocumentHit]:
        """The k documents that best match the query, best first, each with its best passage, ranked by it
        (adding the support of a document's other passages was measured and lost: README "Search quality"),
        lifted toward the documents most like it when they rank higher (document support; _supported).

        Raises:
            EmptyQueryError: the query is empty or whitespace.
            ValueError: unknown mode.
        """
        feedback = 0 if self.feedback == "off" else FEEDBACK_DOCUMENTS
        ranked, rows = self._ranked(query, vector, max(self.pool, DOCUMENT_POOL * k), mode, filters, feedback)
        by_doc: dict[object, list[Candidate]] = {}
        for c in ranked:
            by_doc.setdefault(rows[c.chunk_id]["document_id"], []).append(c)
        docs = list(by_doc.values())
        scores = [cands[0].fused for cands in docs]
        if self.support and mode != "bm25":
            scores = self._supported(docs, scores)
        order = sorted(range(len(docs)), key=lambda i: -scores[i])[:k]  # stable: ties keep the passages' order
        return [DocumentHit(rows[docs[i][0].chunk_id]["path"], round(scores[i], 6), len(docs[i]),
                            self._hit(docs[i][0], rows[docs[i][0].chunk_id], mode))
                for i in order]

    def _supported(self, docs: list[list[Candidate]], scores: list[float]) -> list[float]:
        """The documents' scores, each of the first SUPPORT_DOCUMENTS lifted toward its SUPPORT_NEIGHBOURS
        nearest among them when those score higher: + support x (their scores' mean, weighted by
        similarity, - its own), never lowered. Documents about the same thing tend to be relevant together
        (the cluster hypothesis; Diaz 2005, "Regularizing ad hoc retrieval scores"), so one that a question
        words differently still rises with its neighbours. A document is read as the mean of its candidate
        passages' vectors. README "Search quality": on NFCorpus nDCG@10 0.377 -> 0.382 (dev and train
        splits +0.004-0.005), Recall@100 0.351 -> 0.363; the right PEP for 79 questions that one PEP answers
        first as often as without; lowering documents too cost 2-5 of those first places."""
        top = docs[:SUPPORT_DOCUMENTS]
        found = self.vectors.vectors([c.chunk_id for cands in top for c in cands])
        kept, means = [], []
        for i, cands in enumerate(top):
            vs = [found[c.chunk_id] for c in cands if c.chunk_id in found]  # none while being indexed
            if vs:
                mean = np.mean(vs, axis=0)
                kept.append(i)
                means.append(mean / (np.linalg.norm(mean) or 1.0))
        if len(kept) < 2:
            return scores
        vecs = np.stack(means)
        sims = vecs @ vecs.T
        np.fill_diagonal(sims, -np.inf)
        m = min(SUPPORT_NEIGHBOURS, len(kept) - 1)
        near = np.argpartition(-sims, m - 1, axis=1)[:, :m]
        weights = (np.take_along_axis(sims, near, axis=1) - SUPPORT_LIKENESS).clip(min=0.0)
        own = np.array([scores[i] for i in kept])
        total = weights.sum(axis=1)
        theirs = np.where(total > 0, (weights * own[near]).sum(axis=1) / np.where(total > 0, total, 1.0), own)
        lifted = own + self.support * np.maximum(theirs - own, 0.0)
        out = list(scores)
        for j, i in enumerate(kept):
            out[i] = float(lifted[j])
        return out

    def _ranked(
        self, query: str, vector: np.ndarray, pool: int, mode: str, filters: Filters | None, feedback: int = 0
    ) -> tuple[list[Candidate], dict[int, dict[str, Any]]]:
        """The candidates of both lists, fused and sorted best first, with their rows and relevance; with
        feedback, the meaning search is run again with the query moved toward the best passages of that
        many top documents (pseudo-relevance feedback)."""
        if not query or not query.strip():
            raise EmptyQueryError("the query is empty; type some words to search for")
        if mode not in MODES:
            raise AssistantError(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
        filters = filters or Filters()
        globs, exts, files = filters.globs(), filters.extensions(), filters.files
        cands: dict[int, Candidate] = {}
        self.vectors.sync(self.store)
        span, match, scored = 0, None, None
        shares = self.store.language_shares() if mode != "dense" else {}  # what each language holds of the library
        if mode in ("hybrid", "bm25"):
            span = self.store.chunk_id_span()
            main = [lang for lang, share in shares.items() if share >= LIBRARY_LANGUAGE]
            langs = language.question_languages(query, main)
            words = keyword_forms(query, langs)

            def frequencies(ws: list[str]) -> dict[str, int]:
                return self.store.keyword_frequencies(ws, span)

            common = common_words(words, frequencies, span)
            match = fts_query(query, common, langs)
            frequent = common_words(words, frequencies, span, FREQUENT_SHARE, FREQUENT_MIN) - common
            scored = fts_query(query, common | frequent, langs) if match and frequent else None
        allowed = self.store.allowed_chunk_ids(globs, exts, files) if mode in ("hybrid", "dense") else None
        keywords: Future[list[tuple[int, float]]] | None = None
        if match and mode == "hybrid" and span >= PARALLEL_MIN:  # FTS5 in a thread while the vectors are scanned
            keywords = _keyword_thread().submit(self.store.keyword_search, match, pool, globs, exts, scored, files)
        if mode in ("hybrid", "dense"):
            try:
                found = self.vectors.search(vector, pool, allowed)
            except BaseException:
                if keywords:
                    keywords.exception()  # wait: the connection is the thread's until it is done; raise our error
                raise
            for rank, (cid, cos) in enumerate(found, start=1):
                cands[cid] = Candidate(cid, cosine=cos, vector_rank=rank)
        if match:
            hits = keywords.result() if keywords else self.store.keyword_search(match, pool, globs, exts, scored, files)
            for rank, (cid, score) in enumerate(hits, start=1):
                c = cands.setdefault(cid, Candidate(cid))
                c.bm25_rank, c.bm25 = rank, -score
        if not cands:
            return [], {}
        weight = self._weight(query, shares) if mode == "hybrid" else self.weight
        ranked, rows = self._fused(cands, vector, mode, weight=weight)
        if feedback > 0 and mode in ("hybrid", "dense"):
            moved = self._moved_query(vector, ranked, rows, feedback)
            if moved is not None:
                for rank, (cid, _) in enumerate(self.vectors.search(moved, pool, allowed), start=1):
                    cands.setdefault(cid, Candidate(cid, vector_rank=rank))
                for cid, cos in self.vectors.cosines(list(cands), moved).items():
                    cands[cid].feedback = cos
                ranked, rows = self._fused(cands, vector, mode, rows, weight)
        stop = language.stopwords(language.detect(query))  # a German question's "der", "wie": not its content
        words = [w for w in content_words(query) if w not in stop] or content_words(query)
        covered = Coverage({stem(w, self.stem_length) for w in words}, self.stem_length)
        for c in ranked:
            r = rows[c.chunk_id]
            c.relevance = (c.cosine or 0.0) + self.coverage_weight * covered(f"{r['heading'] or ''} {r['text']}")
        return ranked, rows

    def _weight(self, query: str, shares: dict[str, float]) -> float:
        """The cosine's weight in the fusion for this question. With an embedder that matches meaning across
        languages (CROSS_LINGUAL), keywords count by the share of the library written in the question's
        language: an English question over German documents shares only names and numbers with them, and on
        XQuAD those matches put the wrong passage first (English questions over the German articles: hit@1
        0.67 with keywords at their usual weight, 0.86 without; docs/benchmarks/languages.md)."""
        if not shares or self.store.meta("embedding_model") not in CROSS_LINGUAL:
            return self.weight
        return 1.0 - (1.0 - self.weight) * shares.get(language.detect(query), 0.0)

    def _fused(
        self, cands: dict[int, Candidate], vector: np.ndarray, mode: str, rows: dict[int, dict[str, Any]] | None = None,
        weight: float | None = None,
    ) -> tuple[list[Candidate], dict[int, dict[str, Any]]]:
        """Every candidate's cosine (to the question itself), fused score and row, best first; the rows
        already read (by a first pass) are not read again."""
        missing = [c.chunk_id for c in cands.values() if c.cosine is None]
        for cid, cos in self.vectors.cosines(missing, vector).items():
            cands[cid].cosine = cos
        fuse(list(cands.values()), {"hybrid": self.fusion, "bm25": "bm25", "dense": "dense"}[mode],
             self.weight if weight is None else weight)
        if mode == "hybrid" and missing:  # chunks still waiting for a vector (being indexed): keywords alone
            top = max((c.bm25 for c in cands.values()), default=0.0) or 1.0
            for c in cands.values():
                if c.cosine is None:
                    c.fused = c.bm25 / top
        ranked = sorted(cands.values(), key=lambda c: (-c.fused, -(c.cosine or 0.0)))
        known = rows or {}
        rows = {**known, **self.store.chunk_rows([c.chunk_id for c in ranked if c.chunk_id not in known])}
        return [c for c in ranked if c.chunk_id in rows], rows

    def _moved_query(
        self, vector: np.ndarray, ranked: list[Candidate], rows: dict[int, dict[str, Any]], documents: int
    ) -> np.ndarray | None:
        """Pseudo-relevance feedback (Rocchio): the query vector plus FEEDBACK_WEIGHT x the mean of the best
        passage of each of the first pass's `documents` best documents, normalised. None without vectors."""
        best: dict[object, int] = {}
        for c in ranked:
            if c.cosine is not None:
                best.setdefault(rows[c.chunk_id]["document_id"], c.chunk_id)
                if len(best) == documents:
                    break
        found = list(self.vectors.vectors(list(best.values())).values())
        if not found:
            return None
        moved = np.asarray(vector, dtype=np.float32) + FEEDBACK_WEIGHT * np.mean(found, axis=0)
        return moved / (np.linalg.norm(moved) or 1.0)

    def _hit(self, c: Candidate, r: dict[str, Any], mode: str) -> Hit:
        cos = float(c.cosine or 0.0)
        score = {"hybrid": c.fused, "dense": cos, "bm25": 1.0 / (RRF_K + (c.bm25_rank or 0))}[mode]
        return Hit(
            r["path"], c.chunk_id, round(score, 6), r["text"], r["heading"], r["page"], r["start_line"],
            r["end_line"],
            relevant=c.relevance >= self.threshold, relevance=round(c.relevance, 4),
            cosine=None if c.cosine is None else round(cos, 4), bm25_rank=c.bm25_rank, vector_rank=c.vector_rank,
            ocr=bool(r["ocr"]),
        )


def fuse(cands: list[Candidate], method: str, weight: float) -> None:
    """Set each candidate's fused score.

    rrf: sum of 1/(RRF_K + rank) over the lists it appears in.
    linear: weight * cosine + (1 - weight) * bm25 / best bm25 of this query (0 when not a keyword match).
    """
    if method in ("bm25", "dense"):  # a single mode ranks by its own score only
        for c in cands:
            c.fused = c.bm25 if method == "bm25" else _meaning(c)
        return
    if method == "rrf":
        for c in cands:
            c.fused = sum(1.0 / (RRF_K + r) for r in (c.vector_rank, c.bm25_rank) if r is not None)
        return
    top = max((c.bm25 for c in cands), default=0.0) or 1.0
    for c in cands:
        c.fused = weight * _meaning(c) + (1 - weight) * c.bm25 / top


def _meaning(c: Candidate) -> float:
    """What a candidate's meaning score ranks by: its cosine to the moved query after feedback, else to the
    question."""
    return c.feedback if c.feedback is not None else (c.cosine or 0.0)


def _diversify(ranked: list[Candidate], rows: dict[int, dict[str, object]], threshold: float) -> list[Candidate]:
    """Keep the order, but move exact duplicates behind everything, and move a chunk adjacent to an
    already chosen chunk of the same document behind the others while a relevant passage of another
    document is still waiting (so neighbours never crowd out other relevant documents)."""
    chosen: list[Candidate] = []
    later: list[Candidate] = []
    seen_text: set[str] = set()
    taken: set[tuple[object, int]] = set()
    waiting: dict[object, int] = {}  # document -> relevant candidates not yet placed
    for c in ranked:
        if c.relevance >= threshold:
            doc = rows[c.chunk_id]["document_id"]
            waiting[doc] = waiting.get(doc, 0) + 1
    for c in ranked:
        r = rows[c.chunk_id]
        text = str(r["text"])
        pos = int(r["position"])  # type: ignore[call-overload]
        doc = r["document_id"]
        if c.relevance >= threshold:
            waiting[doc] -= 1
        others_waiting = any(n > 0 for d, n in waiting.items() if d != doc)
        if text in seen_text or (others_waiting and ((doc, pos - 1) in taken or (doc, pos + 1) in taken)):
            later.append(c)
            continue
        chosen.append(c)
        seen_text.add(text)
        taken.add((doc, pos))
    return chosen + later


_keyword_pool: ThreadPoolExecutor | None = None
_keyword_pool_lock = threading.Lock()


def _keyword_thread() -> ThreadPoolExecutor:
    """The threads keyword searches of large libraries run in, started on first use."""
    global _keyword_pool
    with _keyword_pool_lock:
        if _keyword_pool is None:
            _keyword_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="keywords")
        return _keyword_pool


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


def merge_parts(whole: list[Hit], parts: list[list[Hit]], k: int) -> list[Hit]:
    """The hits of a question that names two things: the whole question's best hit, then each thing's
    list and the whole question's own taken in turn, so each thing has as many places as the other and
    passages about both (which the whole question finds) keep every third place. README "Search":
    fusing by rank let the passages of whichever thing the whole question leans to take every place (they
    rank high in two lists); the things' lists alone lost the passages about both."""
    if whole:  # the part whose best hit that is has had its turn: the other goes next
        parts = sorted(parts, key=lambda hits: bool(hits) and hits[0].chunk_id == whole[0].chunk_id)
    out: list[Hit] = whole[:1]
    seen = {h.chunk_id for h in out}
    queues = [iter(hits) for hits in [*parts, whole[1:]]]
    while queues and len(out) < k:
        for q in list(queues):
            h = next((h for h in q if h.chunk_id not in seen), None)
            if h is None:
                queues.remove(q)
            elif len(out) < k:
                out.append(h)
                seen.add(h.chunk_id)
    return out

