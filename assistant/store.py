"""The index: one SQLite file (WAL) holding documents, chunks, an FTS5 index and sqlite-vec vectors.

This is the only module that writes SQL. Every statement is parameterised; schema changes are numbered
migrations applied in a transaction and tracked by PRAGMA user_version.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from .errors import IndexMismatchError, SqliteDriverError
from .paths import private_dir
from .types import Chunk, DocumentInfo


def _migrate_plain_vectors(c: Any) -> None:
    """2: float vectors also as plain blobs keyed by chunk id, for the in-process exact vector index
    (vec0 reads by id are slow), plus a counter that tells readers when vectors changed."""
    c.execute("CREATE TABLE vector_epoch(n INTEGER NOT NULL)")
    c.execute("INSERT INTO vector_epoch(n) VALUES (0)")
    row = c.execute("SELECT value FROM meta WHERE key = 'embedding_dim'").fetchone()
    if row is None:
        return  # no vectors yet: bind_embedding creates every vector table
    Store._create_vectors(c, int(row[0]))
    c.execute("INSERT INTO chunk_embeddings(id, embedding) SELECT rowid, embedding FROM chunk_vectors")


MIGRATIONS: list[str | Callable[[Any], None]] = [
    # 1: documents, chunks, keyword index
    """
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE roots(path TEXT PRIMARY KEY, added_at REAL NOT NULL);
    CREATE TABLE documents(
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        size INTEGER,
        mtime_ns INTEGER,
        content_hash TEXT,
        format TEXT,
        status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
        error TEXT,
        chunker_version INTEGER,
        chunk_count INTEGER NOT NULL DEFAULT 0,
        indexed_at REAL NOT NULL
    );
    CREATE INDEX documents_hash ON documents(content_hash);
    CREATE TABLE chunks(
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        text TEXT NOT NULL,
        heading TEXT,
        page INTEGER,
        start_line INTEGER,
        end_line INTEGER,
        token_count INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        UNIQUE (document_id, position)
    );
    CREATE INDEX chunks_hash ON chunks(content_hash);
    CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, heading, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, coalesce(new.heading, ''));
    END;
    CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text, heading)
            VALUES ('delete', old.id, old.text, coalesce(old.heading, ''));
    END;
    """,
    _migrate_plain_vectors,
    # 3: conversations
    """
    CREATE TABLE chats(
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE messages(
        id INTEGER PRIMARY KEY,
        chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content TEXT NOT NULL,
        grounded INTEGER,
        sources TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX messages_chat ON messages(chat_id, id);
    """,
]


def sqlite_driver() -> tuple[ModuleType, str]:
    """A DB-API module whose connections can load extensions: the standard library's when it can,
    else sqlean.py, else pysqlite3.

    Raises:
        SqliteDriverError: none of them is available.
    """
    import sqlite3

    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3, f"sqlite3 (standard library, SQLite {sqlite3.sqlite_version})"
    try:
        import sqlean

        return sqlean, f"sqlean.py (SQLite {sqlean.sqlite_version})"
    except ImportError:
        pass
    try:
        from pysqlite3 import dbapi2

        return dbapi2, f"pysqlite3 (SQLite {dbapi2.sqlite_version})"
    except ImportError:
        pass
    raise SqliteDriverError(
        "this Python's sqlite3 cannot load extensions and neither sqlean.py nor pysqlite3-binary is "
        "installed. Run: .venv/bin/pip install sqlean.py"
    )


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


def _vec_blob(v: np.ndarray) -> bytes:
    return np.ascontiguousarray(v, dtype=np.float32).tobytes()


class Store:
    """One connection to the index file. Use one Store per thread."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        driver, _ = sqlite_driver()
        self.path = Path(path)
        self.readonly = readonly
        if not readonly:
            private_dir(self.path.parent)
            if not self.path.exists():
                # Created private to the user before SQLite opens it; WAL/SHM files inherit the mode.
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        uri = f"file:{self.path}?mode={'ro' if readonly else 'rwc'}"
        self.driver = driver
        self.conn: Any = driver.connect(uri, uri=True, timeout=30.0, isolation_level=None, check_same_thread=False)
        self.conn.enable_load_extension(True)
        import sqlite_vec

        sqlite_vec.load(self.conn)
        self.conn.enable_load_extension(False)
        self.conn.execute("PRAGMA busy_timeout = 30000")
        self.conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            self.conn.execute("PRAGMA journal_mode = WAL")
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        self.dim: int | None = None

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (including KeyboardInterrupt)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    # --- schema ------------------------------------------------------------------------------------

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self.transaction() as c:
            version = int(c.execute("PRAGMA user_version").fetchone()[0])
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                if callable(script):
                    script(c)
                    c.execute(f"PRAGMA user_version = {number}")
                    continue
                for statement in _statements(script, self.driver.complete_statement):
                    c.execute(statement)
                c.execute(f"PRAGMA user_version = {number}")

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))

    def bind_embedding(self, model_id: str, dim: int) -> None:
        """Tie the index to one embedding model, creating the vector table on first use.

        Raises:
            IndexMismatchError: the index holds vectors of another model or dimension.
        """
        stored_model, stored_dim = self.meta("embedding_model"), self.meta("embedding_dim")
        if stored_model is not None and (stored_model != model_id or int(stored_dim or 0) != dim):
            raise IndexMismatchError(
                f"the index at {self.path} was built with embedding model '{stored_model}' ({stored_dim}-d), "
                f"but the configured model is '{model_id}' ({dim}-d). Vectors of different models cannot "
                "be mixed. Either set embedding_model back to "
                f"'{stored_model}', or rebuild the index with: assistant index --rebuild"
            )
        if stored_model is None:
            with self.transaction() as c:
                self._create_vectors(c, dim)
                self.set_meta("embedding_model", model_id)
                self.set_meta("embedding_dim", str(dim))
        self.dim = dim

    @staticmethod
    def _create_vectors(c: Any, dim: int) -> None:
        """The vector tables: exact float vectors in vec0 (cosine), and the same vectors as plain blobs
        keyed by chunk id, which the in-process vector index loads and follows through vector_epoch."""
        dim = int(dim)
        c.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vectors USING vec0(embedding float[{dim}] "
                  "distance_metric=cosine)")
        c.execute("CREATE TABLE IF NOT EXISTS chunk_embeddings(id INTEGER PRIMARY KEY "
                  "REFERENCES chunks(id) ON DELETE CASCADE, embedding BLOB NOT NULL)")
        c.execute("CREATE TRIGGER IF NOT EXISTS chunks_vec_ad AFTER DELETE ON chunks BEGIN "
                  "DELETE FROM chunk_vectors WHERE rowid = old.id; END")
        c.execute("CREATE TRIGGER IF NOT EXISTS chunk_embeddings_ai AFTER INSERT ON chunk_embeddings BEGIN "
                  "UPDATE vector_epoch SET n = n + 1; END")
        c.execute("CREATE TRIGGER IF NOT EXISTS chunk_embeddings_ad AFTER DELETE ON chunk_embeddings BEGIN "
                  "UPDATE vector_epoch SET n = n + 1; END")

    def reset(self) -> None:
        """Forget every document, chunk and vector and the embedding model binding (roots are kept)."""
        with self.transaction() as c:
            c.execute("DELETE FROM documents")
            c.execute("DROP TRIGGER IF EXISTS chunks_vec_ad")
            for table in ("chunk_vectors", "chunk_embeddings"):
                c.execute(f"DROP TABLE IF EXISTS {table}")
            c.execute("UPDATE vector_epoch SET n = n + 1")
            c.execute("DELETE FROM meta WHERE key IN ('embedding_model', 'embedding_dim')")
        self.dim = None

    # --- roots -------------------------------------------------------------------------------------

    def add_root(self, path: str) -> bool:
        cur = self.conn.execute("INSERT OR IGNORE INTO roots(path, added_at) VALUES (?, ?)", (path, time.time()))
        return cur.rowcount > 0

    def remove_root(self, path: str) -> bool:
        return self.conn.execute("DELETE FROM roots WHERE path = ?", (path,)).rowcount > 0

    def roots(self) -> list[str]:
        return [r[0] for r in self.conn.execute("SELECT path FROM roots ORDER BY path")]

    # --- documents ---------------------------------------------------------------------------------

    def documents_under(self, roots: Iterable[str]) -> dict[str, StoredDocument]:
        """Stored documents at or below any of the given absolute paths."""
        out: dict[str, StoredDocument] = {}
        for root in roots:
            prefix = root.rstrip(os.sep) + os.sep
            rows = self.conn.execute(
                "SELECT id, path, size, mtime_ns, content_hash, status, error, chunker_version FROM documents "
                "WHERE path = ? OR substr(path, 1, ?) = ?",
                (root, len(prefix), prefix),
            )
            for row in rows:
                out[row[1]] = StoredDocument(*row)
        return out

    def vectors_for_hashes(self, hashes: Iterable[str]) -> dict[str, bytes]:
        """Stored embeddings of chunks with these content hashes (any document), as float32 blobs."""
        out: dict[str, bytes] = {}
        hashes = list(set(hashes))
        for i in range(0, len(hashes), 500):
            batch = hashes[i : i + 500]
            marks = ",".join("?" * len(batch))
            rows = self.conn.execute(
                f"SELECT c.content_hash, v.embedding FROM chunks c JOIN chunk_embeddings v ON v.id = c.id "
                f"WHERE c.content_hash IN ({marks})",
                batch,
            )
            for h, blob in rows:
                out.setdefault(h, blob)
        return out

    def write_document(
        self, path: str, size: int, mtime_ns: int, content_hash: str, fmt: str, chunker_version: int,
        chunks: list[Chunk], vectors: list[bytes],
    ) -> None:
        """Replace a document and all its chunks and vectors, in one transaction."""
        with self.transaction() as c:
            doc_id = self._upsert(c, path, size, mtime_ns, content_hash, fmt, "ok", None, chunker_version, len(chunks))
            c.execute("DELETE FROM chunks WHERE document_id = ?", (doc_id,))
            for chunk, blob in zip(chunks, vectors, strict=True):
                cur = c.execute(
                    "INSERT INTO chunks(document_id, position, text, heading, page, start_line, end_line, "
                    "token_count, content_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    (doc_id, chunk.position, chunk.text, chunk.heading, chunk.page, chunk.start_line,
                     chunk.end_line, chunk.token_count, chunk.content_hash),
                )
                cid = cur.lastrowid
                c.execute("INSERT INTO chunk_vectors(rowid, embedding) VALUES (?, ?)", (cid, blob))
                c.execute("INSERT INTO chunk_embeddings(id, embedding) VALUES (?, ?)", (cid, blob))

    def record_error(
        self, path: str, error: str, size: int | None = None, mtime_ns: int | None = None,
        content_hash: str | None = None, fmt: str | None = None, chunker_version: int | None = None,
    ) -> None:
        """Mark a document as failed (dropping any chunks it had), keeping the reason for the user."""
        with self.transaction() as c:
            doc_id = self._upsert(c, path, size, mtime_ns, content_hash, fmt, "error", error, chunker_version, 0)
            c.execute("DELETE FROM chunks WHERE document_id = ?", (doc_id,))

    @staticmethod
    def _upsert(c: Any, path: str, size: int | None, mtime_ns: int | None, content_hash: str | None,
                fmt: str | None, status: str, error: str | None, chunker_version: int | None, n: int) -> int:
        c.execute(
            "INSERT INTO documents(path, size, mtime_ns, content_hash, format, status, error, chunker_version, "
            "chunk_count, indexed_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(path) DO UPDATE SET "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, content_hash = excluded.content_hash, "
            "format = excluded.format, status = excluded.status, error = excluded.error, "
            "chunker_version = excluded.chunker_version, chunk_count = excluded.chunk_count, "
            "indexed_at = excluded.indexed_at",
            (path, size, mtime_ns, content_hash, fmt, status, error, chunker_version, n, time.time()),
        )
        return int(c.execute("SELECT id FROM documents WHERE path = ?", (path,)).fetchone()[0])

    def touch_document(self, doc_id: int, size: int, mtime_ns: int) -> None:
        """Record a new size/mtime for a file whose content did not change."""
        self.conn.execute("UPDATE documents SET size = ?, mtime_ns = ? WHERE id = ?", (size, mtime_ns, doc_id))

    def move_document(self, doc_id: int, new_path: str, size: int, mtime_ns: int) -> None:
        """A file was renamed or moved: keep its chunks and vectors, change its path."""
        with self.transaction() as c:
            c.execute("DELETE FROM documents WHERE path = ?", (new_path,))
            c.execute(
                "UPDATE documents SET path = ?, size = ?, mtime_ns = ?, indexed_at = ? WHERE id = ?",
                (new_path, size, mtime_ns, time.time(), doc_id),
            )

    def delete_documents(self, paths: Iterable[str]) -> int:
        """Remove documents (their chunks, keyword entries and vectors go with them)."""
        n = 0
        with self.transaction() as c:
            for p in paths:
                n += c.execute("DELETE FROM documents WHERE path = ?", (p,)).rowcount
        return n

    def document_chunks(self, path: str) -> list[str]:
        """The chunk texts of one document, in order."""
        rows = self.conn.execute(
            "SELECT c.text FROM chunks c JOIN documents d ON d.id = c.document_id WHERE d.path = ? "
            "ORDER BY c.position", (path,))
        return [r[0] for r in rows]

    def list_documents(self) -> list[DocumentInfo]:
        rows = self.conn.execute(
            "SELECT path, format, status, error, chunk_count, size, indexed_at FROM documents ORDER BY path"
        )
        return [DocumentInfo(*r) for r in rows]

    # --- search ------------------------------------------------------------------------------------

    def vector_epoch(self) -> int:
        """A number that changes whenever any vector is added or removed (by any connection)."""
        return int(self.conn.execute("SELECT n FROM vector_epoch").fetchone()[0])

    def embedding_ids(self) -> np.ndarray:
        if self.meta("embedding_model") is None:
            return np.zeros(0, dtype=np.int64)
        return np.fromiter((r for (r,) in self.conn.execute("SELECT id FROM chunk_embeddings")), dtype=np.int64)

    def embeddings(self, ids: Iterable[int] | None = None) -> tuple[np.ndarray, list[bytes]]:
        """(ids, float32 blobs) of every stored vector, or of the given chunk ids."""
        if self.meta("embedding_model") is None:
            return np.zeros(0, dtype=np.int64), []
        if ids is None:
            rows = self.conn.execute("SELECT id, embedding FROM chunk_embeddings").fetchall()
        else:
            rows = []
            id_list = [int(i) for i in ids]
            for i in range(0, len(id_list), 500):
                batch = id_list[i : i + 500]
                rows += self.conn.execute(
                    f"SELECT id, embedding FROM chunk_embeddings WHERE id IN ({','.join('?' * len(batch))})",
                    batch).fetchall()
        return np.array([r[0] for r in rows], dtype=np.int64), [r[1] for r in rows]

    def allowed_chunk_ids(self, globs: Iterable[str], exts: Iterable[str]) -> np.ndarray | None:
        """Chunk ids the filters allow, or None when there is no filter."""
        where, params = _filter_sql(globs, exts)
        if not where:
            return None
        return np.fromiter((r for (r,) in self.conn.execute(where, params)), dtype=np.int64)

    def exact_vector_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """sqlite-vec's exact float scan (the reference the fast path is measured against)."""
        if self.meta("embedding_model") is None:
            return []
        rows = self.conn.execute(
            "SELECT rowid, distance FROM chunk_vectors WHERE embedding MATCH ? AND k = ? ORDER BY distance",
            (_vec_blob(query), int(k)),
        )
        return [(int(r), 1.0 - float(d)) for r, d in rows]

    def keyword_search(
        self, match: str, k: int, globs: Iterable[str] = (), exts: Iterable[str] = ()
    ) -> list[tuple[int, float]]:
        """FTS5 BM25 search with a MATCH expression built by retrieval.fts_query: (chunk id, bm25), best first."""
        where, params = _filter_sql(globs, exts)
        extra = f" AND rowid IN ({where})" if where else ""
        rows = self.conn.execute(
            f"SELECT rowid, bm25(chunks_fts, 1.0, 0.5) AS s FROM chunks_fts WHERE chunks_fts MATCH ?{extra} "
            "ORDER BY s LIMIT ?", (match, *params, int(k)))
        return [(int(r), float(s)) for r, s in rows]

    def cosines(self, ids: list[int], query: np.ndarray) -> dict[int, float]:
        """Cosine similarity of the query to each of these chunks."""
        if not ids or self.meta("embedding_model") is None:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT id, vec_distance_cosine(embedding, ?) FROM chunk_embeddings WHERE id IN ({marks})",
            (_vec_blob(query), *ids))
        return {int(r): 1.0 - float(d) for r, d in rows}

    def chunk_rows(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT c.id, d.path, c.text, c.heading, c.page, c.start_line, c.end_line, c.position, d.id "
            f"FROM chunks c JOIN documents d ON d.id = c.document_id WHERE c.id IN ({marks})",
            ids,
        )
        keys = ("chunk_id", "path", "text", "heading", "page", "start_line", "end_line", "position", "document_id")
        return {r[0]: dict(zip(keys, r, strict=True)) for r in rows}

    # --- conversations ------------------------------------------------------------------------------

    def create_chat(self, title: str) -> str:
        import uuid

        chat_id = uuid.uuid4().hex[:8]
        now = time.time()
        self.conn.execute("INSERT INTO chats(id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                          (chat_id, title, now, now))
        return chat_id

    def chat(self, chat_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT id, title, created_at, updated_at FROM chats WHERE id = ?",
                                (chat_id,)).fetchone()
        return dict(zip(("id", "title", "created_at", "updated_at"), row, strict=True)) if row else None

    def add_turn(self, chat_id: str, question: str, answer: str, grounded: bool, sources_json: str) -> None:
        """Store one question and its answer together (a cancelled answer is stored as far as it got)."""
        now = time.time()
        with self.transaction() as c:
            c.execute("INSERT INTO messages(chat_id, role, content, created_at) VALUES (?, 'user', ?, ?)",
                      (chat_id, question, now))
            c.execute("INSERT INTO messages(chat_id, role, content, grounded, sources, created_at) "
                      "VALUES (?, 'assistant', ?, ?, ?, ?)", (chat_id, answer, int(grounded), sources_json, now))
            c.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))

    def chat_messages(self, chat_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT role, content, grounded, sources, created_at FROM messages WHERE chat_id = ? ORDER BY id",
            (chat_id,))
        keys = ("role", "content", "grounded", "sources", "created_at")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def list_chats(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT c.id, c.title, c.created_at, c.updated_at, "
            "(SELECT count(*) FROM messages m WHERE m.chat_id = c.id AND m.role = 'user') "
            "FROM chats c ORDER BY c.updated_at DESC")
        keys = ("id", "title", "created_at", "updated_at", "turns")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def rename_chat(self, chat_id: str, title: str) -> bool:
        return self.conn.execute("UPDATE chats SET title = ? WHERE id = ?", (title, chat_id)).rowcount > 0

    def delete_chat(self, chat_id: str) -> bool:
        return self.conn.execute("DELETE FROM chats WHERE id = ?", (chat_id,)).rowcount > 0

    # --- health ------------------------------------------------------------------------------------

    def counts(self) -> dict[str, int]:
        q = self.conn.execute
        return {
            "documents": int(q("SELECT count(*) FROM documents WHERE status = 'ok'").fetchone()[0]),
            "chunks": int(q("SELECT count(*) FROM chunks").fetchone()[0]),
            "errors": int(q("SELECT count(*) FROM documents WHERE status = 'error'").fetchone()[0]),
        }

    def check(self) -> list[str]:
        """Consistency problems (empty list when healthy): integrity, orphans, counts that disagree."""
        problems = []
        q = self.conn.execute
        ok = q("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            problems.append(f"integrity_check: {ok}")
        if q("SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)").fetchone()[0]:
            problems.append("chunks without a document")
        bad = q("SELECT count(*) FROM documents d WHERE chunk_count != "
                "(SELECT count(*) FROM chunks c WHERE c.document_id = d.id)").fetchone()[0]
        if bad:
            problems.append(f"{bad} documents whose chunk_count disagrees with their chunks")
        if not self.readonly:  # FTS5's integrity check is issued as a (non-modifying) write command
            try:
                q("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")
            except Exception as exc:  # the driver's DatabaseError: the keyword index disagrees with the chunks
                problems.append(f"keyword index: {exc}")
        if self.meta("embedding_model") is not None:
            nchunks = q("SELECT count(*) FROM chunks").fetchone()[0]
            for table in ("chunk_vectors", "chunk_embeddings"):
                nvec = q(f"SELECT count(*) FROM {table}").fetchone()[0]
                if nvec != nchunks:
                    problems.append(f"{nvec} rows in {table} for {nchunks} chunks")
            missing = q("SELECT count(*) FROM chunks WHERE id NOT IN (SELECT rowid FROM chunk_vectors)").fetchone()[0]
            if missing:
                problems.append(f"{missing} chunks without a vector")
        return problems


def _filter_sql(globs: Iterable[str], exts: Iterable[str]) -> tuple[str, list[str]]:
    """A subquery selecting the chunk ids allowed by path globs and file extensions ('' if no filter)."""
    globs, exts = list(globs), list(exts)
    if not globs and not exts:
        return "", []
    clauses, params = [], []
    if globs:
        clauses.append("(" + " OR ".join("d.path GLOB ?" for _ in globs) + ")")
        params += globs
    if exts:
        clauses.append("(" + " OR ".join("lower(d.path) GLOB ?" for _ in exts) + ")")
        params += ["*" + e for e in exts]
    return ("SELECT c.id FROM chunks c JOIN documents d ON d.id = c.document_id WHERE " + " AND ".join(clauses),
            params)


def _statements(script: str, complete: Any) -> list[str]:
    """Split a migration script into statements, using SQLite's own notion of a complete statement
    (so trigger bodies keep their inner semicolons)."""
    out, buf = [], ""
    for part in script.split(";"):
        buf += part + ";"
        if complete(buf):
            if buf.strip(" \n\t;"):
                out.append(buf.strip())
            buf = ""
    return out
