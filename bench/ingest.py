"""Indexing throughput: `assistant index` from a cold start, side by side with a peer, in one run.

    .venv/bin/python bench/ingest.py [FOLDER] [--files N] [--peer llamaindex] [--json]

FOLDER defaults to the first N (default 100) documents of ../shared/corpus/peps. Every run uses a fresh
temporary ASSISTANT_HOME, so it never touches your index. It prints:
  - cold_s: wall time of `assistant index FOLDER` in a new process (imports, model load, scan, parse,
    chunk, embed, write), with the chunks it embedded and their mean length;
  - raw_encode_chunks_per_s: the project's embedder encoding exactly the same chunk texts (pipeline
    overhead = 1 - pipeline rate / raw rate);
  - reindex_unchanged_s: `assistant index` again on the unchanged folder, in-process;
  - edit_chunks_embedded: chunks embedded after one paragraph of one file is edited;
  - peak_rss_mb: the indexing process's peak resident memory;
  - with --peer llamaindex: the same folder indexed by LlamaIndex in a new process (SimpleDirectoryReader,
    the files' text without metadata, SentenceSplitter(chunk_size=256), VectorStoreIndex,
    HuggingFaceEmbedding on the same all-MiniLM-L6-v2 folder), and the ratio project / peer wall time
    (target <= 0.5). It needs `pip install
    llama-index-core llama-index-embeddings-huggingface` (the dev install has them).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
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


_WRAP = ("import resource, subprocess, sys; p = subprocess.run(sys.argv[1:]); "
         "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr); sys.exit(p.returncode)")


def timed_process(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Run a command in a fresh process; (wall seconds, its own peak RSS in MB, its stdout)."""
    t0 = time.perf_counter()
    p = subprocess.run([sys.executable, "-c", _WRAP, *args], env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if p.returncode != 0:
        sys.exit(f"{' '.join(args[:5])} failed:\n{p.stderr[-3000:]}")
    return wall, int(p.stderr.strip().splitlines()[-1]) / 1024, p.stdout


def run_peer(folder: Path, model: Path, overlap: int | None) -> None:
    """Index the folder with LlamaIndex (called in a fresh process by --peer); prints its node count."""
    from llama_index.core import Document, SimpleDirectoryReader, VectorStoreIndex
    from llama_index.core import Settings as LlamaSettings
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding

    LlamaSettings.embed_model = HuggingFaceEmbedding(model_name=str(model), device="cpu")
    # LlamaIndex's own token counting (tiktoken) and, unless --peer-overlap, its default overlap (200)
    splitter = SentenceSplitter(chunk_size=256, **({} if overlap is None else {"chunk_overlap": overlap}))
    # The files' text only: SimpleDirectoryReader's metadata (paths, dates) would count against the
    # 256-token budget and make three times as many, smaller chunks, which is slower for the peer.
    docs = [Document(text=d.text) for d in SimpleDirectoryReader(str(folder)).load_data()]
    index = VectorStoreIndex.from_documents(docs, transformations=[splitter])
    print(json.dumps({"nodes": len(index.docstore.docs)}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", type=Path, default=None)
    ap.add_argument("--files", type=int, default=100, help="documents to take from the default corpus")
    ap.add_argument("--peer", choices=["llamaindex"], help="index the same folder with a peer in the same run")
    ap.add_argument("--peer-overlap", type=int, default=None,
                    help="the peer splitter's chunk_overlap in tokens (default: LlamaIndex's own, 200)")
    ap.add_argument("--run-peer", type=Path, help=argparse.SUPPRESS)  # the peer's own process
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    from assistant import Assistant, Settings

    if args.run_peer:
        run_peer(args.run_peer, Settings.load().models.embedding_path, args.peer_overlap)
        return 0
    work = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    home = work / "home"
    env = {**os.environ, "ASSISTANT_HOME": str(home), "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    os.environ["ASSISTANT_HOME"] = str(home)
    folder = args.folder
    if folder is None:
        if not DEFAULT_CORPUS.is_dir():
            sys.exit(f"no folder given and {DEFAULT_CORPUS} does not exist")
        folder = work / "corpus"
        folder.mkdir()
        for p in sorted(DEFAULT_CORPUS.iterdir())[: args.files]:
            shutil.copy(p, folder / p.name)
    folder = folder.resolve()

    cli = [sys.executable, "-m", "assistant.cli", "index", str(folder), "--json"]
    cold_s, peak_mb, out = timed_process(cli, env)
    indexed = json.loads(out)

    settings = Settings.load()
    a = Assistant(settings)
    texts = list(dict.fromkeys(f"{h}\n\n{t}" if h else t
                               for h, t in a.store.conn.execute("SELECT heading, text FROM chunks ORDER BY id")))
    a.embedder.embed(["warm up the model"] * 8)
    t0 = time.perf_counter()
    a.embedder.embed(texts)
    raw_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    again = a.index([folder])
    reindex_s = time.perf_counter() - t0
    # One paragraph of one file edited: only the chunks it touches are embedded again.
    victim = max(folder.iterdir(), key=lambda p: p.stat().st_size)
    text = victim.read_text(encoding="utf-8", errors="replace")
    cut = text.find("\n\n", len(text) // 2)
    victim.write_text(text[:cut] + " An edited sentence about nothing in particular." + text[cut:], encoding="utf-8")
    edited = a.index([folder])

    tokens = [n for (n,) in a.store.conn.execute("SELECT token_count FROM chunks")]
    result: dict[str, object] = {
        "machine": machine(),
        "embedder": getattr(a.embedder, "backend", "?"),
        "documents": indexed["added"],
        "chunks_embedded": indexed["chunks_embedded"],
        "mean_chunk_tokens": round(sum(tokens) / max(1, len(tokens)), 1),
        "cold_s": round(cold_s, 2),
        "cold_chunks_per_s": round(indexed["chunks_embedded"] / cold_s, 2),
        "peak_rss_mb": round(peak_mb),
        "raw_encode_chunks_per_s": round(len(texts) / raw_s, 2),
        "reindex_unchanged_s": round(reindex_s, 3),
        "reindex_unchanged_files": again.unchanged,
        "edit_chunks_embedded": edited.chunks_embedded,
    }
    a.close()
    if args.peer:
        victim.write_text(text, encoding="utf-8")  # the peer reads the folder as the project first did
        overlap = [] if args.peer_overlap is None else ["--peer-overlap", str(args.peer_overlap)]
        peer_s, peer_mb, out = timed_process([sys.executable, __file__, "--run-peer", str(folder), *overlap], env)
        result |= {"peer": f"llamaindex (SentenceSplitter 256, overlap {args.peer_overlap or 'default'}, "
                           "VectorStoreIndex, same model)",
                   "peer_cold_s": round(peer_s, 2), "peer_chunks": json.loads(out.splitlines()[-1])["nodes"],
                   "peer_peak_rss_mb": round(peer_mb), "ratio_project_to_peer": round(cold_s / peer_s, 3)}
    shutil.rmtree(work, ignore_errors=True)
    report(result, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
