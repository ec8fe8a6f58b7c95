"""An exact in-process vector index mirrored from the SQLite file.

The vectors live in SQLite (the source of truth); this keeps a float32 matrix of them in memory so a
query is one matrix-vector product: about 9 ms for 100k 384-d vectors on two cores, exact (recall 1.0),
where sqlite-vec's exact scan takes ~55 ms and its binary-quantized first pass, at pool sizes that stay
fast, recalls only 0.6-0.75 of the true top 10 on all-MiniLM-L6-v2 vectors (see README).

It follows writers from any process: a trigger bumps `vector_epoch` on every change, and when the
number moved the index fetches only the vectors it lacks and drops the ones that are gone.
"""

from __future__ import annotations

import threading

import numpy as np

from assistant.store import Store


class VectorIndex:
    """Thread-safe; one per process and index file."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._epoch: int | None = None
        self._ids = np.zeros(0, dtype=np.int64)
        self._matrix = np.zeros((0, 0), dtype=np.float32)

    def __len__(self) -> int:
        return len(self._ids)

    def sync(self, store: Store) -> None:
        """Bring the matrix in step with the database (cheap when nothing changed)."""
        epoch = store.vector_epoch()
        if epoch == self._epoch:
            return
        with self._lock:
            if epoch == self._epoch:
                return
            if self._epoch is None or len(self._ids) == 0:
                ids, blobs = store.embeddings()
                self._set(ids, _stack(blobs, store.dim))
            else:
                current = store.embedding_ids()
                keep = np.isin(self._ids, current)
                new = np.setdiff1d(current, self._ids, assume_unique=True)
                ids, blobs = store.embeddings(new.tolist()) if len(new) else (new, [])
                self._set(np.concatenate([self._ids[keep], ids]),
                          np.concatenate([self._matrix[keep], _stack(blobs, self._matrix.shape[1])]))
            self._epoch = epoch

    def _set(self, ids: np.ndarray, matrix: np.ndarray) -> None:
        self._ids, self._matrix = ids, matrix

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Exact cosine top-k (vectors are normalised): (chunk id, similarity), best first."""
        ids, matrix = self._ids, self._matrix  # a consistent snapshot even if sync() swaps them
        if allowed is not None:
            mask = np.isin(ids, allowed)
            ids, matrix = ids[mask], matrix[mask]
        if len(ids) == 0:
            return []
        scores = matrix @ np.asarray(query, dtype=np.float32)
        k = min(k, len(ids))
        top = np.argpartition(-scores, k - 1)[:k]
        top = top[np.argsort(-scores[top])]
        return [(int(ids[i]), float(scores[i])) for i in top]


def _stack(blobs: list[bytes], dim: int | None) -> np.ndarray:
    if not blobs:
        return np.zeros((0, dim or 0), dtype=np.float32)
    return np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(len(blobs), -1).copy()
