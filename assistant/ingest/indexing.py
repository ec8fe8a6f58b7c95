"""Syncing folders into the index: only what changed is parsed, only chunks never seen are embedded.

Two stages run side by side. The reader (the calling thread) reads, parses and chunks each changed file
and writes it at once with every vector already known by content hash: the document is searchable by
keywords from that moment. The embedder (a thread with its own connection) gives the chunks still
waiting (pending_vectors) their vectors, longest-sorted batches of EMBED_GROUP, one transaction each.
Parsing thus overlaps with embedding, memory stays flat whatever the folder size, and a run that is
killed at any moment leaves a consistent index whose waiting chunks the next run embeds.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from assistant.config import IndexSettings
from assistant.errors import DocumentError, IndexWriteError, NoTextError
from assistant.ingest.chunking import CHUNKER_VERSION, chunk_document
from assistant.ingest.ocr import OcrOptions
from assistant.ingest.readers import parse
from assistant.ingest.scanning import FoundFile, scan
from assistant.store import Part, StoredDocument
from assistant.store.protocol import LibraryStore
from assistant.types import Attachment, Chunk, Document, Embedder, IndexReport

log = logging.getLogger(__name__)

ProgressFn = Callable[[int, int, str], None]
"""Called as progress(files_done, files_total, current_path)."""
EmbedProgressFn = Callable[[int, int], None]
"""Called as on_embed(chunks_embedded, chunks_to_embed) by the embedding stage."""

CONTAINERS = frozenset({"eml", "mbox", "msg", "zip", "tar", "gz", "bz2", "xz"})  # files holding documents of their own
EMBED_GROUP = 256  # waiting chunks per transaction
EMBED_SLICE = 32  # chunks per call to the model (about 0.2 s on 2 cores): between calls, indexing can step aside
# While the reader is still writing, the embedder waits (this long at most) for a whole group rather than
# embed a part: groups then begin at the same chunks whatever the timing, so the same folder gets the same
# vectors (the int8 embedder scales a call's activations together, so a passage's vector depends a little
# on the passages embedded beside it: two builds of NFCorpus differed by 0.003 nDCG@10).
GROUP_WAIT = 10.0


@dataclass
class _Parsed:
    found: FoundFile
    digest: str
    chunks: list[Chunk]
    is_new: bool
    partial: bool = False  # scanned pages were left for the OCR pass after the other files
    parts: list[tuple[Attachment, list[Chunk]]] = field(default_factory=list)  # files inside it (attachments)


class Indexer:
    """Brings the index in step with some files or folders."""

    def __init__(
        self, store: LibraryStore, embedder: Embedder, *, open_store: Callable[[], LibraryStore],
        settings: IndexSettings,
        pause: Callable[[], object] | None = None,
    ) -> None:
        self.store = store
        # Called between files and between calls to the embedding model: it blocks while an answer is being
        # generated from this index (in any process), so indexing never takes the CPU from an answer.
        self.pause = pause or (lambda: None)
        self.open_store = open_store  # a second connection to the same index, for the embedding stage
        self.embedder = embedder
        self.max_bytes = int(settings.max_file_mb * 1e6)
        self.min_tokens = settings.chunk_min_tokens
        self.overlap = settings.chunk_overlap_tokens
        self.ocr_mode = settings.ocr
        self.ocr_max_pages = max(1, settings.ocr_max_pages)
        self._deferred: list[tuple[FoundFile, str, OcrOptions]] = []  # files with scanned pages still to read

    def sync(
        self, roots: list[Path], progress: ProgressFn | None = None, scope: list[Path] | None = None,
        on_embed: EmbedProgressFn | None = None, stop: threading.Event | None = None,
    ) -> IndexReport:
        """Index new and changed files under the roots, drop deleted ones, follow moves, and embed every
        chunk still waiting for a vector (this run's, and any a killed run left).

        Setting `stop` (the watcher's, when its daemon is told to stop) ends the run at the next file or batch
        boundary, as Ctrl-C does: what was written stays, and the report says it was interrupted.

        With `scope` (paths below the roots, existing or not), only those paths are brought in step:
        this is how the watcher applies a burst of file events.

        A failure in one file is recorded (status 'error') and the run goes on. Ctrl-C stops at a file
        or batch boundary: what was written stays, nothing is half-written, and the next run embeds
        what was left waiting.

        Raises:
            IndexWriteError: the database itself could not be written (e.g. the disk is full).
        """
        report = IndexReport()
        self._deferred = []
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
        stage = _EmbeddingStage(self, on_embed)
        try:
            stage.start()
            for path, reason in found.errors:
                vanished.pop(str(path), None)
                self._fail(report, str(path), reason, known.get(str(path)))
            for done, f in enumerate(found.files, start=1):
                if stop is not None and stop.is_set():
                    raise _Stopped
                if progress:
                    progress(done - 1, total, str(f.path))
                self.pause()
                item = self._examine(f, known.get(str(f.path)), by_hash, vanished, report)
                if item is not None:
                    self._write(item, report)
                    stage.wake()
                stage.check()
            while self._deferred:  # the pages of long scans left for after every other file
                if stop is not None and stop.is_set():
                    raise _Stopped
                found_file, digest, opts = self._deferred.pop(0)
                if progress:
                    progress(total, total, f"{found_file.path} (OCR: {opts.skipped} more pages)")
                item = self._read_the_rest(found_file, digest, opts, report)
                if item is not None:
                    self._write(item, report, count=False)
                    stage.wake()
                stage.check()
            if progress:
                progress(total, total, "")
            if vanished:
                report.removed += self.store.delete_documents(list(vanished))
            stage.finish(stop)
        except (KeyboardInterrupt, _Stopped):
            report.interrupted = True
            stage.stop()
        except Exception as exc:
            stage.stop()
            if isinstance(exc, self.store.driver.DatabaseError):
                raise IndexWriteError(
                    f"cannot write the index {self.store.path}: {exc}. Free disk space or check permissions, "
                    "then run the same command again; files already indexed are kept."
                ) from exc
            raise
        report.chunks_embedded += stage.report.chunks_embedded
        report.chunks_reused += stage.report.chunks_reused
        report.chunks_pending = self.store.pending_count()
        return report

    def _examine(
        self, f: FoundFile, row: StoredDocument | None, by_hash: dict[str, StoredDocument],
        vanished: dict[str, StoredDocument], report: IndexReport,
    ) -> _Parsed | None:
        path = str(f.path)
        if row is not None and row.size == f.size and row.mtime_ns == f.mtime_ns:
            if row.status == "error":
                report.errors.append({"path": path, "error": row.error or "unknown error"})
                return None
            if row.status == "no text":
                report.no_text += 1
                return None
            if row.chunker_version == CHUNKER_VERSION:
                report.unchanged += 1
                self._attachment_errors(row, report)
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
            self._attachment_errors(row, report)
            return None
        if row is None and digest in by_hash:
            old = by_hash.pop(digest)
            vanished.pop(old.path, None)
            self.store.move_document(old.id, path, size, mtime_ns)
            report.moved += 1
            return None
        opts = OcrOptions(enabled=self.ocr_mode != "off", max_pages=self.ocr_max_pages)
        try:
            doc = parse(f.path, data, f.format, opts)
            chunks, parts = self._chunk(doc)
        except NoTextError as exc:  # a photo, a blank scan: read, and quietly marked, not an error
            report.no_text += 1
            if not (row is not None and row.status == "no text" and row.content_hash == digest):
                self.store.record_error(path, str(exc), size, mtime_ns, digest, f.format, CHUNKER_VERSION, "no text")
            return None
        except DocumentError as exc:
            self._fail(report, path, str(exc), row, f, digest)
            return None
        except Exception as exc:  # a parser library failing on odd input must not stop the run
            log.exception("parsing %s failed", path)
            self._fail(report, path, f"could not parse the file ({type(exc).__name__}: {exc})", row, f, digest)
            return None
        found = FoundFile(f.path, size, mtime_ns, doc.format)  # what it really is, when its name said otherwise
        if opts.skipped:
            self._deferred.append((found, digest, opts))
        return _Parsed(found, digest, chunks, is_new=row is None, partial=opts.skipped > 0, parts=parts)

    def _chunk(self, doc: Document) -> tuple[list[Chunk], list[tuple[Attachment, list[Chunk]]]]:
        """A document's chunks, and those of each file inside it."""
        chunks = chunk_document(doc, self.embedder, self.min_tokens, self.overlap)
        parts = [(a, chunk_document(a.document, self.embedder, self.min_tokens, self.overlap) if a.document else [])
                 for a in doc.attachments]
        return chunks, parts

    def _attachment_errors(self, row: StoredDocument, report: IndexReport) -> None:
        """An unchanged file's attachments that could not be read are reported again, as files are."""
        if row.format in CONTAINERS:
            report.errors += [{"path": p, "error": e} for p, e in self.store.attachment_errors(row.id)]

    def _read_the_rest(self, f: FoundFile, digest: str, opts: OcrOptions, report: IndexReport) -> _Parsed | None:
        """Read every scanned page of a file whose first pass stopped at ocr_max_pages (pages read then
        are not read again). A file changed meanwhile is left to the next run."""
        try:
            data = f.path.read_bytes()
        except OSError:
            return None
        if hashlib.sha256(data).hexdigest() != digest:
            return None
        opts.max_pages, opts.skipped = None, 0
        try:
            doc = parse(f.path, data, f.format, opts)
            chunks, parts = self._chunk(doc)
        except Exception as exc:  # the first pass read this file: keep what it wrote, and say why
            log.exception("reading the rest of %s failed", f.path)
            report.errors.append({"path": str(f.path), "error": f"OCR of its remaining pages failed: {exc}"})
            return None
        return _Parsed(f, digest, chunks, is_new=False, parts=parts)

    def _write(self, p: _Parsed, report: IndexReport, count: bool = True) -> None:
        """Write one parsed document now, with the vectors its chunks already have anywhere in the index;
        the others wait for the embedding stage. A partial document (scanned pages still to read) is
        written with chunker version 0, so a run killed before its OCR pass reads it again."""
        every = p.chunks + [c for _, chunks in p.parts for c in chunks]
        have = self.store.vectors_for_hashes(c.content_hash for c in every)
        f = p.found
        version = 0 if p.partial else CHUNKER_VERSION
        parts = [Part(a.name, a.format, a.data_size, a.content_hash, chunks,
                      [have.get(c.content_hash) for c in chunks], a.error, a.no_text) for a, chunks in p.parts]
        self.store.write_document(str(f.path), f.size, f.mtime_ns, p.digest, f.format, version, p.chunks,
                                  [have.get(c.content_hash) for c in p.chunks], parts)
        report.chunks_reused += sum(c.content_hash in have for c in every)
        report.errors += [{"path": f"{f.path}/{a.name}", "error": a.error} for a, _ in p.parts
                          if a.error and not a.no_text]
        report.no_text += sum(a.no_text for a, _ in p.parts)
        if not count:
            return
        if p.is_new:
            report.added += 1
        else:
            report.updated += 1

    def embed_waiting(self, store: LibraryStore, report: IndexReport, on_embed: EmbedProgressFn | None = None,
                      stop: threading.Event | None = None, more: Callable[[], bool] = lambda: False,
                      wake: threading.Event | None = None) -> None:
        """Give every chunk waiting for a vector its vector, EMBED_GROUP at a time (one transaction each);
        while `more` says the reader is writing, only whole groups (see GROUP_WAIT).

        Chunks with the same content are embedded once; a vector another document gained meanwhile is
        copied. With `more` returning True, an empty queue waits for `wake` instead of returning.
        """
        done = 0
        since: float | None = None  # when the reader was first seen with less than a group waiting
        while stop is None or not stop.is_set():
            # Asked before looking at the queue: once the reader is done, everything it wrote is committed,
            # so an empty queue then means done (asked after, its last document could slip through).
            reading = more()
            batch = store.pending_chunks(EMBED_GROUP)
            short = reading and len(batch) < EMBED_GROUP
            if short and batch:
                since = since or time.monotonic()
                short = time.monotonic() - since < GROUP_WAIT
            if not batch or short:
                if not reading:
                    return
                if wake is not None:
                    wake.wait(0.2)
                    wake.clear()
                continue
            since = None
            if on_embed:
                on_embed(done, done + store.pending_count())
            texts = {h: t for _, h, t in batch}
            have = store.vectors_for_hashes(texts)
            missing = [h for h in texts if h not in have]
            # Longest-sorted slices, so each call pads little; between calls an answer can have the CPU.
            missing.sort(key=lambda h: len(texts[h]))
            for i in range(0, len(missing), EMBED_SLICE):
                self.pause()
                part = missing[i:i + EMBED_SLICE]
                for h, v in zip(part, self.embedder.embed([texts[h] for h in part]), strict=True):
                    have[h] = np.ascontiguousarray(v, dtype=np.float32).tobytes()
            stored = store.add_vectors({cid: have[h] for cid, h, _ in batch})
            report.chunks_embedded += len(missing)
            report.chunks_reused += stored - len(missing)
            done += stored
        if on_embed:
            on_embed(done, done + store.pending_count())

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


class _Stopped(Exception):
    """The run's stop event was set: it ends at this boundary, as Ctrl-C does."""


class _EmbeddingStage:
    """The embedding stage of one sync: a thread with its own connection that embeds waiting chunks while
    the reader writes documents."""

    def __init__(self, indexer: Indexer, on_embed: EmbedProgressFn | None) -> None:
        self.indexer = indexer
        self.report = IndexReport()  # its own counters (the reader's thread owns the sync's report)
        self.on_embed = on_embed
        self.reading = True
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._error: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="embedding", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        store = self.indexer.open_store()
        try:
            self.indexer.embed_waiting(store, self.report, self.on_embed, self._stop, lambda: self.reading,
                                       self._wake)
        except BaseException as exc:  # handed to the reader, which raises it
            self._error = exc
        finally:
            store.close()

    def wake(self) -> None:
        self._wake.set()

    def check(self) -> None:
        """Raise, in the reader, what went wrong in the embedding thread."""
        if self._error is not None:
            raise self._error

    def finish(self, stop: threading.Event | None = None) -> None:
        """The reader is done: embed what is left, and wait for it (Ctrl-C or `stop` still stops cleanly)."""
        self.reading = False
        self._wake.set()
        while self._thread is not None and self._thread.is_alive():
            if stop is not None and stop.is_set():
                raise _Stopped
            self._thread.join(0.2)
        self.check()

    def stop(self) -> None:
        """Stop after the current batch (its transaction commits or rolls back whole)."""
        self.reading = False
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
