"""Answer quality of each chat model on the same questions, side by side in one run: `assistant eval --answers`
for every model given, over one index.

    .venv/bin/python bench/answers.py --set superbowl50-heldout [--models smollm2-135m,qwen2.5-coder-1.5b]
    .venv/bin/python bench/answers.py --set squad2 --limit 400          # SQuAD 2.0, with unanswerable questions
    .venv/bin/python bench/answers.py --set legacy-office               # off-topic questions near a messy folder
    .venv/bin/python bench/answers.py --docs DIR --questions FILE.jsonl # any folder and question file

Sets (from ../shared/eval and ../shared/corpus; the index is built once in --home, reused on the next run):
- superbowl50-heldout: the second 405 questions of superbowl50, over Super_Bowl_50.md and the 579 PEPs as
  distractors (the figures of docs/benchmarks/answers.md);
- squad2: SQuAD 2.0's ten training articles; every unanswerable question (348) and, with --limit N, N answerable
  ones picked at random (seed 7) from the other 4,371;
- legacy-office: bench/data/legacy_office_questions.jsonl (25 questions near the folder's topics that it does not
  answer, 12 it does) over ../shared/corpus/legacy-office.
For each model: answer_contains_gold (the answer given holds a gold answer; a refusal never does),
verified_model_text_contains_gold (the model's own checked sentences do), direct_answer_rate / _f1 / _exact_match,
unsupported_number_rate, unanswerable_refused_rate and offtopic_refused_rate ("the documents do not say"), answer
times; see `assistant eval --help`.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import machine, report  # noqa: E402

HERE = Path(__file__).resolve().parent
SHARED = HERE.parents[1] / "shared"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", choices=["superbowl50-heldout", "squad2", "legacy-office"])
    ap.add_argument("--docs", type=Path, action="append", help="with --questions: index this folder (repeatable)")
    ap.add_argument("--questions", type=Path, help="a question file (JSONL: question, answers, answerable)")
    ap.add_argument("--models", default="smollm2-135m")
    ap.add_argument("--limit", type=int, default=0, help="squad2: answerable questions added; else: questions used")
    ap.add_argument("--home", type=Path, help="where the index is kept between runs (default: a temporary folder)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    if not args.set and not (args.docs and args.questions):
        ap.error("give --set, or --docs and --questions")
    os.environ["ASSISTANT_HOME"] = str(args.home or tempfile.mkdtemp(prefix="assistant-bench-answers-"))
    docs, questions = _set(args)

    from assistant import Assistant, Settings
    from assistant.evaluation import evaluate_answers, load_questions

    builder = Assistant(Settings.load())
    builder.index(docs)
    builder.close()
    qs = load_questions(questions)
    if args.limit and args.set != "squad2":
        qs = qs[: args.limit]
    result: dict = {"machine": machine(), "set": args.set or str(args.questions), "questions": len(qs), "models": {}}
    for name in [m.strip() for m in args.models.split(",") if m.strip()]:
        settings = Settings.load({"answer_cache": False, "llm_model": name})
        if not settings.models.chat_path.exists():
            result["models"][name] = "not installed"
            continue
        a = Assistant(settings)
        result["models"][name] = evaluate_answers(a, qs)
        a.close()
    report(result, args.json)
    return 0


def _set(args: argparse.Namespace) -> tuple[list[Path], Path]:
    """The folders to index and the question file of a named set (or the ones given)."""
    if not args.set:
        return list(args.docs), args.questions
    out = Path(tempfile.mkdtemp(prefix="assistant-bench-questions-")) / "questions.jsonl"
    if args.set == "superbowl50-heldout":
        lines = (SHARED / "eval" / "superbowl50" / "questions.jsonl").read_text().splitlines()
        out.write_text("\n".join(lines[405:]) + "\n")
        return [SHARED / "eval" / "superbowl50" / "docs", SHARED / "corpus" / "peps"], out
    if args.set == "squad2":
        rows = [json.loads(line) for line in (SHARED / "eval" / "squad2-train10" / "questions.jsonl").read_text()
                .splitlines() if line.strip()]
        unanswerable = [r for r in rows if r.get("answerable") is False]
        answerable = [r for r in rows if r.get("answerable") is not False]
        picked = unanswerable + random.Random(7).sample(answerable, min(args.limit or 400, len(answerable)))
        out.write_text("".join(json.dumps(r) + "\n" for r in picked))
        return [SHARED / "eval" / "squad2-train10" / "docs"], out
    return [SHARED / "corpus" / "legacy-office"], HERE / "data" / "legacy_office_questions.jsonl"


if __name__ == "__main__":
    sys.exit(main())
