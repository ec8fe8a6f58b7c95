"""Every script in bench/ runs at a tiny size, so a benchmark that breaks fails the suite (they print
figures, which are read here only to see that they were measured; no timing is asserted)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from docgen import prose

BENCH = Path(__file__).resolve().parents[2] / "bench"

pytestmark = pytest.mark.slow  # each loads the real models in a subprocess

RUNS = {
    "ingest.py": (["--files", "4", "--peer", "llamaindex", "--json"],
                  lambda r: r["chunks_embedded"] > 0 and r["documents"] == 4 and r["peer_chunks"] > 0
                  and r["edit_chunks_embedded"] >= 1 and r["reindex_unchanged_files"] == 4),
    "freshness.py": (["--docs", "4", "--edits", "2", "--json"], lambda r: r["save_to_searchable_s_p50"] > 0),
    "query.py": (["--sizes", "200", "--queries", "5", "--json"],
                 lambda r: r["results"][0]["chunks"] == 200 and r["results"][0]["vector_recall@10"] > 0
                 and r["results"][0]["cold_cli_hits"] > 0),
    "pdf_text.py": (["--pages", "3", "--json"],
                    lambda r: r["pypdfium2"]["order_cleaned"] > 0.9 and r["pypdf"]["ligatures_left_cleaned"] == 0),
    "legacy_office.py": (["--corpus", str(Path(__file__).resolve().parents[1] / "fixtures" / "legacy"), "--json"],
                         lambda r: r["files"] == 6 and r["all_share"] >= 0.9),
    "memory.py": (["--pdfs", "1", "--pages", "2", "--book-pages", "0", "--scans", "1", "--memos", "1", "--rows", "20",
                   "--json"],
                  lambda r: r["added"] >= 6 and r["errors"] == 0 and r["peak_rss_mb"] > 0),
    "beir.py": (["--data", "BEIR", "--json"],
                lambda r: r["documents"] == 6 and r["queries"] == 4 and r["hybrid"]["ndcg@10"] > 0.5
                and r["bm25"]["recall@100"] > 0.5 and r["two_things"]["queries"] == 1
                and r["two_things"]["passages_ndcg@10_split_on"] > 0),
    "vector_index.py": (["--sizes", "600", "--queries", "5", "--json"],
                        lambda r: {x["library"] for x in r["results"]} == {"ours", "usearch", "usearch-f16", "faiss"}
                        and all(x["recall@10"] > 0 for x in r["results"])),
    "split.py": (["--pairs", "3", "--json"],
                 lambda r: r["documents"] == 6 and r["pairs"] == 3 and r["split: Compare {a} with {b}"]["any@5"] > 0
                 and r["split search p50_ms"] > 0),
    "answers.py": (["--docs", "CORPUS", "--questions", "QUESTIONS", "--models", "smollm2-135m", "--json"],
                   lambda r: r["models"]["smollm2-135m"]["answer_contains_gold"] == 1.0
                   and r["models"]["smollm2-135m"]["unanswerable_refused_rate"] == 1.0),
    "models.py": (["--models", "smollm2-135m,no-such-model", "--questions", "2", "--busy", "4", "--json"],
                  lambda r: r["models"]["smollm2-135m"]["quiet"]["answer_s"] > 0
                  and r["models"]["smollm2-135m"]["busy"]["answer_s"] > 0
                  and r["models"]["no-such-model"] == "not installed"),
    "team.py": (["all", "--docs", "CORPUS", "--questions", "QUESTIONS", "--clients", "2", "--seconds", "2",
                 "--sizes", "300", "--queries", "5", "--json"],
                lambda r: r["quality"]["sqlite"]["hit@1"] == r["quality"]["postgresql"]["hit@1"] == 1.0
                and r["load"]["2_clients"]["searches"] > 0 and r["load"]["2_clients"]["errors"] == 0
                and r["load"]["2_clients"]["private_passages_seen"] == 0
                and r["scale"]["300"]["postgresql"]["p50_ms"] > 0 and r["scale"]["300"]["sqlite"]["p50_ms"] > 0),
    "languages.py": (["--data", "XQUAD", "--languages", "en", "de", "--json"],
                     lambda r: r["models"]["multilingual-e5-small"]["de"]["monolingual"]["hit@1"] == 1.0
                     and r["models"]["multilingual-e5-small"]["de"]["en_questions"]["hit@k"] == 1.0
                     and r["models"]["all-MiniLM-L6-v2"]["en"]["monolingual"]["hit@1"] == 1.0),
    "generate.py": (["--runs", "1", "--max-tokens", "8", "--turns", "1", "--busy", "6", "--json"],
                    lambda r: bool(r["machine"]) and "busy_raw_tokens_per_s" in r),
}


XQUAD = {
    "en": [("Valves", "The Zephyr-9 inlet valve must be tightened to 42 newton-metres. Check it every month.",
            "What torque does the Zephyr-9 inlet valve need?", "42 newton-metres"),
           ("Bees", "Honey bees visit about two million flowers to make one pound of honey.",
            "How many flowers do bees visit for a pound of honey?", "two million")],
    "de": [("Ventile", "Das Einlassventil des Zephyr-9 muss mit 42 Newtonmetern angezogen werden. Prüfen Sie es "
            "jeden Monat.", "Mit welchem Drehmoment wird das Einlassventil des Zephyr-9 angezogen?",
            "42 Newtonmetern"),
           ("Bienen", "Honigbienen besuchen etwa zwei Millionen Blüten, um ein Pfund Honig herzustellen.",
            "Wie viele Blüten besuchen Bienen für ein Pfund Honig?", "zwei Millionen")],
}


def test_every_bench_script_is_covered() -> None:
    helpers = {"docgen_bench.py"}  # imported by the scripts, not run on its own
    assert {p.name for p in BENCH.glob("*.py")} - helpers == set(RUNS)


@pytest.mark.parametrize("script", sorted(RUNS))
def test_bench_script_runs_at_a_tiny_size(script: str, tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for i in range(6):
        (corpus / f"doc{i}.md").write_text(f"# Document {i}\n\n" + "\n\n".join(prose(i * 7 + j, 4) for j in range(5)))
    env = {**os.environ, "ASSISTANT_BENCH_CORPUS": str(corpus), "ASSISTANT_HOME": str(tmp_path / "home")}
    args, measured = RUNS[script]
    if "QUESTIONS" in args:  # a fact the tiny corpus holds, and a question it does not answer
        (corpus / "valve.md").write_text("# Valve\n\nThe Zephyr-9 inlet valve must be tightened to exactly 42 "
                                         "newton-metres.\n")
        questions = tmp_path / "questions.jsonl"
        questions.write_text(json.dumps({"question": "What torque should the Zephyr-9 inlet valve be tightened to?",
                                         "answers": ["42 newton-metres"]}) + "\n" + json.dumps(
            {"question": "Who chaired the meeting?", "answers": [], "answerable": False}) + "\n")
        args = [str(corpus) if a == "CORPUS" else str(questions) if a == "QUESTIONS" else a for a in args]
    if "BEIR" in args:  # a tiny BEIR-style set: a title line, a blank line, the text; queries with grades
        beir = tmp_path / "beir"
        (beir / "corpus").mkdir(parents=True)
        queries = []
        for i in range(6):
            (beir / "corpus" / f"D{i}.txt").write_text(f"Document {i} title\n\n" + prose(i * 7, 4))
            if i < 3:
                words = " ".join(prose(i * 7, 4).split()[:6])
                queries.append(json.dumps({"id": f"Q{i}", "question": words, "relevant": {f"D{i}": 2}}))
        both = " vs. ".join(" ".join(prose(i * 7, 4).split()[:3]) for i in (0, 1))  # a query naming two things
        queries.append(json.dumps({"id": "Q9", "question": both, "relevant": {"D0": 2, "D1": 2}}))
        (beir / "queries.jsonl").write_text("\n".join(queries) + "\n")
        args = [str(beir) if a == "BEIR" else a for a in args]
    if "XQUAD" in args:  # the same two questions over the same two articles, in English and in German
        xquad = tmp_path / "xquad"
        xquad.mkdir()
        for lang, texts in XQUAD.items():
            data = [{"title": title, "paragraphs": [{"context": context, "qas": [
                {"id": f"q{i}", "question": question, "answers": [{"text": answer, "answer_start": 0}]}]}]}
                for i, (title, context, question, answer) in enumerate(texts)]
            (xquad / f"xquad.{lang}.json").write_text(json.dumps({"data": data}), encoding="utf-8")
        args = [str(xquad) if a == "XQUAD" else a for a in args]
    p = subprocess.run([sys.executable, str(BENCH / script), *args], capture_output=True, text=True, env=env,
                       timeout=600, cwd=tmp_path)
    assert p.returncode == 0, p.stderr[-3000:]
    result = json.loads(p.stdout)
    assert measured(result), result
