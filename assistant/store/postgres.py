"""The library on a team's PostgreSQL server (pgvector): the same methods as the local store's library and
vector tables (library.py, vector_tables.py), over the schema of pg_schema.py.

- Keywords: real BM25, as FTS5 computes it (k1 1.2, b 0.75, IDF log((N - n + 0.5) / (n + 0.5)), floored at
  1e-6, headings weighted 0.5), in SQL, from the postings and the per-folder statistics the server keeps as
  documents are written; the terms are made on the workstation (terms.py). Only the folders this person may
  read count, so the scores are those of a local index of them.
- Vectors: pgvector's HNSW over a halfvec copy, iterative scans (a filter, or the row-level security, drops
  rows after the index has found them), the exact float cosine for the order returned.
- Every document is written in one transaction; writing the same content again changes nothing.
Connection failures raise StoreUnavailableError; the team store (team.py) queues writes in its outbox then.
"""

from __future__ import annotations

import math
import os
import re
import time
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from assistant.errors import AssistantError, IndexMismatchError
from assistant.store.library import Part, StoredDocument
from assistant.store.pg_filters import SqlFilter, filter_sql, like_prefix
from assistant.store.pg_schema import migrations
from assistant.store.terms import match_terms, passage_terms, phrase_term
from assistant.text import file_name_key
from assistant.types import Chunk, DocumentInfo

VISIBLE = "ANY((SELECT assistant.visible_folders())::int[])"  # the folders this person may read (once a query)
OWNED = "ANY((SELECT assistant.owned_folders())::int[])"  # ...and those they indexed
K1, B = 1.2, 0.75  # FTS5's bm25() constants
EF_SEARCH_MIN = 100  # HNSW candidates a search keeps (pgvector's default is 40): at least 2 x k
CONNECT_TIMEOUT = 5  # seconds; and keepalives, so a dropped connection is an error within ~15 s, not a hang


class StoreUnavailableError(AssistantError):
    """The team index's server does not answer."""


class TeamSchemaError(AssistantError):
    """The server holds no team index, or an older schema than this assistant needs."""


def display_url(url: str) -> str:
    """The URL as it may be shown: never a password (there should be none in it: .pgpass holds it)."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


def connect(url: str, autocommit: bool = True) -> Any:
    """A psycopg connection (libpq: .pgpass, PGPASSFILE, service files and PG* variables all apply).

    Raises:
        StoreUnavailableError: the server does not answer or refuses the login.
    """
    import psycopg

    try:
        return psycopg.connect(url, autocommit=autocommit, connect_timeout=CONNECT_TIMEOUT, keepalives=1,
                               keepalives_idle=5, keepalives_interval=2, keepalives_count=3,
                               application_name="assistant")
    except psycopg.Error as exc:
        raise unavailable(url, exc) from exc


def unavailable(url: str, exc: BaseException) -> StoreUnavailableError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return StoreUnavailableError(
        f"the team index at {display_url(url)} does not answer ({first}). Check that the server runs and that "
        "store_url is right (the password belongs in ~/.pgpass), or set store_url to \"\" to use this "
        "workstation's own index")


class PgLibrary:
    """One connection to the team index. Use one per thread."""

    engine = "postgresql"

    def __init__(self, url: str) -> None:
        import psycopg
        from pgvector.psycopg import register_vector

        self.url = url
        self.driver = psycopg
        self.conn = connect(url)
        try:
            version = self._one("SELECT value FROM assistant.meta WHERE key = 'schema_version'")
        except psycopg.errors.UndefinedTable:
            raise TeamSchemaError(f"{display_url(url)} holds no team index; the administrator creates one with "
                                  "`assistant team setup ADMIN_URL`") from None
        except psycopg.errors.InsufficientPrivilege:
            raise TeamSchemaError(f"{self.conn.info.user} may not read the team index at {display_url(url)}; the "
                                  f"administrator adds people with `assistant team user add NAME`") from None
        if int(version or 0) < len(migrations(1)):
            raise TeamSchemaError(f"the team index at {display_url(url)} has schema {version}; this assistant needs "
                                  f"{len(migrations(1))}: the administrator upgrades it with `assistant team setup "
                                  "ADMIN_URL`")
        register_vector(self.conn)
        self.user = str(self.conn.info.user)
        self.dim: int | None = None
        self.readonly = False
        self._folders: dict[str, int] | None = None  # this person's folders: path -> id
        self._keyword_conn: Any = None

    # --- plumbing -----------------------------------------------------------------------------------

    def _one(self, sql: str, params: Any = ()) -> Any:
        row = self.conn.execute(sql, params).fetchone()
        return None if row is None else row[0]

    def _rows(self, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
        return list(self.conn.execute(sql, params).fetchall())

    @property
    def path(self) -> str:
        return display_url(self.url)

    def close(self) -> None:
        self.conn.close()
        if self._keyword_conn is not None:
            self._keyword_conn.close()

    def _keywords(self) -> Any:
        """A second connection for keyword searches: from retrieval.PARALLEL_MIN passages they run in a thread
        beside the vector search, on a server process of their own."""
        if self._keyword_conn is None or self._keyword_conn.closed:
            self._keyword_conn = connect(self.url)
        return self._keyword_conn

    def meta(self, key: str) -> str | None:
        return self._one("SELECT value FROM assistant.meta WHERE key = %s", (key,))

    # --- folders ------------------------------------------------------------------------------------

    def add_root(self, path: str) -> bool:
        """Register a folder as this person's (its documents are theirs to write and share).

        Raises:
            AssistantError: the folder, or one inside or around it, is another person's.
        """
        sep = os.sep
        for other, owner in self._rows("SELECT path, owner FROM assistant.folders WHERE owner <> current_user"):
            if other == path or other.startswith(path.rstrip(sep) + sep) or path.startswith(other.rstrip(sep) + sep):
                raise AssistantError(f"{other} is indexed by {owner} in the team index; ask them to share it "
                                     f"(assistant team share {other} --with {self.user}) instead of indexing it "
                                     "again")
        added = self.conn.execute("INSERT INTO assistant.folders (path) VALUES (%s) ON CONFLICT (path) DO NOTHING",
                                  (path,)).rowcount > 0
        self._folders = None
        return added

    def remove_root(self, path: str) -> bool:
        gone = self.conn.execute("DELETE FROM assistant.folders WHERE path = %s AND owner = current_user",
                                 (path,)).rowcount > 0
        self._folders = None
        return gone

    def roots(self) -> list[str]:
        """This person's folders (those they index; others' shared folders are searched, not synced)."""
        return [r[0] for r in self._rows("SELECT path FROM assistant.folders WHERE owner = current_user ORDER BY path")]

    def _folder_for(self, path: str) -> int:
        """The id of this person's folder holding the path (the longest); a file outside every folder becomes a
        folder of its own."""
        if self._folders is None:
            self._folders = {p: int(i) for i, p in self._rows(
                "SELECT id, path FROM assistant.folders WHERE owner = current_user")}
        best = max((p for p in self._folders if path == p or path.startswith(p.rstrip(os.sep) + os.sep)),
                   key=len, default=None)
        if best is None:
            self.add_root(path)
            self._folders = None
            return self._folder_for(path)
        return self._folders[best]

    # --- documents ----------------------------------------------------------------------------------

    def documents_under(self, roots: Iterable[str]) -> dict[str, StoredDocument]:
        out: dict[str, StoredDocument] = {}
        for root in roots:
            prefix = like_prefix(root.rstrip(os.sep) + os.sep)
            for row in self._rows(
                    "SELECT id, path, size, mtime_ns, content_hash, status, error, chunker_version, format "
                    "FROM assistant.documents WHERE (path = %s OR path LIKE %s) AND container_id IS NULL",
                    (root, prefix)):
                out[row[1]] = StoredDocument(*row)
        return out

    def write_document(
        self, path: str, size: int, mtime_ns: int, content_hash: str, fmt: str, chunker_version: int,
        chunks: list[Chunk], vectors: list[bytes | None], parts: Iterable[Part] = (),
    ) -> None:
        """Replace a document, its chunks and the files inside it in one transaction; the same content written
        again (a queued write sent twice) changes nothing."""
        parts = list(parts)
        folder = self._folder_for(path)
        with self.conn.transaction():
            row = self.conn.execute(
                "SELECT content_hash, chunker_version, status, size, mtime_ns FROM assistant.documents "
                "WHERE path = %s FOR UPDATE", (path,)).fetchone()
            if row is not None and row == (content_hash, chunker_version, "ok", size, mtime_ns):
                return
            doc_id = self._upsert(folder, path, size, mtime_ns, content_hash, fmt, "ok", None, chunker_version,
                                  len(chunks))
            self.conn.execute("DELETE FROM assistant.documents WHERE container_id = %s", (doc_id,))
            self._write_chunks(folder, doc_id, chunks, vectors)
            for part in parts:
                status = "no text" if part.no_text else "error" if part.error else "ok"
                part_id = self._upsert(folder, f"{path}/{part.name}", part.size, mtime_ns, part.content_hash,
                                       part.format, status, part.error, chunker_version, len(part.chunks), doc_id)
                self._write_chunks(folder, part_id, part.chunks, part.vectors)

    def _upsert(self, folder: int, path: str, size: int | None, mtime_ns: int | None, content_hash: str | None,
                fmt: str | None, status: str, error: str | None, chunker_version: int | None, n: int,
                container_id: int | None = None) -> int:
        return int(self._one(
            "INSERT INTO assistant.documents (folder_id, path, size, mtime_ns, content_hash, format, status, error, "
            "chunker_version, chunk_count, indexed_at, container_id, name_key) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s) ON CONFLICT (path) DO UPDATE SET "
            "size = excluded.size, mtime_ns = excluded.mtime_ns, content_hash = excluded.content_hash, "
            "format = excluded.format, status = excluded.status, error = excluded.error, "
            "chunker_version = excluded.chunker_version, chunk_count = excluded.chunk_count, "
            "indexed_at = excluded.indexed_at, container_id = excluded.container_id RETURNING id",
            (folder, path, size, mtime_ns, content_hash, fmt, status, error, chunker_version, n, time.time(),
             container_id, file_name_key(path))))

    def _write_chunks(self, folder: int, doc_id: int, chunks: list[Chunk], vectors: list[bytes | None]) -> None:
        self.conn.execute("DELETE FROM assistant.chunks WHERE document_id = %s", (doc_id,))
        if not chunks:
            return
        rows = []
        for chunk, blob in zip(chunks, vectors, strict=True):
            terms, length = passage_terms(chunk.text, chunk.heading)
            rows.append((folder, doc_id, chunk.position, chunk.text, chunk.heading, chunk.page, chunk.start_line,
                         chunk.end_line, chunk.token_count, chunk.content_hash, chunk.ocr, length, list(terms),
                         list(terms.values()), None if blob is None else np.frombuffer(blob, dtype=np.float32)))
        cols = ("folder_id, document_id, position, text, heading, page, start_line, end_line, token_count, "
                "content_hash, ocr, length, terms, tfs, embedding")
        with self.conn.cursor() as cur:
            # COPY cannot write a table under row-level security: it fills a temporary table, inserted from at once.
            cur.execute(f"CREATE TEMP TABLE IF NOT EXISTS incoming AS SELECT {cols} FROM assistant.chunks WITH NO DATA")
            with cur.copy(f"COPY incoming ({cols}) FROM STDIN") as copy:
                for r in rows:
                    copy.write_row(r)
            cur.execute(f"INSERT INTO assistant.chunks ({cols}) SELECT {cols} FROM incoming")
            cur.execute("TRUNCATE incoming")

    def record_error(
        self, path: str, error: str, size: int | None = None, mtime_ns: int | None = None,
        content_hash: str | None = None, fmt: str | None = None, chunker_version: int | None = None,
        status: str = "error",
    ) -> None:
        folder = self._folder_for(path)
        with self.conn.transaction():
            doc_id = self._upsert(folder, path, size, mtime_ns, content_hash, fmt, status, error, chunker_version, 0)
            self.conn.execute("DELETE FROM assistant.chunks WHERE document_id = %s", (doc_id,))
            self.conn.execute("DELETE FROM assistant.documents WHERE container_id = %s", (doc_id,))

    def touch_path(self, path: str, size: int, mtime_ns: int) -> None:
        self.conn.execute("UPDATE assistant.documents SET size = %s, mtime_ns = %s WHERE path = %s",
                          (size, mtime_ns, path))

    def move_path(self, old: str, new_path: str, size: int, mtime_ns: int) -> None:
        """A renamed or moved file keeps its chunks and vectors (in another of this person's folders too); moving
        it again (a queued move sent twice) changes nothing."""
        folder = self._folder_for(new_path)
        with self.conn.transaction():
            doc_id = self._one("SELECT id FROM assistant.documents WHERE path = %s", (old,))
            if doc_id is None:
                return
            self.conn.execute("DELETE FROM assistant.documents WHERE path = %s", (new_path,))
            self.conn.execute("UPDATE assistant.documents SET path = %s, size = %s, mtime_ns = %s, indexed_at = %s, "
                              "name_key = %s, folder_id = %s WHERE id = %s",
                              (new_path, size, mtime_ns, time.time(), file_name_key(new_path), folder, doc_id))
            self.conn.execute("UPDATE assistant.documents SET path = %s || substr(path, %s), folder_id = %s "
                              "WHERE container_id = %s", (new_path, len(old) + 1, folder, doc_id))
            self._move_chunks(folder, [doc_id])

    def _move_chunks(self, folder: int, doc_ids: list[int]) -> None:
        """Chunks follow their document into another folder (the statistics are per folder: out and in again)."""
        moved = self._rows("SELECT id FROM assistant.chunks c WHERE (document_id = ANY(%s) OR document_id IN "
                           "(SELECT id FROM assistant.documents WHERE container_id = ANY(%s))) AND folder_id <> %s",
                           (doc_ids, doc_ids, folder))
        if not moved:
            return
        ids = [r[0] for r in moved]
        cols = ("document_id, position, text, heading, page, start_line, end_line, token_count, content_hash, ocr, "
                "length, terms, tfs, embedding")
        self.conn.execute(f"CREATE TEMP TABLE IF NOT EXISTS moving AS SELECT id, {cols} FROM assistant.chunks "
                          "WITH NO DATA")
        self.conn.execute("TRUNCATE moving")
        self.conn.execute(f"INSERT INTO moving SELECT id, {cols} FROM assistant.chunks WHERE id = ANY(%s)", (ids,))
        self.conn.execute("DELETE FROM assistant.chunks WHERE id = ANY(%s)", (ids,))
        self.conn.execute(f"INSERT INTO assistant.chunks (id, folder_id, {cols}) SELECT id, %s, {cols} FROM moving",
                          (folder,))

    def delete_documents(self, paths: Iterable[str]) -> int:
        return int(self.conn.execute("DELETE FROM assistant.documents WHERE path = ANY(%s)", (list(paths),)).rowcount)

    def attachment_errors(self, doc_id: int) -> list[tuple[str, str]]:
        return [(str(p), str(e)) for p, e in self._rows(
            "SELECT path, error FROM assistant.documents WHERE container_id = %s AND status = 'error' ORDER BY path",
            (doc_id,))]

    def container_of(self, path: str) -> str | None:
        return self._one("SELECT c.path FROM assistant.documents a JOIN assistant.documents c ON c.id = a.container_id "
                         "WHERE a.path = %s", (path,))

    def document_chunks(self, path: str) -> list[str]:
        return [r[0] for r in self._rows(
            "SELECT c.text FROM assistant.chunks c JOIN assistant.documents d ON d.id = c.document_id "
            "WHERE d.path = %s ORDER BY c.position", (path,))]

    def headings(self, limit: int = 2000) -> list[tuple[str, str]]:
        return [(str(p), str(h)) for p, h in self._rows(
            "SELECT d.path, c.heading FROM assistant.chunks c JOIN assistant.documents d ON d.id = c.document_id "
            "WHERE c.heading IS NOT NULL AND c.heading <> '' GROUP BY d.path, c.heading "
            "ORDER BY d.path, min(c.position) LIMIT %s", (int(limit),))]

    def last_indexed(self) -> float | None:
        value = self._one("SELECT max(indexed_at) FROM assistant.documents")
        return None if value is None else float(value)

    def documents_named(self, keys: Iterable[str]) -> list[tuple[str, str]]:
        return [(str(k), str(p)) for k, p in self._rows(
            "SELECT name_key, path FROM assistant.documents WHERE name_key = ANY(%s) AND status = 'ok'",
            (list(dict.fromkeys(keys)),))]

    def list_documents(self) -> list[DocumentInfo]:
        return [DocumentInfo(*r) for r in self._rows(
            "SELECT d.path, d.format, d.status, d.error, d.chunk_count, d.size, d.indexed_at, c.path "
            "FROM assistant.documents d LEFT JOIN assistant.documents c ON c.id = d.container_id ORDER BY d.path")]

    def counts(self) -> dict[str, int]:
        row = self.conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'ok'), count(*) FILTER (WHERE status = 'error'), "
            "count(*) FILTER (WHERE status = 'no text') FROM assistant.documents").fetchone()
        return {"documents": int(row[0]), "chunks": self.chunk_id_span(), "errors": int(row[1]),
                "no_text": int(row[2]), "pending": self.pending_count()}

    def pending_count(self) -> int:
        """Chunks of this person's folders waiting for a vector."""
        return int(self._one("SELECT count(*) FROM assistant.chunks WHERE embedding IS NULL AND folder_id = "
                             f"{OWNED}"))

    def chunk_rows(self, ids: list[int]) -> dict[int, dict[str, Any]]:
        if not ids:
            return {}
        keys = ("chunk_id", "path", "text", "heading", "page", "start_line", "end_line", "position", "document_id",
                "ocr")
        rows = self._rows(
            "SELECT c.id, d.path, c.text, c.heading, c.page, c.start_line, c.end_line, c.position, d.id, c.ocr "
            "FROM assistant.chunks c JOIN assistant.documents d ON d.id = c.document_id WHERE c.id = ANY(%s)",
            (list(ids),))
        return {r[0]: dict(zip(keys, r, strict=True)) for r in rows}

    # --- keywords -----------------------------------------------------------------------------------

    def language_shares(self) -> dict[str, float]:
        """Not counted on the server: {} (a question's keywords are analyzed in its own language and English,
        and keep their weight whatever its language)."""
        return {}

    def chunk_id_span(self) -> int:
        """The passages this person may read (the local store's "highest chunk id" stands for the same)."""
        return int(self._one("SELECT coalesce(sum(chunks), 0) FROM assistant.folders "
                             f"WHERE id = {VISIBLE}"))

    def keyword_frequencies(self, words: list[str], span: int) -> dict[str, int]:
        ids = {w: phrase_term(w) for w in words}
        found = dict(self._rows("SELECT term, sum(df) FROM assistant.term_stats WHERE term = ANY(%s) GROUP BY term",
                                ([t for t in ids.values() if t is not None],)))
        return {w: int(found.get(t, 0)) for w, t in ids.items()}

    def rarity(self, words: list[str]) -> dict[str, float]:
        span = self.chunk_id_span()
        held = self.keyword_frequencies(words, span)
        return {w: max(0.1, math.log((span + 1) / (held.get(w, 0) + 0.5))) for w in words}

    def allowed_chunk_ids(self, globs: Iterable[str], exts: Iterable[str], files: Iterable[str] = ()
                          ) -> SqlFilter | None:
        """The filters as a condition the server applies (PgVectors.search, keyword_search)."""
        where, params = filter_sql(globs, exts, files)
        return SqlFilter(where, tuple(params)) if where else None

    def keyword_search(
        self, match: str, k: int, globs: Iterable[str] = (), exts: Iterable[str] = (), scored: str | None = None,
        files: Iterable[str] = (),
    ) -> list[tuple[int, float]]:
        """BM25 as FTS5's bm25(chunks_fts, 1.0, 0.5) computes it (negative: lower is better), over the passages
        holding a term of `match` (of `scored`, when given: only those are scored, by all of match's terms)."""
        terms = match_terms(match)
        if not terms:
            return []
        finding = match_terms(scored) if scored else terms
        where, params = filter_sql(globs, exts, files)
        restrict = (f" AND c.document_id IN (SELECT d.id FROM assistant.documents d WHERE {where})" if where else "")
        sql = f"""
            WITH stats AS (
                SELECT greatest(sum(chunks), 1)::float8 AS n,
                    greatest(sum(tokens), 1)::float8 / greatest(sum(chunks), 1) AS avgdl
                FROM assistant.folders WHERE id = {VISIBLE}),
            idf AS (
                SELECT q.term,
                    greatest(ln((stats.n - coalesce(d.df, 0) + 0.5) / (coalesce(d.df, 0) + 0.5)), 1e-6) AS idf
                FROM unnest(%(terms)s::bigint[]) AS q(term) CROSS JOIN stats
                LEFT JOIN (SELECT term, sum(df)::float8 AS df FROM assistant.term_stats WHERE term = ANY(%(terms)s)
                           GROUP BY term) d ON d.term = q.term),
            found AS (SELECT DISTINCT chunk_id FROM assistant.postings WHERE term = ANY(%(finding)s))
            SELECT p.chunk_id,
                -sum(idf.idf * p.tf * {K1 + 1} / (p.tf + {K1} * ({1 - B} + {B} * c.length / stats.avgdl))) AS score
            FROM found JOIN assistant.postings p ON p.chunk_id = found.chunk_id AND p.term = ANY(%(terms)s)
            JOIN idf ON idf.term = p.term JOIN assistant.chunks c ON c.id = p.chunk_id CROSS JOIN stats
            WHERE true{restrict}
            GROUP BY p.chunk_id ORDER BY score, p.chunk_id LIMIT %(k)s"""
        args: dict[str, Any] = {"terms": terms, "finding": finding, "k": int(k)}
        args.update({f"f{i}": v for i, v in enumerate(params)})
        return [(int(c), float(s)) for c, s in self._keywords().execute(sql, args).fetchall()]

    def phrase_share(self, phrases: Iterable[str], files: Iterable[str]) -> float:
        terms = [t for t in (phrase_term(p) for p in phrases) if t is not None]
        where, params = filter_sql((), (), files)
        if not terms or not where:
            return 0.0
        args: dict[str, Any] = {"terms": terms, **{f"f{i}": v for i, v in enumerate(params)}}
        row = self.conn.execute(
            f"WITH ch AS (SELECT c.id FROM assistant.chunks c JOIN assistant.documents d ON d.id = c.document_id "
            f"WHERE {where}) SELECT (SELECT count(*) FROM ch), (SELECT count(DISTINCT chunk_id) FROM "
            "assistant.postings WHERE term = ANY(%(terms)s) AND chunk_id IN (SELECT id FROM ch))", args).fetchone()
        return int(row[1]) / int(row[0]) if row[0] else 0.0

    # --- vectors ------------------------------------------------------------------------------------

    def bind_embedding(self, model_id: str, dim: int) -> None:
        """Check that this workstation embeds with the team index's model.

        Raises:
            IndexMismatchError: the team index holds vectors of another model or dimension.
        """
        stored_model, stored_dim = self.meta("embedding_model"), self.meta("embedding_dim")
        if stored_model != model_id or int(stored_dim or 0) != dim:
            raise IndexMismatchError(
                f"the team index at {self.path} holds vectors of embedding model '{stored_model}' ({stored_dim}-d), "
                f"but this workstation's is '{model_id}' ({dim}-d). Vectors of different models cannot be mixed: set "
                f"embedding_model to '{stored_model}' (install it if needed), or ask the administrator")
        self.dim = dim

    def vectors_for_hashes(self, hashes: Iterable[str]) -> dict[str, bytes]:
        rows = self._rows("SELECT DISTINCT ON (content_hash) content_hash, embedding FROM assistant.chunks "
                          "WHERE content_hash = ANY(%s) AND embedding IS NOT NULL", (list(set(hashes)),))
        return {h: np.asarray(v.to_numpy(), dtype=np.float32).tobytes() for h, v in rows}

    def pending_chunks(self, limit: int) -> list[tuple[int, str, str]]:
        rows = self._rows("SELECT id, content_hash, heading, text FROM assistant.chunks WHERE embedding IS NULL "
                          f"AND folder_id = {OWNED} ORDER BY id LIMIT %s", (int(limit),))
        return [(int(i), h, f"{head}\n\n{text}" if head else text) for i, h, head, text in rows]

    def add_vectors(self, vectors: dict[int, bytes]) -> int:
        if not vectors:
            return 0
        ids = list(vectors)
        with self.conn.transaction(), self.conn.cursor() as cur:
            cur.execute("CREATE TEMP TABLE IF NOT EXISTS new_vectors (id bigint, embedding vector) "
                        "ON COMMIT DELETE ROWS")
            with cur.copy("COPY new_vectors (id, embedding) FROM STDIN") as copy:
                for cid in ids:
                    copy.write_row((cid, np.frombuffer(vectors[cid], dtype=np.float32)))
            cur.execute("UPDATE assistant.chunks c SET embedding = n.embedding FROM new_vectors n "
                        "WHERE c.id = n.id AND c.embedding IS NULL")
            stored = cur.rowcount
            cur.execute("UPDATE assistant.folders SET generation = generation + 1 WHERE id IN "
                        "(SELECT folder_id FROM assistant.chunks WHERE id = ANY(%s))", (ids,))
        return int(stored)

    def vector_count(self) -> int:
        return int(self._one("SELECT count(*) FROM assistant.chunks WHERE embedding IS NOT NULL"))

    def vector_epoch(self) -> int:
        """Moves whenever a readable folder changes, is shared or unshared."""
        row = self.conn.execute("SELECT coalesce(sum(generation), 0), count(*), coalesce(sum(id), 0) "
                                f"FROM assistant.folders WHERE id = {VISIBLE}").fetchone()
        return hash((int(row[0]), int(row[1]), int(row[2])))

    def iter_vectors(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        last = 0
        while True:
            rows = self._rows("SELECT id, embedding FROM assistant.chunks WHERE id > %s AND embedding IS NOT NULL "
                              "ORDER BY id LIMIT 1024", (last,))
            if not rows:
                return
            last = int(rows[-1][0])
            yield (np.array([r[0] for r in rows], dtype=np.int64),
                   np.stack([np.asarray(r[1].to_numpy(), dtype=np.float32) for r in rows]))

    # --- upkeep -------------------------------------------------------------------------------------

    def reset(self) -> None:
        """Forget this person's documents (their folders stay registered)."""
        self.conn.execute(f"DELETE FROM assistant.documents WHERE folder_id = {OWNED}")

    def disk(self) -> dict[str, int]:
        return {"index_bytes": int(self._one("SELECT pg_database_size(current_database())")), "reclaimable_bytes": 0,
                "vector_file_bytes": 0}

    def compact(self) -> int:
        return 0  # the server's autovacuum gives space back

    def check(self) -> list[str]:
        problems = []
        bad = self._one("SELECT count(*) FROM assistant.documents d WHERE chunk_count <> "
                        "(SELECT count(*) FROM assistant.chunks c WHERE c.document_id = d.id)")
        if bad:
            problems.append(f"{bad} documents whose chunk_count disagrees with their chunks")
        loose = self._one("SELECT count(*) FROM assistant.chunks c WHERE cardinality(c.terms) <> "
                          "(SELECT count(*) FROM assistant.postings p WHERE p.chunk_id = c.id)")
        if loose:
            problems.append(f"{loose} passages whose keyword postings disagree with their terms")
        return problems


class PgVectors:
    """The vector search of the team index (the in-process VectorIndex's methods, done by the server)."""

    def __init__(self, store: PgLibrary) -> None:
        self.store = store

    def sync(self, store: Any) -> None:
        """Nothing to follow: the server searches its own vectors."""

    def search(self, query: np.ndarray, k: int, allowed: SqlFilter | None = None) -> list[tuple[int, float]]:
        """The k nearest readable passages (HNSW, iterative scan), by exact cosine, best first."""
        dim = len(query)
        q = np.asarray(query, dtype=np.float32)
        where = "WHERE c.embedding IS NOT NULL"
        args: dict[str, Any] = {"q": q, "k": int(k)}
        if allowed is not None:
            where += f" AND c.document_id IN (SELECT d.id FROM assistant.documents d WHERE {allowed.where})"
            args.update({f"f{i}": v for i, v in enumerate(allowed.params)})
        conn = self.store.conn
        with conn.transaction():
            conn.execute(f"SET LOCAL hnsw.ef_search = {max(EF_SEARCH_MIN, 2 * int(k))}")
            conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
            rows = conn.execute(
                f"SELECT id, 1 - (embedding <=> %(q)s) FROM (SELECT c.id, c.embedding FROM assistant.chunks c {where} "
                f"ORDER BY c.embedding::halfvec({dim}) <=> %(q)s::halfvec({dim}) LIMIT %(k)s) t", args).fetchall()
        return sorted(((int(i), float(s)) for i, s in rows), key=lambda r: -r[1])

    def cosines(self, ids: list[int], query: np.ndarray) -> dict[int, float]:
        if not ids:
            return {}
        return {int(i): float(s) for i, s in self.store._rows(
            "SELECT id, 1 - (embedding <=> %s) FROM assistant.chunks WHERE id = ANY(%s) AND embedding IS NOT NULL",
            (np.asarray(query, dtype=np.float32), list(ids)))}

    def vectors(self, ids: list[int]) -> dict[int, np.ndarray]:
        if not ids:
            return {}
        return {int(i): np.asarray(v.to_numpy(), dtype=np.float32) for i, v in self.store._rows(
            "SELECT id, embedding FROM assistant.chunks WHERE id = ANY(%s) AND embedding IS NOT NULL", (list(ids),))}
