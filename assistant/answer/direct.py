"""The direct answer: the shortest span of the quoted evidence that answers a factoid question.

"How many", "when", "who", "where", "which team"...: the reader wants the number, the date or the name
first, not three sentences to search. The span is always cut from one evidence sentence (character
offsets into its passage), so it cannot say anything the sources do not; when the question is not a
factoid ("how does X work?") or no span of the right kind is found, there is no direct answer.

How a span is found, by rules that a user can follow:
1. The question's answer type: a quantity ("how many", "how much", "what percentage"), a date ("when",
   "what year"), a person ("who"), a place ("where", "what city"), or a named thing ("which team", "what
   is the name of"); otherwise none, and no direct answer.
2. Candidates of that type in the best evidence sentences: numbers with their unit, dates, runs of
   capitalised words (names), each with its offsets.
3. A candidate made only of the question's own words is not an answer ("Super Bowl 50" to a question
   about Super Bowl 50); the question's words at its edges are trimmed.
4. The best candidate sits closest to the question's words in the sentence (the answer to "who built the
   lighthouse" is next to "built"), names the question's focus ("what stadium" -> "Levi's Stadium"), and
   comes from the best evidence sentence.
5. Who won or who lost ("Which team won Super Bowl 50?", "Who lost to the Broncos?"): in "A defeated B"
   the winner stands before the verb and the loser after it, after "lost to" or "was defeated by" the
   other way round; the name on the side asked for, nearest the verb, is preferred, the other side's is not
   taken. A score after a name ("Carolina Panthers 24–10") is not part of it. A sentence that says who beat
   whom is read even when it ranks third; who lost is not read from a sentence that does not say it.
6. No guess: a sentence without any of the question's words gives no span; "how big", "how fast"... take
   a number only with its unit ("50 MB", not "one paragraph"); a "what"/"which" question takes a number
   only when it asks for a numbered thing ("what yard line", "which version"; not "what model"); asked for
   several things ("which file formats"), one name out of a list is no answer; "can it tell me which
   page ...?" is a yes/no question ("can you tell me who ...?" is not).
7. The question word that comes first asks ("Where was it held when ...?" asks where), unless it is a
   "what" that names no kind of thing ("What is the last name of the player who ...?" asks who).
8. A quantity keeps the words after its number only as far as its unit or the thing counted ("17
   seconds", not "17 seconds left"), and an age is a number with years at most; a name spelled out
   before an acronym the question says ("Most Valuable Player (MVP)") is the question's own words, and
   one before a lower-case word and another name describes that name ("the ... Conference (NFC) champion
   Carolina Panthers").
9. Backquoted text (a command, an option, a path) answers "which command", "what option" whole; a path
   answers "where".
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from itertools import takewhile

from assistant.text import STOPWORDS, WORD, stem
from assistant.types import DirectAnswer, Evidence, Hit

MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DAYS = "Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday"
NUMBER_WORDS = ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen "
                "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred "
                "thousand dozen").split()

_QUANTITY = re.compile(r"\bhow (many|much|long|far|old|big|large|tall|high|often|fast|heavy|deep|wide)\b|"
                       r"\bwhat (percentage|percent|proportion|share|number|amount|size|age|distance|speed|"
                       r"weight|height|length|price|cost|score|temperature|torque|pressure|voltage|capacity)\b|"
                       r"\bwhich (percentage|number|amount|size)\b", re.IGNORECASE)
_DATE = re.compile(r"\bwhen\b|\b(what|which) (year|day|date|month|time|decade|century|season|week)\b|"
                   r"\bin (what|which) year\b|\bwhat day of the week\b", re.IGNORECASE)
_PERSON = re.compile(r"\b(who|whom|whose)\b|\b(what|which) (person|player|man|woman|people|artist|singer|author|"
                     r"engineer|coach|quarterback|president|ceo|director|manager|writer|scientist)\b",
                     re.IGNORECASE)
_PLACE = re.compile(r"\bwhere\b|\b(what|which) (city|country|state|stadium|venue|place|location|town|region|"
                    r"county|building|room|street|continent|island|site|arena|area|address|park)\b",
                    re.IGNORECASE)
_THING = re.compile(r"\b(which|what) ([a-z]+)\b|\bwhat (is|was|are|were) the name\b|\bname (the|of)\b",
                    re.IGNORECASE)
# Questions that ask how or why, or to explain: their answer is not a span.
_NOT_FACTOID = re.compile(r"^\s*(why|how (do|does|did|can|could|should|would|is|are|to)|explain|describe|"
                          r"summari[sz]e|compare|tell me about|what happens|what if)\b|\bhow does\b|\bwhy\b",
                          re.IGNORECASE)
_YES_NO = re.compile(r"^\s*(is|are|was|were|do|does|did|can|could|will|would|should|has|have|had)\b", re.IGNORECASE)

_NUM = r"(?:[$£€¥]\s?)?\d+(?:[.,:]\d+)*(?:\s?[–-]\s?\d+(?:[.,]\d+)*)?(?:\s?%)?"
_SCALE = r"(?:\s(?:million|billion|trillion|thousand|hundred|percent|per cent))?"
_UNIT = r"(?:\s(?!(?:and|or|the|of|in|on|at|to|for|by|with|from|a|an|as|is|was|were|are)\b)[a-z][a-z-]*){0,2}"
QUANTITY_SPAN = re.compile(rf"(?<![\w.]){_NUM}{_SCALE}|\b(?:{'|'.join(NUMBER_WORDS)})\b{_SCALE}", re.IGNORECASE)
DATE_SPAN = re.compile(
    rf"\b(?:(?:{_DAYS}),?\s)?(?:(?:{MONTHS})\s\d{{1,2}}(?:st|nd|rd|th)?(?:,?\s\d{{4}})?|\d{{1,2}}(?:st|nd|rd|th)?\s"
    rf"(?:{MONTHS})(?:,?\s\d{{4}})?|(?:{MONTHS}),?\s\d{{4}}|(?:{MONTHS}))\b|\b(?:1[5-9]\d\d|20\d\d)s?\b|"
    rf"\b(?:{_DAYS})s?\b|\b\d{{4}}-\d\d-\d\d\b")
# A name: capitalised words, joined by a few small words ("Bank of England", "Levi's Stadium").
_CAP = r"(?:[A-Z][\w'’.&-]*|\d+(?:st|nd|rd|th)?)"
NAME_SPAN = re.compile(rf"(?<![\w'’-])[A-Z][\w'’.&-]*(?:\s(?:(?:of|the|de|del|da|van|von|and|for|&)\s)?{_CAP})*")
_UNIT_WORDS = frozenset("""percent cent metres meters metre meter km kilometres kilometers miles mile feet foot inches
    inch yards yard kg kilograms grams gram pounds pound tonnes tons litres liters hours hour minutes minute seconds
    second days day weeks week months month years year times dollars euros newton-metres nm points people tickets
    nautical degrees volts watts bar psi rpm""".split())


# Things that are numbered: a number can answer "which version", "what floor".
_NUMBERED = frozenset("""version number edition release grade level round seed rank place floor room chapter page
    section step phase pick jersey""".split())
# "How big", "how fast"...: a bare number or "one paragraph" does not answer them; the number must carry a
# unit ("50 MB", "165 chunks a second", "30-second"). "How old" and "how many" need none.
_MEASURED = re.compile(r"\bhow (big|large|long|far|tall|high|fast|heavy|deep|wide|often)\b", re.IGNORECASE)
_MEASURE_UNITS = frozenset("""b kb mb gb tb bytes byte kilobytes megabytes gigabytes terabytes characters words pages
    tokens chunks lines rows files documents passages pieces per times faster slower mph kmh ms""".split())
_SIZE_UNIT = re.compile(r"\s?[KMGTP]i?B\b")  # "50 MB", "2 GiB": units written in capitals
_PREPOSITION = re.compile(r"\b(in|at|near|from)\s+(the\s+)?$")  # "in Santa Clara": a place follows
# Who won and who lost: "Which team won Super Bowl 50?" asks for the winner, "Who lost to the Broncos?" and
# "Who did the Broncos beat?" for the loser. In "The Broncos defeated the Panthers 24-10" the winner stands
# before the verb and the loser after it; in "the Panthers lost to the Broncos" (or "were defeated by")
# the other way round. Without this the name nearest the question's words won, which was the loser.
_ASKS_WINNER = re.compile(r"^\s*(?:who|(?:which|what)(?: \w+){1,3})\s+(?:won|wins|win)\b|\bwinner\b", re.IGNORECASE)
# "Who lost 3 yards on the tackle?" asks who, not who lost a game.
_ASKS_LOSER = re.compile(r"^\s*(?:who|(?:which|what)(?: \w+){1,3})\s+(?:lost|loses|lose)\b(?!\s+\d)|"
                         r"\bloser\b|\brunners?-up\b|"
                         r"^\s*(?:who|whom|(?:which|what)(?: \w+){1,3})\s+did\b.*\b(?:beat|defeat|overcome)\b",
                         re.IGNORECASE)
_BEAT_WORDS = frozenset("defeated defeats defeat beat beats beating overcame edged routed outlasted upset won crushed "
                        "trounced thrashed downed".split())
_PASSIVE_BEFORE = frozenset("was were been being is are be".split())
_LOST_WORDS = frozenset("lost lose loses losing fell falls".split())

_AGE_WORDS = frozenset("years year months month weeks week days day old".split())  # what may follow an age
# A yes/no opening that only asks politely for the answer: "Can you tell me who won?", "Do you know when ...?"
_ASKS_FOR = re.compile(r"^\s*(?:(?:can|could|would|will)\s+you\s+(?:please\s+)?(?:tell|show)\s+me|"
                       r"do\s+you\s+know)\b", re.IGNORECASE)
# "Which file formats", "what teams": the question asks for several things (its noun is plural, lower case:
# "Which Panthers player" asks for one). One name out of a list answers it wrongly.
_ASKED_NOUNS = re.compile(r"\b(?i:which|what)\s+([a-z]+)(?:\s+([a-z]+))?")
_LIST_AFTER = re.compile(r",\s*(?:and\s+|or\s+)?\w|\s(?:and|or)\s")
_LIST_BEFORE = re.compile(r"(?:\w,\s*(?:and\s+|or\s+)?|\s(?:and|or)\s+)(?:the\s+)?$")
# Backquoted text: commands, options, paths, variable names. It answers "which command", "what option"
# and, when it is a path, "where".
CODE_SPAN = re.compile(r"`([^`\n]{1,80})`")
_CODE_THINGS = frozenset("""command option flag setting variable file folder directory path key function module
    package class method argument parameter switch script tool program""".split())
_PATH = re.compile(r"^(?:~|\.{1,2})?/|/")

# A name spelled out before its acronym, and whether a lower-case word and another name follow (it then
# describes that name: "the National Football Conference (NFC) champion Carolina Panthers").
_ACRONYM_AFTER = re.compile(r"\s?\(([A-Z]{2,6})\)(\s+(?!(?:and|or)\b)[a-z]+\s+[A-Z])?")

THRESHOLD = 0.45  # the least score a span needs to be given as the direct answer


@dataclass(frozen=True)
class QuestionKind:
    """What a factoid question asks for: kind is quantity, date, person, place or thing; focus the noun it
    names ("what stadium" -> "stadium"), if any."""

    kind: str
    focus: str = ""


# What "how many/much" counts, up to three words: "how many forced fumbles did ..." -> "forced fumbles did".
_COUNTED = re.compile(r"\bhow (?:many|much)\s+(?:of\s+(?:the\s+)?)?([a-z][a-z-]+(?:\s+[a-z][a-z-]*){0,2})",
                      re.IGNORECASE)


# Past tenses, no nouns: "what covered the field?" asks for a thing without saying what kind (nor does any
# word ending in -ed).
_PAST = frozenset("""won lost beat made had got took gave went came ran led held wore threw wrote sang spoke became
    began broke caught chose drew drove fell felt found fought hit kept knew left met paid put read rode rose
    said saw sold sent set shot sat stood struck taught told thought""".split())


def _verb_like(word: str) -> bool:
    return word in _PAST or (word.endswith("ed") and len(word) > 4)


def question_kind(question: str) -> QuestionKind | None:
    """The kind of span a question asks for, or None when it is not a factoid (how, why, yes/no...)."""
    q = " ".join(question.split())
    if _NOT_FACTOID.search(q) and not _QUANTITY.search(q):
        return None
    if _YES_NO.match(q) and not (_ASKS_FOR.match(q) or (
            not re.search(r"\b(tell|show)\b", q, re.IGNORECASE)
            and re.search(r"\b(who|when|where|which|what|how)\b", q, re.IGNORECASE))):
        return None  # "can it tell me which page ...?" asks whether it can; "can you tell me who ...?" asks who
    # The question word that comes first asks: "Where was the meeting held when the owners voted?" asks
    # where, "What yard line were they on when ...?" what; but "what is the last name of the player who ...?"
    # asks who, since its "what" names no kind of thing. On a tie the narrower kind: "what year".
    thing = _THING.search(q)
    focus = (thing.group(2) or "").lower() if thing else ""
    after = q[thing.end():].split()[:1] if thing else []
    if focus in STOPWORDS | {"name", "kind", "type", "sort"} or (  # "what is the ...", "what was ...",
            _verb_like(focus) and not (after and after[0].islower() and after[0] not in STOPWORDS)):
        focus = ""  # "what covered the field?" (not "which retired ref"): no noun says what kind of thing
    found = [(m.start(), i, kind, m) for i, (kind, pattern) in enumerate(
        (("quantity", _QUANTITY), ("date", _DATE), ("person", _PERSON), ("place", _PLACE))) if (m := pattern.search(q))]
    if thing and focus:
        found.append((thing.start(), 4, "thing", thing))
    if not found:
        return QuestionKind("thing", focus) if thing else None
    _, _, kind, m = min(found, key=lambda f: f[:2])
    if kind == "thing":
        return QuestionKind(kind, focus)
    if kind == "quantity":  # the thing counted: "how many touchdowns" -> "touchdowns"
        counted = _COUNTED.search(q)
        first = counted.group(1).split()[0].lower() if counted else ""
        focus = first if first not in STOPWORDS else ""
        if not focus and m.group(2):
            focus = m.group(2).lower()
        return QuestionKind(kind, focus if focus not in ("did", "does", "do", "is", "was") else "")
    words = [w for w in (m.group(m.lastindex) if m.lastindex else "").lower().split() if w.isalpha()]
    focus = words[-1] if words and words[-1] not in ("who", "whom", "whose", "when", "where") else ""
    return QuestionKind(kind, focus)


@dataclass(frozen=True)
class _Candidate:
    start: int  # offsets into the passage
    end: int
    kind: str  # quantity | date | name


def _candidates(text: str, start: int, end: int) -> list[_Candidate]:
    """Quantities, dates and names inside text[start:end], as offsets into text."""
    part = text[start:end]
    out: list[_Candidate] = []
    for m in DATE_SPAN.finditer(part):
        out.append(_Candidate(start + m.start(), start + m.end(), "date"))
    for m in QUANTITY_SPAN.finditer(part):
        e = m.end()
        unit = re.match(_UNIT, part[e:])
        if unit and unit.group(0):
            words = unit.group(0).split()
            keep = 0
            for w in words:  # a unit or a counted noun ("42 newton-metres", "4,000 tickets"), at most two
                if w.lower() in STOPWORDS:
                    break
                keep += 1
            if keep:
                e += len(" ".join(part[e:].split()[:keep])) + (len(part[e:]) - len(part[e:].lstrip()))
        size = _SIZE_UNIT.match(part, e)
        if size:
            e += size.end()
        s, e = m.start(), e
        if not any(c.start <= start + s and start + e <= c.end for c in out):  # inside a date already
            out.append(_Candidate(start + s, start + e, "quantity"))
    for m in CODE_SPAN.finditer(part):
        if m.group(1).strip():
            out.append(_Candidate(start + m.start(1), start + m.end(1), "code"))
    for m in NAME_SPAN.finditer(part):
        s, e = m.start(), m.end()
        span = _POSSESSIVE.sub("", part[s:e]).rstrip(".'’-")  # "Peyton Manning's pass" -> "Peyton Manning"
        e = s + len(span)
        score = re.search(r"\s\d+$", span) if re.match(r"\s?[–-]\s?\d", part[e:e + 3]) else None
        if score:  # "Carolina Panthers 24–10": a score or a range, not the name's number (any space before it)
            span = span[:score.start()]
            e = s + len(span)
        cut = re.search(r"\s\d+$", span) if re.match(r"[.,:]\d", part[e:e + 2]) else None
        if cut:  # "Versions 3.3": the name's run stopped inside a number, which is no part of it
            span = span[:cut.start()]
            e = s + len(span)
        if " " not in span and _DEMONYM.search(span) and re.match(r"\s[a-z]", part[e:e + 2]):
            continue  # "an American football game", "the British rock band": a modifier, not a name
        if m.start() == 0 or part[:m.start()].rstrip()[-1:] in ".:;!?\"“(":  # sentence-initial: maybe no name
            first, _, rest = span.partition(" ")
            if first.lower() in STOPWORDS or first.lower() in _STARTERS:
                if not rest:
                    continue
                s += len(first) + 1
                span = rest
        if span and span.lower() not in STOPWORDS:
            out.append(_Candidate(start + s, start + e, "name"))
    return out


_STARTERS = frozenset("""the a an in on at for to of from by with as if when while because since although after
    before during its it this that these those there here however also but and or so yet despite unlike like
    following under until upon within without through throughout against among between including instead
    meanwhile otherwise then thus hence therefore moreover furthermore still now today finally first next
    later once each every all both some many most other such only""".split())
_POSSESSIVE = re.compile(r"['’]s?$")
# Capitalised words that describe rather than name when a lowercase word follows: American, British, Chinese...
_DEMONYM = re.compile(r"^[A-Z][a-z]+(?:an|ish|ese|ic)$")


def _words(text: str) -> list[str]:
    return [w.lower() for w in WORD.findall(text)]


def _trim(text: str, c: _Candidate, qstems: set[str]) -> _Candidate | None:
    """The candidate without the question's own words at its edges; None when nothing else is left."""
    span = text[c.start:c.end]
    tokens = list(re.finditer(r"\S+", span))
    if c.kind == "code":  # a command is given whole, unless it is only the question's own words
        return None if all(stem(w) in qstems or w in STOPWORDS for w in _words(span)) else c
    lo, hi = 0, len(tokens)

    def known(tok: str) -> bool:
        words = _words(tok)
        return bool(words) and all(stem(w) in qstems or w in STOPWORDS for w in words)

    while lo < hi and known(tokens[lo].group(0)):
        lo += 1
    # A name or a quantity is one unit: its last words stay even when the question says them ("what stadium"
    # -> "Levi's Stadium", "how many tickets" -> "4,000 tickets"), as long as something before them is new.
    while hi > lo and known(tokens[hi - 1].group(0)) and (c.kind not in ("name", "quantity") or hi - 1 == lo):
        hi -= 1
    if lo >= hi:
        return None
    s, e = c.start + tokens[lo].start(), c.start + tokens[hi - 1].end()
    while e > s and text[e - 1] in ",.;:)'’\"”":
        e -= 1
    while s < e and text[s] in "(\"“'‘":
        s += 1
    return _Candidate(s, e, c.kind) if e > s else None


def _fits(kind: QuestionKind, c: _Candidate, text: str) -> float:
    """How well a candidate's kind fits what the question asks for: 0 (not at all) to 1."""
    span = text[c.start:c.end]
    if kind.kind == "quantity":
        return 1.0 if c.kind == "quantity" else 0.0
    if kind.kind == "date":
        if c.kind == "date":
            return 1.0
        return 0.4 if c.kind == "quantity" and re.search(r"\d", span) else 0.0
    if c.kind == "code":  # `assistant docs` answers "which command", `~/.local/share/assistant` "where"
        if kind.kind == "place":
            return 1.0 if _PATH.search(span) else 0.0
        return 1.0 if kind.kind == "thing" and kind.focus in _CODE_THINGS else 0.0
    if c.kind != "name":  # a number answers "what yard line", "which version", not "what model"
        return 0.3 if kind.kind == "thing" and kind.focus in _UNIT_WORDS | _NUMBERED else 0.0
    if re.fullmatch(rf"(?:{MONTHS}|{_DAYS})", span):
        return 0.0
    return 1.0


def has_candidate(kind: QuestionKind, text: str, start: int, end: int, qstems: set[str]) -> bool:
    """Whether text[start:end] holds something of the kind asked for (a name for "who", a date for "when"...)
    that is not made only of the question's own words (`qstems`, their five-letter stems)."""
    return any(_fits(kind, c, text) and _trim(text, c, qstems) is not None for c in _candidates(text, start, end))


def agrees(question: str, sentence: str, direct: DirectAnswer | None, quotes: list[str] = (),
           things: bool = False) -> bool:
    """Whether a sentence that answers a question for a person, place, date or number gives the answer the
    evidence gives. A model's sentence made of a quote's words can pair them wrongly ("The Broncos practiced at
    the Santa Clara Marriott." from "The Broncos practiced at Stanford University and stayed at the Santa Clara
    Marriott."): every word of it is in the source sentence, and only what it answers tells it apart.

    It agrees when it holds at least half of the direct answer's words that the question does not already hold,
    or when each thing of the kind asked for that it names stands in a quote after the same word as in the
    sentence ("stayed at the Santa Clara Marriott": the direct answer's rules may have picked the quote's other
    name). With `things`, a question for a named kind of thing ("what color", "which university") is read so too
    (for a direct answer the chat model picked: the rules' pick for such a question is too often wrong to
    overrule a sentence). True when there is no direct answer or the question asks for another kind of thing."""
    kind = question_kind(question)
    typed = ("person", "place", "date", "quantity") + (("thing",) if things else ())
    if direct is None or kind is None or kind.kind not in typed or (kind.kind == "thing" and not kind.focus):
        return True
    qstems = {stem(w) for w in _words(question) if w not in STOPWORDS}
    wanted = {w for w in _words(direct.text) if w not in STOPWORDS and stem(w) not in qstems}
    if not wanted or len(wanted & set(_words(sentence))) * 2 >= len(wanted):
        return True
    named = [c for c in (_trim(sentence, c, qstems) for c in _candidates(sentence, 0, len(sentence))
                         if _fits(kind, c, sentence)) if c is not None]
    return bool(named) and all(_stands_after(sentence, c, quotes) for c in named)


def _stands_after(sentence: str, c: _Candidate, quotes: list[str]) -> bool:
    """Whether the candidate stands in a quote with the content word before it in the sentence among the (up to
    four) words before it there."""
    span = re.split(r"\s(?:of|the|for|and|in|at|on|to)\s", sentence[c.start:c.end])[0]  # "Marriott for Super Bowl 50"
    before = [w for w in _words(sentence[:c.start]) if w not in STOPWORDS]
    for quote in quotes:
        at = quote.find(span)
        if at < 0:
            continue
        if not before or stem(before[-1]) in {stem(w) for w in _words(quote[:at])[-4:]}:
            return True
    return False


def direct_answer(question: str, hits: list[Hit], evidence: list[Evidence]) -> DirectAnswer | None:
    """The shortest span of the evidence that answers a factoid question, or None.

    Args:
        question: the user's question.
        hits: the answer's sources (source n is hits[n - 1]).
        evidence: the quoted sentences, best first (select_evidence).

    Returns:
        A DirectAnswer whose text is hits[source - 1].text[start:end] with whitespace collapsed, or None
        when the question is not a factoid or no span of the kind it asks for is found.
    """
    kind = question_kind(question)
    if kind is None or not evidence or (kind.kind == "thing" and not kind.focus):
        return None  # "what was ...?" without a noun that says what kind of thing: no span is sure
    measured = kind.kind == "quantity" and bool(_MEASURED.search(question))
    want = "loser" if _ASKS_LOSER.search(question) else "winner" if _ASKS_WINNER.search(question) else ""
    qwords = [w for w in _words(question) if w not in STOPWORDS]
    qstems = {stem(w) for w in qwords}
    counted = _counted(question)
    aged = bool(re.search(r"\bhow old\b", question, re.IGNORECASE))
    focus = stem(kind.focus) if kind.focus else ""
    several = _asks_several(question)
    best: tuple[float, DirectAnswer, bool] | None = None
    top = evidence[0].score
    close = list(takewhile(lambda e: e.score >= top - 0.15, evidence[:3]))  # a clearly weaker one cannot answer
    # The best two sentences are read. Who won or lost is read where a sentence says who beat whom: such a
    # sentence among the best three is read too, at half its rank's cost ("which team won super bowl 50?" in
    # lower case ranks the league's description of the game first and the result third). Who lost is not
    # guessed from a sentence that does not say it: "The Broncos took an early lead and never trailed".
    judged = bool(want) and kind.kind in ("thing", "person")
    read: list[tuple[float, Evidence, list[tuple[int, int, str]], list[tuple[int, str]]]] = []
    for rank, e in enumerate(close):
        if rank >= 2 and not judged:
            break
        tokens = _tokens(hits, e)
        results = _results(tokens) if judged else []
        if rank < 2 or results:
            read.append((rank / 2 if results else rank, e, tokens, results))
    if want == "loser" and judged and not any(results for *_, results in read):
        return None
    for rank, e, tokens, results in read:
        text = hits[e.source - 1].text
        near = [i for i, (_, _, w) in enumerate(tokens) if stem(w) in qstems and w not in STOPWORDS]
        # A sentence without any of the question's words (or a word they begin: "files" for "file") says
        # nothing sure about it.
        if not any(w not in STOPWORDS and any(w.startswith(q) for q in qstems) for _, _, w in tokens):
            continue
        for c in _candidates(text, e.start, e.end):
            fit = _fits(kind, c, text)
            if not fit:
                continue
            acronym = _ACRONYM_AFTER.match(text, c.end) if c.kind == "name" else None
            if acronym and (acronym.group(1).lower() in qwords or acronym.group(2)):
                continue  # "Most Valuable Player (MVP)" asked as "MVP"; "the National Football Conference (NFC)
                # champion Carolina Panthers": the league describes the team that is the answer
            t = _trim(text, c, qstems)
            if t is None:
                continue
            if t.kind == "quantity":
                number = QUANTITY_SPAN.match(text, t.start)
                if not number:
                    continue  # "2015 off-season" without the question's "2015": no number is left
                tail = _words(text[number.end():c.end])
                if aged and tail and not any(w in _AGE_WORDS for w in tail):
                    continue  # "how old": 39, "38 years", not "two different teams"
                t = _unit_kept(text, t, number, counted)
            span = text[t.start:t.end]
            if len(span.split()) > 8:
                continue
            inside = [i for i, (a, b, _) in enumerate(tokens) if a >= t.start and b <= t.end]
            if not inside:
                continue
            first, last = inside[0], inside[-1]
            if measured and c.kind == "quantity" and not any(
                    _measures(w) for _, _, w in tokens[first:last + 3]):
                continue
            score = fit - 0.2 * rank
            if near:  # the answer sits next to the question's words: distance in words, and how many are close
                gap = min(min(abs(first - i), abs(i - last)) for i in near)
                score -= min(0.5, 0.04 * gap)
                window = {tokens[i][2][:5] for i in near if first - 10 <= i <= last + 10}
                score += 0.25 * len(window) / max(1, len(qstems))
            else:
                score -= 0.3
            low = [w for _, _, w in tokens[first:last + 1]]
            after = [w for _, _, w in tokens[last + 1:last + 3]]
            before = [w for _, _, w in tokens[max(0, first - 2):first]]
            if focus:
                if any(stem(w) == focus or stem(w.rstrip("s")) == focus.rstrip("s") for w in low):
                    score += 0.35  # "what stadium" -> "Levi's Stadium", "how many touchdowns" -> "five touchdowns"
                elif any(stem(w) == focus for w in after + before):
                    score += 0.2  # "... 17 seconds", "the Broncos' coach John Fox"
                elif kind.kind == "quantity":
                    score -= 0.15  # a number of something else
            if results:
                score += _result_score(results, first, last, want)
            if kind.kind == "quantity" and any(_is_unit(w) for w in low):
                score += 0.05
            if kind.kind == "date" and kind.focus == "year" and not re.search(r"\b\d{4}\b", span):
                score -= 0.3
            if kind.kind == "place" and _PREPOSITION.search(text[max(0, t.start - 10):t.start]):
                score += 0.15
            if kind.kind == "place" and c.kind == "code":
                score += 0.2  # a folder named in full says where better than "on Linux" beside it
            if kind.kind == "person" and c.kind == "name":
                if "by" in before or (first >= 3 and tokens[first - 3][2] == "by"):
                    score += 0.3  # "built ... by the engineer Margaret Hale": the agent
                elif before[-1:] and before[-1] in ("in", "on", "at", "near", "from"):
                    score -= 0.2  # "the lighthouse on Skerry Island": a place, not a person
                if re.search(r"\d|\b[A-Z]{2,}\b", span):
                    score -= 0.3  # "Super Bowl XLIX", "NFL": not a person
                elif len(span.split()) >= 2:
                    score += 0.1
            answer = DirectAnswer(" ".join(span.split()), e.source, t.start, t.end, round(score, 4))
            if best is None or score > best[0]:
                best = (score, answer, several and c.kind == "name" and _listed(c, text))
    if best is None or best[0] < THRESHOLD or best[2]:  # one name of a list, asked for several: none
        return None
    return best[1]


def _tokens(hits: list[Hit], e: Evidence) -> list[tuple[int, int, str]]:
    """An evidence sentence's words: (start, end) in its passage, and the word in lower case."""
    text = hits[e.source - 1].text
    return [(m.start() + e.start, m.end() + e.start, m.group(0).lower()) for m in WORD.finditer(text[e.start:e.end])]


def _asks_several(question: str) -> bool:
    """Whether a which/what question asks for several things: "which file formats", "what two teams"."""
    m = _ASKED_NOUNS.search(question)
    for word in (m.groups() if m else ()):
        if not word or word in STOPWORDS:
            break
        if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
            return True
    return False


def _listed(c: _Candidate, text: str) -> bool:
    """Whether a name stands in a list: "Markdown, reStructuredText, HTML", "PDF and Word", "the Broncos and
    the Panthers"."""
    before, span, after = text[max(0, c.start - 12):c.start], text[c.start:c.end], text[c.end:c.end + 12]
    return bool(re.search(r"\s(?:and|or|&)\s", span) or _LIST_AFTER.match(after) or _LIST_BEFORE.search(before))


def _counted(question: str) -> set[str]:
    """The stems of what a "how many/much" question counts: "how many forced fumbles did ..." -> forced,
    fumbles."""
    m = _COUNTED.search(question)
    out: set[str] = set()
    for w in (m.group(1).lower().split() if m else ()):
        if w in STOPWORDS:
            break
        out.add(stem(w))
    return out


def _unit_kept(text: str, c: _Candidate, number: re.Match[str], counted: set[str]) -> _Candidate:
    """A quantity with the words after its number only as far as its unit or the thing counted: "17 seconds
    left" -> "17 seconds", "$1.2 billion stadium opened" -> "$1.2 billion", "45 total touchdowns" stays."""
    if number.end() >= c.end:
        return c
    size = _SIZE_UNIT.match(text, number.end(), c.end)
    base = end = size.end() if size else number.end()
    for w in re.finditer(r"\S+", text[base:c.end]):
        word = w.group(0).rstrip(",.;:)")
        if _measures(word.lower()) or stem(word.lower()) in counted:
            end = base + w.start() + len(word)
    return _Candidate(c.start, end, c.kind)


def _is_unit(word: str) -> bool:
    return word in _UNIT_WORDS or word.rstrip("s") in _UNIT_WORDS


def _measures(word: str) -> bool:
    """Whether a lower-case word is a unit a measured quantity can carry ("seconds", "MB", "chunks")."""
    return _is_unit(word) or word in _MEASURE_UNITS


def _results(tokens: list[tuple[int, int, str]]) -> list[tuple[int, str]]:
    """Where the sentence says who beat whom: (token index of the verb, the side the winner stands on)."""
    out = []
    for i, (_, _, w) in enumerate(tokens):
        after = tokens[i + 1][2] if i + 1 < len(tokens) else ""
        if w in _BEAT_WORDS:
            passive = after == "by" or (i > 0 and tokens[i - 1][2] in _PASSIVE_BEFORE)
            if w == "won" and passive:
                continue  # "the game was won by ...": who is not said here
            out.append((i, "after" if passive else "before"))
        elif w in _LOST_WORDS and after == "to":
            out.append((i, "after"))
        elif w in ("blew", "blows", "blow") and after == "out":  # "the Panthers then blew out the Cardinals"
            out.append((i + 1, "before"))
    return out


def _result_score(results: list[tuple[int, str]], first: int, last: int, want: str) -> float:
    """A bonus for a candidate on the side of the verb the question asks about (the winner before
    "defeated"), the more the nearer it stands; a penalty for one on the other side. The verb nearest to
    the candidate decides."""
    v, winner_side = min(results, key=lambda r: min(abs(r[0] - first), abs(r[0] - last)))
    side = "before" if last < v else "after" if first > v else ""
    if not side:
        return 0.0
    if (side == winner_side) != (want == "winner"):
        return -0.6
    return max(0.0, 0.3 - 0.05 * (v - last - 1 if side == "before" else first - v - 1))  # the nearest name


_REPLY_LEAD = re.compile(r"^(?:(?:the )?(?:answer|words?)(?: (?:is|are))?\s*:?\s*|answer:\s*)", re.IGNORECASE)


def span_answer(question: str, hits: list[Hit], e: Evidence, reply: str) -> DirectAnswer | None:
    """A model's reply to "which words of this sentence answer the question?" as a direct answer, or None.

    It is kept only when it is a verbatim span of the evidence sentence (case and spacing aside) of at most
    eight words, is not made only of the question's own words, and is of the kind the question asks for (a
    number for "how many", a date or a number for "when", a capitalised name for "who" and "where"): the
    model chooses the words, the sentence vouches for them.
    """
    kind = question_kind(question)
    line = reply.strip().splitlines()[0] if reply.strip() else ""
    line = _REPLY_LEAD.sub("", line.strip()).strip(" \"'“”‘’`*").rstrip(".,;:").strip()
    if kind is None or not line or len(line.split()) > 8:
        return None
    passage = hits[e.source - 1].text
    pattern = r"\s+".join(re.escape(w) for w in line.split())
    m = re.search(rf"(?<!\w){pattern}(?!\w)", passage[e.start:e.end], re.IGNORECASE)
    if not m:
        return None
    start, end = e.start + m.start(), e.start + m.end()
    span = passage[start:end]
    qstems = {stem(w) for w in _words(question) if w not in STOPWORDS}
    if all(stem(w) in qstems or w in STOPWORDS for w in _words(span)):
        return None
    numeric = bool(re.search(r"\d", span)) or any(w in NUMBER_WORDS for w in _words(span))
    if kind.kind == "quantity" and not numeric:
        return None
    if kind.kind == "date" and not (numeric or DATE_SPAN.search(span)):
        return None
    if kind.kind in ("person", "place") and not re.search(r"[A-Z]", span):
        return None
    return DirectAnswer(" ".join(span.split()), e.source, start, end, 1.0)


def direct_answer_block(answer: DirectAnswer | None) -> str:
    """The direct answer as the answer's first line: in bold, with its citation."""
    if answer is None:
        return ""
    text = answer.text.replace("*", "\\*")
    return f"**{text}** [{answer.source}]"
