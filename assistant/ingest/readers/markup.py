"""HTML (blocks under their headings, the page's <title> searchable too) and RTF."""

from __future__ import annotations

import re

from assistant.errors import DocumentError, NoTextError
from assistant.ingest.readers.common import Headings, clean, corrupt, decode_text, paragraphs
from assistant.types import Block

_HTML_BLOCKS = {
    "p", "div", "li", "ul", "ol", "table", "tr", "td", "th", "section", "article", "blockquote", "dd", "dt",
    "figcaption", "caption", "br", "hr", "main", "header", "footer", "aside", "form", "body",
}


def parse_html(data: bytes) -> list[Block]:
    from bs4 import BeautifulSoup, NavigableString, Tag
    from bs4.element import Comment, Doctype, ProcessingInstruction

    soup = BeautifulSoup(decode_text(data), "html.parser")
    for node in soup.find_all(string=lambda s: isinstance(s, ProcessingInstruction)):
        node.extract()  # an XHTML file's <?xml ...?> declaration is not text
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text().split()) if title_tag is not None else ""
    for tag in soup(["script", "style", "noscript", "template", "svg", "head"]):
        tag.decompose()
    blocks: list[Block] = []
    headings = Headings()
    buf: list[str] = []
    buf_line: list[int | None] = [None]

    def path() -> tuple[str, ...]:
        return headings.path

    def flush() -> None:
        text = re.sub(r"[ \t\r\f\v]+", " ", "".join(buf)).strip()
        text = re.sub(r" ?\n ?", "\n", text)
        if text:
            line = buf_line[0]
            blocks.append(Block(text, "para", path(), None, line, line + text.count("\n") if line else None))
        buf.clear()
        buf_line[0] = None

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment | Doctype):
                continue
            if isinstance(child, NavigableString):
                if buf_line[0] is None and str(child).strip():
                    buf_line[0] = getattr(node, "sourceline", None)
                buf.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            if re.fullmatch(r"h[1-6]", name):
                flush()
                level = int(name[1])
                title = " ".join(child.get_text(" ").split()) or "(untitled)"
                blocks.append(Block(title, "heading", headings.open(level, title), None, child.sourceline,
                                    child.sourceline, level))
            elif name == "pre":
                flush()
                text = child.get_text()
                line = child.sourceline
                blocks.append(Block(text, "code", path(), None, line, line + text.count("\n") if line else None))
            elif name in _HTML_BLOCKS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)

    walk(soup)
    flush()
    if title and not any(b.text.strip() == title for b in blocks[:3]):  # a page is searched by its title too
        line = title_tag.sourceline if title_tag is not None else None
        blocks.insert(0, Block(title, "para", (), None, line, line))
    return blocks


def html_title(page: bytes) -> str | None:
    m = re.search(rb"<title[^>]*>(.*?)</title>", page, re.S | re.I)
    return clean(m.group(1).decode("utf-8", "replace")) or None if m else None


# "\*" marks an ignorable destination only where a group starts ("{\*\generator ...}": skipped whole).
# Elsewhere ("{\fldrslt \*\cs12 link text}", Word writes such) it only says the next control word may be
# ignored, and the text after it is text; striprtf drops the rest of the group there, so those marks go.
_STRAY_IGNORABLE = re.compile(rb"\\\\|(\{[ \t\r\n]*)?\\\*")


def _keep_group_start(m: re.Match[bytes]) -> bytes:
    return m.group(0) if m.group(0) == b"\\\\" or m.group(1) is not None else b""


def parse_rtf(data: bytes) -> list[Block]:
    """RTF through striprtf (destinations like font tables and pictures skipped, \\u escapes decoded)."""
    from striprtf.striprtf import rtf_to_text

    if not data.lstrip().startswith(b"{\\rtf"):
        raise DocumentError("not an RTF file (no {\\rtf header); the file may be corrupt or misnamed")
    try:
        text = rtf_to_text(_STRAY_IGNORABLE.sub(_keep_group_start, data).decode("latin-1"), errors="ignore")
    except Exception as exc:  # striprtf on malformed input
        raise corrupt("RTF", exc) from exc
    return paragraphs(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1, ())


def parse_svg(data: bytes) -> list[Block]:
    """An SVG drawing's words: its title and description, then each text element (with its tspans), in
    document order. Entities are not expanded beyond what expat allows (it refuses entity bombs)."""
    from xml.etree import ElementTree

    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise corrupt("SVG", exc) from exc
    if not root.tag.endswith("svg"):
        raise DocumentError("not an SVG drawing (its root element is not <svg>)")
    blocks = []
    for el in root.iter():
        name = el.tag.rsplit("}", 1)[-1] if isinstance(el.tag, str) else ""
        if name in ("title", "desc", "text") and (text := clean(" ".join("".join(el.itertext()).split()))):
            blocks.append(Block(text, "para", ()))
    if not blocks:
        raise NoTextError("a drawing with no text in it")
    return blocks


READERS = {"html": parse_html, "rtf": parse_rtf, "svg": parse_svg}
