"""Question files for assistant eval: answers, sections and the documents that must hold the answer."""

from __future__ import annotations

import json
import re
from pathlib import Path

from assistant.evaluation import load_questions
from assistant.types import Hit


def _hit(path: str, text: str) -> Hit:
    return Hit(path, 1, 1.0, text, None, None, None, None)


def test_a_hit_must_hold_the_answer_and_come_from_a_named_document(tmp_path: Path) -> None:
    qs = tmp_path / "q.jsonl"
    qs.write_text("\n".join(json.dumps(o) for o in [
        {"question": "How long may a line be?", "answers": ["maximum of 79 characters"],
         "documents": ["pep-0008.rst"]},
        {"question": "Which PEP is the style guide?", "documents": ["peps/pep-0008.rst"]},
        {"question": "Who won?", "answers": ["Denver Broncos"]},
    ]) + "\n")
    by_phrase, by_document, plain = load_questions(qs)
    rule = "Limit all lines to a\n   maximum of 79\ncharacters."  # the phrase crosses line breaks
    assert by_phrase.matches(_hit("/lib/peps/pep-0008.rst", rule))
    assert not by_phrase.matches(_hit("/lib/peps/pep-0584.rst", "the PEP 8 maximum of 79 characters"))
    assert not by_phrase.matches(_hit("/lib/peps/xpep-0008.rst", "maximum of 79 characters"))  # a whole name
    assert by_document.matches(_hit("/lib/peps/pep-0008.rst", "anything")) and by_document.documents
    assert not by_document.matches(_hit("/lib/other/pep-0008.rst", "anything"))  # the end of the path
    assert plain.matches(_hit("/anywhere.md", "The Denver Broncos won.")) and not plain.documents


def test_the_pep_question_set_names_the_answering_pep_and_a_phrase_of_it() -> None:
    qs = load_questions(Path(__file__).parents[2] / "bench/data/pep_natural.jsonl")
    assert len(qs) == 79 and all(len(q.answers) == 1 and len(q.documents) == 1 for q in qs)
    assert all(d.startswith("pep-") and d.endswith(".rst") for q in qs for d in q.documents)
    assert sum(bool(re.search(r"\bPEP \d", q.question)) for q in qs) == 24  # the questions that name their PEP
