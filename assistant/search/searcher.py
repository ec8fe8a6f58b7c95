"""The search pipeline: a question in, ranked and gated passages (or documents) out.

    question -> [named documents first] -> hybrid search (retrieval.py) -> [near-tie or --rerank: the
    cross-encoder] -> [a question naming two things: each searched too, the lists taken in turn] -> Hits

Every front end reaches it through the Assistant facade (service.py), which only wires it to the store, the
vectors and the models. The relevance gate's calibration (gate.Gate) is kept here, per library.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np

from assistant import language
from assistant.config import SearchSettings
from assistant.errors import ConfigError, EmptyQueryError, ModelNotFoundError
from assistant.search import names
from assistant.search.gate import Calibration, Gate
from assistant.search.parts import question_parts
from assistant.search.rerank import CrossEncoder, near_tie, reorder
from assistant.search.retrieval import Filters, Retriever, merge_parts
from assistant.store.protocol import LibraryStore
from assistant.store.vectors import VectorIndex
from assistant.text import content_words
from assistant.types import DocumentHit, Hit


class Searcher:
    """Searches one library with the settings of its [search] group.

    Args:
        store: this thread's store (the facade keeps one per thread), bound to the embedding model.
        embed: texts -> their vectors (the library's embedding model).
        reranker: the cross-encoder, loaded on first use (raises ModelNotFoundError when not installed).
        settings: the [search] group, read at each search (a setting changed in place applies at once).
        readonly: this process cannot write the index (the gate's calibration is then kept in memory).
    """

    def __init__(self, store: Callable[[], LibraryStore], embed: Callable[[list[str]], np.ndarray],
                 reranker: Callable[[], CrossEncoder], settings: Callable[[], SearchSettings],
                 readonly: bool = False) -> None:
        self._store, self._embed, self._reranker, self._settings = store, embed, reranker, settings
        self.vectors = VectorIndex()  # shared by every thread of this process
        self.gate = Gate(readonly)
        self._probe_vectors: np.ndarray | None = None  # the gate's probe questions, embedded once

    def vector(self, query: str) -> np.ndarray:
        """The query embedded as search embeds it, after checking it has words (no model is loaded for an
        empty one). Callers that embed questions ahead of search (assistant eval, the benches) use this too:
        the int8 embedder scales its activations per call, so a question embedded beside others gets a
        slightly different vector (cosine 0.98-0.99) from the one search uses.

        Raises:
            EmptyQueryError: the query is empty or only whitespace.
        """
        if not query or not query.strip():
            raise EmptyQueryError("the query is empty; type some words to search for")
        return self._embed([query.strip()])[0]

    def search(self, query: str, vector: np.ndarray, k: int | None = None, mode: str | None = None,
               filters: Filters | None = None, rerank: int | None = None, named: list[str] | None = None
               ) -> list[Hit]:
        """The passages that best match the query (already embedded), best first, each marked relevant or not.
        A question naming two things (setting split_questions) is searched for each too (its parts are
        embedded here) and the lists taken in turn (merge_parts).

        Args:
            k: number of passages (default: setting k).
            mode: "hybrid" (default: setting mode), "bm25" or "dense".
            rerank: the first this-many passages are reordered by the cross-encoder (default: setting rerank, and
                near-ties by setting rerank_ties; 0: none).
            named: documents (their paths) searched first as if the query named them, when it names none itself
                (a follow-up goes on about the documents its conversation named).

        Raises:
            ConfigError: rerank is negative.
            ModelNotFoundError: rerank is on and the cross-encoder is not installed.
        """
        s = self._settings()
        if rerank is not None and rerank < 0:
            raise ConfigError(f"--rerank must be 0 (off) or the number of passages to reorder, not {rerank}")
        retriever = self._retriever(self.relevance_threshold())
        k, mode = k or s.k, mode or s.mode
        top = s.rerank if rerank is None else rerank
        ties = s.rerank_ties if rerank is None and not top else 0
        hits = self._searched(retriever, query, vector, max(k, top, ties), mode, filters, top, named, ties)[:k]
        parts = self.question_parts(query)
        if not parts:
            return hits
        lists = [self._searched(retriever, p, v, k, mode, filters, 0)
                 for p, v in zip(parts, self._embed(parts), strict=True)]
        return merge_parts(hits, lists, k)

    def _searched(self, retriever: Retriever, query: str, vector: np.ndarray, n: int, mode: str,
                  filters: Filters | None, top: int, given: list[str] | None = None, ties: int = 0) -> list[Hit]:
        """n passages: those of the documents the question names (setting named_documents; names.py) first
        when one of them passes the relevance gate, then the library's; the first `top` reordered by the
        cross-encoder, the named documents' passages kept first. With `ties` (and top 0), the first `ties`
        are reordered only when the first two are a near-tie (rerank.near_tie), and left as they are when
        the cross-encoder is not installed."""
        hits = retriever.search(query, vector, n, mode, filters)
        named, asked, inner = self._named(retriever.store, query, vector)
        if not named and self._settings().named_documents:
            named = list(given or [])
        first = 0
        if named:
            within = dataclasses.replace(filters or Filters(), files=tuple(named))
            inside = [dataclasses.replace(h, named=True) for h in retriever.search(asked, inner, n, mode, within)]
            # A named document with nothing the relevance gate lets through does not crowd out what else
            # answers the question: then the library's order stands, and the cross-encoder reads the whole
            # question.
            if any(h.relevant for h in inside):
                seen = {h.chunk_id for h in inside}
                hits = (inside + [h for h in hits if h.chunk_id not in seen])[:n]
                first = len(inside)
        reordered = top or (ties if ties and near_tie(hits) else 0)
        if not reordered or not language.english(query, *(h.text for h in hits[:reordered])):
            return hits  # (the cross-encoder was trained on English alone: docs/benchmarks/languages.md)
        if top:
            return reorder(self._reranker(), asked if first else query, hits, top, first)
        try:
            encoder = self._reranker()
        except ModelNotFoundError:
            return hits  # an optional refinement: `assistant doctor` reports the missing model
        return reorder(encoder, asked if first else query, hits, ties, first)

    def named_documents(self, question: str) -> list[str]:
        """The paths of the documents the question names by their file names (names.py), or [] (also when
        the setting named_documents is off)."""
        return self._names(self._store(), question)[0]

    def _names(self, store: LibraryStore, question: str) -> tuple[list[str], str, list[str]]:
        """names.find, when the setting named_documents is on; else ([], question, [])."""
        if not self._settings().named_documents:
            return [], question, []
        return names.find(question, store.documents_named)

    def _named(self, store: LibraryStore, query: str, vector: np.ndarray) -> tuple[list[str], str, np.ndarray]:
        """The documents the question names (setting named_documents; names.py), and the question to search
        them with, embedded. Inside them a name that is only a label says nothing more ("What does PEP 8
        say about line length?" reads "What does say about line length?" in pep-0008.rst, whose passages
        say "PEP: 8" once, in its header), unless little else is left of the question. A name that a
        quarter or more of the document's passages say is its topic, and stays (names.TOPIC_SHARE: "Which
        team won Super Bowl 50?" in Super_Bowl_50.md, whose heading it is; "Which team won?" finds the
        49ers winning Super Bowl XIX)."""
        named, rest, said = self._names(store, query)
        if (named and len(content_words(rest)) >= names.REST_WORDS
                and store.phrase_share(said, named) < names.TOPIC_SHARE):
            return named, rest, self._embed([rest])[0]
        return named, query, vector

    def question_parts(self, query: str) -> list[str]:
        """The questions a search also runs for a query that names two things (setting split_questions;
        parts.py), or [] for any other query."""
        return question_parts(query) if self._settings().split_questions else []

    def search_documents(self, query: str, vector: np.ndarray, k: int | None = None, mode: str | None = None,
                         filters: Filters | None = None) -> list[DocumentHit]:
        """The documents that best match the query (already embedded), best first, one row each with its best
        passage; the documents the question names (setting named_documents) first, those whose best passage
        passes the relevance gate."""
        s = self._settings()
        retriever = self._retriever(self.relevance_threshold())
        k, mode = k or s.k, mode or s.mode
        docs = retriever.search_documents(query, vector, k, mode, filters)
        named, query, vector = self._named(retriever.store, query, vector)
        if not named:
            return docs
        within = dataclasses.replace(filters or Filters(), files=tuple(named))
        first = [dataclasses.replace(d, best=dataclasses.replace(d.best, named=True))
                 for d in retriever.search_documents(query, vector, len(named), mode, within) if d.best.relevant]
        taken = {d.path for d in first}
        return (first + [d for d in docs if d.path not in taken])[:k]

    # --- the relevance gate ------------------------------------------------------------------------

    def relevance_threshold(self) -> float:
        """The relevance a passage needs to count as being about a question, for this library: the setting
        relevance_threshold when it is a number; "auto" uses the calibration kept in the index, calibrating
        first when there is none or the library changed a lot since (gate.py)."""
        s = self._settings()
        return self.gate.threshold(self._store(), s.relevance_threshold, self._gate_params(), self._probe_relevance)

    def calibration(self, force: bool = False) -> Calibration:
        """This library's gate calibration, computed again when missing, stale or forced."""
        return self.gate.calibration(self._store(), self._gate_params(), self._probe_relevance, force)

    def _gate_params(self) -> str:
        s = self._settings()
        return f"coverage_weight={s.coverage_weight} stem_length={s.stem_length}"

    def _retriever(self, threshold: float) -> Retriever:
        store = self._store()  # the team index searches its vectors on its server (store/postgres.py)
        return Retriever(store, store.search_vectors(self.vectors), threshold, self._settings())

    def _probe_relevance(self, probes: list[str]) -> list[float]:
        if self._probe_vectors is None:
            self._probe_vectors = self._embed(probes)
        retriever = self._retriever(0.0)
        out = []
        for q, v in zip(probes, self._probe_vectors, strict=True):
            hits = retriever.search(q, v, 5)
            out.append(max((h.relevance or 0.0 for h in hits), default=0.0))
        return out
