"""Pure functions that cut a Document into passages the embedding model reads whole.

Boundaries follow structure: a chunk never crosses a heading or a PDF page, paragraphs are kept whole
where they fit, short paragraphs are merged until a chunk has `min_tokens`, and a paragraph too long
for the model is split at sentences (lines, for code) with `overlap` tokens repeated between pieces.
Because a chunk closes as soon as it is big enough, editing one paragraph changes about one chunk.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Protocol

from assistant.types import Block, Chunk, Document

CHUNKER_VERSION = 2  # 2: Markdown read with markdown-it-py (front matter, lists, quotes); files are re-read once
HEADING_SEP = " > "
MAX_HEADING_TOKENS = 48


class TokenCounter(Protocol):
    max_tokens: int

    def count_tokens(self, texts: list[str]) -> list[int]: ...

    def token_spans(self, text: str) -> list[tuple[int, int]]: ...


@dataclass(frozen=True)
class _Piece:
    text: str
    tokens: int
    start_line: int | None
    end_line: int | None


def chunk_document(doc: Document, counter: TokenCounter, min_tokens: int = 48, overlap: int = 32) -> list[Chunk]:
    """Cut a document into chunks whose embedded text (heading + passage) fits the model's window."""
    chunks: list[Chunk] = []
    for heading, page, blocks in _sections(doc.blocks):
        heading_text = _fit_heading(heading, counter)
        prefix_tokens = counter.count_tokens([heading_text + "\n\n"])[0] if heading_text else 0
        budget = max(16, counter.max_tokens - prefix_tokens)
        pieces: list[_Piece] = []
        counts = counter.count_tokens([b.text for b in blocks])
        for block, n in zip(blocks, counts, strict=True):
            if n <= budget:
                pieces.append(_Piece(block.text, n, block.start_line, block.end_line))
            else:
                pieces.extend(_split_block(block, counter, budget, overlap))
        ocr = any(b.ocr for b in blocks)
        for group in _pack(pieces, budget, min_tokens):
            text = "\n\n".join(p.text for p in group)
            chunks.append(_make_chunk(text, heading_text or None, page, group[0].start_line, group[-1].end_line, ocr))
    return _enforce_window(chunks, counter)


def _sections(blocks: tuple[Block, ...]) -> list[tuple[tuple[str, ...], int | None, list[Block]]]:
    """Runs of non-heading blocks that share a heading path and page."""
    out: list[tuple[tuple[str, ...], int | None, list[Block]]] = []
    for b in blocks:
        if b.kind == "heading":
            continue
        if out and out[-1][0] == b.heading and out[-1][1] == b.page:
            out[-1][2].append(b)
        else:
            out.append((b.heading, b.page, [b]))
    return out


def _fit_heading(path: tuple[str, ...], counter: TokenCounter) -> str:
    """The heading path as text, dropping outer levels (then truncating) to stay within a small budget."""
    parts = [" ".join(p.split()) for p in path if p.strip()]
    while parts:
        text = HEADING_SEP.join(parts)
        if counter.count_tokens([text])[0] <= MAX_HEADING_TOKENS:
            return text
        if len(parts) == 1:
            spans = counter.token_spans(text)
            return text[: spans[MAX_HEADING_TOKENS - 1][1]] if len(spans) >= MAX_HEADING_TOKENS else text
        parts = parts[1:]
    return ""


def _pack(pieces: list[_Piece], budget: int, min_tokens: int) -> list[list[_Piece]]:
    groups: list[list[_Piece]] = []
    cur: list[_Piece] = []
    size = 0
    for p in pieces:
        if cur and size + p.tokens > budget:
            groups.append(cur)
            cur, size = [], 0
        cur.append(p)
        size += p.tokens
        if size >= min_tokens:
            groups.append(cur)
            cur, size = [], 0
    if cur:
        # A short tail joins the previous chunk when it fits, rather than standing alone.
        if groups and sum(p.tokens for p in groups[-1]) + size <= budget:
            groups[-1].extend(cur)
        else:
            groups.append(cur)
    return groups


_SENTENCE_END = re.compile(r"(?<=[.!?;:])\s+|(?<=[。！？；])\s*|\n+")  # Chinese and Japanese need no space


def _split_block(block: Block, counter: TokenCounter, budget: int, overlap: int) -> list[_Piece]:
    """Split a block longer than the budget into overlapping pieces at sentence (or line) boundaries."""
    text = block.text
    splitter = re.compile(r"\n") if block.kind == "code" else _SENTENCE_END
    units: list[tuple[int, int]] = []  # character spans
    start = 0
    for m in splitter.finditer(text):
        if m.start() > start:
            units.append((start, m.start()))
        start = m.end()
    if start < len(text):
        units.append((start, len(text)))
    counts = counter.count_tokens([text[a:b] for a, b in units])
    # Units still too long are cut into token windows.
    spans: list[tuple[int, int, int]] = []
    for (a, b), n in zip(units, counts, strict=True):
        if n <= budget:
            spans.append((a, b, n))
        else:
            spans.extend((a + x, a + y, k) for x, y, k in _token_windows(text[a:b], counter, budget, overlap))
    pieces: list[_Piece] = []
    i = 0
    while i < len(spans):
        j, size = i, 0
        while j < len(spans) and size + spans[j][2] <= budget:
            size += spans[j][2]
            j += 1
        j = max(j, i + 1)
        a, b = spans[i][0], spans[j - 1][1]
        pieces.append(_piece(block, a, b, min(size, budget)))
        if j >= len(spans):
            break
        # Start the next piece with the trailing units worth at most `overlap` tokens.
        back, carried = j, 0
        while back - 1 > i and carried + spans[back - 1][2] <= overlap:
            back -= 1
            carried += spans[back][2]
        i = back
    return pieces


def _token_windows(text: str, counter: TokenCounter, budget: int, overlap: int) -> list[tuple[int, int, int]]:
    spans = counter.token_spans(text)
    size = max(8, budget - 4)  # re-tokenising a cut word can cost a token or two
    stride = max(1, size - min(overlap, size // 2))
    out = []
    for s in range(0, len(spans), stride):
        window = spans[s : s + size]
        out.append((window[0][0], window[-1][1], len(window)))
        if s + size >= len(spans):
            break
    return out


def _piece(block: Block, a: int, b: int, tokens: int) -> _Piece:
    start = block.start_line + block.text.count("\n", 0, a) if block.start_line is not None else None
    end = start + block.text.count("\n", a, b) if start is not None else None
    return _Piece(block.text[a:b].strip(), tokens, start, end)


def _make_chunk(text: str, heading: str | None, page: int | None, start: int | None, end: int | None,
                ocr: bool = False) -> Chunk:
    embed = f"{heading}\n\n{text}" if heading else text
    digest = hashlib.sha256(embed.encode("utf-8")).hexdigest()[:32]
    return Chunk(text, 0, heading, page, start, end, 0, digest, ocr)


def _enforce_window(chunks: list[Chunk], counter: TokenCounter) -> list[Chunk]:
    """Count each chunk's real embedded tokens; cut any that a non-additive tokenizer pushed over."""
    counts = counter.count_tokens([c.embed_text for c in chunks])
    out: list[Chunk] = []
    for c, n in zip(chunks, counts, strict=True):
        if n <= counter.max_tokens:
            out.append(_with(c, len(out), n))
            continue
        prefix = counter.count_tokens([c.heading + "\n\n"])[0] if c.heading else 0
        for a, b, _ in _token_windows(c.text, counter, counter.max_tokens - prefix - 4, 0):
            sub = _make_chunk(c.text[a:b], c.heading, c.page, c.start_line, c.end_line, c.ocr)
            out.append(_with(sub, len(out), counter.count_tokens([sub.embed_text])[0]))
    return out


def _with(c: Chunk, position: int, tokens: int) -> Chunk:
    return Chunk(c.text, position, c.heading, c.page, c.start_line, c.end_line, tokens, c.content_hash, c.ocr)
