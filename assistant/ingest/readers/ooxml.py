"""Office Open XML: .docx (headings and paragraphs), .pptx (a slide is a page, its title the heading,
speaker notes and tables included) and .xlsx (a sheet is the heading, rows the lines, the header row
repeated above every block)."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from typing import Any

from assistant.errors import DocumentError
from assistant.ingest.readers.common import MAX_CELLS, Headings, clean, corrupt, open_zip, sheet_blocks
from assistant.types import Block


def parse_docx(data: bytes) -> list[Block]:
    import zipfile

    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"corrupt or unreadable DOCX ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # python-docx raises assorted errors on malformed packages
        raise DocumentError(f"corrupt or unreadable DOCX ({type(exc).__name__}: {exc})") from exc
    blocks: list[Block] = []
    headings = Headings()
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, document)
            text = para.text.strip()
            if not text:
                continue
            style = (para.style.name if para.style is not None else "") or ""
            m = re.match(r"(?:Heading|heading) (\d)", style)
            if m or style == "Title":
                level = int(m.group(1)) if m else 0
                blocks.append(Block(text, "heading", headings.open(level, text), level=level))
            else:
                blocks.append(Block(text, "para", headings.path))
        elif tag == "tbl":
            table = Table(child, document)
            rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]
            if rows:
                blocks.append(Block("\n".join(rows), "para", headings.path))
    return blocks


def parse_pptx(data: bytes) -> list[Block]:
    open_zip(data, "PPTX")
    from pptx import Presentation

    try:
        deck = Presentation(io.BytesIO(data))
        blocks: list[Block] = []
        for number, slide in enumerate(deck.slides, start=1):
            title_shape = slide.shapes.title
            has_title = title_shape is not None and title_shape.has_text_frame
            title = clean(title_shape.text_frame.text) if has_title else ""
            heading = (title or f"Slide {number}",)
            for shape in _shapes(slide.shapes):
                if title_shape is not None and shape.shape_id == title_shape.shape_id:
                    continue
                for text in _shape_texts(shape):
                    blocks.append(Block(text, "para", heading, number))
            if slide.has_notes_slide:
                notes = clean(slide.notes_slide.notes_text_frame.text) if slide.notes_slide.notes_text_frame else ""
                if notes:
                    blocks.append(Block(f"Speaker notes: {notes}", "para", heading, number))
            if title and not any(b.page == number for b in blocks):
                blocks.append(Block(title, "para", heading, number))  # a title-only slide still says something
    except DocumentError:
        raise
    except Exception as exc:  # python-pptx raises assorted errors on malformed packages
        raise corrupt("PPTX", exc) from exc
    return blocks


def _shapes(shapes: Any) -> Iterator[Any]:
    for shape in shapes:
        if getattr(shape, "shape_type", None) == 6:  # MSO_SHAPE_TYPE.GROUP
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _shape_texts(shape: Any) -> list[str]:
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = [" | ".join(clean(c.text) for c in row.cells) for row in shape.table.rows]
        return ["\n".join(r for r in rows if r.strip(" |"))]
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        paras = [clean(p.text) for p in shape.text_frame.paragraphs]
        text = "\n".join(p for p in paras if p)
        return [text] if text else []
    return []


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") and (value.hour or value.minute) else \
            value.isoformat()[:10]
    return clean(str(value))


def parse_xlsx(data: bytes) -> list[Block]:
    open_zip(data, "workbook")
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises assorted errors (InvalidFileException, KeyError...) on bad files
        raise corrupt("workbook", exc) from exc
    blocks: list[Block] = []
    budget = [MAX_CELLS]
    try:
        for sheet in book.worksheets:
            rows = ((n, [_cell(v) for v in row]) for n, row in enumerate(sheet.iter_rows(values_only=True), start=1))
            blocks += sheet_blocks(sheet.title, rows, budget)
    except Exception as exc:
        raise corrupt("workbook", exc) from exc
    finally:
        book.close()
    return blocks


READERS = {"docx": parse_docx, "pptx": parse_pptx, "xlsx": parse_xlsx}
