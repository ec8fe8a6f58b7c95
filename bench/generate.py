"""Generation speed: the project's answer path versus raw llama_cpp.Llama, same model, threads and prompt;
and time to first token of a first question versus a follow-up late in a long conversation.

    .venv/bin/python bench/generate.py [--runs 3] [--max-tokens 128] [--busy N] [--json]

The prompt is a real one: the project's instructions and five passages of its sample library.
Both paths generate greedily with the same sampler settings from an empty KV cache.

--busy N: then the same again while `assistant index` of N documents (the PEPs in ../shared/corpus/peps, or
ASSISTANT_BENCH_CORPUS) runs in another process on the same index, as the daemon does while it indexes:
raw llama.cpp, the project's generator alone, and a whole `ask` (which tells indexing in every process
to step aside while it generates), all in the same run.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import machine, report  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--max-tokens", type=int, default=128)
    ap.add_argument("--turns", type=int, default=12, help="earlier turns in the long conversation")
    ap.add_argument("--busy", type=int, default=0, metavar="N",
                    help="also measure while `assistant index` of N documents runs in another process")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ["ASSISTANT_HOME"] = tempfile.mkdtemp(prefix="assistant-bench-gen-")

    from llama_cpp import Llama

    from assistant import Assistant, Settings
    from assistant.answer.generation import GenerationRequest, GenerationStats
    from assistant.answer.prompts import build_prompt

    settings = Settings.load({"answer_cache": False})  # every ask is generated, not served from the cache
    threads = settings.models.effective_threads
    a = Assistant(settings)
    a.index()  # the bundled sample library
    gen = a.generator
    question = "How does assistant keep the index up to date when files change?"
    hits = a.search(question, k=5)
    prompt = build_prompt(gen, question, hits, [], args.max_tokens)
    text = gen.render(prompt.messages)

    raw = Llama(model_path=str(settings.models.chat_path), n_ctx=gen.n_ctx, n_threads=threads,
                n_threads_batch=threads, verbose=False)

    def run_raw() -> tuple[float, float, int]:
        raw.reset()
        t0 = time.perf_counter()
        first = 0.0
        n = 0
        for _ in raw.create_completion(text, max_tokens=args.max_tokens, temperature=0.0, top_k=1,
                                       repeat_penalty=1.1, stream=True):
            n += 1
            if n == 1:
                first = time.perf_counter() - t0
        total = time.perf_counter() - t0
        return first, (n - 1) / (total - first), n

    def run_ours() -> tuple[float, float, int]:
        gen.llm.reset()
        stats = GenerationStats()
        for _ in gen.stream(GenerationRequest(prompt.messages, args.max_tokens, 0.0, 0), stats):
            pass
        return stats.ttft_s, stats.tokens_per_s, stats.completion_tokens

    run_raw(), run_ours()  # warm-up
    raw_runs, our_runs = [], []
    for _ in range(args.runs):
        raw_runs.append(run_raw())
        our_runs.append(run_ours())

    def med(rows: list[tuple[float, float, int]], i: int) -> float:
        return round(statistics.median(r[i] for r in rows), 4)

    # First question versus follow-up in a long conversation (same final prompt, cold vs warm cache).
    from docgen_bench import long_history

    history = long_history(args.turns)
    before = build_prompt(gen, "What is a chunk?", hits, history[:-1], args.max_tokens)
    after = build_prompt(gen, question, hits, history, args.max_tokens)
    gen.llm.reset()
    cold = GenerationStats()
    for _ in gen.stream(GenerationRequest(after.messages, 16, 0.0, 0), cold):
        pass
    gen.llm.reset()
    for _ in gen.stream(GenerationRequest(before.messages, 16, 0.0, 0), GenerationStats()):
        pass
    warm = GenerationStats()
    for _ in gen.stream(GenerationRequest(after.messages, 16, 0.0, 0), warm):
        pass

    quiet_asks = []
    for _ in range(args.runs):
        answer = a.ask("How does assistant keep the index up to date when files change?", save=False)
        quiet_asks.append(float(answer.stats.get("tokens_per_s") or 0.0))
    result = {
        "machine": machine(),
        "model": gen.model_id,
        "threads": threads,
        "prompt_tokens": prompt.tokens,
        "raw_ttft_s": med(raw_runs, 0), "raw_tokens_per_s": med(raw_runs, 1),
        "project_ttft_s": med(our_runs, 0), "project_tokens_per_s": med(our_runs, 1),
        "tokens_per_s_ratio": round(med(our_runs, 1) / med(raw_runs, 1), 3),
        "ask_tokens_per_s": round(statistics.median(quiet_asks), 2),
        "ttft_ratio_raw_over_project": round(med(raw_runs, 0) / med(our_runs, 0), 3),
        "conversation_prompt_tokens": warm.prompt_tokens,
        "follow_up_cached_tokens": warm.cached_tokens,
        "conversation_ttft_cold_s": cold.ttft_s,
        "conversation_ttft_follow_up_s": warm.ttft_s,
    }
    if args.busy:
        result |= busy_case(a, gen, raw, text, prompt.messages, args)
    report(result, args.json)
    return 0


def busy_case(a, gen, raw, text: str, messages: list, args: argparse.Namespace) -> dict:
    """The same generation while another process indexes into the same index (what the daemon does)."""
    import shutil
    import subprocess

    from assistant.answer.generation import GenerationRequest, GenerationStats

    source = Path(os.environ.get("ASSISTANT_BENCH_CORPUS") or Path(__file__).resolve().parents[2] / "shared" /
                  "corpus" / "peps")
    folder = Path(tempfile.mkdtemp(prefix="assistant-bench-busy-"))
    for f in sorted(p for p in source.iterdir() if p.is_file())[: args.busy]:
        shutil.copy(f, folder / f.name)
    cli = Path(sys.executable).with_name("assistant")
    indexer = subprocess.Popen([str(cli) if cli.exists() else sys.executable, *([] if cli.exists() else
                                ["-m", "assistant.cli"]), "index", str(folder), "--json"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=os.environ.copy())
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and indexer.poll() is None and a.store.pending_count() == 0:
            time.sleep(0.2)  # until it writes chunks and embeds them: the CPU-bound part
        time.sleep(1.0)

        def raw_speed() -> float:
            raw.reset()
            t0 = time.perf_counter()
            first, n = 0.0, 0
            for _ in raw.create_completion(text, max_tokens=args.max_tokens, temperature=0.0, top_k=1,
                                           repeat_penalty=1.1, stream=True):
                n += 1
                if n == 1:
                    first = time.perf_counter() - t0
            return (n - 1) / max(1e-9, time.perf_counter() - t0 - first)

        def project_speed() -> tuple[float, int]:
            gen.llm.reset()
            stats = GenerationStats()
            for _ in gen.stream(GenerationRequest(messages, args.max_tokens, 0.0, 0), stats):
                pass
            return stats.tokens_per_s, stats.threads

        out: dict = {"busy_documents": args.busy, "busy_indexer_running": indexer.poll() is None}
        raws, ours, asks, threads, ask_times = [], [], [], [], []
        for _ in range(args.runs):
            if indexer.poll() is not None:
                break
            raws.append(raw_speed())
            speed, used = project_speed()
            ours.append(speed)
            threads.append(used)
            t0 = time.perf_counter()
            answer = a.ask("How does assistant keep the index up to date when files change?", save=False)
            ask_times.append(time.perf_counter() - t0)
            asks.append(float(answer.stats.get("tokens_per_s") or 0.0))
        out |= {
            "busy_runs": len(raws),
            "busy_raw_tokens_per_s": round(statistics.median(raws), 2) if raws else None,
            "busy_project_generator_tokens_per_s": round(statistics.median(ours), 2) if ours else None,
            "busy_project_generator_threads": min(threads) if threads else None,
            "busy_ask_tokens_per_s": round(statistics.median(asks), 2) if asks else None,
            "busy_ask_answer_s": round(statistics.median(ask_times), 2) if ask_times else None,
        }
        return out
    finally:
        indexer.terminate()
        indexer.wait(30)
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
