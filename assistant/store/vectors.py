"""The in-process vector index: an int8 copy of the stored vectors, memory-mapped from a file beside the
index, so a query over a million chunks takes a few milliseconds and a new process starts searching at
once.

The vectors live in SQLite (sqlite-vec's vec0 table, the one stored copy); everything here is derived
from it and can be deleted at any time. In `index.vectors` (about a quarter of vec0's size) each vector
is turned onto its library's principal axes (an orthogonal rotation: cosines are unchanged) and kept as
int8 codes with one scale per row, split in two halves: the first half, the directions in which the
library's vectors differ most (86% of the variance for all-MiniLM-L6-v2), is scanned in full with ONNX
Runtime's integer matrix product (the CPU's int8 dot-product instructions; numpy, 10x slower, when ONNX
Runtime is missing), and the best RESCORE rows are then scored on all dimensions against the float
query (cosine within ~0.002 of the exact value). A file of LISTS_MIN rows or more is cut into about
sqrt(n) lists by k-means on those first halves, its rows grouped by list; a query scans only the lists
nearest to it, PROBE_SHARE of the rows (at 1M: 7 ms instead of 26, recall@10 0.97 against the full scan);
a filtered search scans every row.
Vectors added since the file was written are kept in memory as exact floats; when they (or the removed
ones) grow past an eighth of the file (or 65,536), the file is written again, atomically.

It follows writers from any process through `vector_log`: each sync reads only the changes after the
last one it saw. Small libraries (under FILE_MIN vectors) have no file: reading them all takes
milliseconds.
"""

from __future__ import annotations

import itertools
import logging
import mmap
import os
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from assistant.store import Store
from assistant.store.vector_scorer import top_rows

log = logging.getLogger(__name__)

FILE_MIN = 4096  # vectors; below this no file is written
MAGIC = b"ASSTVEC3"
HEADER = 128  # magic, dim u32, first-half width u32, n u64, seq u64, token (32 ascii bytes), lists u32
RESCORE = 1000  # rows of the first pass scored again on all dimensions (at least 20 x k)
LISTS_MIN = 500_000  # rows from which a file is cut into lists (k-means cells) and a query scans the nearest
# (below it a full scan takes under ~15 ms, and keeps the last 2% of recall the lists give up)
PROBE_SHARE = 0.08  # of the rows, scanned by a query in a file with lists: the lists nearest to it
KMEANS_SAMPLE, KMEANS_ROUNDS = 40, 8  # rows per list the centroids are trained on, and rounds
AXES_SAMPLE = 20_000  # vectors the principal axes are computed from
TAIL_MAX = 65_536  # changes kept in memory (exact floats, ~100 MB at most) before the file is written again
CHANGES_KEPT = 10_000  # log entries a writer keeps before it prunes those the file already holds


def quantize(matrix: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 codes = int8 + 128, float32 scale per row) for float vectors."""
    matrix = np.asarray(matrix, dtype=np.float32)
    peak = np.abs(matrix).max(axis=1) if len(matrix) else np.zeros(0, dtype=np.float32)
    scales = np.where(peak > 0, peak / 127.0, 1.0).astype(np.float32)
    codes = (np.rint(matrix / scales[:, None]) + 128).astype(np.uint8)
    return codes, scales


def principal_axes(sample: np.ndarray) -> np.ndarray:
    """An orthogonal matrix whose columns are the sample's principal directions, most variance first."""
    sample = np.asarray(sample, dtype=np.float64)
    _, axes = np.linalg.eigh(sample.T @ sample / max(1, len(sample)))
    return np.ascontiguousarray(axes[:, ::-1], dtype=np.float32)


@dataclass
class _Base:
    """The vectors of one file: ids, scales, the principal axes and the two halves of the codes
    (memory-mapped), with the rows since removed."""

    path: Path
    seq: int
    ids: np.ndarray
    scales: np.ndarray
    axes: np.ndarray
    head: np.ndarray  # codes on the first half of the axes (the scanned part)
    rest: np.ndarray  # codes on the other half
    sorter: np.ndarray | None  # argsort of ids when the file's ids are not in order
    centroids: np.ndarray  # lists x first-half width: the lists' centres (one list: no probing)
    starts: np.ndarray  # lists + 1: list i holds rows starts[i]:starts[i + 1]
    dead: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=bool))
    penalty: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.float32))  # -inf where dead
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))  # the ids in order

    def __post_init__(self) -> None:
        if len(self.penalty) != len(self.ids):
            self.penalty = np.where(self.dead, -np.inf, 0.0).astype(np.float32)
        if len(self.keys) != len(self.ids):
            self.keys = self.ids if self.sorter is None else self.ids[self.sorter]

    def scores(self, rows: np.ndarray, turned: np.ndarray) -> np.ndarray:
        """Cosines of these rows to a query already turned onto the axes (query @ axes), all dimensions."""
        codes = np.concatenate([self.head[rows], self.rest[rows]], axis=1).astype(np.float32) - 128.0
        return (codes @ turned) * self.scales[rows]

    def probe(self, query_head: np.ndarray, budget: int) -> list[tuple[int, int]] | None:
        """The row ranges of the lists nearest to the query (on the first half of the axes), nearest first
        until they hold `budget` rows, in file order; None when the file has a single list."""
        if len(self.centroids) < 2:
            return None
        order = np.argsort(-(self.centroids @ query_head))
        take = int(np.searchsorted(np.cumsum(np.diff(self.starts)[order]), budget)) + 1
        ranges: list[tuple[int, int]] = []
        for c in np.sort(order[:take]).tolist():
            start, end = int(self.starts[c]), int(self.starts[c + 1])
            if ranges and ranges[-1][1] == start:
                ranges[-1] = (ranges[-1][0], end)
            elif end > start:
                ranges.append((start, end))
        return ranges

    def rows(self, ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(positions in ids that the file holds alive, their rows in the file)."""
        if len(self.ids) == 0 or len(ids) == 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        keys = self.keys
        pos = np.clip(np.searchsorted(keys, ids), 0, len(keys) - 1)
        hit = keys[pos] == ids
        rows = pos[hit] if self.sorter is None else self.sorter[pos[hit]]
        alive = ~self.dead[rows]
        return np.flatnonzero(hit)[alive], rows[alive]


@dataclass
class _State:
    base: _Base | None
    tail_ids: np.ndarray  # vectors not in the file, exact floats
    tail: np.ndarray

    def __len__(self) -> int:
        n = len(self.tail_ids)
        if self.base is not None:
            n += int(len(self.base.ids) - self.base.dead.sum())
        return n


class VectorIndex:
    """Thread-safe; one per process and index file."""

    def __init__(self, file_min: int = FILE_MIN) -> None:
        self.file_min = file_min
        self._lock = threading.Lock()
        self._seq: int | None = None
        self._token: str | None = None
        self._state = _State(None, np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32))

    def __len__(self) -> int:
        return len(self._state)

    @property
    def file(self) -> Path | None:
        """The memory-mapped file in use, if any."""
        base = self._state.base
        return base.path if base is not None else None

    def sync(self, store: Store) -> None:
        """Bring the index in step with the database (one cheap query when nothing changed)."""
        epoch = store.vector_epoch()
        if epoch == self._seq:
            return
        with self._lock:
            if epoch == self._seq:
                return
            token = store.meta("vectors_id")
            if token is None:  # no embedding model bound yet (or the index was just reset)
                self._state = _State(None, np.zeros(0, dtype=np.int64), np.zeros((0, 0), dtype=np.float32))
                self._seq, self._token = epoch, token
                return
            if token != self._token:
                self._load(store, token)
            changes = store.vector_changes(self._seq or 0)
            if changes is None:  # the log was pruned past what this process knew: start from the file
                self._load(store, token)
                changes = store.vector_changes(self._seq or 0)
                if changes is None:
                    self._load(store, token, from_file=False)
                    changes = store.vector_changes(self._seq or 0)
            if changes is not None and len(changes[1]) > TAIL_MAX and store.vector_count() >= self.file_min:
                self._load(store, token, from_file=False)  # a whole library arrived: stream it to a file
            elif changes is not None:
                self._apply(store, *changes)
            self._maybe_write(store)
            self._maybe_prune(store)

    # -- loading and following -------------------------------------------------------------------------

    def _path(self, store: Store) -> Path:
        return store.path.with_suffix(".vectors")

    def _load(self, store: Store, token: str, from_file: bool = True) -> None:
        path = self._path(store)
        base = _open_file(path, token) if from_file else None
        if base is not None and base.seq >= int(store.meta("vector_log_pruned") or 0):
            self._state = _State(base, np.zeros(0, dtype=np.int64), np.zeros((0, len(base.axes)), np.float32))
            self._seq, self._token = base.seq, token
            return
        dim = int(store.meta("embedding_dim") or 0)
        seq = store.vector_epoch()  # read before the vectors: replaying a change already seen is harmless
        if store.vector_count() >= self.file_min:
            base = _write_floats(path, token, seq, dim, store.iter_vectors())
            self._state = _State(base, np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32))
        else:
            blocks = list(store.iter_vectors())
            ids = np.concatenate([b[0] for b in blocks]) if blocks else np.zeros(0, dtype=np.int64)
            matrix = np.concatenate([b[1] for b in blocks]) if blocks else np.zeros((0, dim), dtype=np.float32)
            self._state = _State(None, ids, matrix)
        self._seq, self._token = seq, token

    def _apply(self, store: Store, last: int, changed: dict[int, bool]) -> None:
        if changed:
            state = self._state
            touched = np.fromiter(changed, dtype=np.int64, count=len(changed))
            keep = ~np.isin(state.tail_ids, touched)
            base = state.base
            if base is not None:
                _, rows = base.rows(touched)
                if len(rows):
                    dead = base.dead.copy()
                    dead[rows] = True
                    base = replace(base, dead=dead, penalty=np.where(dead, -np.inf, 0.0).astype(np.float32))
            new_ids, new_rows = store.vectors_by_id([cid for cid, added in changed.items() if added])
            dim = new_rows.shape[1] if len(new_rows) else (state.tail.shape[1] or int(store.meta("embedding_dim") or 0))
            tail = state.tail[keep] if state.tail.size else np.zeros((0, dim), dtype=np.float32)
            self._state = _State(base, np.concatenate([state.tail_ids[keep], new_ids]),
                                 np.concatenate([tail, new_rows]) if len(new_rows) else tail)
        self._seq = last

    def _maybe_write(self, store: Store) -> None:
        state = self._state
        if len(state) < self.file_min or self._token is None or self._seq is None:
            return
        base = state.base
        stale = len(state.tail_ids) + (int(base.dead.sum()) if base is not None else 0)
        if base is not None and stale <= max(self.file_min, min(len(base.ids) // 8, TAIL_MAX)):
            return
        dim = state.tail.shape[1] if base is None else len(base.axes)
        try:
            if base is None:
                new = _write_floats(self._path(store), self._token, self._seq, dim, [(state.tail_ids, state.tail)])
            else:  # the file's axes are kept: its codes are copied, not quantized twice
                writer = _Writer(self._path(store), self._token, self._seq, base.axes)
                try:
                    alive = np.flatnonzero(~base.dead)
                    for i in range(0, len(alive), 65536):
                        rows = alive[i : i + 65536]
                        writer.add_codes(base.ids[rows], base.head[rows], base.rest[rows], base.scales[rows])
                    if len(state.tail_ids):
                        writer.add_floats(state.tail_ids, state.tail)
                    new = writer.finish()
                finally:
                    writer.discard()
        except OSError as exc:  # a full disk or a read-only folder: keep searching from memory
            log.warning("could not write the vector file %s (%s); vectors stay in memory", self._path(store), exc)
            return
        self._state = _State(new, np.zeros(0, dtype=np.int64), np.zeros((0, dim), dtype=np.float32))

    def _maybe_prune(self, store: Store) -> None:
        if store.readonly or self._seq is None:
            return
        pruned = int(store.meta("vector_log_pruned") or 0)
        if self._seq - pruned <= CHANGES_KEPT:
            return
        base = self._state.base
        if base is not None:
            store.prune_vector_log(base.seq)
        elif len(self._state) < self.file_min:  # with no file, a reader that lost track reads all (cheap)
            store.prune_vector_log(self._seq)

    # -- searching -------------------------------------------------------------------------------------

    def search(self, query: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[tuple[int, float]]:
        """Cosine top-k (vectors are normalised): (chunk id, similarity), best first; with `allowed` (distinct
        chunk ids, as Store.allowed_chunk_ids gives them), among those chunks only."""
        state = self._state  # a consistent snapshot even if sync() swaps it
        query = np.asarray(query, dtype=np.float32)
        ids, scores = [], []
        base = state.base
        if base is not None and len(base.ids) and k > 0:
            penalty = base.penalty
            turned = query @ base.axes
            half = base.head.shape[1]
            want = min(max(RESCORE, 20 * k), len(base.ids))
            sub: np.ndarray | None = None  # the rows scanned, when not all of them
            head = base.head  # and their codes
            if allowed is not None:  # a filter: its rows only, gathered, or ruled in for a scan of all
                _, sub = base.rows(np.asarray(allowed, dtype=np.int64))
                if 2 * len(sub) > len(base.ids):  # most rows: one scan of all, with the rest ruled out
                    penalty = np.full(len(base.ids), -np.inf, dtype=np.float32)
                    penalty[sub] = base.penalty[sub]
                    sub = None
                else:
                    sub = np.sort(sub)  # in file order: gathering their codes reads forward
                    head = base.head[sub]
            else:
                ranges = base.probe(turned[:half], max(4 * want, int(PROBE_SHARE * len(base.ids))))
                if ranges is not None:  # the nearest lists only
                    sub = np.concatenate([np.arange(a, b) for a, b in ranges])
                    head = np.concatenate([base.head[a:b] for a, b in ranges])
            if sub is None:
                rows, _ = top_rows(head, base.scales, penalty, turned[:half], want)
            elif len(sub):
                top, _ = top_rows(head, base.scales[sub], penalty[sub], turned[:half], min(want, len(sub)))
                rows = sub[top]
            else:
                rows = sub
            ids.append(base.ids[rows])
            scores.append(base.scores(rows, turned) + penalty[rows])
        if len(state.tail_ids):
            tail_scores = state.tail @ query
            if allowed is not None:
                tail_scores = np.where(np.isin(state.tail_ids, allowed), tail_scores, -np.inf)
            ids.append(state.tail_ids)
            scores.append(tail_scores)
        if not ids:
            return []
        all_ids = np.concatenate(ids)
        all_scores = np.concatenate(scores).astype(np.float32)
        k = min(k, len(all_ids))
        if k <= 0:
            return []
        top = np.argpartition(-all_scores, k - 1)[:k]
        top = top[np.argsort(-all_scores[top], kind="stable")]
        return [(int(all_ids[i]), float(all_scores[i])) for i in top if np.isfinite(all_scores[i])]

    def cosines(self, ids: list[int], query: np.ndarray) -> dict[int, float]:
        """Cosine similarity of the query to each of these chunks (those that have a vector)."""
        query = np.asarray(query, dtype=np.float32)
        state, want, tail, pos, rows = self._lookup(ids)
        out: dict[int, float] = {}
        if tail.any():
            out.update(zip(state.tail_ids[tail].tolist(), (state.tail[tail] @ query).tolist(), strict=True))
        if len(rows):
            base = state.base
            for cid, s in zip(want[pos].tolist(), base.scores(rows, query @ base.axes).tolist(), strict=True):
                out.setdefault(cid, s)
        return out

    def vectors(self, ids: list[int]) -> dict[int, np.ndarray]:
        """The stored vectors of these chunks (those that have one), as floats: exact for the changes kept in
        memory, decoded from the int8 file for the rest (cosine to the original ~0.9999)."""
        state, want, tail, pos, rows = self._lookup(ids)
        out: dict[int, np.ndarray] = {}
        if tail.any():
            out.update(zip(state.tail_ids[tail].tolist(), state.tail[tail], strict=True))
        if len(rows):
            base = state.base
            codes = np.concatenate([base.head[rows], base.rest[rows]], axis=1).astype(np.float32) - 128.0
            for cid, v in zip(want[pos].tolist(), (codes * base.scales[rows, None]) @ base.axes.T, strict=True):
                out.setdefault(cid, v)
        return out

    def _lookup(self, ids: list[int]) -> tuple[_State, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Where these chunks' vectors are, in one snapshot of the state (sync() may swap it): (the state,
        the ids sorted and unique, a mask of the in-memory changes holding them, the positions in those ids
        that the file holds alive, and their rows in the file)."""
        state = self._state
        want = np.array(sorted(set(ids)), dtype=np.int64)
        tail = np.isin(state.tail_ids, want)
        pos = rows = np.zeros(0, dtype=np.int64)
        if state.base is not None:
            pos, rows = state.base.rows(want)
        return state, want, tail, pos, rows


# -- the file ------------------------------------------------------------------------------------------
# HEADER | axes (dim x dim float32) | centroids (lists x half float32) | starts (lists + 1 int64) |
# head (n x half uint8) | rest (n x (dim - half) uint8) | ids (n int64) | scales (n float32); rows grouped
# by list

def _header(dim: int, half: int, n: int, seq: int, token: str, lists: int) -> bytes:
    head = MAGIC + np.array([dim, half], dtype=np.uint32).tobytes() + np.array([n, seq], dtype=np.uint64).tobytes()
    head = head + token.encode("ascii")[:32].ljust(32, b"\0") + np.array([lists], dtype=np.uint32).tobytes()
    return head.ljust(HEADER, b"\0")


def _open_file(path: Path, token: str) -> _Base | None:
    """The file's vectors, memory-mapped; None when it is missing, damaged, of an older format or from
    another index."""
    try:
        with open(path, "rb") as f:
            head = f.read(HEADER)
            if len(head) < HEADER or head[:8] != MAGIC or head[32:64].rstrip(b"\0").decode("ascii", "replace") != token:
                return None
            dim, half, lists = (int(x) for x in np.frombuffer(head[8:16] + head[64:68], dtype=np.uint32))
            n, seq = (int(x) for x in np.frombuffer(head[16:32], dtype=np.uint64))
            size = HEADER + dim * dim * 4 + lists * half * 4 + (lists + 1) * 8 + n * dim + n * 8 + n * 4
            if os.fstat(f.fileno()).st_size != size or dim == 0 or not 0 < half <= dim or lists < 1:
                return None
            mm = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("ignoring the vector file %s (%s); it will be written again", path, exc)
        return None
    at = HEADER
    axes = np.frombuffer(mm, dtype=np.float32, count=dim * dim, offset=at).reshape(dim, dim).copy()
    at += dim * dim * 4
    centroids = np.frombuffer(mm, dtype=np.float32, count=lists * half, offset=at).reshape(lists, half).copy()
    at += lists * half * 4
    starts = np.frombuffer(mm, dtype=np.int64, count=lists + 1, offset=at).copy()
    at += (lists + 1) * 8
    if starts[0] != 0 or starts[-1] != n or np.any(np.diff(starts) < 0):
        return None
    head_codes = np.frombuffer(mm, dtype=np.uint8, count=n * half, offset=at).reshape(n, half)
    at += n * half
    rest_codes = np.frombuffer(mm, dtype=np.uint8, count=n * (dim - half), offset=at).reshape(n, dim - half)
    at += n * (dim - half)
    ids = np.frombuffer(mm, dtype=np.int64, count=n, offset=at).copy()
    scales = np.frombuffer(mm, dtype=np.float32, count=n, offset=at + n * 8).copy()
    sorter = None if n < 2 or bool(np.all(ids[1:] > ids[:-1])) else np.argsort(ids, kind="stable")
    return _Base(path, seq, ids, scales, axes, head_codes, rest_codes, sorter, centroids, starts,
                 np.zeros(n, dtype=bool))


def make_lists(head: np.ndarray, lists: int,
               release: Callable[[], None] = lambda: None) -> tuple[np.ndarray, np.ndarray]:
    """(centroids, list of each row): spherical k-means on the rows' first-half codes, trained on a
    sample of KMEANS_SAMPLE rows per list and then applied to every row (a block at a time, calling
    `release` after each)."""
    n = len(head)
    rng = np.random.default_rng(0)
    picked = np.sort(rng.choice(n, min(n, KMEANS_SAMPLE * lists), replace=False))
    parts = []
    for i in range(0, n, 65536):  # a stretch of the map at a time, let go after
        rows = picked[(picked >= i) & (picked < i + 65536)]
        parts.append(head[rows].astype(np.float32) - 128.0)
        release()
    sample = np.concatenate(parts)
    del parts
    sample /= np.linalg.norm(sample, axis=1, keepdims=True) + 1e-9
    centroids = sample[rng.choice(len(sample), lists, replace=False)]
    def nearest_of(rows: np.ndarray) -> np.ndarray:  # a block at a time: rows x lists scores stay small
        return np.concatenate([np.argmax(rows[i : i + 8192] @ centroids.T, axis=1) for i in range(0, len(rows), 8192)])

    for _ in range(KMEANS_ROUNDS):
        nearest = nearest_of(sample)
        counts = np.bincount(nearest, minlength=lists)
        filled = np.flatnonzero(counts)
        firsts = np.concatenate([[0], np.cumsum(counts)[:-1]])[filled]
        centroids[filled] = np.add.reduceat(sample[np.argsort(nearest, kind="stable")], firsts, axis=0)
        empty = np.flatnonzero(counts == 0)
        centroids[empty] = sample[rng.choice(len(sample), len(empty))]
        centroids /= np.linalg.norm(centroids, axis=1, keepdims=True) + 1e-9
    members = np.empty(n, dtype=np.int64)
    for i in range(0, n, 8192):  # a row's own scale does not change which centre is nearest
        members[i : i + 8192] = nearest_of(head[i : i + 8192].astype(np.float32) - 128.0)
        if i % 65536 == 0:
            release()
    return centroids.astype(np.float32), members


class _Writer:
    """Writes a new file beside the old one, then renames it over it (atomic: processes still reading
    the old one keep it until they let go). Codes go to two side files as they come; at the end, a
    large file's rows are cut into lists and written grouped by list."""

    def __init__(self, path: Path, token: str, seq: int, axes: np.ndarray) -> None:
        self.path, self.token, self.seq, self.axes = path, token, seq, np.asarray(axes, dtype=np.float32)
        self.dim = len(self.axes)
        self.half = max(1, self.dim // 2)
        stem = f"{path.name}.{os.getpid()}.{threading.get_ident()}"
        self.tmp = path.with_name(stem + ".tmp")
        self.sides = (path.with_name(stem + ".head.tmp"), path.with_name(stem + ".rest.tmp"))
        self.ids: list[np.ndarray] = []
        self.scales: list[np.ndarray] = []
        self.files = [os.fdopen(os.open(p, os.O_CREAT | os.O_TRUNC | os.O_RDWR, 0o600), "w+b") for p in self.sides]

    def add_floats(self, ids: np.ndarray, matrix: np.ndarray) -> None:
        codes, scales = quantize(np.asarray(matrix, dtype=np.float32) @ self.axes)
        self.add_codes(ids, codes[:, : self.half], codes[:, self.half :], scales)

    def add_codes(self, ids: np.ndarray, head: np.ndarray, rest: np.ndarray, scales: np.ndarray) -> None:
        self.files[0].write(np.ascontiguousarray(head, dtype=np.uint8).tobytes())
        self.files[1].write(np.ascontiguousarray(rest, dtype=np.uint8).tobytes())
        self.ids.append(np.asarray(ids, dtype=np.int64))
        self.scales.append(np.asarray(scales, dtype=np.float32))

    def finish(self) -> _Base:
        n = sum(len(i) for i in self.ids)
        for f in self.files:
            f.flush()
        maps = [mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) for f in self.files] if n else []
        try:
            self._write(n, maps)
        finally:
            for m in maps:
                try:
                    m.close()
                except BufferError:  # an error left a view of it alive: it closes when that goes
                    pass
        os.replace(self.tmp, self.path)
        base = _open_file(self.path, self.token)
        if base is None:
            raise OSError(f"the vector file {self.path} did not read back")
        return base

    def _write(self, n: int, maps: list[mmap.mmap]) -> None:
        ids = np.concatenate(self.ids) if self.ids else np.zeros(0, np.int64)
        scales = np.concatenate(self.scales) if self.scales else np.zeros(0, np.float32)
        widths = (self.half, self.dim - self.half)
        head, rest = (np.frombuffer(m, dtype=np.uint8).reshape(n, w) for m, w in zip(maps, widths, strict=True)) \
            if n else (np.zeros((0, w), np.uint8) for w in widths)
        def release() -> None:  # pages of the side files read so far leave this process (not the page cache)
            for m in maps:
                if hasattr(m, "madvise"):
                    m.madvise(mmap.MADV_DONTNEED)

        if n >= LISTS_MIN:
            centroids, members = make_lists(head, int(np.sqrt(n)), release)
            order: np.ndarray | None = np.argsort(members, kind="stable")
            starts = np.concatenate([[0], np.cumsum(np.bincount(members, minlength=len(centroids)))])
        else:
            centroids, order, starts = np.zeros((1, self.half), np.float32), None, np.array([0, n])
        with os.fdopen(os.open(self.tmp, os.O_CREAT | os.O_TRUNC | os.O_WRONLY, 0o600), "wb") as out:
            out.write(_header(self.dim, self.half, n, self.seq, self.token, len(centroids)))
            out.write(self.axes.tobytes())
            out.write(np.ascontiguousarray(centroids, dtype=np.float32).tobytes())
            out.write(np.asarray(starts, dtype=np.int64).tobytes())
            for codes in (head, rest):
                _write_rows(out, codes, order, release)
            out.write((ids if order is None else ids[order]).tobytes())
            out.write((scales if order is None else scales[order]).tobytes())
            out.flush()
            os.fsync(out.fileno())

    def discard(self) -> None:
        """Close and remove the temporary files."""
        for f in self.files:
            f.close()
        for p in (self.tmp, *self.sides):
            p.unlink(missing_ok=True)


def _write_rows(out: Any, codes: np.ndarray, order: np.ndarray | None, release: Callable[[], None],
                group: int = 262_144, block: int = 65_536) -> None:
    """Write the rows of codes (memory-mapped) in the given order. Reading them in that order would touch
    every page of the map at once; instead the output is built `group` rows at a time from sequential
    passes over the map, so the memory in use stays at one group whatever the size."""
    n = len(codes)
    if order is None:
        for i in range(0, n, block):
            out.write(np.ascontiguousarray(codes[i : i + block]).tobytes())
            release()
        return
    where = np.empty(n, dtype=np.int64)
    where[order] = np.arange(n)  # each row's place in the output
    for lo in range(0, n, group):
        hi = min(n, lo + group)
        buf = np.empty((hi - lo, codes.shape[1]), dtype=np.uint8)
        for i in range(0, n, block):
            w = where[i : i + block]
            take = (w >= lo) & (w < hi)
            if take.any():
                buf[w[take] - lo] = codes[i : i + block][take]
            release()
        out.write(buf.tobytes())


def _write_floats(path: Path, token: str, seq: int, dim: int, blocks: Iterable[tuple[np.ndarray, np.ndarray]]) -> _Base:
    """A new file from (ids, float vectors) blocks; the axes come from the first AXES_SAMPLE vectors."""
    it = iter(blocks)
    first: list[tuple[np.ndarray, np.ndarray]] = []
    while sum(len(i) for i, _ in first) < AXES_SAMPLE and (block := next(it, None)) is not None:
        first.append(block)
    sample = np.concatenate([m for _, m in first]) if first else np.zeros((0, dim), dtype=np.float32)
    axes = principal_axes(sample) if len(sample) else np.eye(dim, dtype=np.float32)
    writer = _Writer(path, token, seq, axes)
    try:
        for ids, matrix in itertools.chain(first, it):
            writer.add_floats(ids, matrix)
        return writer.finish()
    finally:
        writer.discard()
