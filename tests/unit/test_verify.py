"""Evidence sentences and the sentence check, on real passages (pure logic: no model needed)."""

from __future__ import annotations

import pytest

from assistant.answer.evidence import numbers, split_sentences
from assistant.answer.verify import REFUSED, Verifier, facts, split_answer
from assistant.types import Hit

VALVE = ("Before refitting the inlet valve, clean the seat with a lint-free cloth. Tighten the Zephyr-9 inlet "
         "valve to exactly 42 newton-metres with a calibrated torque wrench. Over-tightening cracks the ceramic "
         "seat.")
FILTER = "Replace the intake filter every 600 operating hours, or sooner on dusty sites (e.g. quarries)."


def hit(text: str, heading: str = "Maintenance", cid: int = 1) -> Hit:
    return Hit("/docs/pump.md", cid, 1.0, text, heading, None, 1, 3, relevant=True, relevance=0.8, cosine=0.7)


def test_sentences_keep_exact_offsets() -> None:
    text = ("First line of a paragraph\nwrapped here. Second sentence, e.g. with an abbreviation. Third?\n\n"
            "- a list item about 3.5 kg\n- another item\n\n1. numbered step")
    sents = split_sentences(text)
    assert [s.text for s in sents] == [
        "First line of a paragraph wrapped here.", "Second sentence, e.g. with an abbreviation.", "Third?",
        "- a list item about 3.5 kg", "- another item", "1. numbered step"]
    for s in sents:
        assert " ".join(text[s.start:s.end].split()) == s.text


def test_numbers_are_normalised() -> None:
    assert numbers("It cost 1,200 euros on 3.5 days at 10:30, not 42.") == {"1200", "3.5", "10:30", "42"}


def test_facts_of_a_sentence() -> None:
    found = facts("The Zephyr-9 valve is tightened to 6.5 meters by Margaret Hale on twenty days.")
    assert {"Zephyr-9", "6.5", "Margaret", "Hale", "twenty"} <= set(found)
    assert "The" not in found


def test_a_wrong_number_is_never_verified() -> None:
    v = Verifier([hit(VALVE)], "What torque should the Zephyr-9 inlet valve be tightened to?")
    bad = v.check("The Zephyr-9 inlet valve should be tightened to a maximum of 6.5 meters.", [1])
    assert not bad.verified and bad.unsupported_facts == ["6.5"] and "6.5" in bad.reason
    good = v.check("The Zephyr-9 inlet valve is tightened to exactly 42 newton-metres.", [1])
    assert good.verified and good.citations == [1]


def test_number_words_and_names_must_be_in_the_source() -> None:
    v = Verifier([hit(VALVE)], "How do I refit the valve?")
    assert not v.check("Clean the seat for twenty minutes with a lint-free cloth.", [1]).verified
    assert not v.check("Tighten the valve as Margaret Hale recommends with a torque wrench.", [1]).verified
    assert v.check("Clean the seat with a lint-free cloth before refitting the inlet valve.", [1]).verified


def test_unsupported_content_is_not_verified() -> None:
    v = Verifier([hit(VALVE)], "What happens if I over-tighten it?")
    assert v.check("Over-tightening cracks the ceramic seat.", []).verified
    wrong = v.check("Over-tightening rewrites the firmware and voids the warranty entirely.", [1])
    assert not wrong.verified and "not supported" in wrong.reason


def test_a_claim_stitched_from_distant_sentences_is_not_verified() -> None:
    commands = ("`assistant doctor` checks the installation. `assistant paths` prints where everything lives. "
                "`assistant forget PATH` removes a file or folder from the index without touching the files.")
    v = Verifier([hit(commands, "Commands")], "what does doctor do?")
    assert v.check("`assistant doctor` checks the installation.", [1]).verified
    assert not v.check("`assistant doctor` checks the installation of a folder without touching files.", [1]).verified


def test_citation_is_corrected_to_the_source_that_supports_it() -> None:
    v = Verifier([hit(VALVE, cid=1), hit(FILTER, "Filters", cid=2)], "How often is the filter replaced?")
    check = v.check("The intake filter is replaced every 600 operating hours.", [1])
    assert check.verified and check.citations == [2]
    uncited = v.check("The intake filter is replaced every 600 operating hours.", [])
    assert uncited.verified and uncited.citations == [2]
    ghost = v.check("The intake filter is replaced every 600 operating hours.", [7])
    assert ghost.citations == [2]  # a citation can only name a source that exists


def test_refusals_and_empty_sentences_are_not_verified() -> None:
    v = Verifier([hit(VALVE)], "What torque?")
    assert v.check("The documents do not say what torque to use.", [1]).reason == REFUSED
    assert v.check("I don't have enough information to answer.", []).reason == REFUSED
    assert v.check("The answer is", [2]).reason == "says nothing checkable"
    assert v.check("What torque should be used?", [1]).reason == "only repeats the question"


@pytest.mark.parametrize("raw, expected", [
    ("It is 42 newton-metres [1]. The seat is ceramic [1].",
     [("It is 42 newton-metres.", [1]), ("The seat is ceramic.", [1])]),
    ("It is 42 newton-metres. [1] Clean it first [1, 2].",
     [("It is 42 newton-metres.", [1]), ("Clean it first.", [1, 2])]),
    ("- Step one [1]\n- Step two [2]", [("Step one", [1]), ("Step two", [2])]),
    ('"Running it again only redoes what changed [1].', [("Running it again only redoes what changed.", [1])]),
    ('Nothing you own ever leaves it: the models"\nThe answer to this question can be found in [1].',
     [("Nothing you own ever leaves it: the models", []), ("The answer to this question can be found in.", [1])]),
    ('It says "keep it dry" before use [1].', [('It says "keep it dry" before use.', [1])]),
])
def test_split_answer_keeps_each_sentences_citations(raw: str, expected: list[tuple[str, list[int]]]) -> None:
    assert split_answer(raw) == expected


def test_a_claim_stitched_from_two_neighbouring_list_items_is_not_verified() -> None:
    """The sample's command list, as the default model stitched it: the subject of one item and the
    predicate of the next, both only a line apart."""
    commands = ("- `assistant forget PATH` removes a file or folder from the index without touching the files.\n"
                "- `assistant doctor` checks the installation, and `assistant paths` prints where everything lives.")
    v = Verifier([hit(commands, "Using assistant > Commands")], "how does incremental sync work?")
    stitched = v.check("Running `assistant doctor` checks installation of a folder without touching files.", [1])
    assert not stitched.verified
    assert v.check("`assistant doctor` checks the installation.", [1]).verified


def test_commands_options_and_file_names_must_be_in_the_source() -> None:
    """In technical text the facts are commands, options and names: one invented flag passed the word
    check before (a single novel word is allowed), and an answer that looks sourced sent the user to a
    command that does not exist."""
    commands = ("- `assistant index PATH` indexes a folder and registers it.\n"
                "- `assistant forget PATH` removes a file or folder from the index without touching the files.\n"
                "- Settings live in config.toml; search_k sets how many passages a search returns.\n\n"
                "Every command accepts `--json` for scripting.")
    v = Verifier([hit(commands, "Commands")], "How do I remove a folder from the index?")
    made_up = v.check('The answer is: "You can remove a folder from the index using `--delete-folders` command.', [1])
    assert not made_up.verified and made_up.unsupported_facts == ["--delete-folders"]
    assert not v.check("Remove a folder from the index with assistant index --remove.", [1]).verified
    assert not v.check("Set search_passages in settings.toml to change it.", [1]).verified
    assert v.check("`assistant forget PATH` removes a folder from the index without touching the files.", [1]).verified
    assert v.check("Run `assistant forget` on the folder to remove it from the index.", [1]).verified
    typed = Verifier([hit('`assistant search "QUERY"` prints the passages nearest to the query.')], "search?")
    assert typed.check("`assistant search ”QUERY”` prints the passages nearest to the query.", [1]).verified
    assert v.check("search_k in config.toml sets how many passages a search returns.", [1]).verified
    assert set(facts("Use `--json`, set search_k in config.toml, e.g. to 8.")) >= {"--json", "search_k", "config.toml"}


def test_a_number_the_question_gives_may_be_said_again_beside_a_fact_of_the_source() -> None:
    """ "What font size is page two in?" is answered "The font size is 16 point on page two": "two" is the
    question's, 16 the source's. A question's number alone is never support: "Is the torque 50 Nm?" is not
    answered "The torque is 50 Nm"."""
    doc = Hit("/x/SampleDoc.doc", 1, 1.0, "I am Calibri (Body) in font size 11\n\nThis is page two\n\n"
              "It’s Arial Black in 16 point\n\nIt’s also in blue", None, None, None, None)
    assert Verifier([doc], "What font size is page two in?").check("The font size is 16 point in page two.",
                                                                   []).verified
    teams = Hit("/x/nyc.md", 1, 1.0, "The New York Islanders and the New York Rangers represent the city in the "
                "National Hockey League.", None, None, None, None)
    assert Verifier([teams], "There are two hockey teams located in NYC. What are they?").check(
        "The two hockey teams located in NYC are the New York Islanders and the New York Rangers.", []).verified
    valve = Hit("/x/v.md", 1, 1.0, "The valve is tightened to 42 newton-metres.", None, None, None, None)
    check = Verifier([valve], "Is the torque 50 Nm?").check("The torque is 50 Nm.", [])
    assert not check.verified and check.unsupported_facts == ["50"]


def test_a_biographys_abbreviations_do_not_end_a_sentence() -> None:
    """"(r. 1229–1241)", "(b. 1810, d. 1849)": SQuAD's answer "1229–1241" was cut off from its sentence."""
    text = "His successor Ögedei Khan (r. 1229–1241) launched an invasion. Chopin (b. 1810, d. 1849) composed."
    assert [s.text for s in split_sentences(text)] == [
        "His successor Ögedei Khan (r. 1229–1241) launched an invasion.", "Chopin (b. 1810, d. 1849) composed."]


def test_a_possessive_name_and_an_ordinal_the_question_says_are_checked_as_such() -> None:
    """Qwen2.5-Coder-1.5B's right answers, once dropped: "Denver's" is the source's "Denver"; "the 50th Super Bowl"
    is the question's own words beside the source's date."""
    hit = Hit("/docs/sb.md", 1, 1.0, "The Broncos last wore white in Super Bowl XXXIII, Elway's last game as Denver "
              "QB, when they defeated the Atlanta Falcons 34–19. On June 4, 2014, the NFL announced that Roman "
              "numerals would not be used.", None, None, 1, 1)
    elway = Verifier([hit], "What was the last game that Elway played as a quarterback for Denver?")
    assert elway.check("Elway played his last game as Denver's quarterback in Super Bowl XXXIII.", []).verified
    assert "Denver" in facts("Elway was Denver's quarterback.")
    year = "In what year was it declared that no Roman numerals would be used in the name of the 50th Super Bowl?"
    said = "The NFL announced that no Roman numerals would be used in the 50th Super Bowl on June 4, 2014."
    assert Verifier([hit], year).check(said, []).verified
    # An ordinal the question does not say is a fact the source must hold.
    assert not Verifier([hit], "When was it announced?").check(said, []).verified
