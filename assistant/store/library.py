"""What the library holds: registered folders, documents, their chunks and the keyword index."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from assistant.store.db import Database
from assistant.text import WORD, file_name_key
from assistant.types import Chunk, DocumentInfo


@dataclass(frozen=True)
class Part:
    """A file inside a document (a mail attachment), written with it: its chunks and their vectors (None:
    waiting), or the error that kept it from being read."""

    name: str
    format: str
    size: int
    content_hash: str
    chunks: list[Chunk]
    vectors: list[bytes | None]
    error: str | None = None
    no_text: bool = False  # nothing to read in it (a photo, an empty file): `error` says so, as a status


@dataclass(frozen=True)
class StoredDocument:
    id: int
    path: str
    size: int | None
    mtime_ns: int | None
    content_hash: str | None
    status: str
    error: str | None
    chunker_version: int | None
    format: str | None = None


class LibraryTables(Database):
    """Roots, documents, chunks, keyword search."""

    def add_root(self, path: str) -> bool:
        cur = self.conn.execute("INSERT OR IGNORE INTO roots(path, added_at) VALUES (?, ?)", (path, time.time()))
        return cur.rowcount > 0

    def remove_root(self, path: str) -> bool:
        return self.conn.execute("DELETE FROM roots WHERE path = ?", (path,)).rowcount > 0

    def roots(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT path FROM roots ORDER BY path")]

    def documents_under(self, roots: Iterable[str]) -> dict[str, StoredDocument]:
        """Stored documents at or below any of the given absolute paths: files on disk, not the files
        inside them (attachments come and go with their container)."""
        out: dict[str, StoredDocument] = {}
        for root in roots:
            prefix = root.rstrip(os.sep) + os.sep
            rows = self.conn.execute(
                "SELECT id, path, size, mtime_ns, content_hash, status, error, chunker_version, format FROM documents "
                "WHERE (path = ? OR substr(path, 1, ?) = ?) AND container_id IS NULL",
                (root, len(prefix), prefix),
            )
            for row in rows:
                out[row[1]] = StoredDocument(*row)
        return out

    def write_document(
        self, path: str, size: int, mtime_ns: int, content_hash: str, fmt: str, chunker_version: int,
        chunks: list[Chunk], vectors: list[bytes | None], parts: Iterable[Part] = (),
    ) -> None:
        """Replace a document and all its chunks and vectors, and the files inside it (`parts`, each
        stored at this path + "/" + its name), in one transaction. A chunk whose vector is None is kept
        waiting for it (pending_vectors): searchable by keywords now, by meaning once add_vectors gives
        it one."""
        with self.transaction() as c:
            doc_id = self._upsert(c, path, size, mtime_ns, content_hash, fmt, "ok", None, chunker_version, len(chunks))
            c.execute("DELETE FROM documents WHERE container_id = ?", (doc_id,))
            self._write_chunks(c, doc_id, chunks, vectors)
            for part in parts:
                n = len(part.chunks)
                status = "no text" if part.no_text else "error" if part.error else "ok"
                part_id = self._upsert(c, f"{path}/{part.name}", part.size, mtime_ns, part.content_hash, part.format,
                                       status, part.error, chunker_version, n, doc_id)
                self._write_chunks(c, part_id, part.chunks, part.vectors)

    def _write_chunks(self, c: Any, doc_id: int, chunks: list[Chunk], vectors: list[bytes | None]) -> None:
        c.execute("DELETE FROM chunks WHERE document_id = ?", (doc_id,))
        for chunk, blob in zip(chunks, vectors, strict=True):
            cur = c.execute(
                "INSERT INTO chunks(document_id, position, text, heading, page, start_line, end_line, "
                "token_count, content_hash, ocr) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (doc_id, chunk.position, chunk.text, chunk.heading, chunk.page, chunk.start_line,
                 chunk.end_line, chunk.token_count, chunk.content_hash, int(chunk.ocr)),
            )
            cid = cur.lastrowid
            if blob is None:
                c.execute("INSERT INTO pending_vectors(chunk_id) VALUES (?)", (cid,))
            else:
                self._insert_vector(c, cid, blob)

    def record_error(
        self, path: str, error: str, size: int | None = None, mtime_ns: int | None = None,
        content_hash: str | None = None, fmt: str | None = None, chunker_version: int | None = None,
        status: str = "error",
    ) -> None:
        """Mark a document as failed, or (status "no text") as read with nothing readable in it, dropping any
        chunks it had and keeping the reason for the user."""
        with self.transaction() as c:
            doc_id = self._upsert(c, path, size, mtime_ns, content_hash, fmt, status, error, chunker_version, 0)
            c.execute("DELETE FROM chunks WHERE document_id = ?", (doc_id,))
            c.execute("DELETE FROM documents WHERE container_id = ?", (doc_id,))

    @staticmethod
    def _upsert(c: Any, path: str, size: int | None, mtime_ns: int | None, content_hash: str | None,
                fmt: str | None, status: str, error: str | None, chunker_version: int | None, n: int,
                container_id: int | None = None) -> int:
        c.execute(
            "INSERT INTO documents(path, size, mtime_ns, content_hash, format, status, error, chunker_version, "
            "chunk_count, indexed_at, container_id, name_key) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(path) DO UPDATE SET "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, content_hash = excluded.content_hash, "
            "format = excluded.format, status = excluded.status, error = excluded.error, "
            "chunker_version = excluded.chunker_version, chunk_count = excluded.chunk_count, "
            "indexed_at = excluded.indexed_at, container_id = excluded.container_id",
            (path, size, mtime_ns, content_hash, fmt, status, error, chunker_version, n, time.time(), container_id,
             file_name_key(path)),
        )
        return int(c.execute("SELECT id FROM documents WHERE path = ?", (path,)).fetchone()[0])

    def touch_document(self, doc_id: int, size: int, mtime_ns: int) -> None:
        """Record a new size/mtime for a file whose content did not change."""
        self.conn.execute("UPDATE documents SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, doc_id))

    def move_document(self, doc_id: int, new_path: str, size: int, mtime_ns: int) -> None:
        """A file was renamed or moved: keep its chunks and vectors (and the files inside it), change its
        path."""
        with self.transaction() as c:
            c.execute("DELETE FROM documents WHERE path = ?", (new_path,))
            old = c.execute("SELECT path FROM documents WHERE id = ?", (doc_id,)).fetchone()[0]
            c.execute(
                "UPDATE documents SET path = ?, size = ?, mtime_ns = ?, indexed_at = ?, name_key = ? WHERE id = ?",
                (new_path, size, mtime_ns, time.time(), file_name_key(new_path), doc_id),
            )
            c.execute("UPDATE documents SET path = ? || substr(path, ?) WHERE container_id = ?",
                      (new_path, len(old) + 1, doc_id))

    def delete_documents(self, paths: Iterable[str]) -> int:
        """Remove documents (their chunks, keyword entries and vectors go with them)."""
        n = 0
        with self.transaction() as c:
            for p in paths:
                n += c.execute("DELETE FROM documents WHERE path = ?", (p,)).rowcount
        return n

    def attachment_errors(self, doc_id: int) -> list[tuple[str, str]]:
        """(path, error) of the files inside this document that could not be read."""
        return [(str(p), str(e)) for p, e in self.conn.execute(
            "SELECT path, error FROM documents WHERE container_id = ? AND status = 'error' ORDER BY path", (doc_id,))]

    def container_of(self, path: str) -> str | None:
        """The path of the file holding this document, when it is a file inside another (an attachment)."""
        row = self.conn.execute("SELECT c.path FROM documents a JOIN documents c ON c.id = a.container_id "
                                "WHERE a.path = ?", (path,)).fetchone()
        return None if row is None else str(row[0])

    def document_chunks(self, path: str) -> list[str]:
        """The chunk texts of one document, in order."""
        rows = self.conn.execute(
            "SELECT c.text FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.path = ? "
            "ORDER BY c.position", (path,))
        return [r[0] for r in rows]

    def headings(self, limit: int = 2000) -> list[tuple[str, str]]:
        """(document path, heading path) of the library's sections, each once, in path order."""
        rows = self.conn.execute(
            "SELECT d.path, c.heading FROM chunks c JOIN documents d ON d.id = c.document_id "
            "WHERE c.heading IS NOT NULL AND c.heading != '' GROUP BY d.path, c.heading "
            "ORDER BY d.path, min(c.position) LIMIT ?", (int(limit),))
        return [(str(p), str(h)) for p, h in rows]

    def last_indexed(self) -> float | None:
        """When a document was last written to the index (seconds since the epoch), or None when empty."""
        row = self.conn.execute("SELECT max(indexed_at) FROM documents").fetchone()
        return None if row is None or row[0] is None else float(row[0])

    def documents_named(self, keys: Iterable[str]) -> list[tuple[str, str]]:
        """(name key, path) of the documents with text whose file name is one of these (text.file_name_key)."""
        keys = list(dict.fromkeys(keys))
        out: list[tuple[str, str]] = []
        for start in range(0, len(keys), 500):  # a long question has thousands of word runs; SQLite's limit
            batch = keys[start:start + 500]
            out += [(str(k), str(p)) for k, p in self.conn.execute(
                f"SELECT name_key, path FROM documents WHERE name_key IN ({','.join('?' * len(batch))}) "
                "AND status = 'ok'", batch)]
        return out

    def list_documents(self) -> list[DocumentInfo]:
        rows = self.conn.execute(
            "SELECT d.path, d.format, d.status, d.error, d.chunk_count, d.size, d.indexed_at, c.path "
            "FROM documents d LEFT JOIN documents c ON c.id = d.container_id ORDER BY d.path"
        )
        return [DocumentInfo(*r) for r in rows]

    def allowed_chunk_ids(
        self, globs: Iterable[str], exts: Iterable[str], files: Iterable[str] = ()
    ) -> np.ndarray | None:
        """Chunk ids the filters allow, or None when there is no filter."""
        where, params = _filter_sql(globs, exts, files)
        if not where:
            return None
        return np.fromiter((r for (r,) in self.conn.execute(where, params)), dtype=np.int64)

    def keyword_search(
        self, match: str, k: int, globs: Iterable[str] = (), exts: Iterable[str] = (), scored: str | None = None,
        files: Iterable[str] = (),
    ) -> list[tuple[int, float]]:
        """FTS5 BM25 search with a MATCH expression built by retrieval.fts_query: (chunk id, bm25), best first.
        With `scored` (another such expression), only the chunks it matches are scored and ranked, though by
        all of `match`'s words: scoring, not finding, is what costs FTS5 its time on a large library.

        Both restrictions are written `+rowid IN (...)`: a bare `rowid IN` hands each id to FTS5 as a query
        of its own (9 s instead of 34 ms for a folder holding 110,000 of 1M chunks)."""
        where, params = _filter_sql(globs, exts, files)
        extra = f" AND +rowid IN ({where})" if where else ""
        if scored:
            extra += " AND +rowid IN (SELECT rowid FROM chunks_fts WHERE chunks_fts MATCH ?)"
            params = [*params, scored]
        rows = self.conn.execute(
            f"SELECT rowid, bm25(chunks_fts, 1.0, 0.5) AS s FROM chunks_fts WHERE chunks_fts MATCH ?{extra} "
            "ORDER BY s LIMIT ?", (match, *params, int(k)))
        return [(int(r), float(s)) for r, s in rows]

    def phrase_share(self, phrases: Iterable[str], files: Iterable[str]) -> float:
        """The share of these documents' passages (and of what is inside them) that hold one of the phrases
        (its words one after the other, in the text or the heading, as the keyword index reads them:
        "PEP-0008" holds "pep 0008"); 0.0 when they have no passage."""
        files = list(files)
        quoted = " OR ".join(_fts_phrase(p) for p in phrases if WORD.search(p))
        where, params = _filter_sql((), (), files)
        if not quoted or not where:
            return 0.0
        total = int(self.conn.execute(f"SELECT count(*) FROM ({where})", params).fetchone()[0])
        if not total:
            return 0.0
        held = self.conn.execute(f"SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ? AND +rowid IN ({where})",
                                 (quoted, *params)).fetchone()[0]
        return int(held) / total

    def keyword_frequencies(self, words: list[str], span: int) -> dict[str, int]:
        """How many chunks hold each word (as the keyword index stems it). Remembered by this connection
        until the library (its chunk_id_span, given by the caller) grows or shrinks by a twentieth: it only
        decides which words are too common."""
        known, known_span = getattr(self, "_frequencies", ({}, span))
        if abs(span - known_span) > span // 20 or len(known) > 100_000:
            known, known_span = {}, span
        self._frequencies = (known, known_span)
        for word in words:
            if word not in known:
                quoted = _fts_phrase(word)
                row = self.conn.execute("SELECT count(*) FROM chunks_fts WHERE chunks_fts MATCH ?",
                                        (quoted,)).fetchone()
                known[word] = int(row[0])
        return {w: known[w] for w in words}

    def rarity(self, words: list[str]) -> dict[str, float]:
        """How rare each word is in this library: log(chunks / chunks holding it), at least 0.1 (a word in every
        passage still counts a little)."""
        span = self.chunk_id_span()
        held = self.keyword_frequencies(words, span)
        return {w: max(0.1, math.log((span + 1) / (held.get(w, 0) + 0.5))) for w in words}

    def language_shares(self) -> dict[str, float]:
        """Each language's share of the library's passages (schema migration 13), most first; {} when empty."""
        rows = self.conn.execute("SELECT lang, chunks FROM chunk_languages WHERE chunks > 0 ORDER BY chunks DESC")
        counts = [(str(lang), int(n)) for lang, n in rows]
        total = sum(n for _, n in counts)
        return {lang: n / total for lang, n in counts}

    def chunk_id_span(self) -> int:
        """The highest chunk id: about the number of chunks (at most, after deletions), at no cost."""
        row = self.conn.execute("SELECT max(id) FROM chunks").fetchone()
        return int(row[0] or 0)

    def chunk_rows(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT c.id, d.path, c.text, c.heading, c.page, c.start_line, c.end_line, c.position, d.id, c.ocr "
            f"FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id IN ({marks})",
            ids,
        )
        keys = ("chunk_id", "path", "text", "heading", "page", "start_line", "end_line", "position", "document_id",
                "ocr")
        return {r[0]: dict(zip(keys, r, strict=True)) for r in rows}

    def counts(self) -> dict[str, int]:
        q = self.conn.execute
        return {
            "documents": int(q("SELECT count(*) FROM documents WHERE status = 'ok'").fetchone()[0]),
            "chunks": int(q("SELECT count(*) FROM chunks").fetchone()[0]),
            "errors": int(q("SELECT count(*) FROM documents WHERE status = 'error'").fetchone()[0]),
            "no_text": int(q("SELECT count(*) FROM documents WHERE status = 'no text'").fetchone()[0]),
            "pending": self.pending_count(),
        }

    def pending_count(self) -> int:
        """How many chunks are waiting for a vector (written, searchable by keywords, not yet embedded)."""
        try:
            return int(self.conn.execute("SELECT count(*) FROM pending_vectors").fetchone()[0])
        except self.driver.OperationalError:  # a read-only look at an index no writer has upgraded yet
            return 0


def _filter_sql(globs: Iterable[str], exts: Iterable[str], files: Iterable[str] = ()) -> tuple[str, list[str]]:
    """A subquery selecting the chunk ids allowed by path globs, file extensions and documents (their exact
    paths, and what is inside them: a mail's attachments, an archive's members); '' if no filter."""
    globs, exts, files = list(globs), list(exts), list(files)
    if not globs and not exts and not files:
        return "", []
    clauses, params = [], []
    if files:
        clauses.append("(d.path IN (" + ",".join("?" * len(files)) + ")"
                       + "".join(" OR d.path GLOB ?" for _ in files) + ")")
        params += files + [_glob_escape(f.rstrip(os.sep)) + os.sep + "*" for f in files]
    if globs:
        clauses.append("(" + " OR ".join("d.path GLOB ?" for _ in globs) + ")")
        params += globs
    if exts:
        clauses.append("(" + " OR ".join("lower(d.path) GLOB ?" for _ in exts) + ")")
        params += ["*" + e for e in exts]
    return ("SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE " + " AND ".join(clauses),
            params)


def _fts_phrase(text: str) -> str:
    """Text as one FTS5 phrase: its words one after the other, whatever quotes or operators it holds."""
    return '"' + text.replace('"', '""') + '"'


def _glob_escape(text: str) -> str:
    """A path as a GLOB pattern that matches only itself."""
    return "".join(f"[{ch}]" if ch in "*?[" else ch for ch in text)
