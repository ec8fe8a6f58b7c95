"""Readers for slides, spreadsheets, e-books, OpenDocument text, RTF and mail, each keeping a citation
unit that means something to the user:

- .pptx: a slide is a page; its title is the heading; speaker notes and tables are included.
- .xlsx/.xlsm/.ods: a sheet is the heading; rows are the lines; every block repeats the header row,
  so a number keeps its column's name in every chunk.
- .epub: chapters in reading order, under their own headings.
- .odt: headings and paragraphs; .rtf: paragraphs.
- .eml/.mbox: each message under "subject — from — date" (an mbox cites its messages by line range);
  readable attachments are documents of their own (path: the mail file's path, then "/NAME", or
  "/message N/NAME" in an mbox), read with their own reader, cited as "attachment NAME of message
  SUBJECT".

Zip-based files are checked before they are opened (member count, total unpacked size), so a zip bomb
is a per-file error like any other.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import io
import re
import zipfile
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import replace
from email.message import EmailMessage
from pathlib import PurePosixPath
from typing import Any
from xml.etree import ElementTree

from assistant.errors import DocumentError
from assistant.types import Attachment, Block, Document

MAX_MEMBERS = 10_000  # entries in a zip-based document
MAX_UNPACKED = 512 * 2**20  # bytes, all entries together
MAX_CELLS = 2_000_000  # spreadsheet cells read per workbook; the rest is left out
ROWS_CHARS = 500  # a spreadsheet block: the header row and about this many characters of rows
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary Office files, and every password-protected one


def open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """The zip container of an Office, OpenDocument or EPUB file, after checking it is safe to unpack.

    Raises:
        DocumentError: encrypted, not a zip, or too many / too large members (a possible zip bomb).
    """
    if data[:8] == _OLE:
        raise DocumentError(f"the {kind} is password-protected or in the old binary format; save an "
                            "unprotected copy in the current format to index it")
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        members = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise DocumentError(f"corrupt or unreadable {kind} (not a valid zip container: {exc})") from exc
    if len(members) > MAX_MEMBERS:
        raise DocumentError(f"the {kind} holds {len(members)} parts (limit {MAX_MEMBERS}); refusing a possible "
                            "zip bomb")
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED:
        raise DocumentError(f"the {kind} would unpack to {unpacked / 2**20:.0f} MB (limit "
                            f"{MAX_UNPACKED / 2**20:.0f} MB); refusing a possible zip bomb")
    return z


def _corrupt(kind: str, exc: BaseException) -> DocumentError:
    return DocumentError(f"corrupt or unreadable {kind} ({type(exc).__name__}: {exc})")


def _clean(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text.replace("\x0b", "\n")).strip()


# --- slides --------------------------------------------------------------------------------------------


def parse_pptx(data: bytes) -> list[Block]:
    open_zip(data, "PPTX")
    from pptx import Presentation

    try:
        deck = Presentation(io.BytesIO(data))
        blocks: list[Block] = []
        for number, slide in enumerate(deck.slides, start=1):
            title_shape = slide.shapes.title
            has_title = title_shape is not None and title_shape.has_text_frame
            title = _clean(title_shape.text_frame.text) if has_title else ""
            heading = (title or f"Slide {number}",)
            for shape in _shapes(slide.shapes):
                if title_shape is not None and shape.shape_id == title_shape.shape_id:
                    continue
                for text in _shape_texts(shape):
                    blocks.append(Block(text, "para", heading, number))
            if slide.has_notes_slide:
                notes = _clean(slide.notes_slide.notes_text_frame.text) if slide.notes_slide.notes_text_frame else ""
                if notes:
                    blocks.append(Block(f"Speaker notes: {notes}", "para", heading, number))
            if title and not any(b.page == number for b in blocks):
                blocks.append(Block(title, "para", heading, number))  # a title-only slide still says something
    except DocumentError:
        raise
    except Exception as exc:  # python-pptx raises assorted errors on malformed packages
        raise _corrupt("PPTX", exc) from exc
    return blocks


def _shapes(shapes: Any) -> Iterator[Any]:
    for shape in shapes:
        if getattr(shape, "shape_type", None) == 6:  # MSO_SHAPE_TYPE.GROUP
            yield from _shapes(shape.shapes)
        else:
            yield shape


def _shape_texts(shape: Any) -> list[str]:
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = [" | ".join(_clean(c.text) for c in row.cells) for row in shape.table.rows]
        return ["\n".join(r for r in rows if r.strip(" |"))]
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        paras = [_clean(p.text) for p in shape.text_frame.paragraphs]
        text = "\n".join(p for p in paras if p)
        return [text] if text else []
    return []


# --- spreadsheets --------------------------------------------------------------------------------------


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if hasattr(value, "isoformat"):
        return value.isoformat(sep=" ") if hasattr(value, "hour") and (value.hour or value.minute) else \
            value.isoformat()[:10]
    return _clean(str(value))


def table_runs(lines: list[str]) -> list[tuple[int, int, str]]:
    """A table's rows (its header first) as runs of about ROWS_CHARS, each under the header row:
    (index of the run's first row, of its last, text)."""
    header, out, start = lines[0], [], 1
    while start < len(lines):
        end, size = start, len(lines[start])
        while end + 1 < len(lines) and size + len(lines[end + 1]) + 1 <= ROWS_CHARS:
            end += 1
            size += len(lines[end]) + 1
        out.append((start, end, header + "\n" + "\n".join(lines[start : end + 1])))
        start = end + 1
    return out or [(0, 0, header)]


def _sheet_blocks(name: str, rows: Iterator[tuple[int, list[str]]], budget: list[int]) -> list[Block]:
    """Blocks of a sheet: the header row (its first non-empty row) repeated above each run of rows."""
    numbers: list[int] = []
    lines: list[str] = []
    for number, cells in rows:
        while cells and not cells[-1]:
            cells.pop()
        if not any(cells):
            continue
        budget[0] -= len(cells)
        if budget[0] < 0:
            break
        numbers.append(number)
        lines.append(" | ".join(cells))
    if not lines:
        return []
    return [Block(text, "para", (name,), None, numbers[first], numbers[last])
            for first, last, text in table_runs(lines)]


def parse_xlsx(data: bytes) -> list[Block]:
    open_zip(data, "workbook")
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises assorted errors (InvalidFileException, KeyError...) on bad files
        raise _corrupt("workbook", exc) from exc
    blocks: list[Block] = []
    budget = [MAX_CELLS]
    try:
        for sheet in book.worksheets:
            rows = ((n, [_cell(v) for v in row]) for n, row in enumerate(sheet.iter_rows(values_only=True), start=1))
            blocks += _sheet_blocks(sheet.title, rows, budget)
    except Exception as exc:
        raise _corrupt("workbook", exc) from exc
    finally:
        book.close()
    return blocks


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
        raise _corrupt(kind, exc) from exc


def _odf_text(el: ElementTree.Element) -> str:
    return _clean(_odf_raw(el))


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
        blocks += _sheet_blocks(name, _ods_rows(table), budget)
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


# --- text documents ------------------------------------------------------------------------------------


def parse_odt(data: bytes) -> list[Block]:
    from assistant.ingest.documents import _Headings

    root = _odf_content(data, "ODT")
    body = root.find(f"{_q('office', 'body')}/{_q('office', 'text')}")
    if body is None:
        raise DocumentError("corrupt or unreadable ODT (no text body)")
    blocks: list[Block] = []
    headings = _Headings()
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


def parse_rtf(data: bytes) -> list[Block]:
    from striprtf.striprtf import rtf_to_text

    from assistant.ingest.documents import _paragraphs

    if not data.lstrip().startswith(b"{\\rtf"):
        raise DocumentError("not an RTF file (no {\\rtf header); the file may be corrupt or misnamed")
    try:
        text = rtf_to_text(data.decode("latin-1"), errors="ignore")
    except Exception as exc:  # striprtf on malformed input
        raise _corrupt("RTF", exc) from exc
    return _paragraphs(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"), 1, ())


# --- e-books -------------------------------------------------------------------------------------------


def parse_epub(data: bytes) -> list[Block]:
    from assistant.ingest.documents import _parse_html

    z = open_zip(data, "EPUB")
    try:
        container = ElementTree.fromstring(z.read("META-INF/container.xml"))
        rootfile = next(el.get("full-path") for el in container.iter() if el.tag.endswith("rootfile"))
        opf_path = PurePosixPath(str(rootfile))
        opf = ElementTree.fromstring(z.read(str(opf_path)))
    except (KeyError, StopIteration, ElementTree.ParseError, zipfile.BadZipFile) as exc:
        raise _corrupt("EPUB", exc) from exc
    manifest = {el.get("id"): el.get("href") for el in opf.iter() if el.tag.endswith("}item")}
    spine = [el.get("idref") for el in opf.iter() if el.tag.endswith("}itemref")]
    blocks: list[Block] = []
    for number, idref in enumerate(spine, start=1):
        href = manifest.get(idref)
        if not href:
            continue
        name = str(opf_path.parent / href.split("#")[0])
        try:
            page = z.read(name)
        except KeyError:
            continue
        chapter = _parse_html(page)
        title = next((b.text for b in chapter if b.kind == "heading"), None) or _html_title(page) or f"Chapter {number}"
        for b in chapter:
            heading = b.heading if b.heading[:1] == (title,) or (b.kind == "heading" and b.text == title) \
                else (title, *b.heading)
            blocks.append(Block(b.text, b.kind, heading, None, None, None, b.level))
    return blocks


def _html_title(page: bytes) -> str | None:
    m = re.search(rb"<title[^>]*>(.*?)</title>", page, re.S | re.I)
    return _clean(m.group(1).decode("utf-8", "replace")) or None if m else None


# --- mail ----------------------------------------------------------------------------------------------


def parse_eml(data: bytes) -> list[Block]:
    return _message_blocks(data, None, None, None)


def parse_mbox(data: bytes) -> list[Block]:
    """Messages of an mbox file (split at its "From " lines), each cited by its line range."""
    lines = data.split(b"\n")
    starts = [i for i, line in enumerate(lines) if line.startswith(b"From ") and (i == 0 or not lines[i - 1].strip())]
    if not starts:
        raise DocumentError("not an mbox file (no message starts with a 'From ' line)")
    blocks: list[Block] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        raw = b"\n".join(lines[start + 1 : end]).replace(b"\n>From ", b"\nFrom ")
        blocks += _message_blocks(raw, n + 1, start + 1, end)
    return blocks


def _message_blocks(data: bytes, number: int | None, first: int | None, last: int | None) -> list[Block]:
    from assistant.ingest.documents import _parse_html, detect_format

    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as exc:  # the email package on malformed input
        raise _corrupt("message", exc) from exc
    if not isinstance(msg, EmailMessage) or not (msg.get("From") or msg.get("Subject")):
        raise DocumentError("not an e-mail message (no From or Subject header)")
    subject = _clean(str(msg.get("Subject") or "(no subject)"))
    heading = (" — ".join(_clean(str(v)) for v in (subject, msg.get("From"), msg.get("Date")) if v),)
    blocks: list[Block] = []
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        try:
            content = body.get_content()
        except (LookupError, ValueError, AssertionError):
            content = body.get_payload(decode=True).decode("utf-8", "replace") if body.get_payload(decode=True) else ""
        if body.get_content_subtype() == "html":
            text_blocks = _parse_html(str(content).encode("utf-8"))
            paras = [b.text for b in text_blocks]
        else:
            paras = [p.strip() for p in re.split(r"\n\s*\n", str(content)) if p.strip()]
        blocks += [Block(p, "para", heading, None, first, last) for p in paras]
    names = []
    for index, part in enumerate(msg.iter_attachments(), start=1):
        name = PurePosixPath((part.get_filename() or "").replace("\\", "/")).name.strip() or f"attachment {index}"
        names.append(name)
        fmt = detect_format(PurePosixPath(name))  # type: ignore[arg-type]
        payload = part.get_payload(decode=True)
        if fmt is not None and payload:
            attach(f"message {number}/{name}" if number else name, f"attachment {name} of message {subject}",
                    fmt, payload)
    if names:
        blocks.append(Block("Attached: " + ", ".join(names), "para", heading, None, first, last))
    if not blocks:
        blocks.append(Block(subject, "para", heading, None, first, last))
    return blocks


ATTACHMENTS: ContextVar[list[Attachment] | None] = ContextVar("attachments", default=None)
# When set (by member_bytes), the bytes of each file found inside the one being parsed, by attachment name:
# how a cited attachment or archive member is taken out again to be opened.
PAYLOADS: ContextVar[dict[str, bytes] | None] = ContextVar("payloads", default=None)
"""Where the mail readers put the attachments of the file being parsed (documents.parse sets it)."""


def attach(name: str, label: str, fmt: str, payload: bytes) -> None:
    """Read an attachment as a document of its own, its blocks under its label, and hand it to parse()
    (with the attachments it carries itself, below its name). A name already taken gets " (2)"."""
    found = ATTACHMENTS.get()
    if found is None:
        return
    taken = {a.name for a in found}
    stem, dot, ext = name.rpartition(".") if "." in PurePosixPath(name).name else (name, "", "")
    n = 2
    while name in taken:
        name = f"{stem} ({n}){dot}{ext}"
        n += 1
    from assistant.ingest.documents import parse

    payloads = PAYLOADS.get()
    if payloads is not None:
        payloads.setdefault(name, payload)
    digest = hashlib.sha256(payload).hexdigest()
    keep = PAYLOADS.set(None)  # the files inside this one are named below it; member_bytes asks for them again
    try:
        doc = parse(PurePosixPath(PurePosixPath(name).name), payload, fmt)  # type: ignore[arg-type]
    except DocumentError as exc:
        found.append(Attachment(name, label, fmt, len(payload), digest, error=str(exc)))
        return
    except Exception as exc:  # a parser library failing on odd input: this attachment only
        found.append(Attachment(name, label, fmt, len(payload), digest,
                                error=f"could not parse the attachment ({type(exc).__name__}: {exc})"))
        return
    finally:
        PAYLOADS.reset(keep)
    blocks = tuple(replace(b, heading=(label, *b.heading)) for b in doc.blocks)
    found.append(Attachment(name, label, fmt, len(payload), digest, Document(doc.path, fmt, blocks)))
    for inner in doc.attachments:
        found.append(replace(inner, name=f"{name}/{inner.name}"))


def attach_error(name: str, label: str, fmt: str, size: int, error: str) -> None:
    """A file inside the one being parsed that cannot be read: reported as an error of its own."""
    found = ATTACHMENTS.get()
    if found is not None:
        found.append(Attachment(name, label, fmt, size, hashlib.sha256(error.encode()).hexdigest(), error=error))


PARSERS: dict[str, Callable[[bytes], list[Block]]] = {
    "pptx": parse_pptx,
    "xlsx": parse_xlsx,
    "ods": parse_ods,
    "odt": parse_odt,
    "odp": parse_odp,
    "rtf": parse_rtf,
    "epub": parse_epub,
    "eml": parse_eml,
    "mbox": parse_mbox,
}
EXTENSIONS = {".pptx": "pptx", ".xlsx": "xlsx", ".xlsm": "xlsx", ".ods": "ods", ".odt": "odt", ".rtf": "rtf",
              ".epub": "epub", ".eml": "eml", ".mbox": "mbox", ".odp": "odp"}
