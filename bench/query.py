"""Query latency, vector recall and a cold CLI search at 10k to 1M chunks, against sqlite-vec's exact
scan in the same run.

    .venv/bin/python bench/query.py [--from-index INDEX.sqlite] [--sizes 10000 100000 1000000] [--queries 200] [--json]

Chunks come from a real index: its texts and real all-MiniLM-L6-v2 vectors. Sizes larger than it are
filled with copies of its chunks whose vectors get Gaussian noise (cosine ~0.9 to the original) so
that neighbourhoods are realistic, and dense. Without --from-index, the first 100 PEPs of
../shared/corpus/peps are indexed first. Queries are real questions (../shared/eval/superbowl50 and the
off-topic set), embedded once; latency excludes embedding the question.

Reported per size: exact sqlite-vec KNN (k=10) p50/p95; the project's vector stage (the in-process
int8 index, change check included) p50/p95 and its recall@10 against sqlite-vec's exact scan; the time
to build the in-process index's file from vec0 once, and to map it in a new process; the whole hybrid
query (FTS5 + vector + fusion + fetching rows, k=5) p50/p95; the index and vector file sizes; and a
cold `assistant search --json` in a new process (models loaded, nothing cached in the process): its
wall time and peak RSS. The built index has no gate calibration yet (`assistant index` computes it at
its end), so a first CLI search computes it, and is reported apart. Sizes above 200,000 skip the
sqlite-vec scan after 20 queries (it takes a second each); recall is measured on those.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import DEFAULT_CORPUS, REPO, machine, timed_process  # noqa: E402

SHARED_QUESTIONS = REPO.parent / "shared" / "eval" / "superbowl50" / "questions.jsonl"


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return round(s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))], 2)


def load_source(path: Path) -> tuple[list[tuple[str, str | None]], np.ndarray]:
    from assistant.store import Store

    s = Store(path, readonly=True)
    blocks = list(s.iter_vectors())
    ids = np.concatenate([b[0] for b in blocks])
    vecs = np.concatenate([b[1] for b in blocks])
    order = np.argsort(ids)
    ids, vecs = ids[order], vecs[order]
    rows = {int(i): (t, h) for i, t, h in s.conn.execute("SELECT id, text, heading FROM chunks")}
    s.close()
    return [rows[int(i)] for i in ids], vecs


def source_index(a, from_index: Path | None, work: Path) -> Path:
    """The index whose chunks and vectors a benchmark copies: --from-index, or the first 100 documents of
    the corpus indexed into the assistant's (temporary) home."""
    if from_index is not None:
        return from_index
    corpus = work / "corpus"
    corpus.mkdir()
    for p in sorted(DEFAULT_CORPUS.iterdir())[:100]:
        shutil.copy(p, corpus / p.name)
    a.index([corpus])
    return a.settings.paths.index_file


def bench_questions(n: int, spread: bool = False) -> list[str]:
    """n real questions (superbowl50 and the off-topic set): the first n in a fixed shuffled order, or with
    spread, n evenly spaced through the files."""
    questions = []
    for f in (SHARED_QUESTIONS, REPO / "bench" / "data" / "offtopic.jsonl"):
        if f.exists():
            questions += [json.loads(line)["question"] for line in f.read_text().splitlines() if line.strip()]
    if spread:
        questions = questions[:: max(1, len(questions) // n)]
    else:
        random.Random(3).shuffle(questions)
    return questions[:n] or ["how do I configure logging", "what is a decorator"]


def build(path: Path, texts: list[tuple[str, str | None]], vecs: np.ndarray, n: int, dim: int, model: str) -> None:
    from assistant.ingest.chunking import _make_chunk
    from assistant.store import Store

    store = Store(path)
    store.bind_embedding(model, dim)
    rng = np.random.default_rng(7)
    per_doc = 100
    for d in range(0, n, per_doc):
        chunks, blobs = [], []
        for i in range(d, min(n, d + per_doc)):
            j = i % len(texts)
            v = vecs[j]
            if i >= len(texts):
                v = v + rng.normal(scale=0.025, size=dim).astype(np.float32)
                v = v / np.linalg.norm(v)
            text, heading = texts[j]
            c = _make_chunk(text, heading, None, 1, 1)
            chunks.append(type(c)(c.text, i - d, c.heading, None, 1, 1, 10, f"{c.content_hash}{i}"))
            blobs.append(np.asarray(v, dtype=np.float32).tobytes())
        store.write_document(f"/bench/doc{d // per_doc}.md", 1, 1, f"h{d}", "markdown", 1, chunks, blobs)
    store.conn.execute("PRAGMA optimize")
    store.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--from-index", type=Path, default=None)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="assistant-bench-query-"))
    os.environ["ASSISTANT_HOME"] = str(work / "home")
    from assistant import Assistant, Settings
    from assistant.search.retrieval import Retriever
    from assistant.store import Store
    from assistant.store.vectors import VectorIndex

    settings = Settings.load()
    a = Assistant(settings)
    texts, vecs = load_source(source_index(a, args.from_index, work))
    dim = vecs.shape[1]
    questions = bench_questions(args.queries)
    qvecs = np.asarray([a.question_vector(q) for q in questions])  # as search embeds each

    results = []
    for n in args.sizes:
        home = work / f"home-{n}"
        home.mkdir()
        db = home / "index.sqlite"
        t0 = time.perf_counter()
        build(db, texts, vecs, n, dim, a.embedder.model_id)
        build_s = time.perf_counter() - t0
        store = Store(db)
        store.bind_embedding(a.embedder.model_id, dim)
        t0 = time.perf_counter()
        VectorIndex().sync(store)  # the first process writes the vector file from vec0
        file_s = time.perf_counter() - t0
        vectors = VectorIndex()
        t0 = time.perf_counter()
        vectors.sync(store)  # a later process maps it
        load_s = time.perf_counter() - t0
        retriever = Retriever(store, vectors, 0.6)  # the gate's threshold does not change the timing
        for q, v in list(zip(questions, qvecs, strict=True))[:5]:  # warm the page cache
            retriever.search(q, v, 5)
        exact_ms, fast_ms, hybrid_ms, recalls = [], [], [], []
        for i, (q, v) in enumerate(zip(questions, qvecs, strict=True)):
            if n <= 200_000 or i < 20:
                t = time.perf_counter()
                exact = [cid for cid, _ in store.exact_vector_search(v, 10)]
                exact_ms.append((time.perf_counter() - t) * 1000)
            t = time.perf_counter()
            vectors.sync(store)
            fast = [cid for cid, _ in vectors.search(v, 10)]
            fast_ms.append((time.perf_counter() - t) * 1000)
            if n <= 200_000 or i < 20:
                recalls.append(len(set(exact) & set(fast)) / max(1, len(exact)))
            t = time.perf_counter()
            retriever.search(q, v, 5)
            hybrid_ms.append((time.perf_counter() - t) * 1000)
        store.close()
        env = {**os.environ, "ASSISTANT_HOME": str(home), "HF_HUB_OFFLINE": "1"}
        cli = [sys.executable, "-m", "assistant.cli", "search", "--json"]
        calibrate_s, _, _ = timed_process([*cli, questions[1]], env)  # what `index` does at its end: the gate
        cold_s, cold_mb, out = timed_process([*cli, questions[0]], env)
        cold_hits = len(json.loads(out).get("hits", [])) if out.strip().startswith("{") else len(json.loads(out))
        results.append({
            "chunks": n, "real_chunks": min(n, len(texts)), "build_s": round(build_s, 1),
            "index_mb": round(db.stat().st_size / 2**20, 1),
            "vector_file_mb": round(vectors.file.stat().st_size / 2**20, 1) if vectors.file else 0.0,
            "vector_file_write_s": round(file_s, 2), "vector_load_s": round(load_s, 3),
            "exact_sqlite_vec_ms_p50": pct(exact_ms, 50), "exact_sqlite_vec_ms_p95": pct(exact_ms, 95),
            "vector_stage_ms_p50": pct(fast_ms, 50), "vector_stage_ms_p95": pct(fast_ms, 95),
            "vector_recall@10": round(float(np.mean(recalls)), 4),
            "hybrid_query_ms_p50": pct(hybrid_ms, 50), "hybrid_query_ms_p95": pct(hybrid_ms, 95),
            "first_cli_search_with_calibration_s": round(calibrate_s, 2), "cold_cli_search_s": round(cold_s, 2),
            "cold_cli_search_peak_rss_mb": round(cold_mb),
            "cold_cli_hits": cold_hits,
        })
        shutil.rmtree(home, ignore_errors=True)
    shutil.rmtree(work, ignore_errors=True)
    print_results({"machine": machine(), "queries": len(questions), "results": results}, args.json, 24)
    return 0


def print_results(out: dict, as_json: bool, width: int) -> None:
    """A benchmark's rows: JSON for scripts, or the machine, the query count and one aligned line per row."""
    if as_json:
        print(json.dumps(out, indent=2))
        return
    print(f"machine: {out['machine']}\nqueries: {out['queries']}")
    keys = list(out["results"][0]) if out["results"] else []
    print("  ".join(f"{k:>{width}}" for k in keys))
    for r in out["results"]:
        print("  ".join(f"{r.get(k, '')!s:>{width}}" for k in keys))


if __name__ == "__main__":
    sys.exit(main())
