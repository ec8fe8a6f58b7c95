"""Checking what the model wrote against the passages it was given, one sentence at a time.

A generated sentence is shown as verified only when
- every fact in it (numbers, number words, codes such as "Zephyr-9" or "4B", capitalised names, and
  what technical documents are checked by: `code spans`, --options, file.names and snake_case names) is
  written in one sentence (WINDOW) of a source it cites (or, when it cites none or the wrong one, of
  another source, which it then cites), and
- its content is supported by that sentence: at most a few of its content words are in neither it nor
  the question, or it is close in meaning to one sentence of that source, and
- it says something the question did not already say.

A sentence saying that the documents do not answer is never verified when a relevant passage exists.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from assistant.answer.evidence import Sentence, numbers, split_sentences
from assistant.text import STOPWORDS, content_words, stem
from assistant.types import Hit, SentenceCheck

NOVEL_SHARE = 0.2  # content words in no source and not in the question: at most this share (and at least 1)
SIMILAR = 0.86  # cosine to one sentence of a cited source that counts as support for a paraphrase
REFUSED = "says the documents do not answer"
WINDOW = 1  # consecutive sentences of a source that one claim may rest on

REFUSAL = re.compile(r"\b(documents?|sources?|passages?|text|context)\b[^.]{0,40}\b(do|does|did)\s*(not|n't)\s+"
                     r"(say|mention|contain|cover|provide|state|include|specify|answer)|"
                     r"\b(do|does)\s*(not|n't)\s+(know|have (enough|any|the))|\bno (information|mention)\b|"
                     r"\bnot (mentioned|stated|specified|provided|given)\b|\bcannot (answer|find|determine)\b|"
                     r"\bis not (clear|known)\b|\bunable to\b", re.IGNORECASE)
# Words that talk about the answer rather than state it; they are neither facts nor content.
META = frozenset("""according answer answers answered question questions source sources document documents text
    passage passages mentioned mentions mention states stated says said based information provided given
    context refer refers see also yes""".split())
NUMBER_WORDS = {w: str(i) for i, w in enumerate(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
    "seventeen eighteen nineteen twenty".split())} | {
    "thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70", "eighty": "80", "ninety": "90",
    "hundred": "100", "thousand": "1000", "million": "1000000", "billion": "1000000000", "dozen": "12"}
_CITE = re.compile(r"\s*\[(\d+(?:\s*[,;]\s*\d+)*)\]")
_CAPITAL = re.compile(r"(?<![\w'’-])[A-Z][\w'’-]*")
_CODE = re.compile(r"\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w]+(?:-[\w]+)*\b")
_QUOTES = str.maketrans("“”„‟‘’‚‛", "\"\"\"\"''''")  # typographic quotes match plain ones
_SPAN = re.compile(r"`([^`\n]+)`")
_OPTION = re.compile(r"(?<![\w`-])--?[A-Za-z][\w-]*")
_IDENT = re.compile(r"(?<![\w`])(?:[A-Za-z]\w*_\w+|[\w-]+\.[A-Za-z][A-Za-z0-9]{1,7})(?![\w`])")
_STARTERS = frozenset("""yes no however therefore thus so also according based here there this these that those it
    they the a an in on at for to of from by with as if when while because since although overall""".split())


def split_answer(text: str) -> list[tuple[str, list[int]]]:
    """The model's text as (sentence without citations, the numbers it cites), in order.

    A citation standing right after a sentence's full stop ("... 42 Nm. [1]") belongs to that sentence.
    """
    text = re.sub(r"([.!?])\s*((?:\[\d+(?:\s*[,;]\s*\d+)*\]\s*)+)", r" \2\1 ", text)
    # A quote the model closed and then went on with a new sentence ('...the models" The answer is in [1].')
    # ends a sentence: otherwise its words would be checked, and shown, as part of the quoted one.
    text = re.sub(r'(\w)(["\u201d])\s+(?=[A-Z])', r"\1\2\n\n", text)
    out = []
    # A list item ends at the next item even without a full stop ("- 12 March [1]\n- The boiler...").
    items = re.split(r"\n+\s*(?=(?:[-*+•]|\d+[.)])\s)", text)
    for s in (s for item in items for s in split_sentences(item)):
        cited = [int(x) for m in _CITE.finditer(s.text) for x in re.split(r"\s*[,;]\s*", m.group(1))]
        plain = _CITE.sub("", s.text).strip()
        plain = re.sub(r"\s+([.,;:!?])", r"\1", plain)
        plain = re.sub(r"^(?:[-*+•]|\d+[.)])\s+", "", plain)  # list markers
        if plain.count('"') % 2 or plain[:1] in "“”":  # a quote the model opened and never closed
            plain = plain.strip('"“” ')
        if plain:
            out.append((plain, cited))
    return out


def _novel(stems: set[str], known: frozenset[str] | set[str]) -> set[str]:
    """The stems found in none of the known ones. A stem shorter than five letters is a whole word, and it
    matches a longer word it begins ("gold" in "golden", "arm" is not matched by "army": three letters stay
    exact), which the five-letter prefixes alone miss."""
    out = stems - known
    return {s for s in out if len(s) < 4 or not any(k.startswith(s) for k in known if len(k) > len(s))}


def _is_number(fact: str) -> bool:
    return fact.lower() in NUMBER_WORDS or bool(re.fullmatch(r"\d[\d.,:]*", fact))


def facts(sentence: str) -> list[str]:
    """The checkable facts of a sentence: numbers, number words, codes and capitalised names."""
    found: list[str] = []
    found += sorted(numbers(sentence))
    words = re.findall(r"[A-Za-z]+", sentence)
    found += [w.lower() for w in words if w.lower() in NUMBER_WORDS]
    found += [m.group(0) for m in _CODE.finditer(sentence) if not m.group(0).isdigit()]
    # Commands, options and names are the facts of technical text: one invented flag must not pass.
    found += [m.group(1).strip() for m in _SPAN.finditer(sentence) if m.group(1).strip()]
    plain = _SPAN.sub(" ", sentence)
    found += [m.group(0) for m in _OPTION.finditer(plain)]
    found += [m.group(0) for m in _IDENT.finditer(plain) if not re.fullmatch(r"[\d.]+|[a-z]\.[a-z]", m.group(0))]
    for m in _CAPITAL.finditer(sentence):
        word = re.sub(r"['’]s$", "", m.group(0)).rstrip("'’-")  # "Denver's quarterback": the name is "Denver"
        low = word.lower()
        # The first word is capitalised anyway; a name there is caught by the word after it or the content check.
        if m.start() == 0 or low in STOPWORDS or low in META or low in _STARTERS:
            continue
        found.append(word)
    return list(dict.fromkeys(found))


@dataclass(frozen=True)
class _Window:
    """A few consecutive sentences of a source (with its heading): what one checked claim may rest on."""

    lower: str
    numbers: frozenset[str]
    words: frozenset[str]
    stems: frozenset[str]

    @classmethod
    def of(cls, text: str) -> _Window:
        lower = text.lower().translate(_QUOTES)
        return cls(lower, frozenset(numbers(text)), frozenset(re.findall(r"[a-z]+", lower)),
                   frozenset(stem(w) for w in content_words(text)))


class Verifier:
    """Checks sentences against numbered sources (source n is sources[n - 1]).

    A claim must rest on WINDOW consecutive sentences of one source, not on words gathered from all over
    it: "`assistant doctor` checks a folder without touching files" takes its words from two different
    commands and is not supported.
    """

    def __init__(self, sources: list[Hit], question: str,
                 embed: Callable[[list[str]], np.ndarray] | None = None) -> None:
        self.sources = sources
        self.question = question
        self.embed = embed
        self._split = [split_sentences(h.text) for h in sources]  # shared by the windows and _similar
        self._windows = [self._windows_of(h, sents) for h, sents in zip(sources, self._split, strict=True)]
        self._qstems = {stem(w) for w in content_words(question)}
        self._qlower = question.lower()
        self._qnumbers = numbers(question)
        self._sentences: dict[int, tuple[list[Sentence], np.ndarray]] = {}

    @staticmethod
    def _windows_of(hit: Hit, split: list[Sentence]) -> list[_Window]:
        sents = [s.text for s in split] or [hit.text]
        heading = hit.heading or ""
        return [_Window.of(f"{heading}\n{' '.join(sents[j:j + WINDOW])}")
                for j in range(max(1, len(sents) - WINDOW + 1))]

    def check(self, sentence: str, cited: list[int]) -> SentenceCheck:
        """Verify one sentence; its citations are corrected to the sources that support it."""
        valid = [n for n in dict.fromkeys(cited) if 1 <= n <= len(self.sources)]
        content = [w for w in content_words(sentence) if w not in META]
        if not content:
            return SentenceCheck(sentence, valid, False, "says nothing checkable")
        if REFUSAL.search(sentence):
            return SentenceCheck(sentence, valid, False, REFUSED)
        order = valid + [n for n in range(1, len(self.sources) + 1) if n not in valid]
        best: SentenceCheck | None = None
        for n in order:
            result = self._against(sentence, content, n)
            if result.verified:
                return result
            if best is None or len(result.unsupported_facts) < len(best.unsupported_facts):
                best = result
        assert best is not None
        return SentenceCheck(sentence, valid, False, best.reason, best.unsupported_facts)

    def _against(self, sentence: str, content: list[str], n: int) -> SentenceCheck:
        """The check against source n: passed when one window of it supports the sentence."""
        stems = {stem(w) for w in content}
        sentence_facts = facts(sentence)
        best: SentenceCheck | None = None
        for w in self._windows[n - 1]:
            missing = [f for f in sentence_facts if not self._has_fact(w, f)]
            if missing and all(self._asked_number(f) for f in missing) and any(
                    self._has_fact(w, f) and not self._asked_number(f) and f.lower() not in self._qlower
                    for f in sentence_facts):
                # "The font size is 16 point on page two": "two" is the question's ("What font size is page two
                # in?") and 16 the source's. A number the question gives may be said again beside a fact the source
                # gives, never alone ("Is the torque 50 Nm?" is not answered "The torque is 50 Nm").
                missing = []
            if missing:
                shown = ", ".join(f'"{f}"' for f in missing)
                result = SentenceCheck(sentence, [n], False, f"{shown} not found in source [{n}]", missing)
            elif len(novel := _novel(stems, w.stems | self._qstems)) > max(1.0, NOVEL_SHARE * len(stems)):
                words = ", ".join(sorted(novel)[:4])
                result = SentenceCheck(sentence, [n], False,
                                       f"not supported by source [{n}] (words not in it: {words})")
            elif not stems & w.stems - self._qstems and not (numbers(sentence) - numbers(self.question)):
                result = SentenceCheck(sentence, [n], False, "only repeats the question")
            else:
                return SentenceCheck(sentence, [n], True)
            if best is None or len(result.unsupported_facts) < len(best.unsupported_facts):
                best = result
        assert best is not None
        if not best.unsupported_facts and best.reason.startswith("not supported") and self._similar(sentence, n - 1):
            return SentenceCheck(sentence, [n], True)
        return best

    def _asked_number(self, fact: str) -> bool:
        """Whether a number (or number word) of the sentence is one the question says."""
        if fact.lower() in NUMBER_WORDS:
            return bool(re.search(rf"\b{fact.lower()}\b", self._qlower)) or NUMBER_WORDS[fact.lower()] in self._qnumbers
        if re.fullmatch(r"\d+(?:st|nd|rd|th)", fact):  # "the 50th Super Bowl" when the question says it
            return bool(re.search(rf"\b{fact}\b", self._qlower))
        return _is_number(fact) and fact in self._qnumbers

    def _has_fact(self, w: _Window, fact: str) -> bool:
        if fact in NUMBER_WORDS:
            return fact in w.words or NUMBER_WORDS[fact] in w.numbers
        if fact[0].isdigit() and re.fullmatch(r"[\d.,:]+", fact):
            return fact in w.numbers
        low = fact.lower().translate(_QUOTES)
        if low in w.lower:
            return True
        # A capitalised name may come from the question ("the Zephyr-9 valve ..."), but never a number.
        return not any(ch.isdigit() for ch in fact) and bool(re.search(rf"\b{re.escape(low)}\b", self._qlower))

    def _similar(self, sentence: str, i: int) -> bool:
        if self.embed is None:
            return False
        if i not in self._sentences:
            sents = self._split[i]
            self._sentences[i] = (sents, self.embed([s.text for s in sents]) if sents else np.zeros((0, 1)))
        sents, vecs = self._sentences[i]
        if not sents:
            return False
        v = self.embed([sentence])[0]
        return float(np.max(vecs @ v)) >= SIMILAR


# Sentences about the answer rather than answers: "The sources are: ...", "The answer to this question can be
# found in [1].", "According to the documents." (a lead-in before a real claim is cut off instead, see LEAD_IN).
META_SENTENCE = re.compile(
    r"^\W*(?:the (?:sources?|documents?|passages?|texts?|context)(?: provided| given| above)? (?:are|is|say|says|"
    r"state|states|show|shows|mention|mentions|provide|provides|contain|contains)\b\s*:?|"
    r"(?:the )?answer (?:to (?:this|the|your) question )?(?:is|can be) (?:found|given|seen)\b|"
    r"(?:this|the) (?:question|answer) (?:is|can)\b|"
    r"(?:see|refer to|check) (?:the )?(?:sources?|documents?|\[)|(?:here is|here are|i found)\b|"
    r"(?:according to|based on|as (?:stated|mentioned|shown|described) in) (?:the )?(?:sources?|documents?|passages?|"
    r"texts?|context|information)(?: provided| given| above)?\W*$)", re.IGNORECASE)
LEAD_IN = re.compile(r"^(?:(?:according to|based on|as (?:stated|mentioned|shown|described) in) (?:the )?(?:sources?|"
                     r"documents?|passages?|texts?|context|information)(?: provided| given| above)?(?:\s*\[\d+\])?"
                     r"\s*,\s*|(?:the )?answer(?: to (?:this|the|your) question)? is\s*:\s*|answer\s*:\s*)",
                     re.IGNORECASE)
_WRAPPED = re.compile(r'^["“](.+?)[.!?]?["”]([.!?]?)$')
OFF_TOPIC = "off-topic: shares no word with the question"
REPEATS = "repeats the quoted evidence"
META_TEXT = "talks about the sources instead of answering"
FRAGMENT = "not a whole sentence"


def without_lead_in(sentence: str) -> str:
    """The sentence without an "According to the sources," or "The answer is:" lead-in (what follows is the
    claim), and without quotation marks around the whole of it."""
    m = LEAD_IN.match(sentence)
    rest = sentence[m.end():] if m and len(sentence) > m.end() else sentence
    w = _WRAPPED.match(rest)  # 'The answer is: "The Broncos stayed at the Santa Clara Marriott."'
    if w and len(w.group(1).split()) >= 3:
        rest = w.group(1).rstrip(".!?") + "."
    return rest[:1].upper() + rest[1:]


def answers(sentence: str, question: str, quotes: list[str]) -> str:
    """Why a supported sentence still does not answer the question ("" when it does).

    It must be a whole sentence, not talk about the sources ("The sources are: ..."), share a content
    word with the question (a true sentence about another topic of the same passage is noise), and add
    something the quoted evidence above it does not already say.
    """
    if META_SENTENCE.search(sentence):
        return META_TEXT
    body = sentence.rstrip().rstrip("\"”’')]")
    tail = body.rsplit(": ", 1)[1] if ": " in body else body
    if not body or body[-1] not in ".!?" or len(tail.split()) < 3 or \
            body.rstrip(".!?").rsplit(" ", 1)[-1].lower() in STOPWORDS:
        return FRAGMENT
    words = [w for w in content_words(sentence) if w not in META]
    stems = {stem(w) for w in words}
    qstems = {stem(w) for w in content_words(question) if w not in META}
    if not stems & qstems:
        return OFF_TOPIC
    said = qstems.copy()
    said_facts: set[str] = set()
    for q in quotes:
        said |= {stem(w) for w in content_words(q)}
        said_facts |= {f.lower() for f in facts(q)} | numbers(q)
    new_facts = {f.lower() for f in facts(sentence)} - said_facts - {f.lower() for f in facts(question)}
    if not (stems - said) and not new_facts:
        return REPEATS
    return ""


def restates(sentence: str, quotes: list[str]) -> bool:
    """Whether every content word of the sentence is in one of the quotes (it says what that quote says)."""
    stems = {stem(w) for w in content_words(sentence) if w not in META}
    return bool(stems) and any(not _novel(stems, {stem(w) for w in content_words(q)}) for q in quotes)


def unsupported_numbers(text: str, sources: list[Hit]) -> list[str]:
    """Numbers in a text that appear in none of the sources (for evaluation)."""
    known: set[str] = set()
    for h in sources:
        known |= numbers(f"{h.heading or ''}\n{h.text}")
    return sorted(numbers(_CITE.sub("", text)) - known)
