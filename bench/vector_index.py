"""The project's vector index against two well-kept libraries, usearch (int8 HNSW) and FAISS (IVF with
8-bit scalar quantization), on the same vectors, each in a process of its own.

    .venv/bin/python bench/vector_index.py [--from-index INDEX.sqlite] [--sizes 100000 1000000]
                                           [--queries 200] [--libraries ours usearch faiss] [--json]

Vectors are real all-MiniLM-L6-v2 vectors from an index (without --from-index, the first 100 PEPs of
../shared/corpus/peps are indexed first); sizes larger than it are filled with copies with Gaussian noise
(cosine ~0.9 to the original), as in bench/query.py. Queries are real questions (superbowl50 and the
off-topic set). Per library and size, from a fresh process each (peak RSS is that process's):
  - build_s: building the index from the float vectors and saving it to a file;
  - cold_open_ms: a new process opening the saved file (memory-mapped where the library can) and
    answering its first query (interpreter start and imports excluded);
  - p50/p95 of a k=10 query, and recall@10 against an exact float scan (numpy);
  - add_ms / remove_ms: adding 1,000 new vectors and removing 1,000 (a tenth of the rows at small sizes);
  - filtered: recall@10 and p50 when only a random 10% of the rows may be returned (usearch's Python API
    has no filter: it searches 10 x k and drops the rest, the way a caller would);
  - file_mb and peak_rss_mb (at large sizes mostly the benchmark's own input matrix, so not a comparison).
Settings: usearch with int8 and with float16 vectors (usearch-f16), connectivity 16, expansion_add 128,
expansion_search 64 (its defaults); FAISS
nlist = 4 sqrt(n), nprobe = 8% of the lists (what ours scans), QT_8bit, inner product on normalised vectors.
Ours: the file `index.vectors` of assistant/store/vectors.py, searched by VectorIndex.search.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import machine  # noqa: E402
from query import bench_questions, load_source, pct, print_results, source_index  # noqa: E402

LIBRARIES = ("ours", "usearch", "usearch-f16", "faiss")
CHANGES = 1000


class Ours:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "index.vectors"

    def build(self, vecs: np.ndarray) -> None:
        from assistant.store.vectors import VectorIndex, _State, _write_floats

        ids = np.arange(len(vecs), dtype=np.int64)
        blocks = ((ids[i : i + 65536], vecs[i : i + 65536]) for i in range(0, len(vecs), 65536))
        base = _write_floats(self.path, "bench", 1, vecs.shape[1], blocks)
        self.index = VectorIndex()
        self.index._state = _State(base, np.zeros(0, dtype=np.int64), np.zeros((0, vecs.shape[1]), np.float32))

    def open(self, dim: int) -> None:
        from assistant.store.vectors import VectorIndex, _open_file, _State

        base = _open_file(self.path, "bench")
        self.index = VectorIndex()
        self.index._state = _State(base, np.zeros(0, dtype=np.int64), np.zeros((0, dim), np.float32))

    def search(self, q: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[int]:
        return [cid for cid, _ in self.index.search(q, k, allowed)]

    def add(self, ids: np.ndarray, vecs: np.ndarray) -> None:  # what a sync does with new vectors
        from dataclasses import replace

        s = self.index._state
        tail = np.concatenate([s.tail, vecs]) if len(s.tail_ids) else vecs
        self.index._state = replace(s, tail_ids=np.concatenate([s.tail_ids, ids]), tail=tail)

    def remove(self, ids: np.ndarray) -> None:  # what a sync does with removed ones
        from dataclasses import replace

        s = self.index._state
        base = s.base
        _, rows = base.rows(np.sort(ids))
        dead = base.dead.copy() if len(base.dead) else np.zeros(len(base.ids), dtype=bool)
        dead[rows] = True
        self.index._state = replace(s, base=replace(base, dead=dead, penalty=np.zeros(0, np.float32)))

    def size(self) -> int:
        return self.path.stat().st_size


class USearch:
    dtype = "i8"

    def __init__(self, folder: Path) -> None:
        self.path = folder / f"index-{self.dtype}.usearch"

    def build(self, vecs: np.ndarray) -> None:
        from usearch.index import Index

        self.index = Index(ndim=vecs.shape[1], metric="cos", dtype=self.dtype)
        self.index.add(np.arange(len(vecs), dtype=np.uint64), vecs)
        self.index.save(str(self.path))

    def open(self, dim: int) -> None:
        from usearch.index import Index

        self.index = Index.restore(str(self.path), view=True)

    def search(self, q: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[int]:
        if allowed is None:
            return [int(x) for x in self.index.search(q, k).keys]
        keys = self.index.search(q, 10 * k).keys
        return [int(x) for x in keys[np.isin(keys, allowed)][:k]]

    def add(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        self.index.add(ids.astype(np.uint64), vecs)

    def remove(self, ids: np.ndarray) -> None:
        self.index.remove(ids.astype(np.uint64))

    def size(self) -> int:
        return self.path.stat().st_size


class USearchF16(USearch):
    dtype = "f16"


class Faiss:
    def __init__(self, folder: Path) -> None:
        self.path = folder / "index.faiss"

    def build(self, vecs: np.ndarray) -> None:
        import faiss

        n, dim = vecs.shape
        lists = max(1, int(4 * np.sqrt(n)))
        quantizer = faiss.IndexFlatIP(dim)
        index = faiss.IndexIVFScalarQuantizer(quantizer, dim, lists, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)
        sample = vecs[np.random.default_rng(0).choice(n, min(n, 40 * lists), replace=False)]
        index.train(np.ascontiguousarray(sample))
        index.add_with_ids(vecs, np.arange(n, dtype=np.int64))
        index.nprobe = max(1, int(0.08 * lists))
        faiss.write_index(index, str(self.path))
        self.index = index

    def open(self, dim: int) -> None:
        import faiss

        self.index = faiss.read_index(str(self.path), faiss.IO_FLAG_MMAP)
        self.index.nprobe = max(1, int(0.08 * self.index.nlist))

    def search(self, q: np.ndarray, k: int, allowed: np.ndarray | None = None) -> list[int]:
        import faiss

        params = None
        if allowed is not None:
            params = faiss.SearchParametersIVF(sel=faiss.IDSelectorBatch(allowed), nprobe=self.index.nprobe)
        _, ids = self.index.search(q[None, :], k, params=params)
        return [int(x) for x in ids[0] if x >= 0]

    def add(self, ids: np.ndarray, vecs: np.ndarray) -> None:
        self.index.add_with_ids(vecs, ids)

    def remove(self, ids: np.ndarray) -> None:
        import faiss

        self.index.remove_ids(faiss.IDSelectorBatch(ids))

    def size(self) -> int:
        return self.path.stat().st_size


KINDS = {"ours": Ours, "usearch": USearch, "usearch-f16": USearchF16, "faiss": Faiss}


def exact_top(vecs: np.ndarray, queries: np.ndarray, k: int, allowed: np.ndarray | None = None) -> np.ndarray:
    scores = np.zeros((len(queries), len(vecs)), dtype=np.float32)
    for i in range(0, len(vecs), 100_000):
        scores[:, i : i + 100_000] = queries @ vecs[i : i + 100_000].T
    if allowed is not None:
        mask = np.full(len(vecs), -np.inf, dtype=np.float32)
        mask[allowed] = 0.0
        scores += mask
    return np.argsort(-scores, axis=1)[:, :k]


def child(lib: str, folder: Path, phase: str) -> dict:
    """Run one library's phase in this (fresh) process: build, or open and query."""
    vecs = np.load(folder / "vectors.npy", mmap_mode="r")
    queries = np.load(folder / "queries.npy")
    index = KINDS[lib](folder)
    out: dict = {}
    if phase == "build":
        t0 = time.perf_counter()
        index.build(np.ascontiguousarray(vecs))
        out["build_s"] = round(time.perf_counter() - t0, 2)
        out["file_mb"] = round(index.size() / 2**20, 1)
    else:
        __import__({"ours": "assistant.store.vectors", "faiss": "faiss"}.get(lib, "usearch.index"))  # imports excluded
        t0 = time.perf_counter()
        index.open(vecs.shape[1])
        index.search(queries[0], 10)
        out["cold_open_ms"] = round((time.perf_counter() - t0) * 1000, 1)
        truth = np.load(folder / "truth.npy")
        allowed = np.load(folder / "allowed.npy")
        ftruth = np.load(folder / "filtered_truth.npy")
        times, recalls, ftimes, frecalls = [], [], [], []
        for q, t, ft in zip(queries, truth, ftruth, strict=True):
            s = time.perf_counter()
            got = index.search(q, 10)
            times.append((time.perf_counter() - s) * 1000)
            recalls.append(len(set(got) & set(t.tolist())) / 10)
            s = time.perf_counter()
            got = index.search(q, 10, allowed)
            ftimes.append((time.perf_counter() - s) * 1000)
            frecalls.append(len(set(got) & set(ft.tolist())) / 10)
        out |= {"p50_ms": pct(times, 50), "p95_ms": pct(times, 95), "recall@10": round(float(np.mean(recalls)), 4),
                "filtered_p50_ms": pct(ftimes, 50), "filtered_recall@10": round(float(np.mean(frecalls)), 4)}
        rng = np.random.default_rng(1)
        changes = min(CHANGES, len(vecs) // 10)
        new = np.asarray(vecs[rng.choice(len(vecs), changes)]) + rng.normal(scale=0.025, size=(changes, vecs.shape[1]))
        new = (new / np.linalg.norm(new, axis=1, keepdims=True)).astype(np.float32)
        if lib.startswith("usearch"):  # a viewed (memory-mapped) index is read-only: changes need it loaded
            index.index.load(str(index.path))
        elif lib == "faiss":
            import faiss

            index.index = faiss.read_index(str(index.path))
        s = time.perf_counter()
        index.add(np.arange(len(vecs), len(vecs) + changes, dtype=np.int64), new)
        out["add_ms"] = round((time.perf_counter() - s) * 1000, 1)
        s = time.perf_counter()
        index.remove(rng.choice(len(vecs), changes, replace=False).astype(np.int64))
        out["remove_ms"] = round((time.perf_counter() - s) * 1000, 1)
    # VmHWM, not getrusage: after fork + exec, ru_maxrss still holds the parent's size at the fork
    status = Path("/proc/self/status").read_text() if Path("/proc/self/status").exists() else ""
    hwm = [line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")]
    out["peak_rss_mb"] = round(int(hwm[0]) / 1024) if hwm else round(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    return out


def noisy(vecs: np.ndarray, n: int) -> np.ndarray:
    rng = np.random.default_rng(7)
    out = np.empty((n, vecs.shape[1]), dtype=np.float32)
    for i in range(0, n, 100_000):
        j = np.arange(i, min(n, i + 100_000))
        block = vecs[j % len(vecs)].copy()
        copies = j >= len(vecs)
        block[copies] += rng.normal(scale=0.025, size=(int(copies.sum()), vecs.shape[1])).astype(np.float32)
        out[j] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from-index", type=Path, default=None)
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--libraries", nargs="+", default=list(LIBRARIES), choices=LIBRARIES)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--child", nargs=3, metavar=("LIB", "FOLDER", "PHASE"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), args.child[2])))
        return 0
    work = Path(tempfile.mkdtemp(prefix="assistant-bench-vectors-"))
    os.environ["ASSISTANT_HOME"] = str(work / "home")
    from assistant import Assistant, Settings

    a = Assistant(Settings.load())
    _, vecs = load_source(source_index(a, args.from_index, work))
    questions = bench_questions(args.queries, spread=True)
    qvecs = np.asarray(a.embedder.embed(questions), dtype=np.float32)
    a.close()
    results = []
    missing = []
    for n in args.sizes:
        folder = work / f"n{n}"
        folder.mkdir()
        matrix = noisy(vecs, n)
        np.save(folder / "vectors.npy", matrix)
        np.save(folder / "queries.npy", qvecs)
        allowed = np.sort(np.random.default_rng(2).choice(n, max(10, n // 10), replace=False)).astype(np.int64)
        np.save(folder / "allowed.npy", allowed)
        np.save(folder / "truth.npy", exact_top(matrix, qvecs, 10))
        np.save(folder / "filtered_truth.npy", exact_top(matrix, qvecs, 10, allowed))
        del matrix
        for lib in args.libraries:
            row: dict = {"chunks": n, "library": lib}
            for phase in ("build", "query"):
                p = subprocess.run([sys.executable, __file__, "--child", lib, str(folder), phase],
                                   capture_output=True, text=True)
                if p.returncode != 0:
                    if "No module named" in p.stderr:
                        missing.append(lib)
                        break
                    sys.exit(f"{lib} {phase} at {n} failed:\n{p.stderr[-3000:]}")
                got = json.loads(p.stdout.strip().splitlines()[-1])
                got[f"{phase}_peak_rss_mb"] = got.pop("peak_rss_mb")
                row |= got
            else:
                results.append(row)
        shutil.rmtree(folder, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    print_results({"machine": machine(), "queries": len(qvecs), "results": results,
                   "not_installed": sorted(set(missing))}, args.json, 18)
    return 0


if __name__ == "__main__":
    sys.exit(main())
