"""Plain text, code, Markdown and reStructuredText: blocks with their line spans, under their headings."""

from __future__ import annotations

import re

from assistant.ingest.readers.common import Headings, decode_text, paragraphs
from assistant.types import Block

TITLE_MAX_CHARS = 250


def parse_text(data: bytes) -> list[Block]:
    """Paragraphs; a first line that stands alone above longer text is the document's title, and the
    heading of every paragraph under it (so each passage is embedded and found with it)."""
    lines = decode_text(data).split("\n")
    blocks = paragraphs(lines, 1, ())
    if not _is_title(blocks):
        return blocks
    title = " ".join(blocks[0].text.split())
    return [Block(title, "heading", (), None, blocks[0].start_line, blocks[0].end_line, 1)] + [
        Block(b.text, b.kind, (title,), None, b.start_line, b.end_line) for b in blocks[1:]]


def _is_title(blocks: list[Block]) -> bool:
    """The first paragraph is one line of at most TITLE_MAX_CHARS, with letters, and shorter than the
    paragraph after it."""
    if len(blocks) < 2 or "\n" in blocks[0].text.strip():
        return False
    first = blocks[0].text.strip()
    return (len(first) <= TITLE_MAX_CHARS and any(ch.isalpha() for ch in first)
            and len(first) < len(blocks[1].text.strip()))


def parse_code(data: bytes) -> list[Block]:
    return paragraphs(decode_text(data).split("\n"), 1, (), kind="code")


_FRONT_MATTER = re.compile(r"\A(?:---|\+\+\+)[ \t]*\n")


def parse_markdown(data: bytes) -> list[Block]:
    """Markdown (CommonMark with tables) through markdown-it-py, which gives each block its line span.

    Headings nest; paragraphs, lists (one block per top-level list), quotes (without their `>` marks),
    tables and HTML blocks keep their source text; code blocks are kind "code". YAML/TOML front matter
    is a paragraph of its own (searchable, and never mistaken for a setext heading).
    """
    from markdown_it import MarkdownIt

    text = decode_text(data)
    lines = text.split("\n")
    blocks: list[Block] = []
    headings = Headings()
    start = 0
    fm = _FRONT_MATTER.match(text)
    if fm:
        fence = fm.group().strip()
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == fence), None)
        if end is not None:
            body = "\n".join(lines[1:end]).strip()
            if body:
                blocks.append(Block(body, "para", (), None, 2, end))
            start = end + 1
    source = "\n".join([""] * start + lines[start:])  # blank front matter keeps the line numbers
    tokens = MarkdownIt("commonmark").enable("table").parse(source)
    depth = 0  # nesting inside lists and quotes: their inner blocks belong to the outer one
    for i, tok in enumerate(tokens):
        if tok.nesting == -1 and tok.type in ("bullet_list_close", "ordered_list_close", "blockquote_close"):
            depth -= 1
            continue
        if depth or tok.map is None or tok.nesting == -1:
            if tok.type in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
                depth += 1
            continue
        first, last = tok.map[0] + 1, tok.map[1]  # 1-based, inclusive
        while last > first and not lines[last - 1].strip():  # a list's span takes the blank line after it
            last -= 1
        span = "\n".join(lines[first - 1 : last]).strip("\n")
        if tok.type == "heading_open":
            title = " ".join(tokens[i + 1].content.split()) or "(untitled)"
            level = int(tok.tag[1])
            last = last if tok.markup.startswith("#") else last - 1  # a setext heading ends above its underline
            blocks.append(Block(title, "heading", headings.open(level, title), None, first, last, level))
        elif tok.type in ("fence", "code_block"):
            blocks.append(Block(span, "code", headings.path, None, first, last))
        elif tok.type in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
            depth += 1
            if tok.type == "blockquote_open":
                span = "\n".join(re.sub(r"^ {0,3}> ?", "", ln) for ln in span.split("\n"))
            blocks.append(Block(span, "para", headings.path, None, first, last))
        elif tok.type in ("paragraph_open", "table_open", "html_block"):
            blocks.append(Block(span, "para", headings.path, None, first, last))
    return blocks


_RST_ADORN = re.compile(r"^([=\-~`:'\"^_*+#<>.])\1{2,}\s*$")


def parse_rst(data: bytes) -> list[Block]:
    lines = decode_text(data).split("\n")
    blocks: list[Block] = []
    styles: list[tuple[str, bool]] = []  # adornment styles in order of first use = heading levels
    headings = Headings()
    body_start = 0
    i = 0

    def flush(end: int) -> None:
        blocks.extend(paragraphs(lines[body_start:end], body_start + 1, headings.path))

    while i < len(lines):
        over = False
        title_i = i
        if _RST_ADORN.match(lines[i]) and i + 2 < len(lines) and _RST_ADORN.match(lines[i + 2]):
            over, title_i = True, i + 1
        title = lines[title_i].strip() if title_i < len(lines) else ""
        under = title_i + 1
        if (
            title
            and not _RST_ADORN.match(lines[title_i])
            and under < len(lines)
            and _RST_ADORN.match(lines[under])
            and len(lines[under].rstrip()) >= len(title)
            and (title_i == 0 or not lines[title_i - 1].strip() or over)
        ):
            flush(i)
            style = (lines[under].strip()[0], over)
            if style not in styles:
                styles.append(style)
            level = styles.index(style) + 1
            blocks.append(Block(title, "heading", headings.open(level, title), None, title_i + 1, title_i + 1,
                                level))
            i = under + 1
            body_start = i
            continue
        i += 1
    flush(len(lines))
    return blocks


READERS = {"text": parse_text, "code": parse_code, "markdown": parse_markdown, "rst": parse_rst}
