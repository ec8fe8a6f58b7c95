"""The one stored vector copy (vec0) and the int8 file the in-process index maps from it.

Real SQLite files, real sqlite-vec, real files on disk; vectors are random unit vectors (what is under
test is storage and following changes, not the embedder)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from assistant.store import Store, vector_scorer
from assistant.store import db as store_mod
from assistant.store.vectors import VectorIndex
from assistant.types import Chunk

DIM = 16


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    m = rng.standard_normal((n, DIM)).astype(np.float32)
    return m / np.linalg.norm(m, axis=1, keepdims=True)


def add_doc(store: Store, name: str, vecs: np.ndarray) -> None:
    chunks = [Chunk(f"text {name} {i}", i, None, None, 1, 1, 3, f"{name}-{i}") for i in range(len(vecs))]
    store.write_document(f"/lib/{name}.txt", 1, 1, name, "text", 1, chunks, [v.tobytes() for v in vecs])


def stored(store: Store) -> dict[int, np.ndarray]:
    """Every vector as vec0 itself returns it (the reference)."""
    return {int(r): np.frombuffer(b, dtype=np.float32)
            for r, b in store.conn.execute("SELECT rowid, embedding FROM chunk_vectors")}


def exact_top(store: Store, q: np.ndarray, k: int) -> list[int]:
    return [cid for cid, _ in store.exact_vector_search(q, k)]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "index.sqlite")
    s.bind_embedding("test-model", DIM)
    return s


def test_vectors_are_stored_once_and_read_back_exactly(store: Store) -> None:
    rng = np.random.default_rng(1)
    for d in range(5):  # more than one of vec0's 1,024-vector blocks is not needed; deletions leave holes
        add_doc(store, f"d{d}", unit(rng, 300))
    store.delete_documents(["/lib/d1.txt"])
    tables = {r for (r,) in store.conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert "chunk_embeddings" not in tables  # the second copy is gone
    ref = stored(store)
    assert len(ref) == 1200 == store.vector_count()
    blocks = list(store.iter_vectors())  # read from vec0's storage tables directly
    got = {int(i): row for ids, m in blocks for i, row in zip(ids, m, strict=True)}
    assert got.keys() == ref.keys()
    assert all(np.array_equal(got[i], ref[i]) for i in ref)
    some = sorted(ref)[::37] + [10**9]  # one id that has no vector
    ids, matrix = store.vectors_by_id(some)
    assert ids.tolist() == sorted(ref)[::37]
    assert all(np.array_equal(row, ref[int(i)]) for i, row in zip(ids, matrix, strict=True))
    assert store.check() == []


def test_index_maps_a_file_follows_changes_and_rewrites_it(store: Store, tmp_path: Path) -> None:
    rng = np.random.default_rng(2)
    for d in range(4):
        add_doc(store, f"d{d}", unit(rng, 50))
    index = VectorIndex(file_min=100)
    index.sync(store)
    assert index.file == tmp_path / "index.vectors" and len(index) == 200
    assert (index.file.stat().st_mode & 0o777) == 0o600
    queries = unit(rng, 20)
    for q in queries:  # int8 ranking agrees with sqlite-vec's exact float scan at the top
        assert index.search(q, 1)[0][0] == exact_top(store, q, 1)[0]
        got = dict(index.search(q, 5))
        assert all(abs(got[cid] - cos) < 0.01 for cid, cos in store.exact_vector_search(q, 5) if cid in got)

    # Changes from another connection (another process) are followed from the log, not reloaded.
    other = Store(store.path)
    other.dim = DIM
    add_doc(other, "new", unit(rng, 10))
    other.delete_documents(["/lib/d0.txt"])
    first_file = index.file.stat().st_ino
    index.sync(store)
    assert len(index) == 160 and index.file.stat().st_ino == first_file  # small change: file kept
    ref = stored(store)
    assert {cid for cid, _ in index.search(queries[0], 500)} == set(ref)
    q = ref[max(ref)]  # a new vector is found as itself
    assert index.search(q, 1)[0][0] == max(ref)
    cos = index.cosines([max(ref), min(ref), 10**9], q)
    assert set(cos) == {max(ref), min(ref)} and abs(cos[max(ref)] - 1.0) < 1e-5

    # Past an eighth of the file the file is written again, and a new process maps it as it is.
    for d in range(3):
        add_doc(other, f"more{d}", unit(rng, 40))
    index.sync(store)
    assert index.file is not None and index.file.stat().st_ino != first_file and len(index) == 280
    fresh = VectorIndex(file_min=100)
    fresh.sync(store)
    q = unit(rng, 1)[0]
    assert [c for c, _ in fresh.search(q, 10)] == [c for c, _ in index.search(q, 10)]
    assert exact_top(store, q, 1)[0] == fresh.search(q, 1)[0][0]


def test_the_first_pass_on_the_principal_axes_finds_what_the_exact_scan_finds(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Vectors whose variance falls off across dimensions, as real embeddings' does: the scan of the first
    half of the principal axes keeps the true neighbours among the rows it scores again in full."""
    import assistant.store.vectors as vectors_mod

    monkeypatch.setattr(vectors_mod, "RESCORE", 50)
    rng = np.random.default_rng(5)
    decay = np.exp(-np.arange(DIM) / 4.0).astype(np.float32)
    for d in range(10):
        m = rng.standard_normal((300, DIM)).astype(np.float32) * decay
        add_doc(store, f"d{d}", m / np.linalg.norm(m, axis=1, keepdims=True))
    index = VectorIndex(file_min=100)
    index.sync(store)
    assert index.file is not None and len(index) == 3000
    queries = unit(rng, 30) * 0.3 + np.stack([np.frombuffer(b, dtype=np.float32) for (b,) in store.conn.execute(
        "SELECT embedding FROM chunk_vectors LIMIT 30")])
    recall = []
    for q in queries / np.linalg.norm(queries, axis=1, keepdims=True):
        got = index.search(q, 5)  # 100 of the 3,000 rows are scored again
        exact = store.exact_vector_search(q, 5)
        recall.append(len({c for c, _ in got} & {c for c, _ in exact}) / 5)
        assert abs(got[0][1] - exact[0][1]) < 0.02
    assert np.mean(recall) >= 0.9


def test_a_library_that_arrives_at_once_is_streamed_to_the_file_not_held_in_memory(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    import assistant.store.vectors as vectors_mod

    monkeypatch.setattr(vectors_mod, "TAIL_MAX", 100)
    index = VectorIndex(file_min=100)
    index.sync(store)  # an empty library: no file yet
    assert index.file is None
    rng = np.random.default_rng(6)
    for d in range(5):  # another process indexes 500 vectors before this one looks again
        add_doc(store, f"d{d}", unit(rng, 100))
    asked: list[int] = []
    by_id = store.vectors_by_id
    monkeypatch.setattr(store, "vectors_by_id", lambda ids: asked.append(len(list(ids))) or by_id(ids))
    index.sync(store)
    assert index.file is not None and len(index) == 500
    assert not any(n > 100 for n in asked)  # never more than TAIL_MAX vectors in memory as floats
    q = stored(store)[7]
    assert index.search(q, 1)[0][0] == 7


def test_a_lost_log_or_damaged_file_is_rebuilt(store: Store, tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    add_doc(store, "a", unit(rng, 120))
    index = VectorIndex(file_min=100)
    index.sync(store)
    # Another writer changes things and prunes the log past what this index saw.
    other = Store(store.path)
    other.dim = DIM
    add_doc(other, "b", unit(rng, 30))
    other.prune_vector_log(other.vector_epoch())
    index.sync(store)
    assert {c for c, _ in index.search(unit(rng, 1)[0], 1000)} == set(stored(store))
    # A truncated file is ignored and written again.
    path = tmp_path / "index.vectors"
    path.write_bytes(path.read_bytes()[:100])
    fresh = VectorIndex(file_min=100)
    fresh.sync(store)
    assert len(fresh) == 150 and fresh.file == path and path.stat().st_size > 100
    # A reset (rebuild) starts over: a new id, so the old file is not taken for the new vectors.
    store.reset()
    store.bind_embedding("test-model", DIM)
    add_doc(store, "c", unit(rng, 3))
    fresh.sync(store)
    assert len(fresh) == 3 and store.check() == []


def test_compact_gives_back_the_space_of_deleted_documents(store: Store) -> None:
    rng = np.random.default_rng(4)
    for d in range(6):
        add_doc(store, f"d{d}", unit(rng, 200))
    store.delete_documents([f"/lib/d{d}.txt" for d in range(5)])
    before = store.disk()
    assert before["reclaimable_bytes"] > 0
    freed = store.compact()
    after = store.disk()
    assert freed > 0 and after["reclaimable_bytes"] == 0 and after["index_bytes"] == before["index_bytes"] - freed
    assert store.check() == [] and store.vector_count() == 200


def test_index_from_before_the_single_copy_drops_the_blob_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "v5.sqlite"
    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:5])
    old = Store(db)
    old.conn.execute("INSERT INTO meta(key, value) VALUES ('embedding_model', 'm'), ('embedding_dim', '4')")
    old.conn.execute("CREATE VIRTUAL TABLE chunk_vectors USING vec0(embedding float[4] distance_metric=cosine)")
    old.conn.execute("CREATE TABLE chunk_embeddings(id INTEGER PRIMARY KEY, embedding BLOB NOT NULL)")
    old.conn.execute("INSERT INTO documents(id, path, status, chunk_count, indexed_at) VALUES (1, '/a', 'ok', 1, 0)")
    old.conn.execute("INSERT INTO chunks(id, document_id, position, text, token_count, content_hash) "
                     "VALUES (1, 1, 0, 'x', 1, 'h')")
    blob = np.array([0, 0, 1, 0], dtype=np.float32).tobytes()
    old.conn.execute("INSERT INTO chunk_vectors(rowid, embedding) VALUES (1, ?)", (blob,))
    old.conn.execute("INSERT INTO chunk_embeddings(id, embedding) VALUES (1, ?)", (blob,))
    old.close()
    monkeypatch.undo()
    new = Store(db)
    new.bind_embedding("m", 4)
    assert new.conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'chunk_embeddings'").fetchone()[0] == 0
    assert new.check() == []
    index = VectorIndex()
    index.sync(new)
    assert index.search(np.array([0, 0, 1, 0], dtype=np.float32), 1)[0][0] == 1
    new.delete_documents(["/a"])
    index.sync(new)
    assert len(index) == 0 and new.check() == []


def test_a_large_file_is_cut_into_lists_and_a_query_scans_the_nearest(
        store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """Above LISTS_MIN rows the file's rows are grouped into k-means lists; a query scans the lists nearest
    to it (PROBE_SHARE of the rows) and still finds what the exact scan finds. Deleted rows stay out,
    and a filtered search scans the rows it allows."""
    import assistant.store.vectors as vectors_mod

    monkeypatch.setattr(vectors_mod, "LISTS_MIN", 1000)
    monkeypatch.setattr(vectors_mod, "RESCORE", 50)
    monkeypatch.setattr(vectors_mod, "PROBE_SHARE", 0.25)
    rng = np.random.default_rng(8)
    topics = unit(rng, 40)  # clustered vectors, as a library's are: 40 topics, 60 passages each
    for d in range(40):
        m = topics[d] + 0.35 * unit(rng, 60)
        add_doc(store, f"d{d}", m / np.linalg.norm(m, axis=1, keepdims=True))
    index = VectorIndex(file_min=100)
    index.sync(store)
    base = index._state.base
    assert base is not None and len(base.centroids) == int(np.sqrt(2400))  # 48 lists
    assert not np.all(base.ids[1:] > base.ids[:-1])  # rows are grouped by list, not by id
    scanned: list[int] = []
    top_rows = vectors_mod.top_rows
    monkeypatch.setattr(vectors_mod, "top_rows", lambda codes, *a: scanned.append(len(codes)) or top_rows(codes, *a))
    recall = []
    for q in topics[:20] + 0.2 * unit(rng, 20):
        q = q / np.linalg.norm(q)
        got, exact = index.search(q, 10), store.exact_vector_search(q, 10)
        recall.append(len({c for c, _ in got} & {c for c, _ in exact}) / 10)
        assert abs(got[0][1] - exact[0][1]) < 0.02
    assert np.mean(recall) >= 0.9 and max(scanned) < 0.5 * 2400
    ref = stored(store)
    some = sorted(ref)[::50]
    cos = index.cosines(some, topics[0])  # looked up by id in a file not in id order
    assert all(abs(cos[c] - float(ref[c] @ topics[0])) < 0.02 for c in some)

    store.delete_documents(["/lib/d0.txt"])  # the rows of a deleted document are never returned
    index.sync(store)
    now = stored(store)
    gone = {cid for cid in ref if cid not in now}
    assert not gone & {c for c, _ in index.search(topics[0], 50)}
    for share in (30, 3 * len(now) // 4):  # a filter allowing a few rows scans those; most, every row
        scanned.clear()
        allowed = np.array(sorted(now)[:share], dtype=np.int64)
        got = [c for c, _ in index.search(topics[5], 10, allowed)]
        best = sorted(allowed.tolist(), key=lambda c: -float(now[c] @ topics[5]))[:10]
        assert set(got) <= set(allowed.tolist()) and len(set(got) & set(best)) >= 9
        assert scanned == [30 if share == 30 else len(base.ids)]


def test_vectors_read_back_from_the_file_and_from_memory(store: Store) -> None:
    """Query feedback needs the vectors of the best passages: decoded from the int8 file they point the
    same way as the stored floats; those not yet in the file come back exactly."""
    rng = np.random.default_rng(5)
    add_doc(store, "a", unit(rng, 300))
    index = VectorIndex(file_min=100)
    index.sync(store)
    assert index.file is not None
    add_doc(store, "b", unit(rng, 5))  # after the file: kept in memory
    index.sync(store)
    ref = stored(store)
    got = index.vectors(list(ref) + [10**9])  # an id without a vector is left out
    assert got.keys() == ref.keys()
    cosines = [float(got[i] @ ref[i]) / float(np.linalg.norm(got[i])) for i in ref]
    assert min(cosines) > 0.999
    tail = sorted(ref)[-5:]
    assert all(np.array_equal(got[i], ref[i]) for i in tail)


def test_the_stored_scoring_graph_is_what_the_builder_makes() -> None:
    """Searches load the scoring graph's bytes (importing onnx costs a new process 1.3 s); they must stay
    what scorer_model() builds with the onnx package."""
    assert vector_scorer.scorer_model() == vector_scorer.SCORER_MODEL
