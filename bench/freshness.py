"""Freshness: time from saving an edit to the new text being returned by search, with the watcher running.

    .venv/bin/python bench/freshness.py [--docs 300] [--edits 30] [--json]

Builds a folder of DOCS documents from ../shared/corpus/peps (cut to their first ~3 paragraphs so the
initial index is quick) in a temporary ASSISTANT_HOME, starts the real watcher (watchdog) in-process,
then appends a sentence with a unique word to a random file, and polls search every 50 ms until a hit
contains it. Reports p50/p95 of save-to-searchable.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import DEFAULT_CORPUS, machine, report  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, default=300)
    ap.add_argument("--edits", type=int, default=30)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="assistant-bench-fresh-"))
    os.environ["ASSISTANT_HOME"] = str(work / "home")
    folder = work / "docs"
    folder.mkdir()
    for p in sorted(DEFAULT_CORPUS.iterdir())[: args.docs]:
        paras = p.read_text(encoding="utf-8", errors="replace").split("\n\n")[:4]
        (folder / p.name).write_text("\n\n".join(paras) + "\n", encoding="utf-8")

    from assistant import Assistant, Settings
    from assistant.sync.watcher import Watcher

    a = Assistant(Settings.load())
    a.add_root(folder)
    w = Watcher(a)
    stop = threading.Event()
    t = threading.Thread(target=w.run, args=(stop,), daemon=True)
    t0 = time.perf_counter()
    t.start()
    while w.status.state != "watching":
        time.sleep(0.1)
    initial_s = time.perf_counter() - t0
    rng = random.Random(5)
    files = sorted(folder.iterdir())
    delays = []
    for i in range(args.edits):
        word = f"zqx{i}marker{rng.randint(1000, 9999)}"
        f = rng.choice(files)
        start = time.perf_counter()
        with open(f, "a", encoding="utf-8") as fh:
            fh.write(f"\n\nThe freshness probe {word} was saved here.\n")
        while not any(word in h.text for h in a.search(word, k=3, mode="bm25")):
            time.sleep(0.05)
            if time.perf_counter() - start > 60:
                sys.exit(f"edit {i} never became searchable")
        delays.append(time.perf_counter() - start)
        time.sleep(rng.uniform(0.2, 1.0))
    stop.set()
    t.join(timeout=30)
    ordered = sorted(delays)
    result = {
        "machine": machine(), "documents": len(files), "chunks": a.status()["chunks"],
        "initial_index_s": round(initial_s, 1), "edits": len(delays),
        "save_to_searchable_s_p50": round(statistics.median(delays), 2),
        "save_to_searchable_s_p95": round(ordered[min(len(ordered) - 1, int(0.95 * (len(ordered) - 1) + 0.5))], 2),
        "max_s": round(max(delays), 2),
    }
    report(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
