"""Whether the quoted evidence answers the question, or only talks about the same things.

The relevance gate (search/gate.py) decides whether a passage is *about* a question. A passage can be on
topic and still not answer: asked "Which planet is largest?", a slide titled "Is Pluto a Planet?" is about
planets; asked who chaired a meeting, minutes that name no chair are about the meeting. Quoting them as the
answer, with a name in bold, is worse than saying that the documents do not say.

So once the evidence is picked, the answer is judged by what a reader would check first (`judge`):

1. **The question's names and numbers** ("Ralph", "Washington Observer", "Ten Eyes", "2013") must stand
   in one evidence sentence, read with its section heading and its file's name (a document's own topic is
   often not repeated: "Beyoncé's vocal range spans four octaves" under Beyonce.md). A run of capitalised
   words is checked word by word (five-letter prefixes: "Austrian" finds "Austria"), and found too when it
   stands whole anywhere in that passage; accents and acronyms are read through ("Beyonce" is "Beyoncé",
   "NYC" is "New York City"). A name found only in other sentences is a word shared by chance ("Who
   reprised the role of Bill Tanner, Ralph who?" over "Rory Kinnear reprised his role as Bill Tanner").
2. **The kind of thing asked for**: a question for a person, a date, a number or a place is answered only
   by a sentence holding one that the question does not already say (direct.py finds them).
3. **The cross-encoder** (when installed) reads the question with each quoted sentence: when the best reads
   as not answering (below WEAK), none of their passages reads as answering (WEAK_PASSAGE), and no sentence
   holds every plain word of the question (its focus, names and the noun of the kind asked for set aside),
   nothing answers: "Which planet is largest?" over "Is Pluto a Planet?", "Who chaired the meeting?" over
   minutes that name no chair. Only a question for a kind of thing is read so (a how or why question's answer
   spans sentences), and not one that asks how to do something ("Where do I change the settings?").
4. **The model's own words**: a model that says the documents do not say is believed when the evidence's
   support is not clearly strong (chat.py asks this after generation).

Each rule was measured on SQuAD 2.0 (`../shared/eval/squad2-train10`: questions written to look answerable
from their article) and on questions near a messy folder's topics; docs/benchmarks/answers.md has the figures.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import PurePath

from assistant.answer.direct import has_candidate, question_kind
from assistant.answer.evidence import numbers
from assistant.text import STOPWORDS, WORD, stem
from assistant.types import Evidence, Hit

WEAK = -2.0  # the cross-encoder's best logit over the evidence sentences below which nothing answers...
WEAK_PASSAGE = 4.0  # ...unless it read one of their passages as answering at least this well...
WEAK_FOCUS = 1.0  # ...or a sentence holds this share of the question's focus words (all of them: it is about them)
STRONG = 4.0  # at or above it the evidence is believed even when the model says the documents do not say
CONTEXT_SHARE = 0.05  # a name this share of a quoted document's passages say is its context (see judge)
SMALL_NUMBERS = 12  # numbers up to this count the thing asked for ("which two teams"), not a fact to find

# "How do I see how many documents there are?", "Where do I change the settings?": how to do something, whatever
# the question word; its answer is a procedure, not a person, number or place.
_PROCEDURAL = re.compile(r"\b(?:do|does|can|could|should|would|will|shall)\s+(?:i|we|you|one)\b|^\s*how\s+(?:do|does|"
                         r"can|could|should|would|to)\b", re.IGNORECASE)
# Acronyms that are common nouns, not names ("does the AI learn from my documents?").
_COMMON_ACRONYMS = frozenset("AI OK PC TV ID FAQ PDF CSV URL API CPU GPU USB IT OS UI".split())
_QUESTION_WORDS = frozenset("what which who whom whose when where why how many much name list give tell describe "
                            "explain define".split())
# A capitalised run: words that start with a capital (or are numbers inside it), joined by a few small words.
# A score or a record ("0-4", "24–10") is one number of it: "Denver 0-4" is not "Denver 0".
_RUN_WORD = r"(?:[A-Z][\w'’&-]*|\d+(?:[.,]\d+)*(?:[-–]\d+(?:[.,]\d+)*)?)"
_NAME_RUN = re.compile(rf"(?<![\w'’-]){_RUN_WORD}(?:\s(?:(?:of|the|de|del|da|van|von|for|and|&)\s)?{_RUN_WORD})*")
_SMALL_WORDS = frozenset("one two three four five six seven eight nine ten eleven twelve".split())
# Words that open a question with a capital and are no names: "Upon Chopin's bicentenary, who ...".
_OPENERS = frozenset("""upon during after before since following despite according approximately about around
    roughly nearly almost besides unlike like apart""".split())
_DEMONYM = re.compile(r"^[A-Z][a-z]+(?:an|ans|ese|ish|ic|i)$")  # American(s), Chinese, British: descriptions
_NUMBER_WORDS = frozenset("""thirteen fourteen fifteen sixteen seventeen eighteen nineteen twenty thirty forty fifty
    sixty seventy eighty ninety hundred thousand million billion""".split())
_QUOTES = str.maketrans("“”„‟‘’‚‛", "\"\"\"\"''''")


@dataclass(frozen=True)
class Judgement:
    """Whether the evidence answers the question, and if not, what is missing."""

    answered: bool
    reason: str = ""  # "names" | "kind" | "focus" | "weak" | "model" | "" (answered)
    missing: tuple[str, ...] = ()  # the question's names or numbers no evidence sentence holds
    kind: str = ""  # the kind of thing asked for (person, date, quantity, place, thing) when it is missing
    support: float | None = None  # the cross-encoder's best logit over the evidence sentences, when read
    details: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


def fold(text: str) -> str:
    """Lower case, accents and typographic quotes read through: "Beyoncé’s" -> "beyonce's"."""
    decomposed = unicodedata.normalize("NFKD", text.translate(_QUOTES))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def question_facts(question: str) -> list[str]:
    """The question's names and numbers that an answering sentence must hold: capitalised runs ("Washington
    Observer", "Super Bowl 50"), numbers and large number words. The question's first word is capitalised
    anyway: it starts a name only when a capital follows ("Daniel Craig stars..."; not "Craig underwent...").
    A small number that counts the thing asked for ("which two teams", "what 2 critics"), a people's name
    used as a description ("Americans", "Chinese") and a possessive's "'s" are not part of the facts."""
    out: list[str] = []
    # Acronyms written with full stops ("U.S.", "U.K.") are read as one word; each sentence on its own.
    text = re.sub(r"\b((?:[A-Z]\.){2,})", lambda m: m.group(1).replace(".", ""), question)
    for part in re.split(r"(?<=[.!?])\s+", text):
        for m in _NAME_RUN.finditer(part):
            words = [re.sub(r"['’]s?$", "", w) for w in m.group(0).split()]
            if m.start() == 0 or not part[:m.start()].strip(" \"“'("):
                first = words[0].lower()
                if first in STOPWORDS or first in _QUESTION_WORDS or first in _OPENERS or len(words) == 1:
                    words = words[1:]
            while words and words[0].lower() in STOPWORDS:
                words = words[1:]
            if not words or (len(words) == 1 and (_DEMONYM.match(words[0]) or words[0].lower() in _SMALL_WORDS
                                                  or words[0] in _COMMON_ACRONYMS)):
                continue  # "The Two highest agencies": a count; "Americans": a description
            if re.match(r"['’]s\b", part[m.end():]) or m.group(0).endswith(("'s", "’s")):
                continue  # "Iceland's capital": a description of what is asked about (Reykjavik), not a name it says
            run = " ".join(words)
            if re.fullmatch(r"[\d.,]+", run):
                digits = run.replace(",", "")
                if digits.isdigit() and int(digits) <= SMALL_NUMBERS:
                    continue
            record = re.search(r"\s(\d+[-–]\d+)$", run)
            if record:  # "Denver 0-4": the team, and its record, each a fact of its own (the team may be the context)
                out += [run[:record.start()], record.group(1)]
                continue
            out.append(run)
    out += [w for w in re.findall(r"[a-z]+", question) if w in _NUMBER_WORDS]
    return list(dict.fromkeys(out))


class _Window:
    """What one evidence sentence is read with: its heading and its file's name; and its whole passage,
    where a run of two or more words may stand."""

    def __init__(self, hit: Hit, sentence: str) -> None:
        name = PurePath(hit.path).stem.replace("_", " ").replace("-", " ")
        self.text = fold(f"{hit.heading or ''}\n{name}\n{sentence}")
        self.words = set(WORD.findall(self.text))
        self.numbers = numbers(self.text)
        self.passage = " ".join(fold(hit.text).split())
        self.initials = _initials(f"{hit.heading or ''} {name} {sentence}")
        self.named = hit.named

    def holds(self, fact: str) -> bool:
        folded = fold(fact)
        words = [w for w in WORD.findall(folded) if w not in STOPWORDS]
        if not words:
            return True
        if self.named and _word_in(words[0], self.words, self.numbers, exact=True):
            return True
        if all(_word_in(w, self.words, self.numbers, exact=True) for w in words):
            return True
        if len(words) > 1 and " ".join(folded.split()) in self.passage:
            return True
        acronym = re.fullmatch(r"([A-Z]{2,6})s?", fact)
        return bool(acronym) and acronym.group(1).lower() in self.initials


def _word_in(word: str, words: set[str], nums: set[str], exact: bool = False) -> bool:
    """Whether a (folded) word of the question is among a sentence's words. Content words match by their
    five-letter stems; names (`exact`) only as themselves, their plural, or a form that differs by its last
    letters ("Austrian" and "Austria", "Chinese" and "China"; never "Australia" and "Austria")."""
    if re.fullmatch(r"[\d.,]+", word):
        return word.replace(",", "") in nums or word in words
    if word in words or (word.endswith("s") and word[:-1] in words):
        return True
    if len(word) < 4:
        return False
    if not exact:
        s = stem(word)
        return any(w.startswith(s) for w in words)
    for w in words:
        if len(w) >= 4 and w[0] == word[0]:
            common = len(os.path.commonprefix([w, word]))
            if common >= 4 and common >= min(len(w), len(word)) - 1:
                return True
    return False


def _initials(text: str) -> set[str]:
    """The initials of each run of two to five capitalised words: "New York City" -> nyc, ny, yc."""
    caps = re.findall(r"[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*)+", text)
    out = set()
    for run in caps:
        letters = [w[0].lower() for w in run.split()]
        for i in range(len(letters)):
            for j in range(i + 2, min(len(letters), i + 5) + 1):
                out.add("".join(letters[i:j]))
    return out


def judge(
    question: str, sources: list[Hit], evidence: list[Evidence],
    support: Callable[[str, list[str]], list[float]] | None = None, rarity: Callable[[list[str]], dict[str, float]]
    | None = None, share: Callable[[str, list[str]], float] | None = None, english: bool = True,
) -> Judgement:
    """Whether the evidence answers the question (see the module's rules).

    Args:
        question: the user's question.
        sources: the answer's sources (source n is sources[n - 1]).
        evidence: the quoted sentences, best first.
        support: the cross-encoder (question, sentences) -> logits, or None when it is not installed.
        rarity: content word -> weight (how rare it is in the library; 1.0 when not given).
        english: the question and the passages are English. When not, only the numbers the question names must
            be held (another language capitalises its nouns, or names things in words of its own), and the rules
            that read English (the kind of thing asked for, the focus, the cross-encoder) are not applied.
    """
    if not evidence:
        return Judgement(False, "names")
    facts = question_facts(question)
    if not english:
        facts = [f for f in facts if re.fullmatch(r"[\d.,]+", f)]
    if share is not None and facts:
        # A name the documents quoted say throughout (their context: the season, the team, the product) need
        # not be repeated in the sentence that answers: "How many touchdowns did Newton have in 2015?"
        paths = list(dict.fromkeys(sources[e.source - 1].path for e in evidence))
        facts = [f for f in facts if share(f, paths) < CONTEXT_SHARE]
    windows = [(e, _Window(sources[e.source - 1], e.text)) for e in evidence]
    held = [(e, w) for e, w in windows if all(w.holds(f) for f in facts)]
    if not held:
        # The facts no single sentence holds, by the sentence that holds most of them.
        best = max(windows, key=lambda ew: sum(ew[1].holds(f) for f in facts))[1]
        return Judgement(False, "names", tuple(f for f in facts if not best.holds(f)))
    if not english:
        return Judgement(True)
    kind = None if _PROCEDURAL.search(question) else question_kind(question)
    if kind is not None and kind.kind in ("person", "date", "quantity", "place"):
        qstems = {stem(w.lower()) for w in WORD.findall(question) if w.lower() not in STOPWORDS}
        if not any(has_candidate(kind, sources[e.source - 1].text, e.start, e.end, qstems) for e in evidence):
            return Judgement(False, "kind", kind=kind.kind)
    details: dict[str, float] = {}
    focus = _focus(question, rarity)
    focus_share = 1.0
    if focus:
        focus_share = max(sum(weight for word, weight in focus.items() if _word_in(word, w.words, w.numbers))
                    for _, w in held) / sum(focus.values())
        details["focus"] = round(focus_share, 3)
    score = None
    typed = kind is not None and (kind.kind != "thing" or bool(kind.focus))
    if support is not None and typed:  # a how or why question's answer spans sentences: not read
        score = max(support(question, [e.text for e, _ in held]))
        details["support"] = round(score, 3)
        if score < WEAK and focus_share < WEAK_FOCUS:
            # The passages read whole, with this question (a follow-up's were ranked with the question before it
            # too, so their scores from the search say nothing here).
            passages = list(dict.fromkeys(e.source for e, _ in held))
            texts = [f"{sources[n - 1].heading}\n{sources[n - 1].text}" if sources[n - 1].heading
                     else sources[n - 1].text for n in passages]
            passage = max(support(question, texts))
            details["passage_support"] = round(passage, 3)
            if passage < WEAK_PASSAGE:
                return Judgement(False, "weak", support=score, details=details)
    return Judgement(True, support=score, details=details)


_ASKED = re.compile(r"\b(which|what|whose)\s+((?:[a-z]+\s+){0,2}[a-z]+)")
# Nouns that name the kind of answer ("which year", "what city"): the answering sentence names the thing itself.
_KIND_NOUNS = frozenset("""year years date day month time decade century season number amount percentage percent
    name names person people city country place location kind type sort""".split())


def _focus(question: str, rarity: Callable[[list[str]], dict[str, float]] | None,
           asked_too: bool = False) -> dict[str, float]:
    """The question's plain content words, each with its weight; question words, stop words, names, numbers and
    the nouns that name the kind of answer ("In which year was it built?" -> built) set aside; with `asked_too`
    the noun of the thing asked for is kept ("how many employees" -> employees), not the kind nouns (year, date)."""
    kind = question_kind(question)
    asked = {kind.focus} if kind and kind.focus else set()
    m = _ASKED.search(fold(question))
    for w in (m.group(2).split() if m else ()):  # "which file formats can it read?" -> file, formats
        if w in STOPWORDS:
            break
        asked.add(w)
    # Names and numbers are the first rule's; here the plain words that say what is asked about.
    names = {fold(w) for i, w in enumerate(WORD.findall(question)) if i and w[:1].isupper()}
    words = [re.sub(r"[^\w]", "", w) for w in dict.fromkeys(fold(question).split())]
    words = [w for w in words if w and w not in STOPWORDS and w not in _QUESTION_WORDS and not w.isdigit()
             and w not in _KIND_NOUNS and (asked_too or w not in asked) and w not in names]
    if not words:
        return {}
    weights = rarity(words) if rarity else {}
    return {w: weights.get(w, 1.0) for w in words}


def borrowed(question: str, sentence: str, source: Hit) -> list[str]:
    """The question's focus words (its plain content words: what it asks about) that a sentence states and its
    source does not say, when they are more than half of those it states (else none). "The chief executive of
    Alfresco is Paul Holmes-Higgin." passes every word check over an e-mail that names him and Alfresco: "chief"
    and "executive" are the question's own words, which the checker does not hold against a sentence, and the
    e-mail says neither. A sentence that answers states mostly words its source says ("The Broncos practiced at
    Stanford University"), even when it keeps one of the question's ("The Panthers chose the San Jose Marriott
    hotel": the source says "stayed at"). The noun of the thing asked for counts: "The University of Chicago has
    543 employees." over a table whose 543 counts students."""
    said = set(WORD.findall(fold(sentence)))
    window = _Window(source, "")  # the source's heading and file name, and its whole passage
    words = set(WORD.findall(window.passage)) | window.words
    nums = numbers(source.text)
    stated = [w for w in _focus(question, None, asked_too=True) if _word_in(w, said, set())]
    missing = [w for w in stated if not _word_in(w, words, nums)]
    return missing if len(missing) * 2 > len(stated) else []
