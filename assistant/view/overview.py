"""What the first screen shows: the library's state, and questions drawn from the user's own documents.

An example question comes from a section heading: one that is already a question is asked as it is
("How does incremental sync work?"); another is asked about ("What does “Indexing” say about Sizes
and limits?"). Headings that say nothing about their section (Introduction, References, an attachment's
label...) are passed over, and each question comes from a different document, spread over the library.
"""

from __future__ import annotations

import re
from typing import Any

HEADING_SEP = " > "
GENERIC = frozenset("""abstract introduction references contents summary conclusion conclusions notes appendix
    copyright acknowledgements acknowledgments index overview preface foreword footnotes links resources
    bibliography glossary changelog changes license licence todo example examples background status
    motivation rationale specification discussion""".split())
_QUESTION_START = re.compile(r"^(how|what|why|when|where|who|which|can|should|does|do|is|are)\b", re.IGNORECASE)
_NUMBERING = re.compile(r"^\s*(?:[\dIVXivx]+[.)]?\s*)+(?=\D)")


def _usable(heading: str) -> str | None:
    """The heading as a topic to ask about, or None when it says nothing about its section."""
    text = _NUMBERING.sub("", " ".join(heading.replace("`", "").replace("*", "").split())).strip(" :.-–—#")
    words = text.split()
    if not 2 <= len(words) <= 9 or len(text) < 8 or len(text) > 70:
        return None
    low = text.lower()
    if low in GENERIC or low.startswith(("attachment ", "message ", "table of", "sheet ", "slide ")) or "@" in text:
        return None
    if sum(c.isalpha() for c in text) < 0.6 * len(text):
        return None
    return text


def question_from(heading_path: str) -> str | None:
    """A question a user might ask about a section, from its heading path, or None."""
    parts = [p for p in heading_path.split(HEADING_SEP) if p.strip()]
    if not parts:
        return None
    topic = _usable(parts[-1])
    if topic is None:
        return None
    if _QUESTION_START.match(topic):
        words = topic.rstrip("?").split()
        if not topic.endswith("?") and words[0].lower() in ("what", "who") and len(words) > 2 \
                and words[-1].lower() in ("is", "are"):
            return f"{words[0]} {words[-1]} {' '.join(words[1:-1])}?"  # "What assistant is" -> "What is assistant?"
        return topic if topic.endswith("?") else f"{topic}?"  # "How does incremental sync work", "How it works"
    title = _usable(parts[0]) if len(parts) > 1 else None
    return f"What does “{title}” say about {topic}?" if title else f"What do the documents say about {topic}?"


def example_questions(headings: list[tuple[str, str]], n: int = 3, paths: list[str] | None = None) -> list[str]:
    """Up to n questions, each from a different document, spread over the library (in path order, so the
    same library gives the same questions); a library without usable headings is asked about its files
    by name ("What is in the quarterly report?")."""
    by_doc: dict[str, list[str]] = {}
    for path in paths or []:  # documents whose headings say nothing: their file name, as a topic
        name = re.sub(r"[_\-.]+", " ", path.rsplit("/", 1)[-1].rsplit(".", 1)[0]).strip()
        if len(name) >= 4 and sum(c.isalpha() for c in name) >= 0.6 * len(name):
            by_doc[path] = [f"What is in {name}?"]
    for path, heading in headings:
        q = question_from(heading)
        if q is not None:
            if by_doc.get(path, [""])[0].startswith("What is in "):
                by_doc[path] = []  # a heading says more than the file name
            by_doc.setdefault(path, [])
            if q not in by_doc[path]:
                by_doc[path].append(q)
    docs = sorted(by_doc)
    if not docs:
        return []
    picked: list[str] = []
    step = max(1, len(docs) // n)
    for doc in docs[::step]:
        qs = by_doc[doc]
        q = qs[min(1, len(qs) - 1)]  # a document's second section is more telling than its first
        if q not in picked:
            picked.append(q)
        if len(picked) == n:
            break
    rounds = 0
    while len(picked) < n and rounds < 5:  # a small library: more sections of the same documents
        rounds += 1
        for doc in docs:
            for q in by_doc[doc]:
                if q not in picked and len(picked) < n:
                    picked.append(q)
    return picked


def library_overview(store: Any, sample: str) -> dict[str, Any]:
    """What the first screen shows: the registered folders, counts, when the index last changed, whether it holds
    only the bundled sample library (at `sample`), and three example questions from the library's headings."""
    counts = store.counts()
    roots = store.roots()
    only_sample = all(r == sample for r in roots)
    docs = [d.path for d in store.list_documents() if d.status == "ok" and d.container is None]
    return {**counts, "roots": roots, "last_indexed": store.last_indexed(),
            "sample_only": only_sample and bool(docs) and all(p.startswith(sample) for p in docs),
            "questions": example_questions(store.headings(), paths=docs[:2000])}
