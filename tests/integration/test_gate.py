"""The relevance gate calibrated to the library it runs on (real embedder, real index)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from docgen import prose

from assistant import Assistant, ConfigError, Settings
from assistant.search.gate import FLOOR, GATE_META, PROBES

REPO = Path(__file__).resolve().parents[2]
NATURAL = [json.loads(line) for line in (REPO / "bench/data/sample_natural.jsonl").read_text().splitlines()]


@pytest.fixture
def sample(assistant: Assistant) -> Assistant:
    assistant.index()  # no roots yet: the bundled sample library
    return assistant


@pytest.mark.parametrize("question", ["which file formats can it read?", "does it need an internet connection?",
                                      "can it read scanned PDFs?", "where is my data stored?"])
def test_natural_questions_about_the_sample_are_answered(sample: Assistant, question: str) -> None:
    hits = sample.search(question)
    assert hits[0].relevant, (question, hits[0].heading, hits[0].relevance, sample.relevance_threshold())


def test_sample_natural_set_answered_and_unrelated_refused(home: Path, embedder) -> None:
    from assistant.evaluation import evaluate_answers, load_questions

    a = Assistant(Settings.load({"answer_style": "quote"}), embedder=embedder)  # the evidence a reply rests on
    a.index()
    r = evaluate_answers(a, load_questions(REPO / "bench/data/sample_natural.jsonl"))
    assert r["natural_evaluated"] >= 30 and r["offtopic_evaluated"] >= 30
    # README, "The relevance gate": 30 of 36 today (the target is 90%: not reached; two questions
    # stay below the gate and four quote the wrong section). This guards against going back.
    assert r["right_section_rate"] >= 0.8, r
    assert r["offtopic_refused_rate"] >= 0.95, r
    assert not set(PROBES) & {q["question"] for q in NATURAL}  # the probes are not the test questions


def test_calibration_is_kept_in_the_index_and_follows_big_changes(sample: Assistant, library: Path) -> None:
    cal = json.loads(sample.store.meta(GATE_META) or "{}")
    assert cal["chunks"] == sample.store.counts()["chunks"] and FLOOR <= cal["threshold"]
    for i in range(8):
        (library / f"n{i}.md").write_text(f"# Notes {i}\n\n" + "\n\n".join(prose(i * 10 + j, 5) for j in range(8)))
    sample.index([library])
    grown = json.loads(sample.store.meta(GATE_META) or "{}")
    assert grown["chunks"] == sample.store.counts()["chunks"] > cal["chunks"]
    # A small change keeps the stored calibration.
    (library / "one.md").write_text("# One\n\nA single short note about the harbour.\n")
    sample.index([library])
    assert json.loads(sample.store.meta(GATE_META) or "{}") == grown


def test_fixed_threshold_setting_is_honoured(home: Path, embedder) -> None:
    a = Assistant(Settings.load({"relevance_threshold": "1.4"}), embedder=embedder)
    a.index()
    assert a.relevance_threshold() == 1.4
    assert not a.search("which file formats can it read?")[0].relevant
    with pytest.raises(ConfigError, match=r"\[search\] relevance_threshold.*'high'.*auto or a number"):
        Settings.load({"relevance_threshold": "high"})  # refused when the settings load, not at the first search


def test_changing_the_relevance_settings_recalibrates(sample: Assistant, embedder) -> None:
    before = sample.calibration()
    assert before.params == "coverage_weight=0.5 stem_length=5"
    other = Assistant(Settings.load({"coverage_weight": "0.0"}), embedder=embedder)
    after = other.calibration()  # stored with other settings: computed again, with cosine alone
    assert after.params == "coverage_weight=0.0 stem_length=5" and after.probe_high < before.probe_high
    hit = other.search("how does incremental sync work?")[0]
    assert hit.relevance == pytest.approx(hit.cosine)  # no word-coverage bonus any more
