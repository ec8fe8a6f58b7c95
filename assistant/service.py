"""Assistant: the one facade every front end (CLI, TUI, daemon) uses."""

from __future__ import annotations

import contextlib
import math
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer.cache import cache_key, from_cache, model_fingerprint
from assistant.answer.chat import SourcesFn, answer_from_json, answer_question, sources_json
from assistant.answer.export import FORMATS, export_json, export_markdown
from assistant.answer.generation import Generator, LlamaCppGenerator
from assistant.answer.models import discover
from assistant.answer.prompts import Example, load_examples
from assistant.answer.summary import summarize_texts
from assistant.config import Settings
from assistant.errors import AssistantError, EmptyQueryError, ModelNotFoundError
from assistant.ingest.embedding import Embedder, load_embedder
from assistant.ingest.indexing import EmbedProgressFn, Indexer, ProgressFn
from assistant.paths import sample_library
from assistant.search.gate import Calibration
from assistant.search.rerank import CrossEncoder
from assistant.search.retrieval import Filters, merge_hits
from assistant.search.searcher import Searcher
from assistant.store import Store
from assistant.store.vectors import VectorIndex
from assistant.sync.locks import answering, wait_while_answering, writer_lock
from assistant.types import Answer, ChatSummary, DocumentHit, DocumentInfo, Hit, IndexReport, Turn
from assistant.view.overview import example_questions
from assistant.view.show import Opening, PagePicture, opening, picture

CAPABLE_MB = 1000.0  # chat models this large (on disk) pick the direct answer and may say "not in the documents"


class Assistant:
    """Index, search and (later) answer over one index, built from Settings.

    Heavy models load on first use, so constructing an Assistant is instant. A Store (SQLite
    connection) is kept per thread.
    """

    def __init__(
        self, settings: Settings | None = None, embedder: Embedder | None = None, generator: Generator | None = None,
        readonly: bool = False,
    ) -> None:
        self.settings = settings or Settings.load()
        # Read-only (the MCP server): the index is opened read-only, so nothing can write it, and
        # answers are not saved as conversations.
        self.readonly = readonly
        self._examples: tuple[Any, list[Example]] | None = None  # (file, size, mtime) and its examples
        self._embedder = embedder
        self._generator: Generator | None = generator
        self._reranker: CrossEncoder | None = None
        self._given_generator = generator  # the answer cache tells a generator handed in from the model file
        self._local = threading.local()
        self._lock = threading.Lock()
        self.generating = threading.Event()  # set while the chat model runs; indexing here backs off
        self._searcher = Searcher(self._bound_store, lambda texts: self.embedder.embed(texts), lambda: self.reranker,
                                  lambda: self.settings.search, readonly)

    # --- parts -------------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            index = self.settings.paths.index_file
            if self.readonly:
                if not index.exists():
                    raise AssistantError(f"there is no index at {index} yet; build one with `assistant index PATH`")
                store = Store(index, readonly=True)
            else:
                self.settings.paths.ensure()
                store = Store(index)
            self._local.store = store
        return store

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                m = self.settings.models
                self._embedder = load_embedder(m.embedding_path, m.embedding_backend, threads=m.effective_threads,
                                               batch_size=self.settings.index.embed_batch_size)
            return self._embedder

    @property
    def reranker(self) -> CrossEncoder:
        """The cross-encoder of settings `rerank` and `search_rerank`, loaded on first use.

        Raises:
            ModelNotFoundError: it is not installed (./install.sh installs it) or unreadable.
        """
        with self._lock:
            if self._reranker is None:
                m = self.settings.models
                self._reranker = CrossEncoder(m.reranker_path, m.effective_threads)
            return self._reranker

    @property
    def generator(self) -> Generator:
        """The chat model, loaded on first use (one per process).

        Raises:
            ModelNotFoundError: the configured model file is missing or broken.
        """
        with self._lock:
            if self._generator is None:
                m = self.settings.models
                self._generator = LlamaCppGenerator(m.chat_path, n_ctx=m.context, threads=m.effective_threads,
                                                    lora=m.lora_path)
            return self._generator

    @property
    def generator_loaded(self) -> bool:
        return self._generator is not None

    def _bound_store(self) -> Store:
        store = self.store
        if store.dim is None:
            e = self.embedder
            store.bind_embedding(e.model_id, e.dim)
        return store

    def close(self) -> None:
        store = getattr(self._local, "store", None)
        if store is not None:
            store.close()
            self._local.store = None

    # --- indexing ----------------------------------------------------------------------------------

    def index(
        self, paths: list[Path] | None = None, progress: ProgressFn | None = None, rebuild: bool = False,
        on_wait: Callable[[dict[str, Any]], None] | None = None, role: str = "index",
        on_embed: EmbedProgressFn | None = None,
    ) -> IndexReport:
        """Sync files or folders into the index and register folders as roots.

        With no paths: the registered roots, or the bundled sample library when none is registered.

        Raises:
            IndexMismatchError: the index was built with another embedding model (use rebuild=True).
            IndexWriteError: the index file cannot be written.
        """
        with writer_lock(self.settings.paths.index_file, role, on_wait=on_wait):
            report = self._index(paths, progress, rebuild, on_embed)
            self.calibration()  # the writer keeps the gate in step with a library that changed a lot
            return report

    def _index(self, paths: list[Path] | None, progress: ProgressFn | None, rebuild: bool,
               on_embed: EmbedProgressFn | None) -> IndexReport:
        store = self.store
        if rebuild:
            store.reset()
            self._searcher.vectors = VectorIndex()
        store = self._bound_store()
        if paths:
            targets = [Path(os.path.realpath(p)) for p in paths]
            missing = [str(p) for p in paths if not os.path.lexists(p)]
            if missing:
                raise AssistantError(f"no such file or folder: {', '.join(missing)}")
            for t in targets:
                if t.is_dir():
                    store.add_root(str(t))
        else:
            targets = [Path(r) for r in store.roots()]
            if not targets:
                targets = [sample_library()]
                store.add_root(str(targets[0].resolve()))
        return self.indexer().sync(targets, progress, on_embed=on_embed)

    def indexer(self) -> Indexer:
        """An Indexer over this thread's store (callers hold the writer lock while using it)."""
        store = self._bound_store()
        index_file = self.settings.paths.index_file
        return Indexer(store, self.embedder, open_store=lambda: Store(store.path), settings=self.settings.index,
                       pause=lambda: wait_while_answering(index_file))

    def sync_paths(self, paths: list[Path], role: str = "watcher", progress: ProgressFn | None = None,
                   on_embed: EmbedProgressFn | None = None) -> IndexReport:
        """Bring just these paths (changed, created, moved or deleted) in step, under their roots."""
        roots = [Path(r) for r in self.store.roots()]
        by_root: dict[Path, list[Path]] = {}
        for p in paths:
            for r in roots:
                if str(p) == str(r) or str(p).startswith(str(r) + os.sep):
                    by_root.setdefault(r, []).append(p)
                    break
        total = IndexReport()
        with writer_lock(self.settings.paths.index_file, role):
            for root, scope in by_root.items():
                _add_reports(total, self.indexer().sync([root], progress, scope=scope, on_embed=on_embed))
            self.calibration()
        return total

    def add_root(self, path: Path) -> bool:
        """Register a folder to keep indexed (the watcher and `assistant index` cover it)."""
        real = os.path.realpath(path)
        if not os.path.isdir(real):
            raise AssistantError(f"{path} is not a folder")
        return self.store.add_root(real)

    def remove_root(self, path: Path) -> int:
        """Unregister a folder and drop its documents from the index."""
        real = os.path.realpath(path)
        if real not in self.store.roots():
            raise AssistantError(f"{path} is not a registered folder; `assistant roots` lists them")
        with writer_lock(self.settings.paths.index_file, "remove"):
            return self._forget(real)

    def forget(self, path: Path) -> int:
        """Remove a file, or every document under a folder, from the index; unregister the folder.

        Raises:
            AssistantError: the path is a file inside another (a mail attachment): it goes with that file.
            IndexBusyError: another writer kept the index busy for too long.
        """
        container = self.store.container_of(os.path.realpath(path))
        if container is not None:
            raise AssistantError(f"{path} is an attachment inside {container}; it is indexed with that file "
                                 f"and goes when it does (assistant forget {container})")
        with writer_lock(self.settings.paths.index_file, "forget"):
            return self._forget(os.path.realpath(path))

    def _forget(self, real: str) -> int:
        store = self.store
        store.remove_root(real)
        docs = store.documents_under([real])
        return store.delete_documents(list(docs))

    def compact(self) -> int:
        """Give back the disk space of deleted documents and older index formats; returns the bytes freed.

        Raises:
            IndexBusyError: another writer kept the index busy for too long.
        """
        with writer_lock(self.settings.paths.index_file, "compact"):
            return self.store.compact()

    # --- reading: the search pipeline is search/searcher.py -------------------------------------------

    @property
    def searcher(self) -> Searcher:
        """The search pipeline over this index (bound to the embedding model on first use)."""
        return self._searcher

    @property
    def vectors(self) -> VectorIndex:
        return self._searcher.vectors

    def search(
        self, query: str, k: int | None = None, mode: str | None = None, filters: Filters | None = None,
        rerank: int | None = None, named: list[str] | None = None,
    ) -> list[Hit]:
        """The passages that best match the query, best first, each marked relevant or not.

        Args:
            query: any text; FTS5 syntax in it is treated as plain words.
            k: number of passages (default: setting [search] k).
            mode: "hybrid" (default), "bm25" or "dense".
            filters: restrict to path globs and file types.
            rerank: the first this-many passages are reordered by the cross-encoder (default: setting [search]
                rerank; 0: none).
            named: documents (their paths) searched first as if the query named them, when it names none itself.

        Raises:
            EmptyQueryError: the query is empty or only whitespace.
            ConfigError: rerank is negative.
            AssistantError: an unknown mode.
            ModelNotFoundError: rerank is on and the cross-encoder is not installed.
        """
        return self.search_vector(query, self.question_vector(query), k, mode, filters, rerank, named)

    def search_vector(
        self, query: str, vector: np.ndarray, k: int | None = None, mode: str | None = None,
        filters: Filters | None = None, rerank: int | None = None, named: list[str] | None = None,
    ) -> list[Hit]:
        """search() with the query already embedded (lets callers batch the embedding)."""
        self._bound_store()
        return self._searcher.search(query, vector, k, mode, filters, rerank, named)

    def search_documents(
        self, query: str, k: int | None = None, mode: str | None = None, filters: Filters | None = None
    ) -> list[DocumentHit]:
        """The documents that best match the query, best first, one row each with its best passage.

        Raises:
            EmptyQueryError: the query is empty or only whitespace.
        """
        return self.search_documents_vector(query, self.question_vector(query), k, mode, filters)

    def search_documents_vector(
        self, query: str, vector: np.ndarray, k: int | None = None, mode: str | None = None,
        filters: Filters | None = None,
    ) -> list[DocumentHit]:
        """search_documents() with the query already embedded."""
        self._bound_store()
        return self._searcher.search_documents(query, vector, k, mode, filters)

    def question_vector(self, query: str) -> np.ndarray:
        """The query embedded as search embeds it (Searcher.vector).

        Raises:
            EmptyQueryError: the query is empty or only whitespace.
        """
        return self._searcher.vector(query)

    def named_documents(self, question: str) -> list[str]:
        """The paths of the documents the question names by their file names (search/names.py), or []."""
        self._bound_store()
        return self._searcher.named_documents(question)

    def question_parts(self, query: str) -> list[str]:
        """The questions a search also runs for a query that names two things (setting split_questions)."""
        return self._searcher.question_parts(query)

    def relevance_threshold(self) -> float:
        """The relevance a passage needs to count as being about a question, for this library (gate.py)."""
        self._bound_store()
        return self._searcher.relevance_threshold()

    def calibration(self, force: bool = False) -> Calibration:
        """This library's gate calibration, computed again when missing, stale or forced."""
        self._bound_store()
        return self._searcher.calibration(force)

    # --- answering ---------------------------------------------------------------------------------

    def ask(
        self, question: str, chat_id: str | None = None, filters: Filters | None = None, k: int | None = None,
        on_token: Callable[[str], None] | None = None, cancel: threading.Event | None = None, save: bool = True,
        on_sources: SourcesFn | None = None,
    ) -> Answer:
        """Answer a question from the documents, continuing a conversation when chat_id is given.

        With save=False (evaluation runs) nothing is written to the conversation history.

        The answer follows the setting answer_style (see chat.answer_question): the quoted evidence is
        passed to on_token at once (after the direct answer of a factoid question), and on_sources gets the
        numbered sources, the evidence and the direct answer at the same moment, before the model runs;
        then each verified sentence of the model's answer goes to on_token; setting `cancel`
        stops generation (what was verified so far is kept). When no passage is relevant, or with
        answer_style = quote, the chat model is not even loaded.

        Raises:
            EmptyQueryError: the question is empty.
            AssistantError: chat_id names no conversation.
            ModelNotFoundError: the chat model is missing or broken.
        """
        if not question or not question.strip():
            raise EmptyQueryError("the question is empty; type a question about your documents")
        question = question.strip()
        save = save and not self.readonly
        history: list[tuple[str, str]] = []
        if chat_id is not None:
            if self.store.chat(chat_id) is None:
                raise AssistantError(f"no conversation with id {chat_id!r}; `assistant chats` lists them")
            history = self.chat_history(chat_id)
        k = k or self.settings.search.k
        # A follow-up's answer depends on its conversation: only first questions are cached.
        key = cache_key(question, k, filters, self.settings, self.examples(),
                        model_fingerprint(self.settings, self._given_generator)) \
            if self.settings.answer.cache and not history else None
        cached = self.store.cached_answer(key) if key else None
        hits: list[Hit] = []
        if cached is None:
            top = self.settings.answer.rerank
            # The cross-encoder is the costly part of a search: indexing steps aside for it as for the model.
            with self._answering() if top else contextlib.nullcontext():
                # A follow-up ("and about indentation?") goes on about the documents the previous question
                # named ("What does PEP 8 say about line length?"), unless it names others.
                before = self.named_documents(history[-1][0]) if history else []
                hits = self.search(question, k=k, filters=filters, rerank=top, named=before)
                if history:
                    # A follow-up ("and who won it?") is searched together with the previous question too.
                    context = f"{history[-1][0]} {question}"
                    hits = merge_hits([hits, self.search(context, k=k, filters=filters, rerank=top)], k)
        store = self.store
        if chat_id is None and save:
            chat_id = store.create_chat(" ".join(question.split())[:80])
        if save and chat_id:
            store.add_question(chat_id, question)
        if cached is not None:
            answer = from_cache(cached, chat_id or "", on_token)
            if on_sources:
                on_sources(answer.sources, answer.evidence, answer.direct_answer)
        else:
            with self._answering():
                answer = answer_question(
                    lambda: self.generator, self.embedder, question, hits, history, chat_id or "", self.settings.answer,
                    on_token=on_token, cancel=cancel, examples=self.examples(), on_sources=on_sources,
                    support=self._support(), rarity=self._rarity, capable=self._capable,
                )
        if save and chat_id:
            store.add_answer(chat_id, answer.answer, answer.grounded, sources_json(answer))
        stopped = cancel is not None and cancel.is_set()
        if key and cached is None and not self.readonly and not stopped and any(h.relevant for h in hits) \
                and not store.pending_count():
            # Refusals are not kept (a document added later may answer them), nor answers computed while
            # vectors are still missing (the search will find more once they exist).
            entry = {name: value for name, value in answer.to_dict().items() if name != "chat_id"}
            store.cache_answer(key, question, entry, sorted({h.chunk_id for h in hits}))
        return answer

    def _support(self) -> Callable[[str, list[str]], list[float]] | None:
        """The cross-encoder as answerable.judge reads it (question, sentences -> logits), or None when it is
        not installed (then the other rules decide alone; `assistant doctor` says it is missing)."""
        try:
            encoder = self.reranker
        except ModelNotFoundError:
            return None
        return lambda question, texts: [float(x) for x in encoder.score(question, texts)]

    def _rarity(self, words: list[str]) -> dict[str, float]:
        """How rare each word is in this library: log(chunks / chunks holding it), at least 0.1 (a word in
        every passage still counts a little)."""
        store = self.store
        span = store.chunk_id_span()
        held = store.keyword_frequencies(words, span)
        return {w: max(0.1, math.log((span + 1) / (held.get(w, 0) + 0.5))) for w in words}

    def _capable(self, generator: Generator) -> bool:
        """Whether the chat model picks the direct answer's words itself and is believed when it says the
        documents do not say (setting [answer] direct): "auto" for a model of at least CAPABLE_MB on disk (the
        135M and 0.5B models answer the copying question with a sentence, and say "the documents do not say" of
        answerable questions too: docs/benchmarks/answers.md), "model" always, "rules" never."""
        choice = self.settings.answer.direct
        if choice == "auto":
            return getattr(getattr(generator, "info", None), "size_mb", 0.0) >= CAPABLE_MB
        return choice == "model"

    @contextlib.contextmanager
    def _answering(self) -> Iterator[None]:
        """While an answer is being made: indexing, in this process and every other, steps aside."""
        self.generating.set()
        try:
            with answering(self.settings.paths.index_file):
                yield
        finally:
            self.generating.clear()

    def examples(self) -> list[Example]:
        """The few-shot examples of the examples file (setting examples_file), re-read when it changes.

        Raises:
            ConfigError: a line of the file is not an example object.
        """
        name = Path(str(self.settings.answer.examples_file or "")).expanduser()
        path = name if name.is_absolute() else self.settings.paths.config_dir / name
        try:
            st = path.stat()
        except OSError:
            return []
        key = (str(path), st.st_size, st.st_mtime_ns)
        if self._examples is None or self._examples[0] != key:
            self._examples = (key, load_examples(path))
        return self._examples[1]

    def clear_cache(self) -> int:
        """Forget every cached answer; returns how many there were."""
        return self.store.clear_answer_cache()

    def chat_history(self, chat_id: str) -> list[tuple[str, str]]:
        """(question, answer text) of each answered question of a conversation, oldest first."""
        return [(q["content"], a["content"]) for q, a in _exchanges(self.store.chat_messages(chat_id)) if a]

    def chats(self) -> list[dict[str, Any]]:
        """The conversations, most recent first, as plain dicts (see chat_summaries for typed ones)."""
        return self.store.list_chats()

    def chat_summaries(self) -> list[ChatSummary]:
        """The conversations, most recent first."""
        return [ChatSummary(**c) for c in self.store.list_chats()]

    def chat_messages(self, chat_id: str) -> list[dict[str, Any]]:
        """The stored messages of a conversation as plain dicts (role, content, grounded, sources JSON)."""
        return self.store.chat_messages(chat_id)

    def chat_turns(self, chat_id: str) -> list[Turn]:
        """A conversation's exchanges, oldest first, each answer rebuilt with its sources and evidence.

        Raises:
            AssistantError: there is no conversation with this id.
        """
        if self.store.chat(chat_id) is None:
            raise AssistantError(f"no conversation with id {chat_id!r}; `assistant chats` lists them")
        return [Turn(q["content"], answer_from_json(a["content"], bool(a["grounded"]), a["sources"], chat_id)
                     if a else None, float(q["created_at"] or 0))
                for q, a in _exchanges(self.store.chat_messages(chat_id))]

    def export_chat(self, chat_id: str, fmt: str = "md") -> str:
        """A conversation as Markdown (questions, answers, citations as footnotes with path and lines) or
        JSON (everything, sources and checks included).

        Raises:
            AssistantError: no such conversation, or an unknown format.
        """
        if fmt not in FORMATS:
            raise AssistantError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
        turns = self.chat_turns(chat_id)
        summary = ChatSummary(**self.store.chat(chat_id), turns=len(turns))  # chat_turns checked it exists
        return export_markdown(summary, turns) if fmt == "md" else export_json(summary, turns)

    def rate(self, chat_id: str, rating: str, turn: int | None = None, note: str | None = None) -> dict[str, Any]:
        """Rate an answer of a conversation up or down (its `turn`, 1-based; default: the last answer),
        with an optional note. Rating it again replaces the rating.

        Raises:
            AssistantError: an unknown rating, no such conversation, or no such answer in it.
        """
        if rating not in ("up", "down"):
            raise AssistantError(f"a rating is up or down, not {rating!r}")
        if self.store.chat(chat_id) is None:
            raise AssistantError(f"no conversation with id {chat_id!r}; `assistant chats` lists them")
        done = self.store.rate_answer(chat_id, turn, 1 if rating == "up" else -1, note or None)
        if done is None:
            raise AssistantError(f"conversation {chat_id} has no answer {turn}" if turn else
                                 f"conversation {chat_id} has no answer to rate yet")
        return {"chat_id": chat_id, "turn": done["turn"], "rating": rating, "note": note or None}

    def feedback(self) -> list[dict[str, Any]]:
        """Every rated answer, newest first: chat_id, turn, rating (up/down), note, question, answer, and
        the sources it cited (path, location, heading, text)."""
        out = []
        for r in self.store.feedback():
            answer = answer_from_json(r["answer"], False, r["sources"], r["chat_id"])
            cited = [answer.sources[i - 1] for i in answer.citations if 0 < i <= len(answer.sources)] \
                or answer.sources
            out.append({"chat_id": r["chat_id"], "turn": r["turn"], "rating": "up" if r["rating"] > 0 else "down",
                        "note": r["note"], "question": r["question"], "answer": r["answer"],
                        "cited": [{"path": h.path, "location": h.location, "heading": h.heading, "text": h.text}
                                  for h in cited], "rated_at": r["created_at"]})
        return out

    def counts(self) -> dict[str, int]:
        """Documents indexed, chunks, and documents that could not be read (never loads a model)."""
        return self.store.counts()

    def rename_chat(self, chat_id: str, title: str) -> bool:
        return self.store.rename_chat(chat_id, title)

    def delete_chat(self, chat_id: str) -> bool:
        return self.store.delete_chat(chat_id)

    def set_model(self, name: str) -> None:
        """Switch the chat model (a .gguf in the models folder); it loads on next use."""
        with self._lock:
            self.settings.models.chat = name
            self._generator = self._given_generator = None

    def cited_source(self, chat_id: str, n: int, turn: int | None = None) -> tuple[Hit, list[str]]:
        """Source `n` (1-based) of a conversation's answer (`turn`, 1-based; default the last answered),
        and the sentences of it the answer quoted.

        Raises:
            AssistantError: no such conversation, answer or source.
        """
        answered = [(i, t) for i, t in enumerate(self.chat_turns(chat_id), 1) if t.answer is not None]
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

    def open_source(self, hit: Hit, dry: bool = False) -> Opening:
        """How to show a source in the program that can (an editor at the line, a PDF viewer at the page,
        the platform's opener); run it with .run(). A mail attachment or an archive member is first
        copied to a private temporary file. With `dry`, the command is given even where it could not run
        now (no desktop): `open --print` shows it.

        Raises:
            AssistantError: the file is gone, or nothing here can show it (no desktop: the message says
                what to do instead).
        """
        return opening(hit.path, hit.page, hit.start_line, self.settings.open.viewer, dry)

    def open_file(self, path: Path) -> Opening:
        """How to show a file of one's own (a page picture just written) with the platform's opener."""
        return opening(str(path), None, None, self.settings.open.viewer)

    def page_picture(self, hit: Hit, passages: list[str], out: Path) -> PagePicture:
        """Draw a source's page (a PDF page, a scanned image) with `passages` (default: the whole passage)
        boxed in yellow, as a PNG at `out` (0600).

        Raises:
            AssistantError: the file is gone, or it has no pages to draw (the message says so).
        """
        return picture(hit.path, hit.page, passages or [hit.text], out, scanned=hit.ocr)

    def overview(self) -> dict[str, Any]:
        """What the first screen shows: the registered folders, counts, when the index last changed, whether
        it holds only the bundled sample library, and three example questions from the library's headings."""
        store = self.store
        counts = store.counts()
        roots = store.roots()
        sample = str(sample_library())
        only_sample = all(r == sample for r in roots)
        docs = [d.path for d in store.list_documents() if d.status == "ok" and d.container is None]
        return {**counts, "roots": roots, "last_indexed": store.last_indexed(),
                "sample_only": only_sample and bool(docs) and all(p.startswith(sample) for p in docs),
                "questions": example_questions(store.headings(), paths=docs[:2000])}

    def warm_up(self) -> None:
        """Load the models and the vector index now (front ends call this in the background at start)."""
        store = self._bound_store()
        self.vectors.sync(store)
        _ = self.generator

    def models(self) -> list[Any]:
        """The .gguf files in the models folder with their header information (or read errors)."""
        return discover(self.settings.models.dir)

    def add_model(self, path: Path, sha256: str | None = None,
                  progress: Callable[[int, int, str], None] | None = None) -> Any:
        """Copy a GGUF file into the models folder (verified, atomic); returns its header information.

        Raises:
            AssistantError: not a GGUF file, a checksum mismatch, or the copy failed.
        """
        from assistant.answer.model_files import add_model

        return add_model(path, self.settings.models.dir, sha256, progress)

    def pull_model(self, url: str, sha256: str, progress: Callable[[int, int, str], None] | None = None) -> Any:
        """Download a GGUF model into the models folder (resumable, checksum-verified, atomic). The only
        call that uses the network, and only when the user runs it.

        Raises:
            AssistantError: no network, an HTTP error, a checksum mismatch, or not a GGUF file.
        """
        from assistant.answer.model_files import pull_model

        return pull_model(url, self.settings.models.dir, sha256, progress)

    def summarize(
        self, path: Path, on_token: Callable[[str], None] | None = None,
        progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None,
    ) -> str:
        """Summarise a whole indexed document by map-reduce over all of its chunks.

        Raises:
            AssistantError: the file is not in the index.
        """
        real = os.path.realpath(path)
        texts = self.store.document_chunks(real)
        if not texts:
            raise AssistantError(f"{path} is not indexed (or has no text); run `assistant index {path}` first")
        s = self.settings
        return summarize_texts(self.generator, texts, s.answer.tokens, s.answer.temperature, s.answer.seed,
                               on_token=on_token, progress=progress, cancel=cancel,
                               repeat_penalty=s.answer.repeat_penalty)

    def documents(self) -> list[DocumentInfo]:
        return self.store.list_documents()

    def roots(self) -> list[str]:
        return self.store.roots()

    def status(self) -> dict[str, Any]:
        store = self.store
        counts = store.counts()
        vector_file = store.path.with_suffix(".vectors")
        return {
            **counts,
            **store.disk(),
            "vector_file_bytes": vector_file.stat().st_size if vector_file.exists() else 0,
            "index_path": str(store.path),
            "embedding_model": store.meta("embedding_model") or self.settings.models.embedding,
            "llm_model": self.settings.models.chat,
            "roots": store.roots(),
        }


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


def _add_reports(total: IndexReport, r: IndexReport) -> None:
    for name in ("added", "updated", "removed", "moved", "unchanged", "skipped", "no_text", "chunks_embedded",
                 "chunks_reused"):
        setattr(total, name, getattr(total, name) + getattr(r, name))
    total.chunks_pending = r.chunks_pending  # a count of the whole index, not of the run
    total.errors += r.errors
    total.skipped_files += r.skipped_files
    total.interrupted = total.interrupted or r.interrupted
