"""A question that names a document is searched in it first (setting named_documents; search/names.py),
with the real embedder, index and cross-encoder."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import run_cli, run_cli_json

from assistant import Assistant

QUESTION = "What does PEP 8 say about the maximum line length?"


@pytest.fixture
def peps(assistant: Assistant, library: Path) -> Assistant:
    # PEP 8's own rule never says "PEP 8"; another PEP talks about "the PEP 8 maximum line length" at length.
    (library / "pep-0008.txt").write_text(
        "Style Guide for Python Code\n\n"
        "Limit all lines to a maximum of 79 characters. For flowing long blocks of text with fewer "
        "structural restrictions, such as docstrings or comments, the line length should be limited to 72 "
        "characters.\n\n"
        "Use 4 spaces per indentation level. Spaces are the preferred indentation method.\n\n"
        "Surround top-level function and class definitions with two blank lines.\n")
    (library / "pep-0584.txt").write_text(
        "Add Union Operators To dict\n\n"
        "Written out with the existing methods, the merge expression runs well over the PEP 8 maximum line "
        "length of 80 columns, so PEP 8 style forces the maximum line length question on every reader.\n\n"
        "The new operators merge two dicts: d1 | d2 returns a new dict.\n")
    (library / "garden.txt").write_text("Garden notes\n\nTomatoes need six hours of sun a day.\n")
    assert assistant.index([library]).errors == []
    return assistant


def test_the_named_document_comes_first_and_without_the_name_it_does_not(peps: Assistant) -> None:
    hits = peps.search(QUESTION, k=3)
    assert hits[0].path.endswith("pep-0008.txt") and "79 characters" in hits[0].text
    peps.settings.search.named_documents = False  # the words alone prefer the PEP that says "PEP 8" twice
    assert peps.search(QUESTION, k=3)[0].path.endswith("pep-0584.txt")


def test_the_cross_encoder_keeps_the_named_document_first(peps: Assistant) -> None:
    peps.settings.answer.style = "quote"
    answer = peps.ask(QUESTION)
    assert answer.sources[0].path.endswith("pep-0008.txt") and answer.sources[0].rerank_score is not None
    assert "79 characters" in answer.answer and "80 columns" not in answer.answer.split("\n\n")[0]


def test_other_spellings_name_it_too_and_a_filter_still_applies(peps: Assistant, capsys) -> None:
    for q in ("what does pep8 say about the maximum line length", "PEP-0008: how long may a line be?"):
        rows = run_cli_json("search", "-k", "1", q, capsys=capsys)
        assert rows[0]["path"].endswith("pep-0008.txt"), q
    rows = run_cli_json("search", "-k", "2", "--type", "md", QUESTION, capsys=capsys)
    assert rows == []  # nothing of that type: naming a file does not lift the user's filter


def test_document_searches_put_the_named_document_first_and_search_says_so(peps: Assistant, capsys) -> None:
    rows = run_cli_json("search", "--documents", "-k", "3", QUESTION, capsys=capsys)
    assert rows[0]["path"].endswith("pep-0008.txt") and rows[0]["best"]["named"] is True
    assert [r["best"]["named"] for r in rows[1:]] == [False] * (len(rows) - 1)
    code, out, _ = run_cli("search", "-k", "2", QUESTION, capsys=capsys)
    assert code == 0 and "Names pep-0008.txt: searched there first" in out
    peps.settings.search.named_documents = False
    assert peps.search_documents(QUESTION, k=3)[0].path.endswith("pep-0584.txt")


def test_a_file_is_named_as_soon_as_it_is_indexed_and_by_its_new_name_once_renamed(
        peps: Assistant, library: Path) -> None:
    question = "What does PEP 257 say about one-line docstrings?"
    assert not any(h.named for h in peps.search(question, k=3))  # no such file yet
    (library / "pep-0257.txt").write_text(
        "Docstring Conventions\n\nOne-line docstrings are for really obvious cases. The closing quotes are on "
        "the same line as the opening quotes.\n")
    assert peps.index([library]).added == 1
    hits = peps.search(question, k=3)
    assert hits[0].named and hits[0].path.endswith("pep-0257.txt")
    (library / "pep-0257.txt").rename(library / "docstring-conventions.txt")
    peps.index([library])
    assert not any(h.named for h in peps.search(question, k=3))
    hits = peps.search("What do the docstring conventions say about one-line docstrings?", k=3)
    assert hits[0].named and hits[0].path.endswith("docstring-conventions.txt")


def test_a_follow_up_goes_on_about_the_document_its_conversation_named(peps: Assistant, library: Path) -> None:
    (library / "pep-0007.txt").write_text(
        "Style Guide for C Code\n\nWhat about indentation? Indentation in C code: indentation is 4 spaces, "
        "never tabs, and the indentation of continuation lines follows the opening parenthesis.\n")
    peps.index([library])
    peps.settings.answer.style = "quote"
    first = peps.ask(QUESTION)
    assert first.sources[0].path.endswith("pep-0008.txt")
    follow = peps.ask("and what about indentation?", chat_id=first.chat_id)
    assert follow.sources[0].path.endswith("pep-0008.txt") and follow.sources[0].named
    assert "4 spaces per indentation level" in follow.answer
    assert peps.named_documents("and what about indentation?") == []  # on its own it names nothing


def test_a_name_its_document_is_about_stays_in_the_question_searched_there(peps: Assistant, library: Path) -> None:
    # Every passage of this file says its name (its heading): the name is what it is about, and searching it
    # for "Which player won?" alone would find any win in it ("Which team won?" found Super Bowl XIX's
    # winner in Super_Bowl_50.md). PEP 8's passages never say "PEP 8": there it is a label, taken out.
    (library / "Oslo_Chess_Open.md").write_text(
        "# Oslo Chess Open\n\n## The result\n\nThe 2024 Oslo Chess Open went to Magnus Carlsen, a full point "
        "ahead of Fabiano Caruana.\n\n## Side events\n\nA twelve-year-old player won the junior side event.\n")
    peps.index([library])
    store = peps._bound_store()
    question = "Which player won the Oslo Chess Open?"
    named, asked, _ = peps.searcher._named(store, question, peps.question_vector(question))
    assert [Path(p).name for p in named] == ["Oslo_Chess_Open.md"] and asked == question
    assert store.phrase_share(["Oslo Chess Open"], named) == 1.0
    named, asked, _ = peps.searcher._named(store, QUESTION, peps.question_vector(QUESTION))
    assert [Path(p).name for p in named] == ["pep-0008.txt"]
    assert asked == "What does say about the maximum line length?"
    assert store.phrase_share(["PEP 8", "pep 8"], named) == 0.0
