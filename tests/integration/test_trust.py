"""Answers a user can trust, with the real models (SmolLM2-135M at temperature 0, all-MiniLM-L6-v2):
evidence quoted with exact offsets, every generated sentence checked, the facts the answer must state."""

from __future__ import annotations

import re
import threading
from pathlib import Path

import pytest
from conftest import run_cli_json
from docgen import prose
from scripted import ScriptedGenerator

from assistant import Assistant, Settings
from assistant.answer.evidence import numbers
from assistant.evaluation import off_topic
from assistant.search.retrieval import Filters

PUMP = """# Zephyr-9 pump maintenance

## Inlet valve

Before refitting the inlet valve, clean the seat with a lint-free cloth. Tighten the Zephyr-9 inlet valve
to exactly 42 newton-metres with a calibrated torque wrench. Over-tightening cracks the ceramic seat.

## Filters

Replace the intake filter every 600 operating hours, or sooner on dusty sites. The filter housing takes
a 17 mm socket.
"""
TRAVEL = """# Travel policy

## Meals

Staff travelling to Reykjavik receive a daily meal allowance of 87 euros. Receipts are not needed for meals.

## Hotels

Hotel nights in Reykjavik are reimbursed up to 190 euros a night. Book through the travel desk at least
14 days ahead.
"""

@pytest.fixture
def docs(library: Path) -> Path:
    (library / "pump.md").write_text(PUMP)
    (library / "travel.md").write_text(TRAVEL)
    (library / "notes.md").write_text("# Notes\n\n" + "\n\n".join(prose(i) for i in range(6)))
    return library


def _assert_checkable(answer) -> None:
    """Every quote is verbatim at its offsets, every citation names a source, no number is invented."""
    n = len(answer.sources)
    assert answer.evidence
    for e in answer.evidence:
        assert 1 <= e.source <= n
        assert " ".join(answer.sources[e.source - 1].text[e.start:e.end].split()) == e.text
    shown = [int(x) for x in re.findall(r"\[(\d+)\]", answer.answer)]
    assert all(1 <= x <= n for x in shown), answer.answer
    assert set(shown) <= set(answer.citations)
    cited_numbers: set[str] = set()
    for c in answer.citations:
        h = answer.sources[c - 1]
        cited_numbers |= numbers(f"{h.heading or ''} {h.text}")
    assert numbers(re.sub(r"\[\d+\]", "", answer.answer)) <= cited_numbers, answer.answer


def test_torque_answer_states_42_newton_metres(answering: Assistant, docs: Path) -> None:
    answering.index([docs])
    tokens: list[str] = []
    answer = answering.ask("What torque should the Zephyr-9 inlet valve be tightened to?", on_token=tokens.append)
    assert answer.grounded
    assert "42 newton-metres" in answer.answer
    assert "42 newton-metres" in answer.evidence[0].text
    assert answer.sources[answer.evidence[0].source - 1].path.endswith("pump.md")
    _assert_checkable(answer)
    # What streamed is exactly what was checked: the same parts (the final text puts the model's checked
    # sentences before the quotes they rest on; they stream after them).
    assert set(answer.answer.split("\n\n")) <= set("".join(tokens).split("\n\n"))
    # The direct answer, then the evidence, come first, before the model has said anything.
    assert tokens[0].startswith("**42 newton-metres** [1]\n\n> ")
    assert answer.direct_answer is not None and answer.direct_answer.text == "42 newton-metres"


def test_paraphrased_question_is_answered(answering: Assistant, docs: Path) -> None:
    answering.index([docs])
    answer = answering.ask("how much money do I get for food each day on a trip to Iceland's capital?")
    assert answer.grounded
    assert "87 euros" in answer.answer
    assert answer.sources[answer.evidence[0].source - 1].path.endswith("travel.md")
    _assert_checkable(answer)


def test_one_source_answer_never_cites_a_second(answering: Assistant, docs: Path) -> None:
    answering.index([docs])
    answer = answering.ask("How often should the intake filter be replaced?",
                           filters=Filters(paths=(str(docs / "pump.md"),)), k=1)
    assert len(answer.sources) == 1
    assert answer.grounded and "600 operating hours" in answer.answer
    assert "[2]" not in answer.answer and answer.citations == [1]
    _assert_checkable(answer)


def test_quote_style_answers_with_no_chat_model(home: Path, embedder, docs: Path) -> None:
    a = Assistant(Settings.load({"answer_style": "quote", "llm_model": "no-such-model.gguf"}), embedder=embedder)
    a.index([docs])
    answer = a.ask("What torque should the Zephyr-9 inlet valve be tightened to?")
    assert answer.grounded and "42 newton-metres" in answer.answer
    assert answer.stats["answer_style"] == "quote" and answer.checks == []
    assert not a.generator_loaded
    _assert_checkable(answer)
    # auto with a missing model says so, and still answers from the evidence.
    auto = Assistant(Settings.load({"llm_model": "no-such-model.gguf"}), embedder=embedder)
    fallback = auto.ask("What torque should the Zephyr-9 inlet valve be tightened to?")
    assert fallback.grounded and "42 newton-metres" in fallback.answer
    assert "No chat model" in fallback.stats["notice"]


def test_an_invented_number_is_never_shown_as_verified(home: Path, embedder, docs: Path) -> None:
    invented = ("The Zephyr-9 inlet valve is tightened to a maximum of 6.5 meters [1]. "
                "Tighten the Zephyr-9 inlet valve to exactly 42 newton-metres [1].")
    question = "What torque should the Zephyr-9 inlet valve be tightened to?"
    auto = Assistant(Settings.load(), embedder=embedder, generator=ScriptedGenerator(invented))
    auto.index([docs])
    streamed: list[str] = []
    answer = auto.ask(question, on_token=streamed.append)
    assert "6.5" not in answer.answer and "6.5" not in "".join(streamed)  # never even streamed
    assert answer.grounded and "42 newton-metres" in answer.answer
    bad = [c for c in answer.checks if not c.supported]
    assert len(bad) == 1 and bad[0].unsupported_facts == ["6.5"]
    # The true sentence says what the quote says, in the model's words: it is the answer, and the quotes follow.
    assert [c.verified for c in answer.checks if c.supported] == [True]
    assert answer.answer.split("\n\n")[1] == "Tighten the Zephyr-9 inlet valve to exactly 42 newton-metres [1]."
    assert answer.answer.split("\n\n")[2].startswith("> ")
    # generate: the model's text as it is, but the invented sentence is marked and the answer not grounded.
    gen = Assistant(Settings.load({"answer_style": "generate"}), embedder=embedder,
                    generator=ScriptedGenerator(invented))
    marked = gen.ask(question)
    assert not marked.grounded
    assert "6.5 meters [1] (unverified)." in marked.answer
    # A model that only invents: the evidence is the answer.
    only_bad = Assistant(Settings.load(), embedder=embedder,
                         generator=ScriptedGenerator("It is 6.5 meters [1]. It takes 20 days (1 month)."))
    fallback = only_bad.ask(question)
    assert fallback.grounded and fallback.stats["fallback"] == "evidence"
    assert "6.5" not in fallback.answer and "42 newton-metres" in fallback.answer


def test_a_sentence_cut_off_by_the_token_limit_is_not_shown(home: Path, embedder, docs: Path) -> None:
    a = Assistant(Settings.load({"answer_tokens": 12}), embedder=embedder, generator=ScriptedGenerator(
        "Tighten the Zephyr-9 inlet valve to exactly 42 newton-metres [1]. Over-tightening cracks the ceramic "
        "seat and the whole pump housing [1]."))
    a.index([docs])
    answer = a.ask("What torque should the Zephyr-9 inlet valve be tightened to?")
    assert answer.checks[-1].reason.startswith("cut off") and not answer.checks[-1].verified
    assert answer.checks[0].supported and "Over-tightening" not in answer.answer.split("\n\n", 1)[-1]


def test_model_saying_not_in_documents_falls_back_to_the_evidence(home: Path, embedder, docs: Path) -> None:
    a = Assistant(Settings.load(), embedder=embedder, generator=ScriptedGenerator(
        "The documents do not say how much the meal allowance is. It is probably 20 days (1 month)."))
    a.index([docs])
    answer = a.ask("how much money do I get for food each day on a trip to Iceland's capital?")
    assert answer.grounded and answer.stats["fallback"] == "evidence"
    assert "87 euros" in answer.answer and "20" not in answer.answer


def test_ask_json_returns_evidence_offsets_and_checks(answering: Assistant, docs: Path, capsys) -> None:
    answering.index([docs])
    out = run_cli_json("ask", "What torque should the Zephyr-9 inlet valve be tightened to?", capsys=capsys)
    assert out["grounded"] is True and "42 newton-metres" in out["answer"]
    e = out["evidence"][0]
    assert set(e) == {"source", "text", "start", "end", "score"}
    passage = out["sources"][e["source"] - 1]["text"]
    assert " ".join(passage[e["start"]:e["end"]].split()) == e["text"]
    assert all({"text", "citations", "verified", "reason"} <= set(c) for c in out["checks"])
    quoted = run_cli_json("ask", "What torque should the Zephyr-9 inlet valve be tightened to?", "--style", "quote",
                          capsys=capsys)
    assert quoted["stats"]["answer_style"] == "quote" and "42 newton-metres" in quoted["answer"]


def test_cancel_keeps_only_checked_text(answering: Assistant, docs: Path) -> None:
    answering.index([docs])
    cancel = threading.Event()
    cancel.set()  # stopped before the model says anything: the evidence still stands
    answer = answering.ask("What torque should the Zephyr-9 inlet valve be tightened to?", cancel=cancel)
    assert answer.grounded and "42 newton-metres" in answer.answer
    assert answer.stats["stopped"] == "cancelled"


def test_the_readme_example_is_answered_from_the_sample(answering: Assistant) -> None:
    """The README's first command, on the bundled sample: the answer quotes what the sample says (it once
    said that editing one paragraph rewrites the whole file), and nothing stitched from the command list."""
    answering.index()  # no folder registered: the sample library
    a = answering.ask("how does incremental sync work?")
    assert a.grounded
    _assert_checkable(a)
    quotes = " ".join(e.text for e in a.evidence)
    assert "re-embeds about one chunk" in quotes or "only does the work that changed" in quotes
    assert all("sample" in a.sources[e.source - 1].path and a.sources[e.source - 1].heading.endswith("Incremental sync")
               for e in a.evidence[:1])
    assert "rewrites" not in a.answer and "without touching" not in a.answer, a.answer


DEPOT = """# Depot bulletin

The quarterly review covered staffing, procurement and the state of the regional depots. The Zephyr-9 inlet
valve must be torqued to exactly 42 newton-metres before the pump is started. Network maintenance windows are
announced at least five working days in advance. The canteen closes at three on Fridays.
"""


def _shown(answer) -> list[str]:
    return [c.text for c in answer.checks if c.verified]


def test_only_sentences_that_answer_are_shown(answering: Assistant, library: Path) -> None:
    """The issue's case: a passage that covers several topics. The model's true sentences about the other
    topics are supported by the passage, but they do not answer the question: they are not shown."""
    (library / "depot.md").write_text(DEPOT)
    (library / "notes.md").write_text("# Notes\n\n" + "\n\n".join(prose(i) for i in range(6)))
    answering.index([library])
    question = "What torque should the Zephyr-9 inlet valve be tightened to?"
    answer = answering.ask(question)
    assert answer.grounded and answer.direct_answer is not None
    assert answer.direct_answer.text == "42 newton-metres"
    assert answer.answer.startswith("**42 newton-metres** [1]")
    _assert_checkable(answer)
    for sentence in _shown(answer):
        assert not off_topic(sentence, question), sentence
        assert "quarterly" not in sentence.lower() and "maintenance windows" not in sentence.lower()
        assert not sentence.lower().startswith("the sources are")


@pytest.mark.parametrize("question", ["how does incremental sync work?", "does it need an internet connection?",
                                      "which file formats can it read?", "how do I remove a folder?"])
def test_the_sample_answers_hold_no_off_topic_sentence(answering: Assistant, question: str) -> None:
    """The bundled sample's natural questions: every model sentence shown shares a content word with the
    question, none is a fragment or repeats the quotes, and a how-question gets no direct answer."""
    answering.index()
    answer = answering.ask(question)
    assert answer.grounded
    _assert_checkable(answer)
    for sentence in _shown(answer):
        assert not off_topic(sentence, question), sentence
        assert sentence[-1:] in ".!?", sentence
        assert answer.answer.count(sentence) == 1  # a quote the model restates leads, and is not quoted again
    if question.startswith(("how", "does")):
        assert answer.direct_answer is None


def test_the_sources_come_before_the_first_model_token(answering: Assistant, docs: Path) -> None:
    answering.index([docs])
    events: list[str] = []
    answering.ask("What torque should the Zephyr-9 inlet valve be tightened to?",
                  on_token=lambda t: events.append("token"), on_sources=lambda hits, ev, da: events.append(
                      f"sources {len(hits)} {len(ev)} {da.text if da else None}"))
    sources = [i for i, e in enumerate(events) if e.startswith("sources")]
    assert len(sources) == 1 and events[sources[0]].endswith("42 newton-metres")
    assert sources[0] == 1 and events[0] == "token"  # the quotes, then the sources, then the model's sentences


CAMP = """# Super Bowl 50 camp

The Broncos practiced at Stanford University and stayed at the Santa Clara Marriott. The Panthers used the San
Jose State practice facility and stayed at the San Jose Marriott. Both teams arrived a week before the game.
"""


def test_a_sentence_that_pairs_the_quotes_words_wrongly_does_not_lead(home: Path, embedder, library: Path) -> None:
    """Every word of "The Broncos practiced at the Santa Clara Marriott." is in the quote; it still says where the
    Broncos stayed, not where they practiced (SmolLM2 wrote it for three questions of superbowl50's held-out half)."""
    (library / "camp.md").write_text(CAMP)
    (library / "notes.md").write_text("# Notes\n\n" + "\n\n".join(prose(i) for i in range(6)))
    question = "Where did the Broncos practice for the Super Bowl?"
    wrong = Assistant(Settings.load(), embedder=embedder,
                      generator=ScriptedGenerator("The Broncos practiced at the Santa Clara Marriott."))
    wrong.index([library])
    answer = wrong.ask(question)
    assert answer.grounded and answer.direct_answer is not None and answer.direct_answer.text == "Stanford University"
    assert answer.checks[0].supported and not answer.checks[0].verified
    assert answer.checks[0].reason == "does not give the answer the quoted evidence gives"
    assert "Santa Clara Marriott." not in answer.answer.split("\n\n> ")[0]  # only in the quote below
    right = Assistant(Settings.load(), embedder=embedder,
                      generator=ScriptedGenerator("The Broncos practiced at Stanford University."))
    assert right.ask(question).checks[0].verified
    # The quote's other name, with the quote's own verb before it, is another answer the quote gives, not a
    # wrong pairing: the direct answer's rules may have picked the wrong one of the two.
    stayed = Assistant(Settings.load(), embedder=embedder,
                       generator=ScriptedGenerator("The Broncos stayed at the Santa Clara Marriott."))
    assert stayed.ask("Where did the Broncos stay?").checks[0].verified


def test_a_quote_restated_word_for_word_leads_the_answer(home: Path, embedder, docs: Path) -> None:
    """The model's answer may be a quote's own sentence: it is the answer (cited), and it is not quoted again."""
    sentence = "Staff travelling to Reykjavik receive a daily meal allowance of 87 euros."
    a = Assistant(Settings.load(), embedder=embedder, generator=ScriptedGenerator(sentence))
    a.index([docs])
    answer = a.ask("What is the daily meal allowance in Reykjavik?")
    assert answer.grounded and answer.checks[0].verified
    assert any(e.text == sentence for e in answer.evidence)  # the evidence keeps it (the app and --json show it)
    assert answer.answer.count(sentence[:-1]) == 1, answer.answer  # shown once: as the answer, with its citation
    assert f"{sentence[:-1]} [" in answer.answer
    _assert_checkable(answer)
