"""Office Open XML: .docx (headings and paragraphs), .pptx (a slide is a page, its title the heading,
speaker notes and tables included) and .xlsx (a sheet is the heading, rows the lines, the header row
repeated above every block)."""

from __future__ import annotations

import io
import posixpath
import re
import zipfile
from collections.abc import Iterator
from typing import Any

from assistant.errors import DocumentError
from assistant.ingest.readers.common import MAX_CELLS, Headings, clean, corrupt, open_zip, sheet_blocks
from assistant.types import Block

_W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
_R = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"
_A = "{http://schemas.openxmlformats.org/drawingml/2006/main}"
_C = "{http://schemas.openxmlformats.org/drawingml/2006/chart}"
_DGM = "{http://schemas.openxmlformats.org/drawingml/2006/diagram}"
_MC_FALLBACK = "{http://schemas.openxmlformats.org/markup-compatibility/2006}Fallback"
# Not text: tracked deletions, field codes, formatting, and the fallback copy of a drawing (a text box in
# mc:AlternateContent is written twice, as a DrawingML shape and as its VML fallback).
_NOT_TEXT = {f"{_W}{t}" for t in ("delText", "instrText", "delInstrText", "rPr", "pPr", "sectPr", "del",
                                  "moveFrom")} | {_MC_FALLBACK}
_STRICT = re.compile(rb"http://purl\.oclc\.org/ooxml/([A-Za-z]+)/")


def transitional(data: bytes, kind: str) -> bytes:
    """An Office Open XML package as the libraries read it. A Strict OOXML file (ISO 29500 Strict, Excel's
    "Strict Open XML" save) names every namespace and relationship type under purl.oclc.org, which
    openpyxl, python-docx and python-pptx do not know: its XML parts are rewritten in memory to the
    Transitional names, which differ only in that prefix ("http://purl.oclc.org/ooxml/spreadsheetml/main"
    is "http://schemas.openxmlformats.org/spreadsheetml/2006/main")."""
    z = open_zip(data, kind)
    try:
        rels = z.read("_rels/.rels") if "_rels/.rels" in z.namelist() else b""
        if not _STRICT.search(rels):
            return data
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
            for info in z.infolist():
                body = z.read(info)
                if info.filename.endswith((".xml", ".rels")):
                    body = _STRICT.sub(rb"http://schemas.openxmlformats.org/\1/2006/", body)
                w.writestr(info.filename, body)
    except (zipfile.BadZipFile, OSError, EOFError) as exc:
        raise corrupt(kind, exc) from exc
    return out.getvalue()


def parse_docx(data: bytes) -> list[Block]:
    """A Word document: headings and paragraphs in reading order, tables as rows of "cell | cell", and the
    text python-docx's paragraph text leaves out: text boxes, content controls, tracked insertions, phonetic
    guides (as "base (guide)"), chart and SmartArt text, HTML or RTF pasted in as altChunk parts; then
    footnotes, endnotes, comments, headers and footers."""
    import docx

    try:
        document = docx.Document(io.BytesIO(transitional(data, "DOCX")))
    except DocumentError:
        raise
    except Exception as exc:  # python-docx raises assorted errors on malformed packages
        raise corrupt("DOCX", exc) from exc
    reader = _Word(document)
    try:
        reader.body(document.element.body)
        reader.notes()
    except DocumentError:
        raise
    except Exception as exc:  # a malformed part
        raise corrupt("DOCX", exc) from exc
    return reader.blocks


class _Word:
    """Walks a .docx's XML in reading order."""

    def __init__(self, document: Any) -> None:
        self.part = document.part
        self.blocks: list[Block] = []
        self.headings = Headings()
        self.styles: dict[str, str] = {}
        try:
            self.styles = {s.style_id: s.name or "" for s in document.styles}
        except Exception:  # a package without a styles part
            pass

    def body(self, el: Any) -> None:
        for child in el.iterchildren():
            tag = child.tag
            if tag == f"{_W}p":
                self.paragraph(child)
            elif tag == f"{_W}tbl":
                self.table(child)
            elif tag in _WRAPPERS:
                self.body(child)
            elif tag == f"{_W}altChunk":
                self.alt_chunk(child.get(f"{_R}id"))

    def paragraph(self, p: Any) -> None:
        later: list[Any] = []
        if text := _text(p, later):
            style_id = p.find(f"{_W}pPr/{_W}pStyle")
            style = self.styles.get(style_id.get(f"{_W}val"), "") if style_id is not None else ""
            m = re.match(r"(?:Heading|heading) (\d)", style)
            if m or style == "Title":
                level = int(m.group(1)) if m else 0
                self.blocks.append(Block(text, "heading", self.headings.open(level, text), level=level))
            else:
                self.blocks.append(Block(text, "para", self.headings.path))
        self.after(later)

    def table(self, tbl: Any) -> None:
        rows = []
        later: list[Any] = []  # text boxes, charts and diagrams in cells, read after the table
        for tr in _children(tbl, "tr"):
            cells = [" ".join(_flat(tc, later)) for tc in _children(tr, "tc")]
            if any(cells):
                rows.append(" | ".join(cells))
        if rows:
            self.blocks.append(Block("\n".join(rows), "para", self.headings.path))
        self.after(later)

    def after(self, later: list[Any]) -> None:
        """What a paragraph or table holds that is read after it: text boxes (their paragraphs), charts
        (their title, series and category names) and SmartArt diagrams (their nodes' text)."""
        for el in later:
            if el.tag == f"{_W}txbxContent":
                self.body(el)
                continue
            target = self.related(el.get(f"{_R}id") if el.tag == f"{_C}chart" else el.get(f"{_R}dm"))
            if target is not None and (text := drawing_text(el.tag, target.blob)):
                self.blocks.append(Block(text, "para", self.headings.path))

    def related(self, rid: str | None) -> Any:
        try:
            return self.part.related_parts[rid] if rid else None
        except KeyError:
            return None

    def alt_chunk(self, rid: str | None) -> None:
        """Content pasted in another format (HTML, RTF, text, another .docx), kept as a part of its own."""
        from assistant.ingest.readers.formats import sniff_format
        from assistant.ingest.readers.markup import parse_html, parse_rtf
        from assistant.ingest.readers.text import parse_text

        target = self.related(rid)
        if target is None:
            return
        kind = (target.content_type or "").lower()
        fmt = "html" if "html" in kind else "rtf" if "rtf" in kind else "docx" if "wordprocessingml" in kind \
            else sniff_format(target.blob, text_too=kind.startswith("text/"))
        reader = {"html": parse_html, "rtf": parse_rtf, "docx": parse_docx, "text": parse_text}.get(fmt or "")
        if reader is None:
            return
        for b in reader(target.blob):
            self.blocks.append(Block(b.text, b.kind, (*self.headings.path, *b.heading)))

    def notes(self) -> None:
        """Footnotes, endnotes and comments (each a block under its kind), headers and footers (each
        distinct one once)."""
        from lxml import etree

        wanted = {"footnotes": "Footnotes", "endnotes": "Endnotes", "comments": "Comments", "header": "Header",
                  "footer": "Footer"}
        seen: set[str] = set()
        for rel in self.part.rels.values():
            kind = rel.reltype.rsplit("/", 1)[-1]
            if kind not in wanted or rel.is_external:
                continue
            root = etree.fromstring(rel.target_part.blob)
            for item in [root] if kind in ("header", "footer") else root.iterchildren():
                text = "\n".join(t for p in item.iter(f"{_W}p") if (t := _text(p, [])))
                if text and text not in seen:
                    seen.add(text)
                    self.blocks.append(Block(text, "para", (wanted[kind],)))


def drawing_text(tag: str, blob: bytes) -> str:
    """The text of a chart part (its titles, series and category names; not its numbers) or a SmartArt
    diagram's data part (its nodes' text), given the tag that refers to it (c:chart or dgm:relIds)."""
    from lxml import etree

    root = etree.fromstring(blob)
    if tag == f"{_C}chart":
        titles = [clean("".join(t.itertext())) for t in root.iter(f"{_C}title")]
        series = [clean(v.text or "") for tx in root.iter(f"{_C}tx") for v in tx.iter(f"{_C}v")]
        cats = list(dict.fromkeys(clean(v.text or "") for c in root.iter(f"{_C}cat") for v in c.iter(f"{_C}v")))
        lines = [f"Chart: {t}" for t in titles if t] + \
            ([f"Series: {', '.join(x for x in series if x)}"] if any(series) else []) + \
            ([f"Categories: {', '.join(x for x in cats if x)}"] if any(cats) else [])
    else:
        lines = _drawn_lines(root)
    return "\n".join(lines)


def _drawn_lines(el: Any) -> list[str]:
    """The non-empty DrawingML paragraphs (a:p) under `el` (a diagram, a shape's text body), as lines."""
    return [t for p in el.iter(f"{_A}p") if (t := clean("".join(x.text or "" for x in p.iter(f"{_A}t"))))]


_WRAPPERS = {f"{_W}{t}" for t in ("sdt", "sdtContent", "customXml", "ins", "moveTo", "smartTag")}


def _children(el: Any, name: str) -> list[Any]:
    """`el`'s children named w:NAME, looking through content controls and tracked insertions."""
    out = []
    for child in el.iterchildren():
        if child.tag == f"{_W}{name}":
            out.append(child)
        elif child.tag in _WRAPPERS:
            out += _children(child, name)
    return out


def _flat(el: Any, extra: list[Any]) -> list[str]:
    """The paragraphs' text inside a table cell, nested tables flattened into it."""
    texts = []
    for child in el.iterchildren():
        if child.tag == f"{_W}p":
            if t := _text(child, extra):
                texts.append(t)
        elif child.tag == f"{_W}tbl" or child.tag in _WRAPPERS or child.tag in (f"{_W}tr", f"{_W}tc"):
            texts += _flat(child, extra)
    return texts


def _text(p: Any, later: list[Any]) -> str:
    """A paragraph's text, cleaned; its text boxes, charts and diagrams go into `later`."""
    out: list[str] = []
    _runs(p, out, later)
    return clean("".join(out))


def _runs(el: Any, out: list[str], later: list[Any]) -> None:
    """A paragraph's text in order, into `out`; its text boxes, charts and diagrams into `later` (read
    after it, as blocks of their own)."""
    for node in el.iterchildren():
        tag = node.tag
        if not isinstance(tag, str) or tag in _NOT_TEXT:
            continue
        if tag == f"{_W}t":
            out.append(node.text or "")
        elif tag == f"{_W}tab":
            out.append("\t")
        elif tag in (f"{_W}br", f"{_W}cr"):
            out.append("\n")
        elif tag == f"{_W}noBreakHyphen":
            out.append("-")
        elif tag == f"{_W}ruby":
            base: list[str] = []
            guide: list[str] = []
            for part, into in ((node.find(f"{_W}rubyBase"), base), (node.find(f"{_W}rt"), guide)):
                if part is not None:
                    _runs(part, into, later)
            reading = "".join(guide).strip()
            out.append("".join(base) + (f" ({reading})" if reading else ""))
        elif tag in (f"{_W}txbxContent", f"{_C}chart", f"{_DGM}relIds"):
            later.append(node)
        else:
            _runs(node, out, later)


def parse_pptx(data: bytes) -> list[Block]:
    data = transitional(data, "PPTX")
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
    if getattr(shape, "has_chart", False) and shape.has_chart:
        text = drawing_text(f"{_C}chart", shape.chart_part.blob)
        return [text] if text else []
    diagram = shape.element.find(f".//{_DGM}relIds")  # SmartArt, in a graphic frame
    if diagram is not None:
        try:
            text = drawing_text(diagram.tag, shape.part.related_part(diagram.get(f"{_R}dm")).blob)
        except KeyError:
            return []
        return [text] if text else []
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
    data = transitional(data, "workbook")
    import openpyxl

    try:
        book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises assorted errors (InvalidFileException, KeyError...) on bad files
        raise corrupt("workbook", exc) from exc
    blocks: list[Block] = []
    budget = [MAX_CELLS]
    try:
        drawn = _sheet_drawings(zipfile.ZipFile(io.BytesIO(data)))
        for sheet in book.worksheets:
            rows = ((n, [_cell(v) for v in row]) for n, row in enumerate(sheet.iter_rows(values_only=True), start=1))
            blocks += sheet_blocks(sheet.title, rows, budget)
            blocks += [Block(text, "para", (sheet.title,)) for text in drawn.get(sheet.title, [])]
    except Exception as exc:
        raise corrupt("workbook", exc) from exc
    finally:
        book.close()
    return blocks


_XDR = "{http://schemas.openxmlformats.org/drawingml/2006/spreadsheetDrawing}"
_PKG_REL = "{http://schemas.openxmlformats.org/package/2006/relationships}Relationship"


def _rels(z: zipfile.ZipFile, part: str) -> dict[str, str]:
    """A part's relationships: id -> the target's name in the zip (external targets left out)."""
    from lxml import etree

    folder, _, name = part.rpartition("/")
    try:
        root = etree.fromstring(z.read(f"{folder}/_rels/{name}.rels"))
    except KeyError:
        return {}
    out = {}
    for rel in root.iter(_PKG_REL):
        if rel.get("TargetMode") == "External":
            continue
        target = rel.get("Target", "")
        # a zip member's name: ".." resolved as text, never on the disk
        out[rel.get("Id", "")] = posixpath.normpath(target.lstrip("/") if target.startswith("/") else
                                                    posixpath.join(folder, target))
    return out


def _sheet_drawings(z: zipfile.ZipFile) -> dict[str, list[str]]:
    """The text drawn on each sheet, which openpyxl does not read: text boxes and shapes (one block each)
    and charts (titles, series, categories), by sheet name."""
    from lxml import etree

    try:
        book = etree.fromstring(z.read("xl/workbook.xml"))
    except KeyError:
        return {}
    targets = _rels(z, "xl/workbook.xml")
    out: dict[str, list[str]] = {}
    for sheet in book.iter("{http://schemas.openxmlformats.org/spreadsheetml/2006/main}sheet"):
        part = targets.get(sheet.get(f"{_R}id", ""))
        if not part:
            continue
        texts: list[str] = []
        for drawing in _rels(z, part).values():
            if "/drawings/" not in f"/{drawing}" or not drawing.endswith(".xml"):
                continue
            try:
                root = etree.fromstring(z.read(drawing))
            except KeyError:
                continue
            charts = _rels(z, drawing)
            for sp in root.iter(f"{_XDR}sp"):
                if lines := _drawn_lines(sp):
                    texts.append("\n".join(lines))
            for ref in root.iter(f"{_C}chart"):
                target = charts.get(ref.get(f"{_R}id", ""))
                if target and target in z.namelist() and (text := drawing_text(f"{_C}chart", z.read(target))):
                    texts.append(text)
        if texts:
            out[sheet.get("name", "")] = texts
    return out


READERS = {"docx": parse_docx, "pptx": parse_pptx, "xlsx": parse_xlsx}
