"""The direct answer (a factoid's short span of the quoted evidence) and the rule that a shown model
sentence must answer the question."""

from __future__ import annotations

import pytest

from assistant.answer.direct import agrees, direct_answer, direct_answer_block, question_kind
from assistant.answer.evidence import split_sentences
from assistant.answer.verify import FRAGMENT, META_TEXT, OFF_TOPIC, REPEATS, answers, without_lead_in
from assistant.evaluation import normalise, off_topic, token_f1
from assistant.types import DirectAnswer, Evidence, Hit

TORQUE = ("The quarterly review covered staffing, procurement and the state of the regional depots. The Zephyr-9 "
          "inlet valve must be torqued to exactly 42 newton-metres before the pump is started. Network "
          "maintenance windows are announced at least five working days in advance.")
FINAL = ("The American Football Conference (AFC) champion Denver Broncos defeated the National Football Conference "
         "(NFC) champion Carolina Panthers 24–10 to earn their third Super Bowl title.")


def _answer(question: str, text: str, sentence: int = 0):
    hit = Hit("/docs/a.md", 1, 1.0, text, None, None, 1, 3)
    s = split_sentences(text)[sentence]
    return direct_answer(question, [hit], [Evidence(1, s.text, s.start, s.end, 1.0)])


@pytest.mark.parametrize(("question", "text", "expected"), [
    ("What torque should the Zephyr-9 inlet valve be tightened to?", TORQUE, "42 newton-metres"),
    ("Who built the lighthouse on Skerry Island?",
     "The lighthouse on Skerry Island was built in 1874 by the engineer Margaret Hale.", "Margaret Hale"),
    ("Who built the lighthouse?",  # the island is a name too, but the builder is the agent ("by ...")
     "The lighthouse on Skerry Island was built in 1874 by the engineer Margaret Hale.", "Margaret Hale"),
    ("When was the lighthouse on Skerry Island built?",
     "The lighthouse on Skerry Island was built in 1874 by the engineer Margaret Hale.", "1874"),
    ("How far could its lamp be seen?", "Its lamp could be seen from 22 nautical miles away.", "22 nautical miles"),
    ("What day was the game played on?",
     "The game was played on February 7, 2016, at Levi's Stadium in Santa Clara.", "February 7, 2016"),
    ("What stadium did the game take place in?",
     "The game was played on February 7, 2016, at Levi's Stadium in Santa Clara.", "Levi's Stadium"),
    ("How many tickets were sold?", "In all, 4,000 tickets were sold in the first hour.", "4,000 tickets"),
    # After its number a quantity keeps its unit or the thing counted, and nothing further.
    ("How many seconds were left?", "The pass was intercepted with 17 seconds left in the game.", "17 seconds"),
    ("How much did it cost to build the stadium?", "The $1.2 billion stadium opened in 2014.", "$1.2 billion"),
    ("How many forced fumbles did Miller have?", "Miller had two forced fumbles in the game.", "two forced fumbles"),
    # An age is a number, with years at most: not "off-season" once the question's "2015" is trimmed off, not
    # "two different teams".
    ("How old was Peyton Manning in 2015?", "Due to an injury in his heel that he had suffered since the summer, "
     "and the simple fact that Manning was getting old, as he turned 39 in the 2015 off-season.", "39"),
    ("How old was Manning when he played Super Bowl 50?", "Manning became the oldest quarterback ever to win a "
     "Super Bowl at age 39, and the first quarterback ever to win a Super Bowl with two different teams.", "39"),
    # A name in the possessive is given without its "'s"; a capitalised word that describes ("the British
    # rock band") is not a name; "Despite" opening a sentence is not part of one.
    ("Who was the quarterback for the Broncos?",
     "The Broncos relied on Peyton Manning's experience at quarterback.", "Peyton Manning"),
    ("Who headlined the halftime show?", "The halftime show was headlined by the British rock group Coldplay "
     "with special guest performers Beyoncé and Bruno Mars.", "Coldplay"),
    ("Who did not throw at all during the playoff games?",
     "Despite Manning's poor numbers, he did not throw at all during the playoff games.", "Manning"),
    # Who won stands before "defeated" and who lost after it, the other way round after "lost to" or
    # "were defeated by"; a score after a name is not part of it.
    ("Which team won Super Bowl 50?", FINAL, "Denver Broncos"),
    ("Who won Super Bowl 50?", FINAL, "Denver Broncos"),
    ("Which team lost Super Bowl 50?", FINAL, "Carolina Panthers"),
    ("Who lost to the Broncos in the divisional round?",
     "The Broncos defeated the Pittsburgh Steelers in the divisional round, 23-16.", "Pittsburgh Steelers"),
    ("Who won the divisional round game?",
     "The Pittsburgh Steelers lost to the Broncos in the divisional round, 23-16.", "Broncos"),
    ("Which team won the AFC Championship?",
     "The New England Patriots were defeated by the Denver Broncos in the AFC Championship.", "Denver Broncos"),
    # A name spelled out before an acronym the question says is the question's own words; one spelled out
    # before a lower-case word describes the answer ("the ... Conference (NFC) champion Carolina Panthers").
    ("Who was the 2015 NFL MVP?", "The Panthers finished the regular season with a 15–1 record, and quarterback "
     "Cam Newton was named the NFL Most Valuable Player (MVP).", "Cam Newton"),
    ("Who did the Broncos beat?", FINAL, "Carolina Panthers"),
    ("Which NFL team won Super Bowl 50?", FINAL, "Denver Broncos"),
    # Backquoted text answers "which command" whole, and a path answers "where" better than "on Linux".
    ("Which command shows the files that failed?",
     "- `assistant docs` lists every document with its status, and the error for files that failed.",
     "assistant docs"),
    ("Where is my data stored?", "The index and the logs are kept in your user data folder "
     "(`~/.local/share/assistant` on Linux); `assistant paths` prints where.", "~/.local/share/assistant"),
    # Asking politely is still asking who; a capitalised plural ("Panthers player") names one player.
    ("Can you tell me who built the lighthouse?",
     "The lighthouse on Skerry Island was built in 1874 by the engineer Margaret Hale.", "Margaret Hale"),
    ("Which Panthers player got a penalty?", "Panthers cornerback Josh Norman got a penalty for the hit.",
     "Josh Norman"),
])
def test_the_span_that_answers(question: str, text: str, expected: str) -> None:
    found = _answer(question, text, 1 if text is TORQUE else 0)
    assert found is not None and found.text == expected
    hit_text = text
    assert " ".join(hit_text[found.start:found.end].split()) == found.text  # verbatim, by its offsets
    assert direct_answer_block(found) == f"**{expected}** [1]"


@pytest.mark.parametrize("question", [
    "How does incremental sync work?", "Why is the index a single file?", "Does it need an internet connection?",
    "Explain the relevance gate", "Compare BM25 and dense search",
])
def test_no_direct_answer_when_the_question_is_not_a_factoid(question: str) -> None:
    assert question_kind(question) is None
    assert _answer(question, "Incremental sync reads only changed files since 2024 at Acme Corp.") is None


@pytest.mark.parametrize(("question", "text", "expected"), [
    # "How big" needs a size, not "one paragraph"; given one, the unit in capitals comes with it.
    ("How big can a file be?", "Editing one paragraph of a long file re-embeds about one chunk.", None),
    ("How big can a file be?", "Files larger than the size limit (50 MB by default) are skipped.", "50 MB"),
    # A number answers "what yard line", not "what model".
    ("What model does it embed with?", "A chunk never exceeds what the embedding model reads (256 word pieces).",
     None),
    ("On what yard line did Carolina begin?", "Carolina began the drive at their own 24-yard line.", "24"),
    # A sentence-initial adverb is not a name.
    ("What embedding model does it use?", "Instead, the embedding model is loaded from a local folder.", None),
    # A sentence without any of the question's words says nothing sure about it.
    ("Who wrote the assistant?", "The index is one SQLite file on the workstation.", None),
    # "What covered the field?" does not say what kind of thing it asks for.
    ("What covered the new field?", "Concerns were raised when the new field was covered in Bermuda turf.", None),
    # Asked for several things, one name of a list is no answer.
    ("Which file formats can it read?",
     "It reads plain text, Markdown, reStructuredText, HTML, PDF and Word (.docx) documents.", None),
    ("Which teams played in the final?", "The Denver Broncos and the Carolina Panthers played in the final.", None),
    # "Can it tell me which page ...?" asks whether it can, not which page.
    ("Can it tell me which page of a PDF something is on?",
     "PDFs keep their page numbers, so an answer can tell you which page a passage came from.", None),
])
def test_a_guess_is_not_given_as_the_answer(question: str, text: str, expected: str | None) -> None:
    found = _answer(question, text)
    assert (found.text if found else None) == expected


@pytest.mark.parametrize(("question", "kind", "focus"), [
    # The question word that comes first asks; a later "when" or "who" opens a clause.
    ("Where was the meeting held when the owners voted?", "place", ""),
    ("What yard line were the Broncos on when Manning lost the ball?", "thing", "yard"),
    # ... unless the "what" names no kind of thing.
    ("What is the last name of the player who scored?", "person", ""),
    ("What covered the new field?", "thing", ""),
    ("Which retired ref disagreed with the call?", "thing", "retired"),
    ("What year did the Panthers form?", "date", "year"),
])
def test_what_a_question_asks_for(question: str, kind: str, focus: str) -> None:
    found = question_kind(question)
    assert found is not None and (found.kind, found.focus) == (kind, focus)


def test_no_direct_answer_without_a_span_of_the_kind_asked_for() -> None:
    # "How many" over a sentence with no number: nothing pretends to be an answer.
    assert _answer("How many moons does the planet have?", "The planet has several small moons.") is None
    # The only name is the question's own.
    assert _answer("Who maintains Skerry Island?", "Skerry Island is maintained every year.") is None


def test_a_shown_sentence_must_answer_the_question() -> None:
    q = "What torque should the Zephyr-9 inlet valve be tightened to?"
    quote = "The Zephyr-9 inlet valve must be torqued to exactly 42 newton-metres before the pump is started."
    # True to the source, but about another topic of the same passage.
    assert answers("The quarterly review covered staffing, procurement and the regional depots.", q,
                   [quote]) == OFF_TOPIC
    assert answers("Network maintenance windows are announced five working days in advance.", q, [quote]) == OFF_TOPIC
    assert answers('The sources are: "The quarterly review covered staffing.', q, [quote]) == META_TEXT
    assert answers("The answer to this question can be found in the documents.", q, [quote]) == META_TEXT
    assert answers("The Zephyr-9 inlet valve must be torqued to 42 newton-metres.", q, [quote]) == REPEATS
    assert answers("The valve torque applies to nothing you own ever leaves it: the models.", q, [quote]) == FRAGMENT
    # Something the quote does not say, about the question's subject: shown.
    assert answers("The inlet valve torque is checked again after the first hour of running.", q, [quote]) == ""


def test_a_lead_in_is_cut_from_the_claim() -> None:
    claim = "According to the sources, the valve is torqued to 42 Nm."
    assert without_lead_in(claim) == "The valve is torqued to 42 Nm."
    assert without_lead_in("According to [1], it works.") == "According to [1], it works."  # not a lead-in we know
    # "The answer is:" before a claim (in quotation marks or not) is cut too; what is left is checked as it is.
    assert without_lead_in('The answer is: "The Broncos stayed at the Santa Clara Marriott."') == \
        "The Broncos stayed at the Santa Clara Marriott."
    assert without_lead_in("Answer: the game was played in 2016.") == "The game was played in 2016."
    assert answers(without_lead_in("The answer is: 2014."), "In what year?", []) == FRAGMENT


def test_a_sentence_that_pairs_a_quotes_words_wrongly_does_not_lead() -> None:
    """Every word of "The Broncos practiced at the Santa Clara Marriott." is in the quote "The Broncos practiced at
    Stanford University and stayed at the Santa Clara Marriott."; what it answers is not what the quote answers."""
    q = "Where did the Broncos practice for the Super Bowl?"
    direct = DirectAnswer("Stanford University", 1, 0, 19)
    assert not agrees(q, "The Broncos practiced at the Santa Clara Marriott.", direct)
    assert agrees(q, "The Broncos practiced at Stanford University.", direct)
    assert agrees(q, "The Broncos practiced at Stanford.", direct)  # half of its words is enough
    # Only the words the question does not hold count: "Marriott" is the question's.
    city = "In what city's Marriott did the Broncos stay?"
    assert not agrees(city, "They stayed at the San Jose Marriott.", DirectAnswer("Santa Clara Marriott", 1, 0, 1))
    when = "When did the NFL announce it?"
    assert agrees(when, "The NFL announced it in June 2014.", DirectAnswer("June 4, 2014", 1, 0, 1))
    # Not a person, place, date or number, or no direct answer: nothing to compare.
    assert agrees("Why did the Broncos wear white?", "Elway liked white.", DirectAnswer("success", 1, 0, 1))
    assert agrees(q, "The Broncos practiced at the Santa Clara Marriott.", None)


def test_squad_normalisation_and_f1() -> None:
    assert normalise("The Denver Broncos!") == "denver broncos"
    assert token_f1("Denver Broncos", "the Denver Broncos") == 1.0
    assert token_f1("42", "42 newton-metres") == 0.5  # "newton-metres" is two words once punctuation goes
    assert token_f1("Carolina", "Denver Broncos") == 0.0
    assert off_topic("The review covered staffing [1].", "What torque does the valve need?")
    assert not off_topic("The valve needs 42 Nm [1].", "What torque does the valve need?")


def test_who_won_is_read_where_a_sentence_says_who_beat_whom() -> None:
    # In lower case the best evidence sentences of "which team won super bowl 50?" were about the league and
    # the records, the result third; the league was given as the winner.
    text = ("Super Bowl 50 was an American football game to determine the champion of the National Football "
            f"League (NFL) for the 2015 season. Super Bowl 50 featured numerous records from teams. {FINAL}")
    hit = Hit("/docs/sb.md", 1, 1.0, text, None, None, 1, 3)
    evidence = [Evidence(1, s.text, s.start, s.end, 1.5 - 0.02 * i) for i, s in enumerate(split_sentences(text))]
    found = direct_answer("which team won super bowl 50?", [hit], evidence)
    assert found is not None and found.text == "Denver Broncos"
    # Who lost is not guessed from a sentence that does not say it (this named the winner)...
    lead = "The Broncos took an early lead in Super Bowl 50 and never trailed."
    hit = Hit("/docs/sb.md", 1, 1.0, lead, None, None, 1, 1)
    assert direct_answer("who lost super bowl 50?", [hit], [Evidence(1, lead, 0, len(lead), 1.0)]) is None
    # ... "blew out" says it; and "who lost 3 yards" asks who, not who lost a game.
    found = _answer("Who did the Panthers beat in the NFC Championship Game?",
                    "The Panthers then blew out the Arizona Cardinals in the NFC Championship Game, 49–15.")
    assert found is not None and found.text == "Arizona Cardinals"
    found = _answer("Who lost 3 yards on a tackle by Shaq Thompson?",
                    "Ronnie Hillman lost 3 yards on a tackle by Shaq Thompson on the next play.")
    assert found is not None and found.text == "Ronnie Hillman"


def test_a_small_model_reads_the_quotes_under_their_passages_numbers() -> None:
    from assistant.answer.prompts import quoted_texts

    texts = ["The lighthouse on the island was built in 1871 by the harbour board. Its keeper was Margaret Hale. "
             "The lamp of the lighthouse burned whale oil until 1920.",
             "The harbour opened in 1850. Fishing boats moored there.",
             "The town council met on Mondays. Its minutes were kept by the clerk of the town council.",
             "This is page two. (16 point font) The end."]
    hits = [Hit("/docs/a.md", i, 1.0, t, None, None, 1, 1) for i, t in enumerate(texts, 1)]
    quote = [(3, 1), (1, 2), (1, 0), (4, 0)]  # (source, sentence): the passages' order within a source is kept
    evidence = []
    for n, i in quote:
        s = split_sentences(texts[n - 1])[i]
        evidence.append(Evidence(n, s.text, s.start, s.end, 1.0))
    read = quoted_texts(hits, evidence)
    assert read == [
        "The lighthouse on the island was built in 1871 by the harbour board. The lamp of the lighthouse burned "
        "whale oil until 1920.",
        "The harbour opened in 1850.",  # no quote: its first sentence keeps number 2
        "Its minutes were kept by the clerk of the town council.",
        "This is page two. (16 point font) The end."]  # a short quote is read with the sentence after it
    assert len(read) == len(hits)  # one text for each source up to the last quoted one: the numbers stay
    assert quoted_texts(hits, []) == texts


def test_a_short_answer_never_cuts_a_number() -> None:
    """SQuAD 2.0 with the 0.5B model: "Versions 3.3 and 3.4 ..." gave "**3**", a number no source holds (the run of
    capitalised words "Versions 3" stopped inside "3.3")."""
    text = ("Versions 3.3 and 3.4 of the Wii Menu prevented copying exploited save files onto the console, and "
            "version 4.0 of the Wii Menu patched the vulnerability.")
    hit = Hit("/docs/tp.md", 1, 1.0, text, None, None, 1, 1, relevant=True)
    da = direct_answer("What version of the Wii patched the hack vulnerability?", [hit],
                       [Evidence(1, text, 0, len(text), 1.0)])
    assert da is None or da.text not in ("3", "3.3 and 3"), da
