"""Assistant: the one facade every front end (CLI, TUI, daemon) uses."""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answer.answerer import Answerer
from assistant.answer.chat import SourcesFn
from assistant.answer.generation import Generator, LlamaCppGenerator
from assistant.answer.models import discover
from assistant.answer.prompts import Example
from assistant.answer.summary import summarize_document
from assistant.config import Settings
from assistant.errors import AssistantError, ModelNotFoundError
from assistant.ingest.embedding import load_embedder
from assistant.ingest.indexing import EmbedProgressFn, ProgressFn
from assistant.ingest.library import Library
from assistant.paths import sample_library
from assistant.search.gate import Calibration
from assistant.search.rerank import CrossEncoder
from assistant.search.retrieval import Filters, merge_hits
from assistant.search.searcher import Searcher
from assistant.store import Store
from assistant.store.locks import answering
from assistant.store.protocol import LibraryStore
from assistant.store.vectors import VectorIndex
from assistant.types import Answer, ChatSummary, DocumentHit, DocumentInfo, Embedder, Hit, IndexReport, Turn
from assistant.view.overview import library_overview
from assistant.view.show import Opening, PagePicture, opening, picture


class Assistant:
    """Index, search and (later) answer over one index, built from Settings.

    Heavy models load on first use, so constructing an Assistant is instant. A store connection (the
    index file's, or the team index's) is kept per thread.
    """

    def __init__(
        self, settings: Settings | None = None, embedder: Embedder | None = None, generator: Generator | None = None,
        readonly: bool = False,
    ) -> None:
        self.settings = settings or Settings.load()
        # Read-only (the MCP server): the index is opened read-only, so nothing can write it, and
        # answers are not saved as conversations.
        self.readonly = readonly
        self._embedder = embedder
        self._generator: Generator | None = generator
        self._reranker: CrossEncoder | None = None
        self._given_generator = generator  # the answer cache tells a generator handed in from the model file
        self._local = threading.local()
        self._lock = threading.Lock()
        self._searcher = Searcher(self._bound_store, lambda texts: self.embedder.embed(texts, query=True),
                                  lambda: self.reranker, lambda: self.settings.search, readonly)
        self.answerer = Answerer(self.search, self.named_documents, merge_hits, lambda: self.store,
                                 lambda: self.settings, lambda: self.generator, lambda: self.embedder,
                                 lambda: self._given_generator, self._support,
                                 lambda: answering(self.settings.paths.index_file), readonly)
        self.conversations = self.answerer.conversations
        self.library = Library(lambda: self.store, self._bound_store, lambda: self.embedder,
                               lambda: self.settings.index, self.settings.paths.index_file, self._reset_vectors,
                               self.calibration)

    # --- parts -------------------------------------------------------------------------------------

    @property
    def store(self) -> LibraryStore:
        """This thread's store: the index file, or with [store] url the team index (store/team.py), which answers
        the same methods."""
        store = getattr(self._local, "store", None)
        if store is None:
            index = self.settings.paths.index_file
            if self.settings.store.url:
                from assistant.store.team import TeamStore

                if not self.readonly:
                    self.settings.paths.ensure()
                store = TeamStore(self.settings.store.url, index, readonly=self.readonly and index.exists())
            elif self.readonly:
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

    def _bound_store(self) -> LibraryStore:
        store = self.store
        if store.dim is None:
            e = self.embedder
            store.bind_embedding(e.model_id, e.dim)
        return store

    def _reset_vectors(self) -> None:
        self._searcher.vectors = VectorIndex()

    def close(self) -> None:
        store = getattr(self._local, "store", None)
        if store is not None:
            store.close()
            self._local.store = None

    # --- the library: ingest/library.py writes it, one writer at a time ----------------------------

    def index(self, paths: list[Path] | None = None, progress: ProgressFn | None = None, rebuild: bool = False,
              on_wait: Callable[[dict[str, Any]], None] | None = None, role: str = "index",
              on_embed: EmbedProgressFn | None = None, stop: threading.Event | None = None) -> IndexReport:
        """Sync files or folders into the index and register folders as roots (Library.index)."""
        return self.library.index(paths, progress, rebuild, on_wait, role, on_embed, stop)

    def sync_paths(self, paths: list[Path], role: str = "watcher", progress: ProgressFn | None = None,
                   on_embed: EmbedProgressFn | None = None, stop: threading.Event | None = None) -> IndexReport:
        """Bring just these paths (changed, created, moved or deleted) in step, under their roots."""
        return self.library.sync_paths(paths, role, progress, on_embed, stop)

    def add_root(self, path: Path) -> bool:
        """Register a folder to keep indexed (the watcher and `assistant index` cover it)."""
        return self.library.add_root(path)

    def remove_root(self, path: Path) -> int:
        """Unregister a folder and drop its documents from the index."""
        return self.library.remove_root(path)

    def forget(self, path: Path) -> int:
        """Remove a file, or every document under a folder, from the index; unregister the folder."""
        return self.library.forget(path)

    def compact(self) -> int:
        """Give back the disk space of deleted documents and older index formats; returns the bytes freed."""
        return self.library.compact()

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

    # --- answering: answer/answerer.py ---------------------------------------------------------------

    def ask(
        self, question: str, chat_id: str | None = None, filters: Filters | None = None, k: int | None = None,
        on_token: Callable[[str], None] | None = None, cancel: threading.Event | None = None, save: bool = True,
        on_sources: SourcesFn | None = None,
    ) -> Answer:
        """Answer a question from the documents, continuing a conversation when chat_id is given.

        With save=False (evaluation runs) nothing is written to the conversation history. The answer follows the
        setting [answer] style (see chat.answer_question): the quoted evidence is passed to on_token at once (after
        the direct answer of a factoid question), and on_sources gets the numbered sources, the evidence and the
        direct answer at the same moment, before the model runs; then each verified sentence of the model's answer
        goes to on_token; setting `cancel` stops generation (what was verified so far is kept). When the documents
        do not answer, or with the quote style, the chat model is not even loaded.

        Raises:
            EmptyQueryError: the question is empty.
            AssistantError: chat_id names no conversation.
            ModelNotFoundError: the chat model is missing or broken.
        """
        return self.answerer.ask(question, chat_id, filters, k, on_token, cancel, save, on_sources)

    def examples(self) -> list[Example]:
        """The few-shot examples of the examples file (setting [answer] examples_file), re-read when it changes."""
        return self.answerer.examples()

    def _support(self) -> Callable[[str, list[str]], list[float]] | None:
        """The cross-encoder as answerable.judge reads it (question, sentences -> logits), or None when it is
        not installed (then the other rules decide alone; `assistant doctor` says it is missing)."""
        try:
            encoder = self.reranker
        except ModelNotFoundError:
            return None
        return lambda question, texts: [float(x) for x in encoder.score(question, texts)]

    def clear_cache(self) -> int:
        """Forget every cached answer; returns how many there were."""
        return self.store.clear_answer_cache()

    # --- conversations: answer/conversations.py --------------------------------------------------------

    def chat_history(self, chat_id: str) -> list[tuple[str, str]]:
        """(question, answer text) of each answered question of a conversation, oldest first."""
        return self.conversations.history(chat_id)

    def chats(self) -> list[dict[str, Any]]:
        """The conversations, most recent first, as plain dicts."""
        return self.conversations.listing()

    def chat_summaries(self) -> list[ChatSummary]:
        return self.conversations.summaries()

    def chat_messages(self, chat_id: str) -> list[dict[str, Any]]:
        return self.conversations.messages(chat_id)

    def chat_turns(self, chat_id: str) -> list[Turn]:
        """A conversation's exchanges, oldest first, each answer rebuilt with its sources and evidence."""
        return self.conversations.turns(chat_id)

    def export_chat(self, chat_id: str, fmt: str = "md") -> str:
        """A conversation as Markdown (citations as footnotes) or JSON (Conversations.export)."""
        return self.conversations.export(chat_id, fmt)

    def rate(self, chat_id: str, rating: str, turn: int | None = None, note: str | None = None) -> dict[str, Any]:
        """Rate an answer up or down (Conversations.rate)."""
        return self.conversations.rate(chat_id, rating, turn, note)

    def feedback(self) -> list[dict[str, Any]]:
        """Every rated answer, newest first (Conversations.feedback)."""
        return self.conversations.feedback()

    def rename_chat(self, chat_id: str, title: str) -> bool:
        return self.conversations.rename(chat_id, title)

    def delete_chat(self, chat_id: str) -> bool:
        return self.conversations.delete(chat_id)

    def cited_source(self, chat_id: str, n: int, turn: int | None = None) -> tuple[Hit, list[str]]:
        """Source `n` of a conversation's answer and the sentences it quoted (Conversations.cited_source)."""
        return self.conversations.cited_source(chat_id, n, turn)

    def counts(self) -> dict[str, int]:
        """Documents indexed, chunks, and documents that could not be read (never loads a model)."""
        return self.store.counts()

    def set_model(self, name: str) -> None:
        """Switch the chat model (a .gguf in the models folder); it loads on next use."""
        with self._lock:
            self.settings.models.chat = name
            self._generator = self._given_generator = None

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
        """What the first screen shows (view/overview.py: library_overview)."""
        return library_overview(self.store, str(sample_library()))

    def warm_up(self) -> None:
        """Load the models and the vector index now (front ends call this in the background at start)."""
        store = self._bound_store()
        store.search_vectors(self.vectors).sync(store)
        _ = self.generator

    def models(self) -> list[Any]:
        """The .gguf files in the models folder with their header information (or read errors)."""
        return discover(self.settings.models.dir)

    def summarize(
        self, path: Path, on_token: Callable[[str], None] | None = None,
        progress: Callable[[int, int], None] | None = None, cancel: threading.Event | None = None,
    ) -> str:
        """Summarise a whole indexed document by map-reduce over all of its chunks.

        Raises:
            AssistantError: the file is not in the index.
        """
        return summarize_document(self.store, self.generator, path, self.settings.answer, on_token, progress, cancel)

    def documents(self) -> list[DocumentInfo]:
        return self.store.list_documents()

    def roots(self) -> list[str]:
        return self.store.roots()

    def team_status(self) -> dict[str, Any]:
        """The team index: server, person, embedding model, folders with owners and shares, writes queued."""
        from assistant.store.pg_admin import status

        return status(self._team().server()) | {"queued": self._team().queued()}

    def share_folder(self, folder: Path, role: str, remove: bool = False) -> dict[str, Any]:
        """Let a role read (or, remove, stop reading) one of this person's folders in the team index."""
        from assistant.store.pg_admin import share

        return share(self._team().server(), os.path.realpath(folder), role, remove)

    def _team(self) -> Any:
        if self.store.engine == "sqlite":
            raise AssistantError("no team index is set: set [store] url (ASSISTANT_STORE_URL) to its postgresql:// "
                                 "URL (docs/guide/team.md)")
        return self.store

    def status(self) -> dict[str, Any]:
        store = self.store
        counts = store.counts()
        return {
            **counts,
            **store.disk(),
            "index_path": str(store.path),
            "store": store.engine,
            "embedding_model": (store.server().meta("embedding_model") if store.engine != "sqlite"
                                else store.meta("embedding_model")) or self.settings.models.embedding,
            "llm_model": self.settings.models.chat,
            "roots": store.roots(),
            "languages": {lang: round(share, 3) for lang, share in store.language_shares().items()},
        }
