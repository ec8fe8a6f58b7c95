"""Document retrieval on a BEIR set with graded judgements (default: NFCorpus): nDCG@10 and Recall@100.

    .venv/bin/python bench/beir.py [--data DIR] [--home DIR] [--queries N] [--modes hybrid bm25 dense]
                                   [--set NAME=VALUE ...] [--run-file OUT.tsv] [--json]

DIR (default ../shared/eval/nfcorpus) holds `corpus/DOCID.txt` (title, blank line, text) and
`queries.jsonl` ({"id", "question", "relevant": {DOCID: grade}}). The corpus is indexed with
`assistant index` in ASSISTANT_HOME (a temporary one unless --home names one to keep: a second run on it
reuses the index). Each query is searched as a user would with `assistant search --documents -k 100`:
the library's settings (defaults unless --set), one row per document. Scores follow trec_eval (as
BEIR and MTEB report them, and as the data's own beir_metrics.py computes them): nDCG@10 with the
grade as gain, normalised by the ideal ordering of every judged document; Recall@100 over every
document with grade >= 1; the mean over all queries. Query latency (p50/p95) excludes embedding the
question, which is done beforehand, one question per call as `assistant search` does (the int8
embedder scales activations per call: embedded together, the 323 questions scored nDCG@10 0.3766
instead of 0.3789 on one index). The queries that name two things (see
assistant/search/parts.py) are also searched as passages with split_questions off and on.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import REPO, machine, report  # noqa: E402
from query import pct  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("ASSISTANT_BENCH_BEIR") or REPO.parent / "shared" / "eval" / "nfcorpus")
PUBLISHED = {  # NFCorpus test split, from ../shared/eval/nfcorpus/README.md (sources there)
    "BM25 (BEIR, Elasticsearch)": (0.325, 0.250),
    "all-MiniLM-L6-v2 (MTEB)": (0.3159, 0.3115),
    "bge-small-en-v1.5 (MTEB)": (0.3426, 0.3116),
}


def ndcg_at_10(ranking: list[str], relevant: dict[str, int]) -> float:
    dcg = sum(relevant.get(d, 0) / math.log2(i + 2) for i, d in enumerate(ranking[:10]))
    ideal = sorted(relevant.values(), reverse=True)[:10]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg else 0.0


def recall_at_100(ranking: list[str], relevant: dict[str, int]) -> float:
    rel = {d for d, g in relevant.items() if g > 0}
    return len(rel & set(ranking[:100])) / len(rel) if rel else 0.0


def load_queries(data: Path, limit: int | None) -> list[dict]:
    lines = (data / "queries.jsonl").read_text(encoding="utf-8").splitlines()
    queries = [json.loads(line) for line in lines if line.strip()]
    return queries[:limit] if limit else queries


def score(assistant, queries: list[dict], vectors, mode: str, run_file: Path | None = None) -> dict:
    """Search every query at document level and score the rankings."""
    ndcg, recall, latency = [], [], []
    rows = []
    for q, vec in zip(queries, vectors, strict=True):
        t0 = time.perf_counter()
        docs = assistant.search_documents_vector(q["question"], vec, k=100, mode=mode)
        latency.append((time.perf_counter() - t0) * 1000)
        ranking = [Path(d.path).stem for d in docs]
        ndcg.append(ndcg_at_10(ranking, q["relevant"]))
        recall.append(recall_at_100(ranking, q["relevant"]))
        rows += [f"{q['id']}\t{doc}\t{rank}" for rank, doc in enumerate(ranking, 1)]
    if run_file:
        run_file.write_text("qid\tdocid\trank\n" + "\n".join(rows) + "\n")
    return {
        "ndcg@10": round(sum(ndcg) / len(ndcg), 4),
        "recall@100": round(sum(recall) / len(recall), 4),
        "p50_ms": pct(latency, 50),
        "p95_ms": pct(latency, 95),
    }


def split_questions(queries: list[dict], overrides: dict) -> dict:
    """The queries that name two things ("A vs. B", "A or B?"), searched as passages (`assistant search -k
    10`, their documents in order) with split_questions off and on: nDCG@10 of each."""
    from assistant import Assistant, Settings
    from assistant.search.parts import question_parts

    named = [q for q in queries if question_parts(q["question"])]
    out: dict = {"queries": len(named)}
    for split in (False, True):
        a = Assistant(Settings.load({**overrides, "split_questions": split}))
        try:
            ranked = [list(dict.fromkeys(Path(h.path).stem for h in a.search(q["question"], k=10))) for q in named]
        finally:
            a.close()
        scores = [ndcg_at_10(r, q["relevant"]) for r, q in zip(ranked, named, strict=True)]
        key = f"passages_ndcg@10_split_{'on' if split else 'off'}"
        out[key] = round(sum(scores) / len(scores), 4) if named else None
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--home", type=Path, help="ASSISTANT_HOME to build the index in and keep (reused if present)")
    ap.add_argument("--queries", type=int, help="only the first N queries")
    ap.add_argument("--modes", nargs="+", default=["hybrid", "bm25", "dense"])
    ap.add_argument("--set", action="append", default=[], metavar="NAME=VALUE", help="a setting for the searches")
    ap.add_argument("--run-file", type=Path, help="write the first mode's run (qid, docid, rank) here")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    corpus = args.data / "corpus"
    if not corpus.is_dir():
        sys.exit(f"no corpus folder at {corpus}; give --data (see the docstring for its layout)")
    work = Path(tempfile.mkdtemp(prefix="bench-beir-"))
    home = args.home or work / "home"
    os.environ["ASSISTANT_HOME"] = str(home)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assistant import Assistant, Settings

    overrides = dict(s.split("=", 1) for s in args.set)
    result: dict = {"machine": machine(), "data": str(args.data), "settings": overrides or "defaults"}
    try:
        a = Assistant(Settings.load())
        t0 = time.perf_counter()
        report_ = a.index([corpus])
        result["index_s"] = round(time.perf_counter() - t0, 1)
        counts = a.counts()
        result["documents"], result["chunks"] = counts["documents"], counts["chunks"]
        result["chunks_embedded_now"] = report_.chunks_embedded
        a.close()
        a = Assistant(Settings.load(overrides))
        queries = load_queries(args.data, args.queries)
        result["queries"] = len(queries)
        vectors = [a.question_vector(q["question"]) for q in queries]
        a.relevance_threshold()  # the gate's calibration, once, outside the timings
        for i, mode in enumerate(args.modes):
            result[mode] = score(a, queries, vectors, mode, args.run_file if i == 0 else None)
        a.close()
        result["two_things"] = split_questions(queries, overrides)
        result["published"] = {k: {"ndcg@10": n, "recall@100": r} for k, (n, r) in PUBLISHED.items()}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
