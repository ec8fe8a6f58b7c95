"""Ingest throughput: the project's index pipeline versus raw SentenceTransformer.encode on the same chunks.

    .venv/bin/python bench/ingest.py [FOLDER] [--files N] [--json]

FOLDER defaults to the first N (default 60) documents of ../shared/corpus/peps. The run uses a temporary
ASSISTANT_HOME, so it never touches your index. It prints:
  - pipeline chunks/s: wall time of `Assistant.index` (scan, parse, chunk, embed, write), model preloaded
  - raw encode chunks/s: `SentenceTransformer.encode` of exactly the same chunk texts, same batch size
  - their ratio (target >= 0.85), and the time to re-index the unchanged folder.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# ASSISTANT_BENCH_CORPUS points the scripts at another folder (the test suite runs them on a tiny one).
DEFAULT_CORPUS = Path(os.environ.get("ASSISTANT_BENCH_CORPUS") or REPO.parent / "shared" / "corpus" / "peps")


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{cpu}, {os.cpu_count()} cores, {system}, Python {platform.python_version()}"


def report(result: dict, as_json: bool) -> None:
    """Print a benchmark's figures: JSON for scripts, aligned lines for people."""
    if as_json:
        print(json.dumps(result, indent=2))
        return
    width = max(len(k) for k in result) + 2
    for k, v in result.items():
        print(f"{k:{width}} {v}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", type=Path, default=None)
    ap.add_argument("--files", type=int, default=60, help="documents to take from the default corpus")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    os.environ["ASSISTANT_HOME"] = str(work / "home")
    folder = args.folder
    if folder is None:
        if not DEFAULT_CORPUS.is_dir():
            sys.exit(f"no folder given and {DEFAULT_CORPUS} does not exist")
        folder = work / "corpus"
        folder.mkdir()
        for p in sorted(DEFAULT_CORPUS.iterdir())[: args.files]:
            shutil.copy(p, folder / p.name)

    from assistant import Assistant, Settings
    from assistant.ingest.embedding import SentenceTransformerEmbedder

    settings = Settings.load()
    embedder = SentenceTransformerEmbedder(settings.embedding_model_path, threads=settings.effective_threads,
                                           batch_size=settings.embed_batch_size)
    embedder.embed(["warm up the model"] * 8)
    a = Assistant(settings, embedder=embedder)

    t0 = time.perf_counter()
    indexed = a.index([folder])
    pipeline_s = time.perf_counter() - t0
    texts = [
        f"{h}\n\n{t}" if h else t
        for h, t in a.store.conn.execute("SELECT heading, text FROM chunks ORDER BY id")
    ]
    # Raw encode of exactly the texts the pipeline embedded (unique chunks), same model and batch size.
    unique = list(dict.fromkeys(texts))
    t0 = time.perf_counter()
    embedder.model.encode(unique, batch_size=settings.embed_batch_size, normalize_embeddings=True,
                          convert_to_numpy=True, show_progress_bar=False)
    raw_s = time.perf_counter() - t0

    t0 = time.perf_counter()
    again = a.index([folder])
    reindex_s = time.perf_counter() - t0

    tokens = [n for (n,) in a.store.conn.execute("SELECT token_count FROM chunks")]
    result = {
        "machine": machine(),
        "documents": indexed.added,
        "chunks_embedded": indexed.chunks_embedded,
        "mean_chunk_tokens": round(sum(tokens) / max(1, len(tokens)), 1),
        "pipeline_s": round(pipeline_s, 2),
        "pipeline_chunks_per_s": round(indexed.chunks_embedded / pipeline_s, 2),
        "raw_encode_s": round(raw_s, 2),
        "raw_encode_chunks_per_s": round(len(unique) / raw_s, 2),
        "ratio": round((indexed.chunks_embedded / pipeline_s) / (len(unique) / raw_s), 3),
        "reindex_unchanged_s": round(reindex_s, 3),
        "reindex_unchanged_files": again.unchanged,
    }
    shutil.rmtree(work, ignore_errors=True)
    report(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
