"""Text on the ground floor: the one sanitiser (terminal-safe text), and the words search and answers compare.

Everything that reaches a terminal or a log line goes through `printable` (the CLI, the TUI, the MCP
server, the daemon's log), and the readers use `strip_ansi` so a coloured log indexes as the text it is.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from typing import Any

from assistant import language

# CSI (colours, cursor moves), OSC (titles, hyperlinks; ended by BEL or ST), and two-byte escapes.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
# C0 and C1 control characters except tab and newline, DEL, and the bidirectional overrides
# (U+202A-202E, U+2066-2069) that can make text read differently from what it is.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_ansi(text: str) -> str:
    """Remove ANSI escape sequences (colours, cursor moves, titles), keep everything else."""
    return ANSI.sub("", text) if "\x1b" in text or "\x9b" in text else text


def printable(text: str, multiline: bool = False) -> str:
    """Text that cannot drive a terminal: no escape sequences, no control characters.

    With multiline=False (a path, an error, a log line) newlines and tabs become spaces, so one value
    stays on one line; with multiline=True they are kept.
    """
    out = CONTROL.sub("", strip_ansi(text).replace("\r\n", "\n").replace("\r", "\n"))
    if not multiline:
        out = out.replace("\n", " ").replace("\t", " ")
    return out


class SafeStream:
    """A text stream that passes everything through `printable` (newlines, tabs and \\r kept).

    The CLI writes through it, so no file name, document text or error message can reach the
    terminal with an escape sequence in it, whichever print statement it goes through.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, s: str) -> int:
        safe = CONTROL.sub(_keep_cr, strip_ansi(s))
        self._stream.write(safe)
        return len(s)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding, buffer...
        return getattr(self._stream, name)


def _keep_cr(m: re.Match[str]) -> str:
    return "\r" if m.group() == "\r" else ""


class SafeFormatter(logging.Formatter):
    """A log formatter whose lines hold no escape sequences or control characters (tracebacks keep
    their newlines)."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), multiline=True)


# --- words: what search (keyword coverage, the gate) and answers (evidence, checks) both compare ---------

STEM_LENGTH = 5  # default of the setting stem_length
WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    """a about above after again against all am an and any are as at be because been before being below
    between both but by can could did do does doing down during each few for from further had has have
    having he her here hers herself him himself his how i if in into is it its itself just me more most my
    myself no nor not now of off on once only or other our ours ourselves out over own same she should so
    some such than that the their theirs them themselves then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your
    yours yourself yourselves""".split()
)


def content_words(text: str) -> list[str]:
    """The words of a text that carry meaning: lower-cased, stop words dropped (all words if only
    stop words)."""
    words = language.words(text)  # Chinese, Japanese, Korean, Thai: character pairs
    return [w for w in words if w not in STOPWORDS] or words


def stem(word: str, length: int = STEM_LENGTH) -> str:
    # A five-letter prefix is a crude stemmer, but language-neutral: leave/leaves, found/founded.
    return word[:length]


def coverage(query_stems: set[str], text: str, length: int = STEM_LENGTH) -> float:
    """Share of the query's content words (as stems of `length` letters) that occur in the text."""
    return Coverage(query_stems, length)(text)


class Coverage:
    """coverage() for one query over many passages: the passage's words that start with one of the
    query's stems are found with one pattern, instead of splitting every passage into words (a search
    scores about 80 candidates: under a profiler that splitting was 5 of 59 ms a search at 1M chunks)."""

    def __init__(self, query_stems: set[str], length: int = STEM_LENGTH) -> None:
        self.stems, self.length = query_stems, length
        spaced = sorted((s for s in query_stems if not language.UNSPACED.match(s)), key=len, reverse=True)
        self.pairs = {s for s in query_stems if language.UNSPACED.match(s)}  # character pairs: found anywhere
        alternatives = "|".join(re.escape(s) for s in spaced)
        self.pattern = re.compile(rf"(?<!\w)(?:{alternatives})\w*", re.UNICODE) if spaced else None

    def __call__(self, text: str) -> float:
        if not self.stems:
            return 0.0
        low = text.lower()
        words = set(self.pattern.findall(low)) if self.pattern else set()
        words |= {p for p in self.pairs if p in low}
        if words & STOPWORDS:  # a stop word counts only in a passage of stop words alone: the full rule
            words = set(language.words(low))
            words = words - STOPWORDS or words
        return len(self.stems & {w[: self.length] for w in words}) / len(self.stems)


# --- file names, as questions name them (search/names.py) -----------------------------------------------

NAME_WORD = re.compile(r"[^\W\d_]+|\d+")  # a run of letters or a run of digits: "Q3-budget" -> q 3 budget
NAME_MAX_WORDS = 8  # longer file names are not looked for in questions


def name_words(text: str) -> tuple[str, ...]:
    """Lower-case words and numbers (without leading zeros) of a text, in order: one per NAME_WORD match."""
    return tuple(name_word(w) for w in NAME_WORD.findall(text))


def name_word(word: str) -> str:
    """A word lower-cased, or a number in ASCII digits without leading zeros (of any length, in any script)."""
    if not word.isdecimal():
        return word.lower()
    return "".join(str(unicodedata.decimal(ch)) for ch in word).lstrip("0") or "0"


def file_name_key(path: str) -> str | None:
    """The words of a file's name (extension left out), space-separated, if a question can name the file by
    them, else None: names of two to NAME_MAX_WORDS words, one of them a word of three letters or more that
    is not a function word ("pep-0008.rst" -> "pep 8"; "notes.txt", "a-1.txt" -> None)."""
    base = re.split(r"[\\/]", str(path).rstrip("/\\"))[-1]
    stem_ = base.rsplit(".", 1)[0] if "." in base.strip(".") else base
    words = name_words(stem_)
    if not 2 <= len(words) <= NAME_MAX_WORDS:
        return None
    if not any(len(w) >= 3 and not w.isdecimal() and w not in STOPWORDS for w in words):
        return None
    return " ".join(words)
