"""The chat models side by side: how long an answer takes with each, quiet and while `assistant index` runs
beside it, and how much of the prompt llama.cpp's cache keeps from one question to the next.

    .venv/bin/python bench/models.py [--models smollm2-135m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b]
                                     [--questions 8] [--busy N] [--json]

Each model answers the same questions about the bundled sample library (bench/data/sample_natural.jsonl, in
people's words), one `ask` each (auto style, answer cache off), after one warm-up question. Per model:
- quotes_s: the quoted evidence on screen (search, cross-encoder, evidence; the same for every model);
- first_token_s: the model's first token (the quotes' time, the direct-answer question for models that pick it,
  then reading the prompt: generation_start_s + ttft_s);
- sentence_s: the model's first checked sentence on screen (when one is shown);
- answer_s: the whole answer; tokens_per_s: generation speed; cached_tokens: prompt tokens llama.cpp reused
  (the instructions, the same for every question, stay in its cache).
--busy N: the same again while `assistant index` of N documents (the PEPs in ../shared/corpus/peps, or
ASSISTANT_BENCH_CORPUS) runs in another process on the same index, as the daemon does.
Models not installed are skipped (./install.sh --model NAME installs one).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import machine, report  # noqa: E402

DATA = Path(__file__).resolve().parent / "data"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="smollm2-135m,qwen2.5-coder-0.5b,qwen2.5-coder-1.5b")
    ap.add_argument("--questions", type=int, default=8)
    ap.add_argument("--busy", type=int, default=0, metavar="N",
                    help="also measure while `assistant index` of N documents runs in another process")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ["ASSISTANT_HOME"] = tempfile.mkdtemp(prefix="assistant-bench-models-")

    from assistant import Assistant, Settings
    from assistant.catalog import file_of

    questions = [json.loads(line)["question"] for line in (DATA / "sample_natural.jsonl").read_text().splitlines()
                 if line.strip()][: args.questions]
    base = Settings.load({"answer_cache": False})
    indexer_home = Assistant(base)
    indexer_home.index()  # the bundled sample library
    indexer_home.close()
    result: dict = {"machine": machine(), "questions": len(questions), "models": {}}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        if not (base.models.dir / file_of(name)).exists():
            result["models"][name] = "not installed"
            continue
        a = Assistant(Settings.load({"answer_cache": False, "llm_model": name}))
        a.ask("what is this program for?", save=False)  # warm-up: the model loads, its instructions get cached
        figures = {"quiet": _measure(a, questions)}
        if args.busy:
            with _busy_indexer(args.busy) as running:
                figures["busy"] = _measure(a, questions) | {"indexer_was_running": running()}
        result["models"][name] = figures
        a.close()
    report(result, args.json)
    return 0


def _measure(a, questions: list[str]) -> dict:
    rows = []
    for q in questions:
        stamps: list[float] = []
        t0 = time.perf_counter()

        def seen(_piece: str, stamps: list[float] = stamps, t0: float = t0) -> None:
            stamps.append(time.perf_counter() - t0)

        answer = a.ask(q, save=False, on_token=seen)
        total = time.perf_counter() - t0
        st = answer.stats
        rows.append({
            "quotes_s": stamps[0] if stamps else total,
            "first_token_s": (total - _generation_s(st)) + float(st.get("ttft_s") or 0.0)
            if st.get("completion_tokens") else None,
            "sentence_s": stamps[1] if len(stamps) > 1 and st.get("verified_sentences") else None,
            "answer_s": total,
            "tokens_per_s": st.get("tokens_per_s") or None,
            "cached_tokens": st.get("cached_tokens"), "prompt_tokens": st.get("prompt_tokens"),
            "threads": st.get("threads"),
        })

    def med(key: str) -> float | None:
        values = [r[key] for r in rows if r[key] is not None]
        return round(statistics.median(values), 3) if values else None

    return {key: med(key) for key in rows[0]} | {"answers_with_a_model_sentence": sum(
        r["sentence_s"] is not None for r in rows)}


def _generation_s(stats: dict) -> float:
    """How long the model generated (its completion tokens over its speed, plus the time to the first)."""
    n, rate, first = stats.get("completion_tokens") or 0, stats.get("tokens_per_s") or 0.0, stats.get("ttft_s") or 0.0
    return first + ((n - 1) / rate if rate and n > 1 else 0.0)


class _busy_indexer:
    """`assistant index` of N documents in another process, into the same index, while the block runs."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __enter__(self):
        source = Path(os.environ.get("ASSISTANT_BENCH_CORPUS") or Path(__file__).resolve().parents[2] / "shared" /
                      "corpus" / "peps")
        self.folder = Path(tempfile.mkdtemp(prefix="assistant-bench-busy-"))
        for f in sorted(p for p in source.iterdir() if p.is_file())[: self.n]:
            shutil.copy(f, self.folder / f.name)
        cli = Path(sys.executable).with_name("assistant")
        self.proc = subprocess.Popen([str(cli) if cli.exists() else sys.executable, *([] if cli.exists() else
                                      ["-m", "assistant.cli"]), "index", str(self.folder), "--json"],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
        time.sleep(3.0)  # past its start-up, into reading and embedding: the CPU-bound part
        return lambda: self.proc.poll() is None

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        self.proc.wait(30)
        shutil.rmtree(self.folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
