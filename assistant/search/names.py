"""A question that names a document is searched in that document first.

"What does PEP 8 say about the maximum line length?" names pep-0008.rst; "what's in the Q3 budget?" names
Q3-budget.xlsx. Without this, search ranks passages by their words and meaning only, and a document that
only mentions PEP 8 ("well over the PEP 8 maximum line length of 80 columns", PEP 584) can come before
PEP 8's own rule: a file's name is in none of its passages. README "Search": on 24 questions that name
a PEP (bench/data/pep_natural.jsonl), the first passage came from that PEP for 6 without this and 22
with it, and the answer quoted the fact asked for in 2 against 13.

A file's name is the words of its name without the extension, numbers without leading zeros
("pep-0008.rst" -> pep 8, "Super_Bowl_50.md" -> super bowl 50; text.file_name_key, kept in the index
with each document); a question names the file when those words stand in it one after the other ("PEP 8",
"pep8", "PEP-0008"). Only names of two words or more, one of them a word of three letters or more that
is not a function word, count: "notes.txt" or "a-1.txt" would be found in questions that do not mean
them. When the words of a longer name are found, the shorter names inside them are not taken; a question
naming more than MAX_NAMED files names none.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from assistant.text import NAME_MAX_WORDS, NAME_WORD, file_name_key, name_word

MAX_NAMED = 20  # more files than this share the name: it picks out no document
REST_WORDS = 2  # content words the question must keep without the name to be searched without it
# A name held by this share of its documents' passages (text or heading) is what they are about, not a
# label: it stays in the question searched inside them. PEPs hold their name in 1-4 passages of 6-287
# (the header's "PEP: 8", citations); Super_Bowl_50.md in all 53 (its heading).
TOPIC_SHARE = 0.25

# Given the name keys that could be meant, the (key, path) of the documents that have them.
Lookup = Callable[[Iterable[str]], list[tuple[str, str]]]


def find(question: str, lookup: Lookup) -> tuple[list[str], str, list[str]]:
    """The paths of the documents the question names, the question without their names ("What does
    PEP 8 say about X?" -> "What does say about X?"), and the names as the question says them and as
    keys ("PEP-0008", "pep 8"); ([], question, []) when it names none."""
    matches = list(NAME_WORD.finditer(question))
    words = [name_word(m.group()) for m in matches]
    runs = {(i, n): " ".join(words[i:i + n])
            for n in range(2, min(NAME_MAX_WORDS, len(words)) + 1) for i in range(len(words) - n + 1)}
    if not runs:
        return [], question, []
    paths: dict[str, list[str]] = {}
    for key, path in lookup(runs.values()):
        paths.setdefault(key, []).append(path)
    found: list[tuple[int, int]] = []  # (start, length) of each name found, longest first
    for (i, n), key in sorted(runs.items(), key=lambda r: -r[0][1]):
        if key in paths and not any(s <= i and i + n <= s + m for s, m in found):  # not inside a longer one
            found.append((i, n))
    out = [p for i, n in found for p in paths[runs[i, n]]]
    if not out or len(out) > MAX_NAMED:
        return [], question, []
    rest, said = question, []
    for i, n in sorted(found, reverse=True):
        said += [question[matches[i].start():matches[i + n - 1].end()], runs[i, n]]
        rest = rest[:matches[i].start()] + rest[matches[i + n - 1].end():]
    return out, " ".join(rest.split()), list(dict.fromkeys(said))


def in_memory(paths: Iterable[str]) -> Lookup:
    """A lookup over a list of paths (what the index does with its documents' name keys)."""
    table = [(key, p) for p in paths if (key := file_name_key(p)) is not None]

    def lookup(keys: Iterable[str]) -> list[tuple[str, str]]:
        wanted = set(keys)
        return [(k, p) for k, p in table if k in wanted]
    return lookup
