"""OpenDocument: .odt (headings and paragraphs), .ods (sheets like .xlsx), .odp (a page is a slide)."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from xml.etree import ElementTree

from assistant.errors import DocumentError
from assistant.ingest.readers.common import MAX_CELLS, Headings, clean, corrupt, open_zip, sheet_blocks
from assistant.types import Block

_NS = {
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "draw": "urn:oasis:names:tc:opendocument:xmlns:drawing:1.0",
    "presentation": "urn:oasis:names:tc:opendocument:xmlns:presentation:1.0",
}


def _q(prefix: str, name: str) -> str:
    return f"{{{_NS[prefix]}}}{name}"


def _odf_content(data: bytes, kind: str) -> ElementTree.Element:
    z = open_zip(data, kind)
    try:
        return ElementTree.fromstring(z.read("content.xml"))
    except (KeyError, ElementTree.ParseError, zipfile.BadZipFile) as exc:
        raise corrupt(kind, exc) from exc


def _odf_text(el: ElementTree.Element) -> str:
    return clean(_odf_raw(el))


def _odf_raw(el: ElementTree.Element) -> str:
    parts = [el.text or ""]
    for child in el:
        if child.tag == _q("text", "s"):
            parts.append(" " * int(child.get(_q("text", "c"), "1")))
        elif child.tag == _q("text", "tab"):
            parts.append("\t")
        elif child.tag == _q("text", "line-break"):
            parts.append("\n")
        else:
            parts.append(_odf_raw(child))
        parts.append(child.tail or "")
    return "".join(parts)


def parse_ods(data: bytes) -> list[Block]:
    root = _odf_content(data, "spreadsheet")
    blocks: list[Block] = []
    budget = [MAX_CELLS]
    for table in root.iter(_q("table", "table")):
        name = table.get(_q("table", "name"), "Sheet")
        blocks += sheet_blocks(name, _ods_rows(table), budget)
    return blocks


def _ods_rows(table: ElementTree.Element) -> Iterator[tuple[int, list[str]]]:
    number = 0
    for row in table.iter(_q("table", "table-row")):
        cells: list[str] = []
        for cell in row:
            if cell.tag not in (_q("table", "table-cell"), _q("table", "covered-table-cell")):
                continue
            text = "\n".join(_odf_text(p) for p in cell.findall(_q("text", "p")))
            repeat = int(cell.get(_q("table", "number-columns-repeated"), "1"))
            cells += [text] * (min(repeat, 256) if text else min(repeat, 1024))
        repeat = int(row.get(_q("table", "number-rows-repeated"), "1"))
        if not any(cells):
            number += repeat  # trailing empty rows are often repeated a million times
            continue
        for _ in range(min(repeat, 10_000)):
            number += 1
            yield number, list(cells)


def parse_odt(data: bytes) -> list[Block]:
    root = _odf_content(data, "ODT")
    body = root.find(f"{_q('office', 'body')}/{_q('office', 'text')}")
    if body is None:
        raise DocumentError("corrupt or unreadable ODT (no text body)")
    blocks: list[Block] = []
    headings = Headings()
    for el in body.iter():
        if el.tag == _q("text", "h"):
            text = _odf_text(el)
            if text:
                level = int(el.get(_q("text", "outline-level"), "1"))
                blocks.append(Block(text, "heading", headings.open(level, text), level=level))
        elif el.tag == _q("text", "p"):
            text = _odf_text(el)
            if text:
                blocks.append(Block(text, "para", headings.path))
    return blocks


def parse_odp(data: bytes) -> list[Block]:
    """An OpenDocument presentation: each draw:page is a slide (a page, "slide 3"), its first paragraph the
    heading; speaker notes (presentation:notes) included."""
    root = _odf_content(data, "ODP")
    blocks: list[Block] = []
    for number, page in enumerate(root.iter(_q("draw", "page")), start=1):
        texts = [t for p in page.iter(_q("text", "p")) if (t := _odf_text(p))]
        title = texts[0] if texts else None
        blocks += [Block(t, "para", (title,) if title and t != title else (), number) for t in texts]
    return blocks


READERS = {"odt": parse_odt, "ods": parse_ods, "odp": parse_odp}
