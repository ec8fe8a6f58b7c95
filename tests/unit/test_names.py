"""Which documents a question names by their file name (assistant/search/names.py, text.file_name_key)."""

from __future__ import annotations

from assistant.search.names import MAX_NAMED, find, in_memory
from assistant.text import file_name_key, name_words

LIBRARY = in_memory(["/lib/peps/pep-0008.rst", "/lib/peps/pep-0257.rst", "/lib/peps/pep-0080.rst",
                     "/lib/Super_Bowl_50.md", "/lib/notes.txt", "/lib/a-1.txt", "/lib/finance/Q3-budget.xlsx",
                     "/lib/finance/Q3-budget-draft.xlsx", "/lib/mail.msg/Q3-budget.xlsx"])


def named(question: str) -> list[str]:
    return find(question, LIBRARY)[0]


def test_file_names_are_their_words_and_numbers_without_leading_zeros() -> None:
    assert file_name_key("/x/pep-0008.rst") == "pep 8"
    assert file_name_key("/x/Super_Bowl_50.md") == "super bowl 50"
    assert file_name_key("C:\\docs\\Q3-budget.xlsx") == "q 3 budget"
    assert name_words("PEP8, pep-0008 and PEP 8") == ("pep", "8", "pep", "8", "and", "pep", "8")
    assert name_words("x² ٣") == ("x²", "3")  # a superscript is no number; other scripts' digits are


def test_names_a_question_could_use_by_chance_do_not_count() -> None:
    assert file_name_key("/x/notes.txt") is None  # one word
    assert file_name_key("/x/a-1.txt") is None  # no word of three letters
    assert file_name_key("/x/how-to.md") is None  # function words only
    assert named("What do my notes say about a 1 to 5 rating?") == []


def test_a_question_names_a_file_in_any_spelling_and_loses_the_name() -> None:
    for q in ("What does PEP 8 say about the maximum line length?", "what does pep8 say about the maximum line length?",
              "What does PEP-0008 say about the maximum line length?"):
        found, rest, said = find(q, LIBRARY)
        assert found == ["/lib/peps/pep-0008.rst"], q
        assert rest.lower() == "what does say about the maximum line length?"
        assert said[1] == "pep 8" and said[0].lower().replace(" ", "") in ("pep8", "pep-0008"), said
    assert named("Why is PEP 80 different?") == ["/lib/peps/pep-0080.rst"]  # not PEP 8
    assert named("Who won Super Bowl 50?") == ["/lib/Super_Bowl_50.md"]
    assert named("Who won Super Bowl 500?") == []


def test_two_names_both_count_and_a_longer_name_hides_the_shorter_inside_it() -> None:
    assert named("the difference between PEP 8 and PEP 257") == ["/lib/peps/pep-0008.rst", "/lib/peps/pep-0257.rst"]
    # Every file of that name: the folder's and the mail attachment's.
    assert sorted(named("what is in the Q3 budget?")) == ["/lib/finance/Q3-budget.xlsx", "/lib/mail.msg/Q3-budget.xlsx"]
    assert find("what changed in the Q3 budget draft?", LIBRARY) == (["/lib/finance/Q3-budget-draft.xlsx"],
                                                                     "what changed in the ?",
                                                                     ["Q3 budget draft", "q 3 budget draft"])


def test_a_name_shared_by_too_many_files_names_none() -> None:
    many = in_memory([f"/lib/{i}/meeting-minutes.txt" for i in range(MAX_NAMED + 1)])
    assert find("what did the meeting minutes decide?", many) == ([], "what did the meeting minutes decide?", [])
    assert len(find("the meeting minutes", in_memory([f"/lib/{i}/meeting-minutes.txt" for i in range(3)]))[0]) == 3
