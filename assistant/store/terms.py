"""Keyword terms as the local index's FTS5 reads them, for the team index's BM25 (postgres.py).

SQLite's keyword index tokenizes with `porter unicode61 remove_diacritics 2`: letters and digits are
token characters (anything else separates), text is lower-cased and Latin letters lose their diacritics,
then the Porter stemmer (the original algorithm; PyStemmer's "porter") stems tokens of 3 to 64 characters.
Each passage is first read as its language reads it (language.index_text, as the local index's trigger
feeds FTS5). Here the same tokens are made in Python on the workstation, so the server only stores and counts them:
each term is kept as a 64-bit hash (no word list of a private folder is stored in the clear), and so is each
pair of adjacent tokens that are not stop words (a question's two-word phrases, retrieval.fts_query, are
looked up as one term: FTS5 matches them by position, a table of positions would cost more than the pairs).
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter

from assistant import language
from assistant.text import STOPWORDS

TOKEN = re.compile(r"[^\W_]+", re.UNICODE)  # runs of letters and digits: "_" and marks separate, as in unicode61
HEADING_WEIGHT = 0.5  # FTS5's bm25(chunks_fts, 1.0, 0.5): a heading's words count half
STEM_MIN, STEM_MAX = 3, 64  # FTS5's porter tokenizer leaves shorter and longer tokens as they are
PHRASE = re.compile(r'"((?:[^"]|"")*)"')


def tokens(text: str) -> list[tuple[str, str]]:
    """(folded token, its stem) for each token of the text, in order."""
    raw = TOKEN.findall(language.fold(text.lower()))  # lower-cased, Latin letters without their diacritics
    porter = language.stemmer("porter")
    return [(t, porter(t) if STEM_MIN <= len(t) <= STEM_MAX and t.isascii() else t) for t in raw]


def term_id(term: str) -> int:
    """A term's 64-bit id (signed, as PostgreSQL's bigint)."""
    return int.from_bytes(hashlib.blake2b(term.encode(), digest_size=8).digest(), "big", signed=True)


def passage_terms(text: str, heading: str | None) -> tuple[dict[int, float], int]:
    """A passage's terms (single stems and pairs of adjacent non-stop-word stems) with their weighted
    frequencies (heading words count HEADING_WEIGHT), and its length in tokens (text and heading)."""
    freq: Counter[int] = Counter()
    length = 0
    lang = language.detect(text)  # fed to the tokens as the local index's keywords() feeds FTS5
    for column, weight in ((text, 1.0), (heading or "", HEADING_WEIGHT)):
        toks = tokens(language.index_text(column, lang))
        length += len(toks)
        for i, (raw, stemmed) in enumerate(toks):
            freq[term_id(stemmed)] += weight
            if i + 1 < len(toks):
                raw2, stemmed2 = toks[i + 1]
                if raw not in STOPWORDS and raw2 not in STOPWORDS:
                    freq[term_id(f"{stemmed} {stemmed2}")] += weight
    return dict(freq), length


def phrase_term(phrase: str) -> int | None:
    """The term a phrase is looked up as: its stem, or the pair of its two stems; a longer phrase as its
    first pair (None without a token)."""
    toks = [s for _, s in tokens(phrase)]
    if not toks:
        return None
    return term_id(toks[0] if len(toks) == 1 else f"{toks[0]} {toks[1]}")


def phrase_terms(phrase: str) -> list[int]:
    """Every term a phrase needs in one passage: its stem, or each pair of adjacent stems."""
    toks = [s for _, s in tokens(phrase)]
    if len(toks) <= 1:
        return [term_id(t) for t in toks]
    return list(dict.fromkeys(term_id(f"{a} {b}") for a, b in zip(toks, toks[1:], strict=False)))


def match_terms(match: str) -> list[int]:
    """The terms of a MATCH expression made by retrieval.fts_query (quoted words and word pairs, OR-ed)."""
    out = []
    for m in PHRASE.finditer(match):
        t = phrase_term(m.group(1).replace('""', '"'))
        if t is not None:
            out.append(t)
    return list(dict.fromkeys(out))
