"""Assistant: the one facade every front end (CLI, TUI, daemon) uses."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Any

from .config import Settings
from .embedding import Embedder, SentenceTransformerEmbedder
from .errors import EmptyQueryError
from .indexing import Indexer, ProgressFn
from .paths import sample_library
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

    def search(self, query: str, k: int | None = None) -> list[Hit]:
        """The passages nearest in meaning to the query, best first.

        Raises:
            EmptyQueryError: the query is empty or only whitespace.
        """
        if not query or not query.strip():
            raise EmptyQueryError("the query is empty; type some words to search for")
        k = k or self.settings.search_k
        store = self._bound_store()
        vector = self.embedder.embed([query.strip()])[0]
        pairs = store.vector_search(vector, k)
        rows = store.chunk_rows([cid for cid, _ in pairs])
        hits = []
        for cid, score in pairs:
            r = rows.get(cid)
            if r is None:
                continue
            hits.append(Hit(r["path"], cid, round(score, 4), r["text"], r["heading"], r["page"],
                            r["start_line"], r["end_line"]))
        return hits

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
