"""The vectors: the embedding model the index is bound to, sqlite-vec's vec0 table and its change log.

vec0 holds the one stored copy of each vector. Bulk reads go straight to vec0's own shadow tables
(`chunk_vectors_rowids` says where each vector lives, `chunk_vectors_vector_chunks00` holds them in
blocks of 1,024): about 15x faster than reading through the virtual table, whose reads by id are slow.
The layout is checked as it is read, and any surprise (a sqlite-vec release that changed it) falls back
to the virtual table, slower but right.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np

from assistant.errors import IndexMismatchError
from assistant.store.db import Database
from assistant.store.schema import create_vector_tables

log = logging.getLogger(__name__)

VECTOR_IDS_TABLE, _BLOCKS, _VECS = "chunk_vectors_rowids", "chunk_vectors_chunks", "chunk_vectors_vector_chunks00"


def _vec_blob(v: np.ndarray) -> bytes:
    return np.ascontiguousarray(v, dtype=np.float32).tobytes()


class VectorTables(Database):
    """Stored embeddings; the in-process VectorIndex (vectors.py) follows them through vector_log."""

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
                create_vector_tables(c, dim)
                self.set_meta("embedding_model", model_id)
                self.set_meta("embedding_dim", str(dim))
                c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('vectors_id', lower(hex(randomblob(16))))")
                c.execute("INSERT INTO vector_log(chunk_id, added) VALUES (0, 0)")
        self.dim = dim

    @staticmethod
    def _insert_vector(c: Any, chunk_id: int, blob: bytes) -> None:
        c.execute("INSERT INTO chunk_vectors(rowid, embedding) VALUES (?, ?)", (chunk_id, blob))
        c.execute("INSERT INTO vector_log(chunk_id, added) VALUES (?, 1)", (chunk_id,))

    def vectors_for_hashes(self, hashes: Iterable[str]) -> dict[str, bytes]:
        """Stored embeddings of chunks with these content hashes (any document), as float32 blobs."""
        owner: dict[int, str] = {}
        hashes = list(set(hashes))
        for i in range(0, len(hashes), 500):
            batch = hashes[i : i + 500]
            rows = self.conn.execute(
                f"SELECT c.id, c.content_hash FROM chunks c WHERE c.content_hash IN ({','.join('?' * len(batch))}) "
                "AND c.id NOT IN (SELECT chunk_id FROM pending_vectors)", batch)
            for cid, h in rows:
                owner.setdefault(int(cid), h)
        out: dict[str, bytes] = {}
        if owner:
            ids, matrix = self.vectors_by_id(list(owner))
            for cid, row in zip(ids.tolist(), matrix, strict=True):
                out.setdefault(owner[cid], row.tobytes())
        return out

    def pending_chunks(self, limit: int) -> list[tuple[int, str, str]]:
        """Chunks still waiting for a vector, oldest first: (chunk id, content hash, text to embed)."""
        rows = self.conn.execute(
            "SELECT c.id, c.content_hash, c.heading, c.text FROM pending_vectors p JOIN chunks c ON c.id = p.chunk_id "
            "ORDER BY p.chunk_id LIMIT ?", (int(limit),))
        return [(int(i), h, f"{head}\n\n{text}" if head else text) for i, h, head, text in rows]

    def add_vectors(self, vectors: dict[int, bytes]) -> int:
        """Give waiting chunks their vectors, in one transaction (chunks deleted meanwhile are skipped).
        Returns how many were stored."""
        ids = list(vectors)
        with self.transaction() as c:
            waiting = {int(r) for (r,) in c.execute(
                f"SELECT chunk_id FROM pending_vectors WHERE chunk_id IN ({','.join('?' * len(ids))})", ids)} \
                if ids else set()
            for cid in ids:
                if cid in waiting:
                    self._insert_vector(c, cid, vectors[cid])
                    c.execute("DELETE FROM pending_vectors WHERE chunk_id = ?", (cid,))
        return len(waiting)

    # -- the change log --------------------------------------------------------------------------------

    def vector_epoch(self) -> int:
        """The last change's number: it moves whenever any vector is added or removed (by any connection)."""
        row = self.conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'vector_log'").fetchone()
        return int(row[0]) if row else 0

    def vector_changes(self, since: int) -> tuple[int, dict[int, bool]] | None:
        """What happened to vectors after change number `since`: (the newest number, {chunk id: whether it
        has a vector now}); None when the log no longer reaches back that far (read everything instead)."""
        pruned = int(self.meta("vector_log_pruned") or 0)
        if since < pruned:
            return None
        last, state = since, {}
        for seq, cid, added in self.conn.execute(
                "SELECT seq, chunk_id, added FROM vector_log WHERE seq > ? ORDER BY seq", (int(since),)):
            last = int(seq)
            if cid:
                state[int(cid)] = bool(added)
        return last, state

    def prune_vector_log(self, upto: int) -> None:
        """Forget changes up to number `upto` (readers that knew less read everything again)."""
        if self.readonly or upto <= int(self.meta("vector_log_pruned") or 0):
            return
        with self.transaction() as c:
            c.execute("DELETE FROM vector_log WHERE seq <= ?", (int(upto),))
            self.set_meta("vector_log_pruned", str(int(upto)))

    # -- reading vectors -------------------------------------------------------------------------------

    def vector_count(self) -> int:
        if self.meta("embedding_model") is None:
            return 0
        return int(self.conn.execute(f"SELECT count(*) FROM {VECTOR_IDS_TABLE}").fetchone()[0])

    def iter_vectors(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Every stored vector, in blocks of (chunk ids, float32 matrix), about 1,024 at a time."""
        if self.meta("embedding_model") is None:
            return
        dim = int(self.meta("embedding_dim") or 0)
        try:
            layout_ok = self._shadow_valid_count() == self.vector_count()
        except Exception as exc:  # the driver's OperationalError: a table or column that is not there
            log.warning("sqlite-vec's storage layout is not the one expected (%s); reading vectors the slow way", exc)
            layout_ok = False
        if layout_ok:
            yield from self._shadow_blocks(dim)
            return
        ids, rows = [], []
        for cid, blob in self.conn.execute("SELECT rowid, embedding FROM chunk_vectors"):
            ids.append(int(cid))
            rows.append(blob)
            if len(ids) == 1024:
                yield np.array(ids, dtype=np.int64), _stack(rows, dim)
                ids, rows = [], []
        if ids:
            yield np.array(ids, dtype=np.int64), _stack(rows, dim)

    def _shadow_valid_count(self) -> int:
        """How many vectors the block table says are live (it must match the id table's count)."""
        n = 0
        for size, validity in self.conn.execute(f"SELECT size, validity FROM {_BLOCKS}"):
            n += int(np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[: int(size)].sum())
        return n

    def _shadow_blocks(self, dim: int) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        q = self.conn.execute
        blocks = q(f"SELECT chunk_id, size, validity, rowids FROM {_BLOCKS} ORDER BY chunk_id")
        for block, size, validity, rowids in blocks:
            row = q(f"SELECT vectors FROM {_VECS} WHERE rowid = ?", (block,)).fetchone()
            if row is None:
                continue
            valid = np.unpackbits(np.frombuffer(validity, dtype=np.uint8), bitorder="little")[: int(size)].astype(bool)
            ids = np.frombuffer(rowids, dtype=np.int64)[: int(size)]
            matrix = np.frombuffer(row[0], dtype=np.float32).reshape(-1, dim)[: int(size)]
            if valid.any():
                yield ids[valid].copy(), matrix[valid].copy()

    def vectors_by_id(self, ids: Iterable[int]) -> tuple[np.ndarray, np.ndarray]:
        """(chunk ids that have a vector, their float32 vectors), reading each storage block once."""
        dim = int(self.meta("embedding_dim") or 0)
        wanted = sorted({int(i) for i in ids})
        if not wanted or self.meta("embedding_model") is None:
            return np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32)
        try:
            return self._shadow_by_id(wanted, dim)
        except Exception as exc:  # the layout changed under a new sqlite-vec: read through vec0 itself
            log.warning("reading vectors through vec0 (%s)", exc)
        found, rows = [], []
        for cid in wanted:
            row = self.conn.execute("SELECT embedding FROM chunk_vectors WHERE rowid = ?", (cid,)).fetchone()
            if row is not None:
                found.append(cid)
                rows.append(row[0])
        return np.array(found, dtype=np.int64), _stack(rows, dim)

    def _shadow_by_id(self, wanted: list[int], dim: int) -> tuple[np.ndarray, np.ndarray]:
        where: dict[int, list[tuple[int, int]]] = {}
        for i in range(0, len(wanted), 500):
            batch = wanted[i : i + 500]
            marks = ",".join("?" * len(batch))
            for cid, block, offset in self.conn.execute(
                    f"SELECT rowid, chunk_id, chunk_offset FROM {VECTOR_IDS_TABLE} WHERE rowid IN ({marks})", batch):
                if block is None or offset is None:
                    raise ValueError(f"no storage block recorded for vector {cid}")
                where.setdefault(int(block), []).append((int(cid), int(offset)))
        found, parts = [], []
        for block, members in where.items():
            row = self.conn.execute(f"SELECT vectors FROM {_VECS} WHERE rowid = ?", (block,)).fetchone()
            if row is None:
                raise ValueError(f"storage block {block} is missing")
            matrix = np.frombuffer(row[0], dtype=np.float32).reshape(-1, dim)
            found += [cid for cid, _ in members]
            parts.append(matrix[[offset for _, offset in members]])
        order = np.argsort(np.array(found, dtype=np.int64), kind="stable")
        ids = np.array(found, dtype=np.int64)[order]
        return ids, (np.concatenate(parts)[order] if parts else np.zeros((0, dim), dtype=np.float32))

    def exact_vector_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """sqlite-vec's exact float scan (the reference the fast path is measured against)."""
        if self.meta("embedding_model") is None:
            return []
        rows = self.conn.execute(
            "SELECT rowid, distance FROM chunk_vectors WHERE embedding MATCH ? AND k = ? ORDER BY distance",
            (_vec_blob(query), int(k)),
        )
        return [(int(r), 1.0 - float(d)) for r, d in rows]


def _stack(blobs: list[bytes], dim: int) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1).copy()
