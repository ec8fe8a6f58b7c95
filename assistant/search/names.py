"""A question that names a document is searched in that document first.

"What does PEP 8 say about the maximum line length?" names pep-0008.rst; "what's in the Q3 budget?" names
Q3-budget.xlsx. Without this, search ranks passages by their words and meaning only, and a document that
only mentions PEP 8 ("well over the PEP 8 maximum line length of 80 columns", PEP 584) can come before
PEP 8's own rule: a file's name is in none of its passages. README "Search": on 24 questions that name
a PEP (bench/data/pep_natural.jsonl), the first passage came from that PEP for 6 without this and 22
with it, and the answer quoted the fact asked for in 2 against 13.

A file name is the words of its name without the extension, numbers without leading zeros
("pep-0008.rst" -> pep 8, "Super_Bowl_50.md" -> super bowl 50); a question names the file when those words
stand in it one after the other ("PEP 8", "pep8", "PEP-0008"). Only names of two words or more, one of
them a word of three letters or more that is not a function word, count: "notes.txt" or "a-1.txt" would
be found in questions that do not mean them. When the words of a longer name are found, the shorter
names inside them are not taken; a question naming more than MAX_NAMED files names none.
"""

from __future__ import annotations

import os
import re
import time
import weakref
from collections.abc import Iterable

from assistant.store import Store
from assistant.text import STOPWORDS

WORD = re.compile(r"[^\W\d_]+|\d+")  # a run of letters or a run of digits: "Q3-budget" -> q 3 budget
MAX_NAMED = 20  # more files than this share the name: it picks out no document
MAX_WORDS = 8  # longer file names are not looked for in questions
REFRESH_S = 10.0  # the names are read again at most this often (document_names)
REST_WORDS = 2  # content words the question must keep without the name to be searched without it


def name_words(text: str) -> tuple[str, ...]:
    """Lower-case words and numbers (without leading zeros) of a text, in order."""
    return tuple(str(int(w)) if w.isdigit() else w for w in WORD.findall(text.lower()))


def file_words(path: str) -> tuple[str, ...] | None:
    """The words of a file's name (extension left out) if a question can name the file by them, else None."""
    base = os.path.basename(str(path).rstrip("/\\"))
    words = name_words(os.path.splitext(base)[0] or base)
    if not 2 <= len(words) <= MAX_WORDS:
        return None
    if not any(len(w) >= 3 and not w.isdigit() and w not in STOPWORDS for w in words):
        return None
    return words


class DocumentNames:
    """The library's file names, to find the documents a question names."""

    def __init__(self, paths: Iterable[str]) -> None:
        self._paths: dict[tuple[str, ...], list[str]] = {}
        for p in paths:
            words = file_words(p)
            if words:
                self._paths.setdefault(words, []).append(p)
        self._longest = max(map(len, self._paths), default=0)

    def named(self, question: str) -> list[str]:
        """The paths of the documents the question names (see the module's text), or []."""
        return self.find(question)[0]

    def find(self, question: str) -> tuple[list[str], str]:
        """The paths of the documents the question names, and the question without their names ("What
        does PEP 8 say about X?" -> "What does say about X?"); ([], question) when it names none."""
        if not self._paths:
            return [], question
        spans = [(m.start(), m.end()) for m in WORD.finditer(question.lower())]
        words = name_words(question)
        found: list[tuple[int, int, list[str]]] = []  # (start, length, paths)
        for n in range(min(self._longest, len(words)), 1, -1):
            for i in range(len(words) - n + 1):
                paths = self._paths.get(words[i:i + n])
                if paths and not any(s <= i and i + n <= s + m for s, m, _ in found):  # not inside a longer one
                    found.append((i, n, paths))
        out = [p for _, _, paths in found for p in paths]
        if not out or len(out) > MAX_NAMED:
            return [], question
        rest = question
        for i, n, _ in sorted(found, reverse=True):
            rest = rest[:spans[i][0]] + rest[spans[i + n - 1][1]:]
        return out, " ".join(rest.split())


_cache: weakref.WeakKeyDictionary[Store, tuple[tuple[int, int], float, DocumentNames]] = weakref.WeakKeyDictionary()


def document_names(store: Store) -> DocumentNames:
    """The library's file names, read again when the index has changed since they were last read, but not
    more often than every REFRESH_S seconds: while a folder is being indexed the index changes with every
    file, and reading 100,000 names takes ~0.1 s. A file added meanwhile is named a few seconds later; a
    removed one still named finds nothing in it, and the library's passages stand."""
    version = store.library_version()
    known = _cache.get(store)
    if known is None or (known[0] != version and time.monotonic() - known[1] >= REFRESH_S):
        known = _cache[store] = (version, time.monotonic(), DocumentNames(store.document_paths()))
    return known[2]
