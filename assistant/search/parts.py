"""A question that names two things ("compare A and B", "A vs B", "the difference between A and B",
"how does A differ from B", "A or B?") split into one question per thing, so each is searched for on its
own and the lists taken in turn (retrieval.merge_parts; README "Search"): one query's top passages are
otherwise all about whichever of the two its words and meaning lean to.

The split is a rule on words, not a parser: each thing is the run of words next to the joining word,
up to a punctuation mark, a function word ("in", "for", "is", "between"...) or six words; two names
that fill a clause of their own keep the small words of titles ("Style Guide for Python Code vs
Docstring Conventions"). The rest of the question is kept around each thing ("Should I use tabs or
spaces for indentation?" gives "Should I use tabs for indentation?" and "Should I use spaces for
indentation?"). "and" splits only after a comparing word ("compare", "the difference between"...);
"or" splits only in a question."""

from __future__ import annotations

import re

from assistant.text import STOPWORDS

MAX_WORDS = 6  # the longest run of words one thing can be
# A word (PEP 8, C++, int8, v1.2, don't, Alzheimer’s) or one mark.
TOKEN = re.compile(r"[\w.+#/'\u2019-]*\w[\w+#]*|[^\w\s]")
# Function words that a named thing can still hold ("the difference between the index and its file").
INSIDE = frozenset({"the", "a", "an", "of", "my", "our", "your", "its", "their", "his", "her", "this", "that"})
IN_TITLES = INSIDE | {"for", "in", "on", "to", "with", "and", "by", "from", "at", "into", "as"}  # "Style Guide for X"
COMPARE_AND = frozenset({"compare", "comparing", "comparison", "contrast", "contrasting"})  # "compare A and/to B"
# "between A and B" names two things to tell apart only after one of these ("the game between A and B"
# is one game).
BETWEEN_AFTER = frozenset(
    """difference differences distinction distinctions differ choose choosing choice pick similarity
    similarities compare comparison contrast tradeoff tradeoffs trade-off trade-offs""".split()
)
DIFFER = frozenset({"differ", "differs", "compare", "compares", "compared"})  # "A differs from B"
DIFFER_FROM = frozenset({"from", "to", "with", "against"})
CLAUSE_END = frozenset(",;?!")  # marks a thing's name does not run across (":" and "." it may hold)
FRAME = COMPARE_AND | BETWEEN_AFTER | {"between", "vs", "versus"}  # left out of each part: it asks about one thing
JOINS = frozenset({"and", "or", "vs", "versus", ".", "from", "to", "with", "against"})  # dropped between the two
QUESTION_START = frozenset(
    """which what whats who whom whose when where why how is are was were do does did should shall can
    could would will may might must whether""".split()
)


def question_parts(question: str) -> list[str]:
    """The question once per thing it names, when it names two (see the module's text); else []."""
    toks = TOKEN.findall(question)
    low = [t.lower() for t in toks]
    split = _compare(low) or _differ(low) or _versus(low) or _alternative(low, question)
    if not split:
        return []
    (a0, a1), (b0, b1) = split
    kept = [t for t, w in zip(toks[a1:b0], low[a1:b0], strict=True) if w not in JOINS]  # "differ" of "differ from"
    # The comparing words are left out: "What is the difference between A?" reads "What is the A?".
    pre = [t for t, w in zip(toks[:a0], low[:a0], strict=True) if w not in FRAME]
    parts = [_join(pre + toks[span[0]:span[1]] + kept + toks[b1:]) for span in ((a0, a1), (b0, b1))]
    words = [set(low[a0:a1]) - STOPWORDS, set(low[b0:b1]) - STOPWORDS]
    if not all(words) or words[0] == words[1]:
        return []
    return parts


def _even(a: tuple[int, int], b: tuple[int, int]) -> tuple[tuple[int, int], tuple[int, int]]:
    """Two alternatives ("A or B", "A vs B") as long as each other: the longer loses its far words to the
    rest of the question ("use tabs or spaces" -> "tabs", "spaces"; "Python 2 vs Python 3 strings" ->
    "Python 2", "Python 3")."""
    n = min(a[1] - a[0], b[1] - b[0])
    return (a[1] - n, a[1]), (b[0], b[0] + n)


def _compare(low: list[str]) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """'compare A and/with/to B', 'a comparison of A and B', 'the difference between A and B'."""
    for i, w in enumerate(low):
        if w in COMPARE_AND:
            joins = ("vs", "versus", "against", "with", "to", "and")  # the first found, in this order
        elif w == "between" and BETWEEN_AFTER & set(low[max(0, i - 3):i]):
            joins = ("and",)
        else:
            continue
        a0 = i + 2 if low[i + 1:i + 2] == ["of"] else i + 1  # "a comparison of A and B"
        # The first thing is bounded on its left by the comparing word, so it may hold function words
        # and marks ("the difference between Style Guide for Python Code and ..."): it ends at the
        # joining word, "with" before "and" ("compare Decorators for Functions and Methods with X").
        window = range(a0, _clause_end(low, a0))
        a1 = next((j for join in joins for j in window if low[j] == join), a0)
        if a1 > a0:
            b1 = _run_right(low, a1 + 1)
            if set(low[a0:a1]) & (IN_TITLES - INSIDE):  # a first name with small words: the second may have them
                end = _clause_end(low, a1 + 1)
                if not set(low[a1 + 1:end]) & (STOPWORDS - IN_TITLES):
                    b1 = end
            if b1 > a1 + 1:
                return (a0, a1), (a1 + 1, b1)
    return None


def _clause_end(low: list[str], start: int) -> int:
    """Where the words from `start` stop: at a clause mark (CLAUSE_END) or after 2 x MAX_WORDS."""
    end = start
    while end < min(len(low), start + 2 * MAX_WORDS) and low[end] not in CLAUSE_END:
        end += 1
    return end


def _differ(low: list[str]) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """'how does A differ from B', 'how is A compared to B'."""
    for i, w in enumerate(low[1:-1], start=1):
        if w in DIFFER and low[i + 1] in DIFFER_FROM:
            a0 = _run_left(low, i)
            b1 = _run_right(low, i + 2)
            if a0 < i and b1 > i + 2:
                return (a0, i), (i + 2, b1)
    return None


def _versus(low: list[str]) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """'A vs B', 'A vs. B', 'A versus B'."""
    for i, w in enumerate(low):
        if w in ("vs", "versus"):  # "vs." is two tokens
            j = i + 2 if w == "vs" and i + 1 < len(low) and low[i + 1] == "." else i + 1
            whole = _clause(low, i, j)
            if whole:
                return whole
            a0, b1 = _run_left(low, i), _run_right(low, j)
            if a0 < i and b1 > j:
                return _even((a0, i), (j, b1))
    return None


def _alternative(low: list[str], question: str) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """'A or B' in a question (one that ends with '?' or opens with a question word)."""
    if "or" not in low or not (question.rstrip().endswith("?") or (low and low[0] in QUESTION_START)):
        return None
    i = low.index("or")
    whole = _clause(low, i, i + 1)
    if whole:
        return whole
    a0, b1 = _run_left(low, i), _run_right(low, i + 1)
    if a0 < i and b1 > i + 1:
        return _even((a0, i), (i + 1, b1))
    return None


def _clause(low: list[str], i: int, j: int) -> tuple[tuple[int, int], tuple[int, int]] | None:
    """The two alternatives around the joining word(s) low[i:j] when they fill a clause of their own (from
    its start or a mark to its end or a mark), each a name that may hold the small words of titles
    ("Style Guide for Python Code vs Docstring Conventions", "Which should I read, A or B?"); None when
    either side holds any other function word ("Should I use tabs or spaces") or is long."""
    a0 = i
    while a0 > 0 and not _mark(low[a0 - 1]):
        a0 -= 1
    b1 = j
    while b1 < len(low) and not _mark(low[b1]):
        b1 += 1
    sides = (low[a0:i], low[j:b1])
    if all(0 < len(side) <= 2 * MAX_WORDS and not (set(side) & STOPWORDS - IN_TITLES) for side in sides):
        return (a0, i), (j, b1)
    return None


def _mark(tok: str) -> bool:
    return not (tok[0].isalnum() or tok[0] == "_")


def _boundary(tok: str) -> bool:
    return _mark(tok) or (tok in STOPWORDS and tok not in INSIDE)


def _run_right(low: list[str], start: int) -> int:
    """The end of the run of a thing's words from `start` (exclusive index)."""
    end = start
    while end < len(low) and end - start < MAX_WORDS and not _boundary(low[end]):
        end += 1
    return end


def _run_left(low: list[str], end: int) -> int:
    """The start of the run of a thing's words ending just before `end`."""
    start = end
    while start > 0 and end - start < MAX_WORDS and not _boundary(low[start - 1]):
        start -= 1
    return start


def _join(toks: list[str]) -> str:
    """Tokens back into text: a space between words, none before a mark."""
    out = ""
    for t in toks:
        out += t if not out or (_mark(t) and t not in "([{") else " " + t
    return out.strip()
