"""The team store: the library on a PostgreSQL server (postgres.py), this person's own things in the local
file (chats, ratings, the answer cache, the relevance gate's calibration), and an outbox.

The workstation reads, chunks and embeds; the server only stores. While the server does not answer, every
write (a document, an error, a move, a deletion) waits in the local file's outbox, in order, and is sent as
soon as it answers again (each write is idempotent: one sent twice changes nothing); the documents this
workstation wrote are remembered there too (`team_documents`), so a run while the server is away still knows
what changed, and reads, chunks and queues only that. Searching needs the server: without it, a search says
so in one line.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import logging
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from assistant.store import Store
from assistant.store.library import Part, StoredDocument
from assistant.store.postgres import PgLibrary, PgVectors, StoreUnavailableError, display_url, unavailable
from assistant.types import Chunk, DocumentInfo

log = logging.getLogger(__name__)

RETRY_S = 10.0  # after the server failed to answer, it is asked again at most this often


class _Driver:
    """What the indexer reads from `store.driver`: the error a failed write raises."""

    def __init__(self) -> None:
        import psycopg

        self.DatabaseError = psycopg.DatabaseError
        self.OperationalError = psycopg.OperationalError


class TeamStore:
    """One person's view of the team index, through one connection (use one per thread)."""

    engine = "postgresql"

    def __init__(self, url: str, local_path: Path, readonly: bool = False) -> None:
        self.url = url
        self.local_path = Path(local_path)
        self.local = Store(local_path, readonly=readonly)
        self.readonly = readonly
        self.driver = _Driver()
        self.dim: int | None = None
        self._server: PgLibrary | None = None
        self._failed_at: float | None = None
        self._ids: dict[int, str] = {}  # document id -> path, of the last documents_under
        self._binding: tuple[str, int] | None = None  # the embedding model this workstation writes and searches with
        self._key = display_url(url)

    # --- the connection ------------------------------------------------------------------------------

    @property
    def path(self) -> str:
        return self._key

    def reopen(self) -> TeamStore:
        """Another connection to the same stores (the indexer's embedding thread)."""
        return TeamStore(self.url, self.local_path, self.readonly)

    def server(self) -> PgLibrary:
        """The connection, opened (and the outbox sent) on first use or after a failure.

        Raises:
            StoreUnavailableError: the server does not answer (asked again after RETRY_S).
        """
        if self._server is not None:
            return self._server
        if self._failed_at is not None and time.monotonic() - self._failed_at < RETRY_S:
            raise StoreUnavailableError(f"the team index at {self._key} does not answer (tried "
                                        f"{time.monotonic() - self._failed_at:.0f} s ago)")
        try:
            self._server = PgLibrary(self.url)
        except StoreUnavailableError:
            self._failed_at = time.monotonic()
            raise
        self._failed_at = None
        if self._binding is not None:
            self._server.bind_embedding(*self._binding)
        self._send_outbox()
        return self._server

    @property
    def online(self) -> bool:
        try:
            self.server()
            return True
        except StoreUnavailableError:
            return False

    def _lost(self, exc: BaseException) -> StoreUnavailableError:
        """The connection broke: forget it (the next use reconnects, after RETRY_S)."""
        if self._server is not None:
            try:
                self._server.close()
            except Exception:  # already broken
                pass
        self._server = None
        self._failed_at = time.monotonic()
        return unavailable(self.url, exc)

    def _read(self, name: str, *args: Any, **kwargs: Any) -> Any:
        """A read on the server; a broken connection raises StoreUnavailableError."""
        server = self.server()
        try:
            return getattr(server, name)(*args, **kwargs)
        except self.driver.OperationalError as exc:
            raise self._lost(exc) from exc

    def close(self) -> None:
        if self._server is not None:
            try:
                self._server.close()
            except Exception:  # a broken connection closes anyway
                pass
            self._server = None
        self.local.close()

    # --- writes: sent, or queued while the server does not answer -----------------------------------

    def _write(self, op: str, args: dict[str, Any]) -> None:
        if self.queued():
            try:
                self.server()  # sends the outbox first when it answers again
            except StoreUnavailableError:
                pass
        if not self.queued():
            try:
                self._apply(self.server(), op, args)
                self._remember(op, args)
                return
            except StoreUnavailableError:
                pass
            except self.driver.OperationalError as exc:
                self._lost(exc)
        self._queue(op, args)

    def _apply(self, server: PgLibrary, op: str, a: dict[str, Any]) -> None:
        if op == "write":
            server.write_document(a["path"], a["size"], a["mtime_ns"], a["content_hash"], a["fmt"],
                                  a["chunker_version"], a["chunks"], a["vectors"], a["parts"])
        elif op == "error":
            server.record_error(**a)
        elif op == "touch":
            server.touch_path(a["path"], a["size"], a["mtime_ns"])
        elif op == "move":
            server.move_path(a["old"], a["path"], a["size"], a["mtime_ns"])
        elif op == "delete":
            server.delete_documents(a["paths"])
        elif op == "root":
            server.add_root(a["path"])
        else:
            raise ValueError(f"unknown outbox operation {op!r}")

    def _queue(self, op: str, args: dict[str, Any]) -> None:
        with self.local.transaction() as c:
            c.execute("INSERT INTO outbox(server, op, payload, queued_at) VALUES (?, ?, ?, ?)",
                      (self._key, op, json.dumps(_encode(args)), time.time()))
        self._remember(op, args)

    def queued(self) -> int:
        """Writes waiting in the outbox for this server."""
        return int(self.local.conn.execute("SELECT count(*) FROM outbox WHERE server = ?", (self._key,)).fetchone()[0])

    def _send_outbox(self) -> None:
        """Send the queued writes in order, each removed once the server has it."""
        assert self._server is not None
        rows = self.local.conn.execute("SELECT seq, op, payload FROM outbox WHERE server = ? ORDER BY seq",
                                       (self._key,)).fetchall()
        for seq, op, payload in rows:
            try:
                self._apply(self._server, op, _decode(op, json.loads(payload)))
            except self.driver.OperationalError as exc:
                raise self._lost(exc) from exc
            self.local.conn.execute("DELETE FROM outbox WHERE seq = ?", (seq,))
        if rows:
            log.info("sent %d queued writes to %s", len(rows), self._key)

    def _remember(self, op: str, a: dict[str, Any]) -> None:
        """Keep team_documents (what this workstation wrote) in step with a write."""
        q = self.local.conn.execute
        if op == "write":
            q("INSERT OR REPLACE INTO team_documents(server, path, size, mtime_ns, content_hash, format, status, "
              "error, chunker_version) VALUES (?, ?, ?, ?, ?, ?, 'ok', NULL, ?)",
              (self._key, a["path"], a["size"], a["mtime_ns"], a["content_hash"], a["fmt"], a["chunker_version"]))
        elif op == "error":
            q("INSERT OR REPLACE INTO team_documents(server, path, size, mtime_ns, content_hash, format, status, "
              "error, chunker_version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
              (self._key, a["path"], a.get("size"), a.get("mtime_ns"), a.get("content_hash"), a.get("fmt"),
               a.get("status", "error"), a["error"], a.get("chunker_version")))
        elif op == "touch":
            q("UPDATE team_documents SET size = ?, mtime_ns = ? WHERE server = ? AND path = ?",
              (a["size"], a["mtime_ns"], self._key, a["path"]))
        elif op == "move":
            q("DELETE FROM team_documents WHERE server = ? AND path = ?", (self._key, a["path"]))
            q("UPDATE team_documents SET path = ?, size = ?, mtime_ns = ? WHERE server = ? AND path = ?",
              (a["path"], a["size"], a["mtime_ns"], self._key, a["old"]))
        elif op == "delete":
            q(f"DELETE FROM team_documents WHERE server = ? AND path IN ({','.join('?' * len(a['paths']))})",
              (self._key, *a["paths"]))

    def write_document(self, path: str, size: int, mtime_ns: int, content_hash: str, fmt: str, chunker_version: int,
                       chunks: list[Chunk], vectors: list[bytes | None], parts: Iterable[Part] = ()) -> None:
        self._write("write", {"path": path, "size": size, "mtime_ns": mtime_ns, "content_hash": content_hash,
                              "fmt": fmt, "chunker_version": chunker_version, "chunks": chunks, "vectors": vectors,
                              "parts": list(parts)})

    def record_error(self, path: str, error: str, size: int | None = None, mtime_ns: int | None = None,
                     content_hash: str | None = None, fmt: str | None = None, chunker_version: int | None = None,
                     status: str = "error") -> None:
        self._write("error", {"path": path, "error": error, "size": size, "mtime_ns": mtime_ns,
                              "content_hash": content_hash, "fmt": fmt, "chunker_version": chunker_version,
                              "status": status})

    def touch_document(self, doc_id: int, size: int, mtime_ns: int) -> None:
        self._write("touch", {"path": self._ids[doc_id], "size": size, "mtime_ns": mtime_ns})

    def move_document(self, doc_id: int, new_path: str, size: int, mtime_ns: int) -> None:
        self._write("move", {"old": self._ids[doc_id], "path": new_path, "size": size, "mtime_ns": mtime_ns})

    def delete_documents(self, paths: Iterable[str]) -> int:
        paths = list(paths)
        if paths:
            self._write("delete", {"paths": paths})
        return len(paths)

    def add_root(self, path: str) -> bool:
        added = self.local.add_root(path)  # this workstation's folders, known while the server does not answer
        try:
            return self._read("add_root", path) or added
        except StoreUnavailableError:
            if added:
                self._queue("root", {"path": path})
            return added

    def remove_root(self, path: str) -> bool:
        self.local.remove_root(path)
        return bool(self._read("remove_root", path))

    def roots(self) -> list[str]:
        """This person's folders on the server (those this workstation registered, while it does not answer)."""
        try:
            return list(self._read("roots"))
        except StoreUnavailableError:
            return self.local.roots()

    # --- reads the indexer can do without the server -------------------------------------------------

    def documents_under(self, roots: Iterable[str]) -> dict[str, StoredDocument]:
        roots = list(roots)
        try:
            found = self._read("documents_under", roots)
        except StoreUnavailableError:
            found = self._remembered(roots)
        self._ids.update({d.id: d.path for d in found.values()})
        return found

    def _remembered(self, roots: list[str]) -> dict[str, StoredDocument]:
        out = {}
        for root in roots:
            prefix = root.rstrip("/") + "/"
            for row in self.local.conn.execute(
                    "SELECT -rowid, path, size, mtime_ns, content_hash, status, error, chunker_version, format "
                    "FROM team_documents WHERE server = ? AND (path = ? OR substr(path, 1, ?) = ?)",
                    (self._key, root, len(prefix), prefix)):
                out[row[1]] = StoredDocument(*row)
        return out

    def vectors_for_hashes(self, hashes: Iterable[str]) -> dict[str, bytes]:
        try:
            return dict(self._read("vectors_for_hashes", list(hashes)))
        except StoreUnavailableError:
            return {}

    def pending_chunks(self, limit: int) -> list[tuple[int, str, str]]:
        if self.queued():
            return []  # the server's queue is stale until the outbox is sent
        try:
            return list(self._read("pending_chunks", limit))
        except StoreUnavailableError:
            return []

    def add_vectors(self, vectors: dict[int, bytes]) -> int:
        try:
            return int(self._read("add_vectors", vectors))
        except StoreUnavailableError:
            return 0  # the chunks stay waiting on the server; the next run embeds them

    def pending_count(self) -> int:
        try:
            return int(self._read("pending_count"))
        except StoreUnavailableError:
            return 0

    def attachment_errors(self, doc_id: int) -> list[tuple[str, str]]:
        try:
            return list(self._read("attachment_errors", doc_id)) if doc_id > 0 else []
        except StoreUnavailableError:
            return []

    def bind_embedding(self, model_id: str, dim: int) -> None:
        """Raises IndexMismatchError when the team index holds another model's vectors (checked again on every
        new connection; while the server does not answer, when it answers)."""
        self._binding = (model_id, dim)
        try:
            self._read("bind_embedding", model_id, dim)
        except StoreUnavailableError:
            pass
        self.dim = dim

    # --- reads that need the server --------------------------------------------------------------------

    def __getattr__(self, name: str) -> Any:
        if name in _SERVER_READS:
            return lambda *args, **kwargs: self._read(name, *args, **kwargs)
        if name in _LOCAL:
            return getattr(self.local, name)
        raise AttributeError(name)

    def search_vectors(self, shared: Any) -> PgVectors:
        """The vector search: the server's."""
        return _GuardedVectors(self)

    def list_documents(self) -> list[DocumentInfo]:
        return list(self._read("list_documents"))

    # --- this person's own things, in the local file ------------------------------------------------

    def meta(self, key: str) -> str | None:
        return self.local.meta(f"{self._key} {key}")

    def set_meta(self, key: str, value: str) -> None:
        self.local.set_meta(f"{self._key} {key}", value)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        with self.local.transaction() as c:
            yield c

    def cached_answer(self, key: str) -> dict[str, Any] | None:
        return self.local.cached_answer(self._cache_key(key))

    def cache_answer(self, key: str, question: str, answer: dict[str, Any], chunk_ids: list[int]) -> None:
        self.local.cache_answer(self._cache_key(key), question, answer, [])

    def _cache_key(self, key: str) -> str:
        """An answer is kept under the library's state too: a change on the server (by anyone) makes a new key."""
        return f"{key}:{self._read('vector_epoch')}"

    def reset(self) -> None:
        self._read("reset")
        self.local.conn.execute("DELETE FROM team_documents WHERE server = ?", (self._key,))


_SERVER_READS = frozenset({
    "container_of", "document_chunks", "headings", "last_indexed", "documents_named", "counts", "chunk_rows",
    "chunk_id_span", "language_shares", "keyword_frequencies", "rarity", "allowed_chunk_ids",
    "keyword_search", "phrase_share", "vector_count", "vector_epoch", "iter_vectors", "disk", "compact", "check"})
_LOCAL = frozenset({
    "create_chat", "chat", "add_question", "add_answer", "chat_messages", "list_chats", "rename_chat", "rate_answer",
    "feedback", "delete_chat", "clear_answer_cache", "schema_version"})


class _GuardedVectors(PgVectors):
    """PgVectors over the team store's connection, a broken one raising StoreUnavailableError."""

    def __init__(self, team: TeamStore) -> None:
        self.team = team

    @property
    def store(self) -> PgLibrary:  # type: ignore[override]
        return self.team.server()

    def search(self, query: np.ndarray, k: int, allowed: Any = None) -> list[tuple[int, float]]:
        return self._guard(super().search, query, k, allowed)

    def cosines(self, ids: list[int], query: np.ndarray) -> dict[int, float]:
        return self._guard(super().cosines, ids, query)

    def vectors(self, ids: list[int]) -> dict[int, np.ndarray]:
        return self._guard(super().vectors, ids)

    def _guard(self, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except self.team.driver.OperationalError as exc:
            raise self.team._lost(exc) from exc


# --- the outbox's payloads, as JSON ---------------------------------------------------------------------

def _encode(args: dict[str, Any]) -> dict[str, Any]:
    out = dict(args)
    if "chunks" in out:
        out["chunks"] = [dataclasses.asdict(c) for c in out["chunks"]]
        out["vectors"] = [_blob(v) for v in out["vectors"]]
        out["parts"] = [dataclasses.asdict(p) | {"vectors": [_blob(v) for v in p.vectors]} for p in out["parts"]]
    return out


def _decode(op: str, args: dict[str, Any]) -> dict[str, Any]:
    if op != "write":
        return args
    out = dict(args)
    out["chunks"] = [Chunk(**c) for c in args["chunks"]]
    out["vectors"] = [_unblob(v) for v in args["vectors"]]
    out["parts"] = [Part(**(p | {"chunks": [Chunk(**c) for c in p["chunks"]],
                                 "vectors": [_unblob(v) for v in p["vectors"]]})) for p in args["parts"]]
    return out


def _blob(v: bytes | None) -> str | None:
    return None if v is None else base64.b64encode(v).decode()


def _unblob(v: str | None) -> bytes | None:
    return None if v is None else base64.b64decode(v)
