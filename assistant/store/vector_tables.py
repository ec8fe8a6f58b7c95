"""The vectors: the embedding model the index is bound to, the vec0 table and the plain float blobs."""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from assistant.errors import IndexMismatchError
from assistant.store.db import Database
from assistant.store.schema import create_vector_tables


def _vec_blob(v: np.ndarray) -> bytes:
    return np.ascontiguousarray(v, dtype=np.float32).tobytes()


class VectorTables(Database):
    """Stored embeddings; the in-process VectorIndex (vectors.py) follows them."""

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
        self.dim = dim

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
                    c.execute("INSERT INTO chunk_vectors(rowid, embedding) VALUES (?, ?)", (cid, vectors[cid]))
                    c.execute("INSERT INTO chunk_embeddings(id, embedding) VALUES (?, ?)", (cid, vectors[cid]))
                    c.execute("DELETE FROM pending_vectors WHERE chunk_id = ?", (cid,))
        return len(waiting)

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

    def exact_vector_search(self, query: np.ndarray, k: int) -> list[tuple[int, float]]:
        """sqlite-vec's exact float scan (the reference the fast path is measured against)."""
        if self.meta("embedding_model") is None:
            return []
        rows = self.conn.execute(
            "SELECT rowid, distance FROM chunk_vectors WHERE embedding MATCH ? AND k = ? ORDER BY distance",
            (_vec_blob(query), int(k)),
        )
        return [(int(r), 1.0 - float(d)) for r, d in rows]

    def cosines(self, ids: list[int], query: np.ndarray) -> dict[int, float]:
        """Cosine similarity of the query to each of these chunks."""
        if not ids or self.meta("embedding_model") is None:
            return {}
        marks = ",".join("?" * len(ids))
        rows = self.conn.execute(
            f"SELECT id, vec_distance_cosine(embedding, ?) FROM chunk_embeddings WHERE id IN ({marks})",
            (_vec_blob(query), *ids))
        return {int(r): 1.0 - float(d) for r, d in rows}
