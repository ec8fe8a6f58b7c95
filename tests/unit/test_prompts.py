"""Citation parsing (pure)."""

from __future__ import annotations

from assistant.prompts import extract_citations


def test_valid_citations_are_kept_and_unknown_numbers_removed() -> None:
    text, cited = extract_citations("Paris [1]. Lyon [7]. Both [2, 9] and [3;1].", 3)
    assert text == "Paris [1]. Lyon. Both [2] and [3][1]."
    assert cited == [1, 2, 3]


def test_no_citations() -> None:
    assert extract_citations("Nothing cited here.", 2) == ("Nothing cited here.", [])
    assert extract_citations("[0] and [12]", 2) == ("and", [])
