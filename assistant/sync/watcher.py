"""Keeping the index fresh: watchdog events -> debounced, coalesced batches -> scoped syncs.

On start every registered root is reconciled with the index (catching changes made while nothing ran),
then file system events are followed. Events are gathered until the folder has been quiet for
`debounce` seconds (or `max_delay` has passed), so an editor's save-through-a-temp-file, a `git
checkout` or an unzip becomes one sync in which each file is looked at once. Roots whose watches
cannot be added (inotify limit) are rescanned every `poll_interval` seconds instead; a kernel queue
overflow triggers a rescan of every root. Nothing here imports a UI.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.ingest.scanning import is_editor_temp
from assistant.service import Assistant
from assistant.types import IndexReport

log = logging.getLogger(__name__)

MAX_SCOPE = 256  # beyond this many changed paths, sync their parent folders instead


@dataclass
class WatchStatus:
    """What the watcher is doing, for `assistant status` and the app's status bar."""

    pid: int = field(default_factory=os.getpid)
    state: str = "starting"  # starting | reconciling | watching | indexing | stopped
    started_at: float = field(default_factory=time.time)
    queue: int = 0
    roots: list[str] = field(default_factory=list)
    polling: dict[str, str] = field(default_factory=dict)  # root -> why it is rescanned instead of watched
    last_change: dict[str, Any] | None = None
    last_error: str | None = None
    embedding: str = ""  # "N of M" chunks have vectors while a sync embeds, else ""
    updated_at: float = field(default_factory=time.time)


class _Pending:
    """Paths with events, waiting for the folder to go quiet."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.paths: dict[str, float] = {}
        self.first = 0.0
        self.last = 0.0
        self.rescan = False

    def add(self, *paths: str) -> None:
        now = time.monotonic()
        with self.lock:
            if not self.paths:
                self.first = now
            for p in paths:
                self.paths[p] = now
            self.last = now

    def take(self, debounce: float, max_delay: float) -> list[str]:
        now = time.monotonic()
        with self.lock:
            if not self.paths or (now - self.last < debounce and now - self.first < max_delay):
                return []
            out = list(self.paths)
            self.paths.clear()
            return out

    def __len__(self) -> int:
        return len(self.paths)


class _OverflowDetector(logging.Handler):
    def __init__(self, pending: _Pending) -> None:
        super().__init__(logging.WARNING)
        self.pending = pending

    def emit(self, record: logging.LogRecord) -> None:
        if "overflow" in record.getMessage().lower():
            self.pending.rescan = True


def _handler(pending: _Pending) -> Any:
    from watchdog.events import FileSystemEventHandler

    class Handler(FileSystemEventHandler):
        def on_any_event(self, event: Any) -> None:
            kind = event.event_type
            if kind in ("opened", "closed_no_write") or (event.is_directory and kind == "modified"):
                return
            paths = [os.fsdecode(event.src_path)]
            if kind == "moved":
                paths.append(os.fsdecode(event.dest_path))
            paths = [p for p in paths if not is_editor_temp(os.path.basename(p))]
            if paths:
                pending.add(*paths)

    return Handler()


def coalesce(paths: list[str]) -> list[Path]:
    """Changed paths as a sync scope; very many become their parent folders."""
    if len(paths) <= MAX_SCOPE:
        return [Path(p) for p in sorted(set(paths))]
    parents = sorted({os.path.dirname(p) for p in paths})
    # Drop folders already inside another chosen folder.
    out: list[str] = []
    for p in parents:
        if not out or not (p == out[-1] or p.startswith(out[-1] + os.sep)):
            out.append(p)
    return [Path(p) for p in out]


class Watcher:
    """Follows every registered root of an Assistant until `stop` is set."""

    def __init__(
        self, assistant: Assistant, *, debounce: float | None = None, max_delay: float | None = None,
        poll_interval: float | None = None, reconcile_interval: float | None = None,
        on_report: Callable[[IndexReport, list[Path]], None] | None = None,
        on_status: Callable[[WatchStatus], None] | None = None, stop: threading.Event | None = None,
    ) -> None:
        self.stop = stop or threading.Event()
        self.assistant = assistant
        s = assistant.settings  # timings not given come from the settings watch_*_s
        self.debounce = s.watch.debounce_s if debounce is None else debounce
        self.max_delay = s.watch.max_delay_s if max_delay is None else max_delay
        self.poll_interval = s.watch.poll_s if poll_interval is None else poll_interval
        self.reconcile_interval = s.watch.reconcile_s if reconcile_interval is None else reconcile_interval
        self.on_report = on_report
        self.on_status = on_status
        self.status = WatchStatus()
        self.pending = _Pending()
        self._watches: dict[str, Any] = {}

    def _publish(self, state: str | None = None) -> None:
        if state:
            self.status.state = state
        self.status.queue = len(self.pending)
        self.status.updated_at = time.time()
        if self.on_status:
            self.on_status(self.status)

    def _sync(self, scope: list[Path] | None, roots: list[str]) -> None:
        # While an answer is being made from this index (in this process or another), the indexer steps aside
        # between files and batches (store/locks.answering); told to stop, it stops at the next such boundary.
        self._publish("indexing" if scope is not None else "reconciling")
        last = [0.0]

        def on_embed(done: int, total: int) -> None:  # from the embedding thread
            self.status.embedding = f"{done} of {total}" if done < total else ""
            if time.monotonic() - last[0] >= 1.0 or not self.status.embedding:
                last[0] = time.monotonic()
                self._publish()

        try:
            if scope is None:
                report = self.assistant.index([Path(r) for r in roots], role="watcher", on_embed=on_embed,
                                              stop=self.stop)
            else:
                report = self.assistant.sync_paths(scope, on_embed=on_embed, stop=self.stop)
        except Exception as exc:  # keep watching; the next event or rescan retries
            log.exception("sync failed")
            self.status.last_error = f"{type(exc).__name__}: {exc}"
            self.status.embedding = ""
            self._publish("watching")
            return
        self.status.embedding = ""
        changed = report.added + report.updated + report.removed + report.moved
        if changed or report.errors:
            path = str(scope[-1]) if scope else (roots[-1] if roots else "")
            self.status.last_change = {"path": path, "at": time.time(), "added": report.added,
                                       "updated": report.updated, "removed": report.removed,
                                       "moved": report.moved, "errors": len(report.errors)}
        if self.on_report:
            self.on_report(report, scope or [Path(r) for r in roots])
        self._publish("watching")

    def _schedule(self, observer: Any, roots: list[str]) -> None:
        for root in roots:
            if root in self._watches or root in self.status.polling:
                continue
            try:
                self._watches[root] = observer.schedule(_handler(self.pending), root, recursive=True)
            except OSError as exc:
                reason = exc.strerror or str(exc)
                self.status.polling[root] = f"cannot watch ({reason}); rescanning every {self.poll_interval:g} s"
                log.warning("cannot watch %s: %s; falling back to periodic rescans", root, reason)
        for root in list(self._watches):
            if root not in roots:
                observer.unschedule(self._watches.pop(root))
        for root in list(self.status.polling):
            if root not in roots:
                del self.status.polling[root]

    def run(self, stop: threading.Event | None = None) -> None:
        from watchdog.observers import Observer

        stop = self.stop = stop or self.stop
        overflow = _OverflowDetector(self.pending)
        logging.getLogger("watchdog.observers.inotify_c").addHandler(overflow)
        logging.getLogger("watchdog.observers.inotify").addHandler(overflow)
        observer = Observer()
        observer.start()
        try:
            roots = self.assistant.roots()
            self.status.roots = roots
            self._schedule(observer, roots)  # watch first, so nothing changed during the reconcile is missed
            self._sync(None, roots)
            last_poll = last_reconcile = last_roots = last_publish = time.monotonic()
            while not stop.wait(0.1):
                now = time.monotonic()
                if now - last_roots > 2.0:
                    last_roots = now
                    current = self.assistant.roots()
                    if current != roots:
                        added = [r for r in current if r not in roots]
                        roots = current
                        self.status.roots = roots
                        self._schedule(observer, roots)
                        if added:
                            self._sync(None, added)
                if self.pending.rescan:
                    self.pending.rescan = False
                    log.warning("event queue overflowed; rescanning every root")
                    self._sync(None, roots)
                batch = self.pending.take(self.debounce, self.max_delay)
                if batch:
                    self._sync(coalesce(batch), roots)
                polled = list(self.status.polling)
                if polled and now - last_poll > self.poll_interval:
                    last_poll = now
                    self._sync(None, polled)
                if now - last_reconcile > self.reconcile_interval:
                    last_reconcile = now
                    self._sync(None, roots)
                if now - last_publish >= 1.0:  # status (queue length) at most once a second
                    last_publish = now
                    self._publish()
        finally:
            observer.stop()
            observer.join(timeout=5)
            logging.getLogger("watchdog.observers.inotify_c").removeHandler(overflow)
            logging.getLogger("watchdog.observers.inotify").removeHandler(overflow)
            self._publish("stopped")
