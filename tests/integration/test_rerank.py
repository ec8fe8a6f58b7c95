"""Reordering passages with the real cross-encoder (settings rerank, search_rerank; ./install.sh installs it)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import MODELS, run_cli, run_cli_json

from assistant import Assistant, Settings
from assistant.errors import ConfigError, ModelNotFoundError
from assistant.search.rerank import TIE_MARGIN, CrossEncoder

QUESTION = "Who won the chess tournament in Oslo?"


@pytest.fixture
def oslo(assistant: Assistant, library: Path) -> Assistant:
    # The first passage repeats the question's words and answers nothing; the second answers it.
    (library / "oslo.md").write_text(
        "# Oslo chess tournament\n\nThe Oslo chess tournament is held every spring. Crowds fill the hall for the "
        "chess tournament in Oslo, and tickets for the tournament sell out weeks ahead; many ask who will win "
        "the chess tournament in Oslo this year.\n\n# Results\n\nMagnus Carlsen won this year's event in Oslo "
        "after a tense tiebreak on Sunday, ahead of Fabiano Caruana.\n")
    (library / "garden.md").write_text("# Garden\n\nTomatoes need six hours of sun a day and steady watering.\n")
    assert assistant.index([library]).errors == []
    return assistant


def test_the_cross_encoder_scores_the_answering_passage_above_one_that_only_repeats_the_question() -> None:
    path = MODELS / Settings.load().models.reranker
    if not path.exists():
        pytest.fail(f"cross-encoder missing at {path}: run ./install.sh")
    scores = CrossEncoder(path, threads=2).score(
        "Which team won Super Bowl 50?",
        ["Which team won Super Bowl 50? Everyone asked which team would win Super Bowl 50.",
         "The Denver Broncos defeated the Carolina Panthers 24-10 to win Super Bowl 50.",
         "PEP 8 limits all lines to a maximum of 79 characters."])
    assert scores.argmax() == 1 and scores[2] == scores.min()


def test_rerank_puts_the_passage_that_answers_first(oslo: Assistant) -> None:
    before = oslo.search(QUESTION, k=2)
    assert "held every spring" in before[0].text and before[0].rerank_score is None  # hybrid: the echo first
    oslo.settings.search.rerank = 5
    hits = oslo.search(QUESTION, k=2)
    assert "Magnus Carlsen won" in hits[0].text
    assert hits[0].rerank_score is not None and hits[0].rerank_score > hits[1].rerank_score
    assert {h.chunk_id for h in hits} == {h.chunk_id for h in before}  # reordered, not re-retrieved


def test_rerank_reads_more_passages_than_it_returns(oslo: Assistant) -> None:
    oslo.settings.search.rerank = 5
    (top,) = oslo.search(QUESTION, k=1)  # the answer was second for hybrid search: rerank still finds it
    assert "Magnus Carlsen" in top.text


def test_answers_are_reordered_by_default_and_searches_only_on_a_near_tie(oslo: Assistant) -> None:
    assert (oslo.settings.answer.rerank, oslo.settings.search.rerank, oslo.settings.search.rerank_ties) == (10, 0, 3)
    oslo.settings.answer.style = "quote"
    (first, second) = oslo.search(QUESTION, k=2)  # hybrid search is sure here (wrongly): no reordering
    assert "held every spring" in first.text and first.score - second.score > TIE_MARGIN
    assert first.rerank_score is None
    answer = oslo.ask(QUESTION, k=1)
    assert "Magnus Carlsen" in answer.sources[0].text and "Magnus Carlsen" in answer.answer
    oslo.settings.answer.rerank = 0  # and off: the passage that only repeats the question is the one source
    assert "held every spring" in oslo.ask(QUESTION, k=1).sources[0].text


@pytest.fixture
def postman(assistant: Assistant, library: Path) -> Assistant:
    # The same words in two orders: keywords cannot tell them apart and meaning barely can.
    (library / "monday.md").write_text("# Notes\n\nThe dog bit the postman in the garden on Monday morning.\n")
    (library / "tuesday.md").write_text("# Notes\n\nThe postman bit the dog in the garden on Monday morning.\n")
    (library / "garden.md").write_text("# Garden\n\nTomatoes need six hours of sun a day and steady watering.\n")
    assert assistant.index([library]).errors == []
    return assistant


def test_a_near_tie_is_settled_by_the_cross_encoder_by_default(postman: Assistant, tmp_path: Path, capsys) -> None:
    question = "Who bit the postman?"
    hybrid = postman.search(question, k=3, rerank=0)
    assert "The postman bit the dog" in hybrid[0].text and hybrid[0].rerank_score is None  # hybrid: wrong way
    assert hybrid[0].score - hybrid[1].score < TIE_MARGIN
    hits = postman.search(question, k=3)
    assert "The dog bit the postman" in hits[0].text and hits[0].rerank_score > hits[1].rerank_score
    assert [h.chunk_id for h in hits[2:]] == [h.chunk_id for h in hybrid[2:]]  # only the first three move
    assert "The dog bit" in run_cli_json("search", question, capsys=capsys)[0]["text"]
    assert "The postman bit" in run_cli_json("search", "--rerank", "0", question, capsys=capsys)[0]["text"]
    code, out, _ = run_cli("search", "-k", "2", question, capsys=capsys)  # and says why the order is not hybrid's
    assert code == 0 and "near-tie" in out and out.index("The dog bit") < out.index("The postman bit")
    questions = tmp_path / "q.jsonl"  # eval measures the same: the answer first once the tie is settled
    questions.write_text(json.dumps({"question": question, "answers": ["dog bit the postman"]}) + "\n")
    result = run_cli_json("eval", str(questions), capsys=capsys)
    assert (result["hit@1"], result["reordered_rate"]) == (1.0, 1.0)
    result = run_cli_json("eval", str(questions), "--rerank", "0", capsys=capsys)
    assert (result["hit@1"], result["hit@k"], result["reordered_rate"]) == (0.0, 1.0, 0.0)
    postman.settings.search.rerank_ties = 0
    assert postman.search(question, k=3)[0].chunk_id == hybrid[0].chunk_id
    with pytest.raises(ConfigError, match=r"\[search\] rerank_ties.*-2 is not allowed; it must be a whole number, "
                                          "at least 0"):
        Settings.load({"search_rerank_ties": -2})


def test_without_the_cross_encoder_a_near_tie_keeps_hybrid_order(postman: Assistant, tmp_path: Path) -> None:
    bare = Assistant(Settings.load({"rerank_model": str(tmp_path / "nowhere")}), embedder=postman.embedder)
    hits = bare.search("Who bit the postman?", k=3)
    assert "The postman bit the dog" in hits[0].text and hits[0].rerank_score is None
    bare.close()


def test_search_and_ask_take_rerank_on_the_command_line(oslo: Assistant, capsys) -> None:
    rows = run_cli_json("search", "--rerank", "5", "-k", "2", QUESTION, capsys=capsys)
    assert "Magnus Carlsen" in rows[0]["text"] and rows[0]["rerank_score"] > rows[1]["rerank_score"]
    code, out, _ = run_cli("search", "--rerank", "5", "-k", "1", QUESTION, capsys=capsys)
    assert code == 0 and "Magnus Carlsen" in out and "cross-encoder" in out
    answer = run_cli_json("ask", "--style", "quote", "--rerank", "5", QUESTION, capsys=capsys)
    assert "Magnus Carlsen" in answer["answer"]


def test_a_missing_cross_encoder_or_a_negative_setting_says_what_to_do(oslo: Assistant, tmp_path: Path) -> None:
    broken = Assistant(Settings.load({"search_rerank": 5, "rerank_model": str(tmp_path / "nowhere")}),
                       embedder=oslo.embedder)
    with pytest.raises(ModelNotFoundError, match=r"run \./install\.sh"):
        broken.search(QUESTION)
    broken.close()
    with pytest.raises(ConfigError, match=r"\[search\] rerank.*-1 is not allowed"):
        Settings.load({"search_rerank": -1})
    with pytest.raises(ConfigError, match="--rerank must be 0"):
        oslo.search(QUESTION, rerank=-1)


def test_doctor_tries_the_cross_encoder_when_rerank_is_on(home: Path, tmp_path: Path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ASSISTANT_RERANK", "10")
    (check,) = [c for c in run_cli_json("doctor", capsys=capsys) if c["name"] == "reranker"]
    assert check["ok"] and "first passages of answers and near-tie searches" in check["detail"]
    monkeypatch.setenv("ASSISTANT_RERANK_MODEL", str(tmp_path / "nowhere"))
    code, out, _ = run_cli("doctor", "--json", capsys=capsys)
    (check,) = [c for c in json.loads(out) if c["name"] == "reranker"]
    assert code == 1 and not check["ok"] and "./install.sh" in check["detail"]
    monkeypatch.setenv("ASSISTANT_RERANK", "0")
    monkeypatch.setenv("ASSISTANT_SEARCH_RERANK_TIES", "0")  # nothing uses it: not installed is no failure
    (check,) = [c for c in run_cli_json("doctor", capsys=capsys) if c["name"] == "reranker"]
    assert check["ok"] and check["detail"].startswith("off (") and "not installed" in check["detail"]
