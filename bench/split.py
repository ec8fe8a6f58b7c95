"""Questions that name two things: does search bring back both? With and without `split_questions`.

    .venv/bin/python bench/split.py [--corpus DIR ...] [--home DIR] [--pairs 60] [--k 5] [--json]

The folders (default ../shared/corpus/peps, or ASSISTANT_BENCH_CORPUS) are indexed with `assistant
index` in ASSISTANT_HOME (a temporary one unless --home names one to keep; a second run reuses it).
Each document's title is its `Title:` line (PEPs), else its first Markdown heading, else its first
line. N random pairs of titles (seed 7) are asked in four phrasings ("What is the difference between A
and B?", "Compare A with B", "A vs B", "Which should I read, A or B?"); a question scores when both
documents are among the top k passages (both@k), and any@k when one is. Reported per phrasing, split
off and on, with each setting's search p50 (question embedding included, as a user waits for it).
"""

from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import DEFAULT_CORPUS, machine, report  # noqa: E402
from query import pct  # noqa: E402

PHRASINGS = ("What is the difference between {a} and {b}?", "Compare {a} with {b}", "{a} vs {b}",
             "Which should I read, {a} or {b}?")


def title(path: Path) -> str | None:
    head = path.read_text(encoding="utf-8", errors="replace")[:4000]
    m = re.search(r"^Title:\s*(.+)$", head, re.M) or re.search(r"^#+\s+(.+)$", head, re.M)
    line = m.group(1) if m else next((ln for ln in head.splitlines() if ln.strip()), None)
    return line.strip() if line else None


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--corpus", type=Path, nargs="+", default=[DEFAULT_CORPUS])
    ap.add_argument("--home", type=Path, help="ASSISTANT_HOME to build the index in and keep (reused if present)")
    ap.add_argument("--pairs", type=int, default=60)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="bench-split-"))
    os.environ["ASSISTANT_HOME"] = str(args.home or work / "home")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from assistant import Assistant, Settings

    result: dict = {"machine": machine(), "corpus": [str(c) for c in args.corpus], "k": args.k}
    try:
        a = Assistant(Settings.load())
        a.index(args.corpus)
        result["documents"] = a.counts()["documents"]
        a.close()
        titles = {str(p.resolve()): t for c in args.corpus for p in sorted(c.rglob("*"))
                  if p.is_file() and (t := title(p))}
        rng = random.Random(7)
        pairs = [rng.sample(sorted(titles), 2) for _ in range(args.pairs)]
        result["pairs"] = len(pairs)
        for split in (False, True):
            a = Assistant(Settings.load({"split_questions": split}))
            a.relevance_threshold()  # the gate's calibration, once, outside the timings
            times = []
            for phrasing in PHRASINGS:
                both = anyk = 0
                for x, y in pairs:
                    t0 = time.perf_counter()
                    hits = a.search(phrasing.format(a=titles[x], b=titles[y]), k=args.k)
                    times.append((time.perf_counter() - t0) * 1000)
                    got = {str(Path(h.path).resolve()) for h in hits}
                    both += x in got and y in got
                    anyk += x in got or y in got
                key = f"{'split' if split else 'unsplit'}: {phrasing}"
                result[key] = {f"both@{args.k}": round(both / len(pairs), 3),
                               f"any@{args.k}": round(anyk / len(pairs), 3)}
            result[f"{'split' if split else 'unsplit'} search p50_ms"] = pct(times, 50)
            a.close()
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
