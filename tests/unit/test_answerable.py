"""Knowing when there is no answer: the rules of answerable.judge on fixed passages, how the answer says what
the documents do not say, and the model's own pick of the direct answer (span_answer). The end-to-end cases,
with the real models, are in tests/integration/test_not_answered.py."""

from __future__ import annotations

import pytest

from assistant.answer.answerable import fold, judge, question_facts
from assistant.answer.chat import not_answered_text, what_is_asked
from assistant.answer.direct import direct_answer, span_answer
from assistant.answer.evidence import split_sentences
from assistant.types import Evidence, Hit


def _sources(*texts: str, path: str = "/docs/notes.md", heading: str | None = None) -> tuple[list[Hit], list[Evidence]]:
    hits = [Hit(path, i, 1.0, t, heading, None, 1, 3) for i, t in enumerate(texts, 1)]
    evidence = []
    for n, h in enumerate(hits, 1):
        s = split_sentences(h.text)[0]
        evidence.append(Evidence(n, s.text, s.start, s.end, 1.0))
    return hits, evidence


@pytest.mark.parametrize(("question", "facts"), [
    ("Who will be given unlimited access to intelligence gathered by Ten Eyes?", ["Ten Eyes"]),
    ("Alyssa Rosenberg of The Washington Observer said what about the film?",
     ["Alyssa Rosenberg of The Washington Observer"]),
    ("Craig underwent major surgery in what city?", []),  # the first word: a name only when a capital follows
    ("Daniel Craig stars as Ernst Stavro Blofeld in what 2015 film?", ["Daniel Craig", "Ernst Stavro Blofeld", "2015"]),
    ("Which two national basketball teams play in NYC?", ["NYC"]),  # "two" counts what is asked
    ("Upon Chopin's bicentenary, who recommended a list?", []),  # "Upon" opens; "Chopin's" describes
    ("There are two hockey teams located in NYC. What are they?", ["NYC"]),
    ("Which single from B'Day was only released in the U.K.?", ["B'Day", "UK"]),
    ("What percentage of Americans drive cars to work?", []),  # a people's name describes
    ("how much money do I get for food each day on a trip to Iceland's capital?", []),
    ("Who chaired the meeting?", []),
    ("What color jersey has Denver 0-4?", ["Denver", "0-4"]),  # a record is one number, not "Denver 0"
    ("Who won 24–10 in 2016?", ["24–10", "2016"]),
])
def test_the_names_and_numbers_an_answer_must_hold(question: str, facts: list[str]) -> None:
    assert question_facts(question) == facts


def test_a_name_of_the_question_that_no_quoted_sentence_says_means_no_answer() -> None:
    """SQuAD 2.0's entity swaps: the passage is about the question, its sentence answers another one."""
    hits, ev = _sources("In return Spectre will be given unlimited access to intelligence gathered by Nine Eyes.")
    j = judge("Who will be given unlimited access to intelligence gathered by Ten Eyes?", hits, ev)
    assert not j.answered and j.reason == "names" and j.missing == ("Ten Eyes",)
    ok = judge("Who will be given unlimited access to intelligence gathered by Nine Eyes?", hits, ev)
    assert ok.answered


def test_names_are_read_through_accents_acronyms_forms_and_the_file_name() -> None:
    hits, ev = _sources("Her vocal range spans four octaves.", path="/docs/Beyoncé.md")
    assert judge("How many octaves does Beyonce's voice span?", hits, ev).answered  # the file's topic, accents
    hits, ev = _sources("Filming started in Austria in December 2014.")
    assert judge("When did the Austrian filming start?", hits, ev).answered  # Austrian / Austria
    assert not judge("When did the filming in Australia start?", hits, ev).answered  # never Australia / Austria
    hits, ev = _sources("The New York Islanders play in New York City.")
    assert judge("Which hockey team plays in NYC?", hits, ev).answered
    assert fold("Déjà Vu’s") == "deja vu's"


def test_a_question_for_a_person_is_not_answered_by_a_sentence_that_names_none() -> None:
    hits, ev = _sources("The meeting was held on a rainy day and lasted three hours.")
    j = judge("Who opened the meeting?", hits, ev)
    assert not j.answered and j.reason == "kind" and j.kind == "person"


def test_the_cross_encoder_decides_a_weak_quote_when_a_word_of_the_question_is_missing() -> None:
    """The issue's case: a slide titled "Is Pluto a Planet?" is about planets, not about which is largest. The
    cross-encoder reads no quote (and no passage) as answering, and "largest" is in none of them."""
    hits, ev = _sources("Title: Module 3: Is Pluto a Planet?", path="/docs/43781.ppt")
    weak = judge("Which planet is largest?", hits, ev, support=lambda q, texts: [-6.6] * len(texts))
    assert not weak.answered and weak.reason == "weak" and weak.support == -6.6
    assert weak.details["passage_support"] == -6.6
    # A passage the cross-encoder reads as answering (read whole, under its heading) saves it...
    hits2, ev2 = _sources("Title: Module 3: Is Pluto a Planet?", path="/docs/43781.ppt", heading="Planets")
    saved = judge("Which planet is largest?", hits2, ev2,
                  support=lambda q, texts: [5.0 if t.startswith("Planets\n") else -6.6 for t in texts])
    assert saved.answered and saved.details["passage_support"] == 5.0
    # ...and so does a quote holding every word of the question: it is about exactly what is asked.
    hits, ev = _sources("Jupiter is the largest planet of the solar system.")
    assert judge("Which planet is largest?", hits, ev, support=lambda q, texts: [-6.6] * len(texts)).answered
    # Not a question for a kind of thing: a how question's answer spans sentences, and is not read so.
    hits, ev = _sources("Indexing reads each file once and re-reads only what changed.")
    assert judge("How does incremental sync work?", hits, ev, support=lambda q, texts: [-9.0] * len(texts)).answered


def test_a_strong_quote_is_answered_whatever_words_it_uses() -> None:
    hits, ev = _sources("The canteen on the second floor serves soup on Friday.")
    strong = judge("When is soup served in the canteen?", hits, ev, support=lambda q, texts: [7.0] * len(texts))
    assert strong.answered and strong.support == 7.0


@pytest.mark.parametrize(("question", "clause"), [
    ("Who chaired the meeting?", "who chaired the meeting"),
    ("Which planet is largest?", "which planet is largest"),
    ("When was Pluto discovered?", "when Pluto was discovered"),
    ("Where was the meeting held?", "where the meeting was held"),
    ("What is Ryan's last name?", "what Ryan's last name is"),
    ("How far is Pluto from the Sun?", "how far Pluto is from the Sun"),
    ("What is the torque of the Zephyr-9 valve?", "what the torque of the Zephyr-9 valve is"),
    ("Which database does Tracy Yin prefer?", '"Which database does Tracy Yin prefer?"'),
    ("Is it raining?", '"Is it raining?"'),
])
def test_what_the_documents_do_not_say_reads_as_a_sentence(question: str, clause: str) -> None:
    assert what_is_asked(question) == clause


def test_the_not_answered_text_names_what_is_missing_and_shows_the_closest_passages_as_such() -> None:
    hits, ev = _sources("Plan4all Kick-off Meeting, 14th May 2009, Prague", path="/docs/60003.ppt")
    j = judge("Who chaired the meeting?", hits, ev, support=lambda q, texts: [-8.0])
    text = not_answered_text("Who chaired the meeting?", j, hits, ev)
    assert text.startswith("The documents do not say who chaired the meeting.")
    assert "The closest passages, which do not answer it:" in text
    assert "- [1] 60003.ppt, lines 1-3: “Plan4all Kick-off Meeting, 14th May 2009, Prague”" in text
    assert "**" not in text  # nothing in bold: there is no answer
    hits, ev = _sources("In return Spectre will be given unlimited access to intelligence gathered by Nine Eyes.")
    j = judge("Who will be given access to intelligence gathered by Ten Eyes?", hits, ev)
    assert 'None of the closest passages mentions "Ten Eyes".' in not_answered_text("Who?", j, hits, ev)


def test_a_name_run_over_a_line_break_before_a_score_does_not_crash_the_direct_answer() -> None:
    """A name followed by a number across a line break ("Week\\n3-4") once raised ValueError (rindex(" "))."""
    hit = Hit("/docs/a.md", 1, 1.0, "The Denver Broncos beat Carolina Week\n3–4 in the end.", None, None, 1, 3)
    s = split_sentences(hit.text)[0]
    direct_answer("Who beat Carolina?", [hit], [Evidence(1, s.text, s.start, s.end, 1.0)])  # no exception


@pytest.mark.parametrize(("question", "reply", "expected"), [
    ("Where was the kick-off meeting held?", "Prague", "Prague"),
    ("Where was the kick-off meeting held?", "The answer is: Prague.", "Prague"),
    ("When was the kick-off meeting?", '"14th May 2009"', "14th May 2009"),
    ("When was the kick-off meeting?", "14 May 2009", None),  # not the sentence's own words
    ("Where was the kick-off meeting held?", "Kick-off Meeting", None),  # only the question's words
    ("How many people came to the kick-off meeting?", "Prague", None),  # not a number
    ("Where was the kick-off meeting held?", "Prague, in the Czech Republic", None),  # not in the sentence
])
def test_the_models_pick_of_the_direct_answer_is_a_verbatim_span_of_the_right_kind(
        question: str, reply: str, expected: str | None) -> None:
    hits, ev = _sources("Plan4all Kick-off Meeting, 14th May 2009, Prague")
    da = span_answer(question, hits, ev[0], reply)
    assert (da.text if da else None) == expected
    if da:
        assert hits[0].text[da.start:da.end] == da.text


def test_a_sentence_that_states_the_questions_words_its_source_does_not_say_is_found() -> None:
    """Qwen2.5-Coder-0.5B over an e-mail that names Paul Holmes-Higgin and Alfresco: "The chief executive of Alfresco
    is Paul Holmes-Higgin." Its words are the question's and the source's; the relation is nobody's."""
    from assistant.answer.answerable import borrowed

    mail = Hit("/mail/records.msg", 1, 1.0, "From: Mike Farman To: 'Ashutosh Dandavate' <ad@alfresco.com>; 'Paul "
               "Holmes-Higgin' <paul.hh@alfresco.com> Subject: Records management", None, None, 1, 1)
    assert borrowed("Who is the chief executive of Alfresco?", "The chief executive of Alfresco is Paul Holmes-Higgin.",
                    mail) == ["chief", "executive"]
    camp = Hit("/docs/sb50.md", 2, 1.0, "The Broncos practiced at Stanford University and stayed at the Santa Clara "
               "Marriott.", "Super Bowl 50", None, 1, 1)
    where = "Where did the Broncos practice for the Super Bowl?"
    assert borrowed(where, "The Broncos practiced at Stanford University.", camp) == []
    # A focus word the sentence does not state is not held against it.
    assert borrowed("Who is the chief executive of Alfresco?", "Paul Holmes-Higgin works at Alfresco.", mail) == []
