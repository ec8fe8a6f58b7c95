"""Evidence: the sentences inside the retrieved passages that answer the question.

Every answer is built on these. They are verbatim (character offsets into their passage), so they cannot
invent anything, and they are what a generated answer is checked against (see verify.py).

A sentence's score combines what a small model cannot fake:
- meaning: cosine similarity of the question and the sentence read under its heading (the same embedder
  as the index; only for the MAX_EMBED sentences that score best on everything else),
- words: the share of the question's content words (five-letter stems) found in the sentence or its heading,
- numbers: a question that names a number is answered by a sentence holding it,
- answer type: a sentence holding the kind of thing asked for (a number for "how many" or "when", a name
  the question does not already hold for "who", "which" or "where"),
- the passage: its relevance and its rank in the search, so a sentence of the best passage wins a near tie,
- the cross-encoder (when installed): it reads the question and each of those eight sentences together, and
  CE_WEIGHT x its logit is added to order them; how many quotes are kept (margin) still follows the scores
  without it (on SQuAD 2.0's answerable questions the best quote held the answer 0.755 -> 0.83 of the time; the
  quotes held it 0.820 -> 0.837 on superbowl50's first half; 0.2 gave the same).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from assistant.text import Coverage, content_words, stem
from assistant.types import Embedder, Evidence, Hit

# Weights chosen on the first half of superbowl50's questions, checked on the second (README: "Answers
# you can check").
WORD_WEIGHT = 0.5
NUMBER_WEIGHT = 0.1
TYPE_WEIGHT = 0.1  # the sentence holds the kind of thing asked for (a number for "how many", a name for "who")
RANK_PENALTY = 0.05  # per place below the first passage
PASSAGE_WEIGHT = 0.3  # times the passage's relevance (a whole passage, heading included, is the surer signal)
SHORT_PENALTY = 0.15  # a fragment of fewer than MIN_WORDS words rarely answers anything on its own
MIN_WORDS = 4
CE_WEIGHT = 0.1  # times the cross-encoder's logit, when it is installed (docs/benchmarks/answers.md)
MAX_EMBED = 8  # sentences whose meaning is compared (those scoring best on everything else): keeps `quote` fast
MAX_CHARS = 400  # a "sentence" longer than this (a table, a run-on list) is cut at a clause boundary

_ABBREV = re.compile(r"(?:\b(?:e\.g|i\.e|etc|vs|cf|Mr|Mrs|Ms|Dr|Prof|St|No|Fig|approx|Inc|Ltd|Jr|Sr|"
                     r"z|d|r|b|c|fl|bzw|ca|usw|vgl|Nr|Str|evtl|ggf|inkl|sog|Sra|Srta|aprox|pág|núm|Mme|Mlle)"
                     r"|\b[A-Z])\.$")
# "am 7. Februar": a German date's day is written with a full stop
_DAY_MONTH = re.compile(r"(?:Januar|Jänner|Februar|März|April|Mai|Juni|Juli|August|September|Oktober|November|"
                        r"Dezember)\b")
_BOUNDARY = re.compile(
    r"(?<=[.!?])[\"'”’)\]`*_»]*\s+(?=[\"'“‘(\[`*_¿¡«„]*[A-Z0-9`À-ÖØ-ÞА-ЯЁΑ-Ω])"  # Latin, Cyrillic, Greek capitals
    r"|(?<=[。！？])\s*(?=[^\s”’」』）)])|(?<=[。！？][”’」』）)])\s*"  # Chinese and Japanese: no space, any letter
    r"|\n\s*\n|\n(?=\s*(?:[-*+•]|\d+[.)])\s)")
_NUMBER = re.compile(r"\d+(?:[.,:]\d+)*")
_NAME = re.compile(r"(?<![\w'’])[A-Z][\w'’-]+")
_MONTH = re.compile(r"\b(January|February|March|April|May|June|July|August|September|October|November|December)\b")
_WANTS_NUMBER = re.compile(r"\bhow (many|much|long|far|old|big|large|tall|high|often|fast|heavy)\b|\bwhen\b|"
                           r"\bwhat (year|day|date|month|time|percentage|percent|number|amount|score|age|size)\b",
                           re.IGNORECASE)
_WANTS_NAME = re.compile(r"\b(who|whom|whose|which|where)\b|\bwhat (team|city|country|company|stadium|venue|name|"
                         r"state|person|player|group|organi[sz]ation|brand|language|place)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Sentence:
    """A sentence of a passage: its text and where it sits in the passage."""

    text: str  # as in the passage, whitespace collapsed
    start: int  # character offsets into the passage text (Hit.text)
    end: int


def split_sentences(text: str) -> list[Sentence]:
    """Split a passage into sentences with their character offsets.

    Boundaries: end punctuation followed by a capital or digit (common abbreviations excepted), blank
    lines, and list items. Single line breaks inside a paragraph (hard-wrapped text) are not boundaries.
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for m in _BOUNDARY.finditer(text):
        before = text[max(start, m.start() - 8): m.start()]
        if _ABBREV.search(before) or (re.search(r"(?<!\d)\d{1,2}\.$", before) and _DAY_MONTH.match(text, m.end())):
            continue
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        for s2, e2 in _cut_long(text, s, e):
            piece = text[s2:e2]
            lead = len(piece) - len(piece.lstrip())
            trail = len(piece) - len(piece.rstrip())
            s2, e2 = s2 + lead, e2 - trail
            if e2 > s2 and re.search(r"\w", text[s2:e2]):
                out.append(Sentence(" ".join(text[s2:e2].split()), s2, e2))
    return out


def _cut_long(text: str, s: int, e: int) -> list[tuple[int, int]]:
    """Cut an over-long span at clause boundaries (; : , or line breaks) into pieces of <= MAX_CHARS."""
    pieces = []
    while e - s > MAX_CHARS:
        window = text[s: s + MAX_CHARS]
        cut = max(window.rfind("; "), window.rfind("\n"), window.rfind(": "), window.rfind(", "))
        if cut < MAX_CHARS // 3:
            cut = window.rfind(" ")
        if cut <= 0:
            cut = MAX_CHARS
        pieces.append((s, s + cut + 1))
        s = s + cut + 1
    pieces.append((s, e))
    return pieces


def numbers(text: str) -> set[str]:
    """The numbers written in a text, normalised (thousands separators dropped): "1,200" -> "1200"."""
    return {_norm_number(n) for n in _NUMBER.findall(text)}


def _norm_number(n: str) -> str:
    if re.fullmatch(r"\d{1,3}(,\d{3})+", n):
        return n.replace(",", "")
    return n.rstrip(".,:")


def select_evidence(
    embedder: Embedder, question: str, hits: list[Hit], max_passages: int = 3, max_quotes: int = 3,
    margin: float = 0.25, support: Callable[[str, list[str]], list[float]] | None = None,
) -> list[Evidence]:
    """The sentences of the top relevant passages that best answer the question, best first.

    Args:
        hits: the sources as numbered for the answer (source n is hits[n - 1]); only relevant ones are read,
            and only those from a document the question names (Hit.named) if it names one that has any.
        max_passages: how many of the best relevant passages are searched.
        max_quotes: most sentences returned.
        margin: a further sentence is kept only when it scores within this of the best.
        support: the cross-encoder (question, sentences -> logits); when given, CE_WEIGHT x its logit is added to
            the score of each sentence whose meaning is compared.

    Returns:
        At most max_quotes Evidence, or [] when no hit is relevant.
    """
    candidates: list[tuple[int, int, Sentence]] = []  # (source number, rank among read passages, sentence)
    rank = 0
    # A question that names a document is answered from it when it has a relevant passage: another
    # document's sentence about "the PEP 8 maximum line length" shares more words with the question.
    named = any(h.named and h.relevant for h in hits)
    for n, h in enumerate(hits, 1):
        if not h.relevant or rank >= max_passages or (named and not h.named):
            continue
        for s in split_sentences(h.text):
            candidates.append((n, rank, s))
        rank += 1
    if not candidates:
        return []
    q = QuestionInfo.of(question)
    lexical = np.asarray([sentence_score(0.0, q, hits[n - 1].heading, s.text, r)
                          + PASSAGE_WEIGHT * float(hits[n - 1].relevance or 0.0) for n, r, s in candidates])
    # Only the best MAX_EMBED by words, numbers, type and passage are embedded: on superbowl50 this lost
    # one question in 405 and saved a third of the time.
    keep = np.sort(np.argsort(-lexical, kind="stable")[:MAX_EMBED])
    candidates = [candidates[int(i)] for i in keep]
    read = [(hits[n - 1].heading, s) for n, _, s in candidates]
    base = lexical[keep] + sentence_cosines(embedder, question, read)
    scores = base
    if support is not None:  # it reads the question and the sentence together: it finds the sentence that answers
        logits = support(question, [f"{h}: {s.text}" if h else s.text for h, s in read])
        scores = base + CE_WEIGHT * np.asarray(logits, dtype=np.float64)
    order = np.argsort(-scores, kind="stable")
    best = float(base.max())  # the margin is kept on the scores without it: it orders the quotes, not how many
    out: list[Evidence] = []
    for i in order:
        if len(out) >= max_quotes:
            break
        if float(base[i]) < best - margin:
            continue
        n, _, s = candidates[int(i)]
        if any(e.source == n and e.text == s.text for e in out):
            continue
        out.append(Evidence(n, s.text, s.start, s.end, round(float(scores[i]), 4)))
    return out


def sentence_cosines(embedder: Embedder, question: str, items: list[tuple[str | None, Sentence]]) -> np.ndarray:
    """Cosine similarity of the question to each sentence, read under its section's heading ("Broadcasting:
    CBS aired the game ..."): the heading says what the sentence is about, which raised the evidence's
    gold rate by 3-4 points on both halves of superbowl50 and answered more natural questions."""
    texts = [f"{heading}: {s.text}" if heading else s.text for heading, s in items]
    if getattr(embedder, "query_prefix", "") or getattr(embedder, "passage_prefix", ""):  # E5: each with its prefix
        return (embedder.embed(texts) @ embedder.embed([question], query=True)[0]).astype(np.float32)
    vectors = embedder.embed([question] + texts)  # one batch: one forward pass
    return (vectors[1:] @ vectors[0]).astype(np.float32)


@dataclass(frozen=True)
class QuestionInfo:
    """What the scoring needs to know of a question."""

    stems: frozenset[str]
    numbers: frozenset[str]
    names: frozenset[str]  # lower-cased capitalised words of the question
    wants: str  # "number" | "name" | "": the kind of answer the question asks for
    covered: Coverage = field(compare=False, repr=False)  # the share of `stems` a text holds

    @classmethod
    def of(cls, question: str) -> QuestionInfo:
        wants = "number" if _WANTS_NUMBER.search(question) else "name" if _WANTS_NAME.search(question) else ""
        stems = frozenset(stem(w) for w in content_words(question))
        return cls(stems, frozenset(numbers(question)), frozenset(w.lower() for w in _NAME.findall(question)),
                   wants, Coverage(set(stems)))


def sentence_score(cos: float, q: QuestionInfo, heading: str | None, text: str, rank: int) -> float:
    """cosine + words + numbers + answer type - rank - shortness (the weights are module constants)."""
    score = cos + WORD_WEIGHT * q.covered(f"{heading or ''} {text}")
    found = numbers(text)
    if q.numbers and q.numbers & found:
        score += NUMBER_WEIGHT
    if q.wants == "number" and (found - q.numbers or _MONTH.search(text)):
        score += TYPE_WEIGHT
    elif q.wants == "name" and any(w.lower() not in q.names for w in _NAME.findall(text[1:])):
        score += TYPE_WEIGHT
    if len(text.split()) < MIN_WORDS:
        score -= SHORT_PENALTY
    return score - RANK_PENALTY * rank


def quote_block(evidence: list[Evidence]) -> str:
    """The evidence as Markdown quotes, one per line, each with its citation."""
    return "\n".join(f"> {e.text} [{e.source}]" for e in evidence)
