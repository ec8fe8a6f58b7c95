"""Syncing folders into the index: only what changed is parsed, only chunks never seen are embedded."""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.errors import DocumentError, IndexWriteError
from assistant.ingest.chunking import CHUNKER_VERSION, chunk_document
from assistant.ingest.documents import parse
from assistant.ingest.embedding import Embedder
from assistant.ingest.scanning import FoundFile, scan
from assistant.store import Store, StoredDocument
from assistant.types import Chunk, IndexReport

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]
"""Called as progress(files_done, files_total, current_path)."""

EMBED_GROUP = 128  # chunks gathered across files before calling the model: keeps its batches full


@dataclass
class _Pending:
    found: FoundFile
    digest: str
    chunks: list[Chunk]
    is_new: bool


class Indexer:
    """Brings the index in step with some files or folders."""

    def __init__(
        self, store: Store, embedder: Embedder, *, max_bytes: int, min_tokens: int = 48, overlap: int = 32
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.max_bytes = max_bytes
        self.min_tokens = min_tokens
        self.overlap = overlap

    def sync(
        self, roots: list[Path], progress: ProgressFn | None = None, scope: list[Path] | None = None
    ) -> IndexReport:
        """Index new and changed files under the roots, drop deleted ones, follow moves.

        With `scope` (paths below the roots, existing or not), only those paths are brought in step:
        this is how the watcher applies a burst of file events.

        A failure in one file is recorded (status 'error') and the run goes on. Ctrl-C stops at a file
        boundary: what was written stays, nothing is half-written.

        Raises:
            IndexWriteError: the database itself could not be written (e.g. the disk is full).
        """
        report = IndexReport()
        roots = [Path(os.path.realpath(r)) for r in roots]
        found = scan(roots, self.max_bytes, scope)
        report.skipped = len(found.skipped)
        report.skipped_files = [(str(p), reason) for p, reason in found.skipped]
        known = self.store.documents_under(str(p) for p in (scope if scope is not None else roots))
        present = {str(f.path) for f in found.files}
        vanished = {p: d for p, d in known.items() if p not in present}
        by_hash: dict[str, StoredDocument] = {}
        for d in vanished.values():
            if d.status == "ok" and d.content_hash:
                by_hash.setdefault(d.content_hash, d)
        total = len(found.files)
        pending: list[_Pending] = []
        try:
            for path, reason in found.errors:
                vanished.pop(str(path), None)
                self._fail(report, str(path), reason, known.get(str(path)))
            for done, f in enumerate(found.files, start=1):
                if progress:
                    progress(done - 1, total, str(f.path))
                item = self._examine(f, known.get(str(f.path)), by_hash, vanished, report)
                if item is not None:
                    pending.append(item)
                    if sum(len(p.chunks) for p in pending) >= EMBED_GROUP:
                        self._flush(pending, report)
                        pending = []
            self._flush(pending, report)
            pending = []
            if progress:
                progress(total, total, "")
            if vanished:
                report.removed += self.store.delete_documents(list(vanished))
        except KeyboardInterrupt:
            report.interrupted = True
        except Exception as exc:
            if isinstance(exc, self.store.driver.DatabaseError):
                raise IndexWriteError(
                    f"cannot write the index {self.store.path}: {exc}. Free disk space or check permissions, "
                    "then run the same command again; files already indexed are kept."
                ) from exc
            raise
        report.chunks_reused = max(0, report.chunks_reused - report.chunks_embedded)
        return report

    def _examine(
        self, f: FoundFile, row: StoredDocument | None, by_hash: dict[str, StoredDocument],
        vanished: dict[str, StoredDocument], report: IndexReport,
    ) -> _Pending | None:
        path = str(f.path)
        if row is not None and row.size == f.size and row.mtime_ns == f.mtime_ns:
            if row.status == "error":
                report.errors.append({"path": path, "error": row.error or "unknown error"})
                return None
            if row.chunker_version == CHUNKER_VERSION:
                report.unchanged += 1
                return None
        try:
            data = f.path.read_bytes()
        except FileNotFoundError:
            report.errors.append({"path": path, "error": "file vanished while indexing; removed from the index"})
            if row is not None:
                self.store.delete_documents([path])
            return None
        except OSError as exc:
            self._fail(report, path, f"cannot read the file: {exc.strerror or exc}", row, f)
            return None
        digest = hashlib.sha256(data).hexdigest()
        size, mtime_ns = len(data), f.mtime_ns
        if row is not None and row.status == "ok" and row.content_hash == digest and \
                row.chunker_version == CHUNKER_VERSION:
            self.store.touch_document(row.id, size, mtime_ns)
            report.unchanged += 1
            return None
        if row is None and digest in by_hash:
            old = by_hash.pop(digest)
            vanished.pop(old.path, None)
            self.store.move_document(old.id, path, size, mtime_ns)
            report.moved += 1
            return None
        try:
            doc = parse(f.path, data, f.format)
            chunks = chunk_document(doc, self.embedder, self.min_tokens, self.overlap)
        except DocumentError as exc:
            self._fail(report, path, str(exc), row, f, digest)
            return None
        except Exception as exc:  # a parser library failing on odd input must not stop the run
            log.exception("parsing %s failed", path)
            self._fail(report, path, f"could not parse the file ({type(exc).__name__}: {exc})", row, f, digest)
            return None
        found = FoundFile(f.path, size, mtime_ns, f.format)
        return _Pending(found, digest, chunks, is_new=row is None)

    def _flush(self, pending: list[_Pending], report: IndexReport) -> None:
        if not pending:
            return
        texts = {c.content_hash: c.embed_text for p in pending for c in p.chunks}
        have = self.store.vectors_for_hashes(texts)
        missing = [h for h in texts if h not in have]
        if missing:
            vectors = self.embedder.embed([texts[h] for h in missing])
            for h, v in zip(missing, vectors, strict=True):
                have[h] = np.ascontiguousarray(v, dtype=np.float32).tobytes()
        report.chunks_embedded += len(missing)
        for p in pending:
            f = p.found
            self.store.write_document(
                str(f.path), f.size, f.mtime_ns, p.digest, f.format, CHUNKER_VERSION, p.chunks,
                [have[c.content_hash] for c in p.chunks],
            )
            report.chunks_reused += len(p.chunks)
            if p.is_new:
                report.added += 1
            else:
                report.updated += 1

    def _fail(
        self, report: IndexReport, path: str, error: str, row: StoredDocument | None,
        f: FoundFile | None = None, digest: str | None = None,
    ) -> None:
        report.errors.append({"path": path, "error": error})
        if row is not None and row.status == "error" and row.error == error and \
                (f is None or (row.size == f.size and row.mtime_ns == f.mtime_ns)):
            return
        self.store.record_error(
            path, error, f.size if f else None, f.mtime_ns if f else None, digest, f.format if f else None
        )
