"""Search in every language: XQuAD (../shared/eval/xquad: the same 1,190 questions over 48 articles, in
English, German, Spanish and Chinese), one document per article, as a user would index them.

    .venv/bin/python bench/languages.py [--languages en de es zh] [--models all-MiniLM-L6-v2 multilingual-e5-small]
                                        [--cross en] [--questions N] [--data DIR] [--json]

For each embedding model and language: the articles of that language indexed into a fresh home (index time),
then that language's questions searched (monolingual), and with --cross L the questions of language L over the
same documents (cross-lingual: English questions over German documents). A hit is a passage holding the gold
answer's text; hit@1, hit@5, MRR, and the search's p50/p95 (the question embedded beforehand, as `assistant
eval` times it). Default settings otherwise (the cross-encoder only where the library's language is English:
assistant/language.py).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import REPO, machine, report  # noqa: E402

DEFAULT_DATA = Path(os.environ.get("ASSISTANT_BENCH_XQUAD") or REPO.parent / "shared" / "eval" / "xquad")


def articles(data: Path, lang: str) -> tuple[list[tuple[str, str]], list[dict]]:
    """(file name, text) per article, and the questions: {question, answers, id} (ids shared across languages)."""
    raw = json.loads((data / f"xquad.{lang}.json").read_text(encoding="utf-8"))
    docs, questions = [], []
    for i, article in enumerate(raw["data"]):
        title = str(article.get("title") or f"article {i}")
        paragraphs = [p["context"] for p in article["paragraphs"]]
        docs.append((f"{i:02d}.md", f"# {title}\n\n" + "\n\n".join(paragraphs) + "\n"))
        for p in article["paragraphs"]:
            for qa in p["qas"]:
                questions.append({"id": qa["id"], "question": qa["question"],
                                  "answers": sorted({a["text"] for a in qa["answers"]})})
    return docs, questions


def run(model: str, lang: str, data: Path, cross: list[str], limit: int | None, work: Path) -> dict:
    from assistant import Assistant, Settings
    from assistant.evaluation import Question, evaluate

    home = work / f"{model}-{lang}"
    library = home / "library"
    library.mkdir(parents=True)
    docs, questions = articles(data, lang)
    for name, text in docs:
        (library / name).write_text(text, encoding="utf-8")
    os.environ["ASSISTANT_HOME"] = str(home)
    a = Assistant(Settings.load({"embedding_model": model}))
    t0 = time.perf_counter()
    a.index([library])
    out: dict = {"index_s": round(time.perf_counter() - t0, 1), "chunks": a.counts()["chunks"]}
    a.relevance_threshold()
    for qlang in [lang, *[c for c in cross if c != lang]]:
        # The gold answers are the documents' own words: a question in another language keeps them (by its id).
        gold = {q["id"]: q["answers"] for q in questions}
        qs = questions if qlang == lang else [q for q in articles(data, qlang)[1] if q["id"] in gold]
        qs = qs[:limit] if limit else qs
        r = evaluate(a, [Question(q["question"], tuple(gold[q["id"]])) for q in qs], k=5)
        key = "monolingual" if qlang == lang else f"{qlang}_questions"
        out[key] = {k: r[k] for k in ("hit@1", "hit@k", "mrr", "latency_ms_p50", "latency_ms_p95", "relevant_rate")}
    a.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--languages", nargs="+", default=["en", "de", "es", "zh"])
    ap.add_argument("--models", nargs="+", default=["all-MiniLM-L6-v2", "multilingual-e5-small"])
    ap.add_argument("--cross", nargs="*", default=["en"], help="also ask these languages' questions")
    ap.add_argument("--questions", type=int, default=None, help="only the first N questions of each language")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    result: dict = {"machine": machine(), "data": str(args.data), "models": {}}
    work = Path(tempfile.mkdtemp(prefix="bench-languages-"))
    try:
        for model in args.models:
            result["models"][model] = {lang: run(model, lang, args.data, args.cross, args.questions, work)
                                       for lang in args.languages}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
