"""The library: the folders kept indexed, and writing them into the index, one writer at a time.

Every write (index, a watcher's burst of changes, forget, compact) holds the index's writer lock
(store/locks.py); after one that may have changed the library a lot, `after_write` runs (the facade keeps the
relevance gate's calibration in step there). Indexing steps aside while an answer is being made from the same
index, in any process (locks.wait_while_answering between files and batches).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.config import IndexSettings
from assistant.errors import AssistantError
from assistant.ingest.indexing import EmbedProgressFn, Indexer, ProgressFn
from assistant.paths import sample_library
from assistant.store.locks import wait_while_answering, writer_lock
from assistant.store.protocol import LibraryStore
from assistant.types import Embedder, IndexReport


class Library:
    """Indexes folders into one index.

    Args:
        store: this thread's store (the facade keeps one per thread).
        bound: the same, bound to the embedding model first (what writing chunks needs; loads the model).
        embedder: the embedding model, loaded on first use.
        settings: the [index] group, read at each run.
        index_file: the index's path (its writer lock and its "answering" signal sit beside it).
        on_reset: called when a rebuild empties the index (the facade drops its in-memory vectors).
        after_write: called, still holding the lock, after a run that may have changed the library a lot.
    """

    def __init__(self, store: Callable[[], LibraryStore], bound: Callable[[], LibraryStore],
                 embedder: Callable[[], Embedder],
                 settings: Callable[[], IndexSettings], index_file: Path, on_reset: Callable[[], object],
                 after_write: Callable[[], object]) -> None:
        self._store, self._bound, self._embedder, self._settings = store, bound, embedder, settings
        self.index_file, self._on_reset, self._after_write = index_file, on_reset, after_write

    def index(self, paths: list[Path] | None = None, progress: ProgressFn | None = None, rebuild: bool = False,
              on_wait: Callable[[dict[str, Any]], None] | None = None, role: str = "index",
              on_embed: EmbedProgressFn | None = None, stop: threading.Event | None = None) -> IndexReport:
        """Sync files or folders into the index and register folders as roots. With no paths: the registered
        roots, or the bundled sample library when none is registered.

        Raises:
            AssistantError: a path that does not exist.
            IndexMismatchError: the index was built with another embedding model (use rebuild=True).
            IndexWriteError: the index file cannot be written.
        """
        with writer_lock(self.index_file, role, on_wait=on_wait):
            store = self._store()
            if rebuild:
                store.reset()
                self._on_reset()
            store = self._bound()
            if paths:
                missing = [str(p) for p in paths if not os.path.lexists(p)]
                if missing:
                    raise AssistantError(f"no such file or folder: {', '.join(missing)}")
                targets = [Path(os.path.realpath(p)) for p in paths]
                for t in targets:
                    if t.is_dir():
                        store.add_root(str(t))
            else:
                targets = [Path(r) for r in store.roots()]
                if not targets:
                    targets = [sample_library()]
                    store.add_root(str(targets[0].resolve()))
            report = self.indexer().sync(targets, progress, on_embed=on_embed, stop=stop)
            report.queued = store.queued()
            if not report.queued:  # (writes waiting for the team index's server changed nothing there yet)
                self._after_write()
            return report

    def indexer(self) -> Indexer:
        """An Indexer over this thread's store (callers hold the writer lock while using it)."""
        store = self._bound()
        return Indexer(store, self._embedder(), open_store=store.reopen, settings=self._settings(),
                       pause=lambda: wait_while_answering(self.index_file))

    def sync_paths(self, paths: list[Path], role: str = "watcher", progress: ProgressFn | None = None,
                   on_embed: EmbedProgressFn | None = None, stop: threading.Event | None = None) -> IndexReport:
        """Bring just these paths (changed, created, moved or deleted) in step, under their roots."""
        roots = [Path(r) for r in self._store().roots()]
        by_root: dict[Path, list[Path]] = {}
        for p in paths:
            for r in roots:
                if str(p) == str(r) or str(p).startswith(str(r) + os.sep):
                    by_root.setdefault(r, []).append(p)
                    break
        total = IndexReport()
        with writer_lock(self.index_file, role):
            for root, scope in by_root.items():
                total.add(self.indexer().sync([root], progress, scope=scope, on_embed=on_embed, stop=stop))
            total.queued = self._store().queued()
            if not total.queued:
                self._after_write()
        return total

    def add_root(self, path: Path) -> bool:
        """Register a folder to keep indexed (the watcher and `assistant index` cover it).

        Raises:
            AssistantError: not a folder.
        """
        real = os.path.realpath(path)
        if not os.path.isdir(real):
            raise AssistantError(f"{path} is not a folder")
        return self._store().add_root(real)

    def remove_root(self, path: Path) -> int:
        """Unregister a folder and drop its documents from the index; returns how many went.

        Raises:
            AssistantError: not a registered folder.
        """
        real = os.path.realpath(path)
        if real not in self._store().roots():
            raise AssistantError(f"{path} is not a registered folder; `assistant roots` lists them")
        with writer_lock(self.index_file, "remove"):
            return self._forget(real)

    def forget(self, path: Path) -> int:
        """Remove a file, or every document under a folder, from the index; unregister the folder.

        Raises:
            AssistantError: the path is a file inside another (a mail attachment): it goes with that file.
            IndexBusyError: another writer kept the index busy for too long.
        """
        container = self._store().container_of(os.path.realpath(path))
        if container is not None:
            raise AssistantError(f"{path} is an attachment inside {container}; it is indexed with that file "
                                 f"and goes when it does (assistant forget {container})")
        with writer_lock(self.index_file, "forget"):
            return self._forget(os.path.realpath(path))

    def _forget(self, real: str) -> int:
        store = self._store()
        store.remove_root(real)
        return store.delete_documents(list(store.documents_under([real])))

    def compact(self) -> int:
        """Give back the disk space of deleted documents and older index formats; returns the bytes freed.

        Raises:
            IndexBusyError: another writer kept the index busy for too long.
        """
        with writer_lock(self.index_file, "compact"):
            return self._store().compact()
