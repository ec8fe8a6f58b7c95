"""Assistant: the one facade every front end (CLI, TUI, daemon) uses."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from .config import Settings
from .embedding import Embedder, SentenceTransformerEmbedder
from .errors import EmptyQueryError
from .indexing import Indexer, ProgressFn
from .paths import sample_library
from .retrieval import Filters, Retriever
from .vectors import VectorIndex
from .store import Store
from .types import DocumentInfo, Hit, IndexReport


class Assistant:
    """Index, search and (later) answer over one index, built from Settings.

    Heavy models load on first use, so constructing an Assistant is instant. A Store (SQLite
    connection) is kept per thread.
    """

    def __init__(self, settings: Settings | None = None, embedder: Embedder | None = None) -> None:
        self.settings = settings or Settings.load()
        self._embedder = embedder
        self._local = threading.local()
        self._lock = threading.Lock()
        self.vectors = VectorIndex()  # shared by every thread of this process

    # --- parts -------------------------------------------------------------------------------------

    @property
    def store(self) -> Store:
        store = getattr(self._local, "store", None)
        if store is None:
            self.settings.paths.ensure()
            store = Store(self.settings.paths.index_file)
            self._local.store = store
        return store

    @property
    def embedder(self) -> Embedder:
        with self._lock:
            if self._embedder is None:
                s = self.settings
                self._embedder = SentenceTransformerEmbedder(
                    s.embedding_model_path, threads=s.effective_threads, batch_size=s.embed_batch_size
                )
            return self._embedder

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
        self, paths: list[Path] | None = None, progress: ProgressFn | None = None, rebuild: bool = False
    ) -> IndexReport:
        """Sync files or folders into the index and register folders as roots.

        With no paths: the registered roots, or the bundled sample library when none is registered.

        Raises:
            IndexMismatchError: the index was built with another embedding model (use rebuild=True).
            IndexWriteError: the index file cannot be written.
        """
        store = self.store
        if rebuild:
            store.reset()
            self.vectors = VectorIndex()
        store = self._bound_store()
        if paths:
            targets = [Path(os.path.realpath(p)) for p in paths]
            missing = [str(p) for p in paths if not os.path.lexists(p)]
            if missing:
                from .errors import AssistantError

                raise AssistantError(f"no such file or folder: {', '.join(missing)}")
            for t in targets:
                if t.is_dir():
                    store.add_root(str(t))
        else:
            targets = [Path(r) for r in store.roots()]
            if not targets:
                targets = [sample_library()]
                store.add_root(str(targets[0].resolve()))
        s = self.settings
        indexer = Indexer(
            store, self.embedder, max_bytes=int(s.max_file_mb * 1e6),
            min_tokens=s.chunk_min_tokens, overlap=s.chunk_overlap_tokens,
        )
        return indexer.sync(targets, progress)

    def forget(self, path: Path) -> int:
        """Remove a file, or every document under a folder, from the index; unregister the folder."""
        real = os.path.realpath(path)
        store = self.store
        store.remove_root(real)
        docs = store.documents_under([real])
        return store.delete_documents(list(docs))

    # --- reading -----------------------------------------------------------------------------------

    def search(
        self, query: str, k: int | None = None, mode: str | None = None, filters: Filters | None = None
    ) -> list[Hit]:
        """The passages that best match the query, best first, each marked relevant or not.

        Args:
            query: any text; FTS5 syntax in it is treated as plain words.
            k: number of passages (default: setting search_k).
            mode: "hybrid" (default), "bm25" or "dense".
            filters: restrict to path globs and file types.

        Raises:
            EmptyQueryError: the query is empty or only whitespace.
        """
        if not query or not query.strip():
            raise EmptyQueryError("the query is empty; type some words to search for")
        vector = self.embedder.embed([query.strip()])[0]
        return self.search_vector(query, vector, k, mode, filters)

    def search_vector(
        self, query: str, vector: np.ndarray, k: int | None = None, mode: str | None = None,
        filters: Filters | None = None,
    ) -> list[Hit]:
        """search() with the query already embedded (lets callers batch the embedding)."""
        store = self._bound_store()
        retriever = Retriever(store, self.vectors, self.settings.relevance_threshold)
        return retriever.search(query, vector, k or self.settings.search_k, mode or self.settings.search_mode,
                                filters)

    def documents(self) -> list[DocumentInfo]:
        return self.store.list_documents()

    def roots(self) -> list[str]:
        return self.store.roots()

    def status(self) -> dict[str, Any]:
        store = self.store
        counts = store.counts()
        return {
            **counts,
            "index_path": str(store.path),
            "embedding_model": store.meta("embedding_model") or self.settings.embedding_model,
            "llm_model": self.settings.llm_model,
            "roots": store.roots(),
        }
