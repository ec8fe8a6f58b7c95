"""Questions the documents are about but do not answer, with the real models (SmolLM2-135M at temperature 0,
all-MiniLM-L6-v2, the ms-marco cross-encoder): the answer says plainly what the documents do not say, shows the
closest passages as such (never in bold, never as the answer), and is not grounded, in the CLI's JSON and the
Markdown export too; questions the same documents do answer still get their fact."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli_json

from assistant import Assistant

SLIDES = """# Module 3: Is Pluto a Planet?

Title: Module 3: Is Pluto a Planet?

In 2006 the International Astronomical Union defined what a planet is, and Pluto became a dwarf planet.
"""
MINUTES = """# Plan4all kick-off meeting

Plan4all Kick-off Meeting, 14th May 2009, Prague.

The partners agreed the work plan for the first year and the dates of the next two meetings. The budget
table was circulated after the meeting.
"""
PHOTOMETER = """# Spectra-3 photometer

The Spectra-3 photometer measures the absorbance of a sample at 340 nm. Its cuvette holder takes standard
10 mm cuvettes, and a measurement takes about four seconds.
"""


@pytest.fixture
def office(library: Path) -> Path:
    (library / "43781.md").write_text(SLIDES)
    (library / "minutes.md").write_text(MINUTES)
    (library / "photometer.md").write_text(PHOTOMETER)
    return library


@pytest.mark.parametrize(("question", "says"), [
    ("Which planet is largest?", "The documents do not say which planet is largest."),
    ("Who chaired the meeting?", "The documents do not say who chaired the meeting."),
])
def test_the_issues_questions_get_the_documents_do_not_say(answering: Assistant, office: Path, question: str,
                                                            says: str) -> None:
    answering.index([office])
    streamed: list[str] = []
    answer = answering.ask(question, on_token=streamed.append)
    assert not answer.grounded and answer.citations == [] and answer.direct_answer is None
    assert answer.answer.startswith(says)
    assert "The closest passages, which do not answer it:" in answer.answer
    assert "**" not in answer.answer and "Pluto**" not in answer.answer and "Prague**" not in answer.answer
    assert answer.stats["judgement"]["answered"] is False
    assert "".join(streamed) == answer.answer
    assert not answer.stats.get("completion_tokens")  # the model was not run for an answer there is not


def test_a_follow_up_the_documents_do_not_answer_gets_no_bold_name(answering: Assistant, office: Path) -> None:
    """The issue's follow-up: asked which lamp an instrument uses, the instrument's own name came back in bold."""
    answering.index([office])
    first = answering.ask("What does the Spectra-3 photometer measure?")
    assert first.grounded and "absorbance" in first.answer
    follow = answering.ask("Which lamp does it use?", chat_id=first.chat_id)
    assert not follow.grounded and follow.direct_answer is None and "**" not in follow.answer
    assert follow.answer.startswith("The documents do not say")


def test_questions_the_same_documents_answer_still_get_their_fact(answering: Assistant, office: Path) -> None:
    answering.index([office])
    where = answering.ask("Where was the Plan4all kick-off meeting held?")
    assert where.grounded and "Prague" in where.answer
    when = answering.ask("When did Pluto become a dwarf planet?")
    assert when.grounded and "2006" in when.answer
    assert when.direct_answer is not None and when.direct_answer.text == "2006"


def test_json_and_export_say_the_documents_do_not_answer(answering: Assistant, office: Path, capsys) -> None:
    answering.index([office])
    answering.close()
    out = run_cli_json("ask", "Who chaired the meeting?", "--style", "quote", capsys=capsys)
    assert out["grounded"] is False and out["direct_answer"] is None and out["evidence"] == []
    assert out["stats"]["judgement"]["answered"] is False
    assert out["answer"].startswith("The documents do not say who chaired the meeting.")
    markdown = Assistant().export_chat(out["chat_id"], "md")
    assert "The documents do not say who chaired the meeting." in markdown
    assert "*The documents do not answer this question: the passages listed are the closest ones" in markdown
