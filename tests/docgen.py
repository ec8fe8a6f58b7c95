"""Generators for test documents of every supported format (real files, written on the fly)."""

from __future__ import annotations

import random
from pathlib import Path

WORDS = (
    "river mountain lantern harbor copper violet orchard meadow signal engine thunder velvet canyon "
    "glacier compass falcon marble ember willow quartz beacon saddle prairie tundra cedar harvest"
).split()


def prose(seed: int, sentences: int = 5) -> str:
    """Deterministic filler prose; each seed gives different sentences."""
    rng = random.Random(seed)
    out = []
    for _ in range(sentences):
        words = [rng.choice(WORDS) for _ in range(rng.randint(8, 14))]
        out.append(" ".join(words).capitalize() + ".")
    return " ".join(out)


def write_pdf(path: Path, pages: list[str]) -> Path:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))
    return path


def write_docx(path: Path, sections: list[tuple[str, list[str]]]) -> Path:
    import docx

    d = docx.Document()
    for heading, paragraphs in sections:
        d.add_heading(heading, level=1)
        for p in paragraphs:
            d.add_paragraph(p)
    d.save(str(path))
    return path


def write_pptx(path: Path, slides: list[tuple[str, list[str], str | None]]) -> Path:
    """Slides of (title, bullet lines, speaker notes or None), built with python-pptx."""
    from pptx import Presentation

    deck = Presentation()
    layout = deck.slide_layouts[1]  # title and content
    for title, bullets, notes in slides:
        slide = deck.slides.add_slide(layout)
        slide.shapes.title.text = title
        body = slide.placeholders[1].text_frame
        body.text = bullets[0] if bullets else ""
        for line in bullets[1:]:
            body.add_paragraph().text = line
        if notes:
            slide.notes_slide.notes_text_frame.text = notes
    deck.save(str(path))
    return path


def write_xlsx(path: Path, sheets: dict[str, list[list[object]]]) -> Path:
    """A workbook of sheets given as rows (the first row the header), built with openpyxl."""
    import openpyxl

    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets.items():
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
    book.save(str(path))
    return path


def _zip(path: Path, members: dict[str, str | bytes], first: tuple[str, str] | None = None) -> Path:
    import zipfile

    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        if first:  # OpenDocument and EPUB want the mimetype first, stored
            z.writestr(zipfile.ZipInfo(first[0]), first[1])
        for name, data in members.items():
            z.writestr(name, data)
    return path


_ODF = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
        'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
        'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2"')


def write_ods(path: Path, sheets: dict[str, list[list[str]]]) -> Path:
    """An OpenDocument spreadsheet written as its XML (with the repeated empty rows LibreOffice adds)."""
    from xml.sax.saxutils import escape

    tables = []
    for name, rows in sheets.items():
        xml_rows = "".join(
            "<table:table-row>" + "".join(f"<table:table-cell><text:p>{escape(str(c))}</text:p></table:table-cell>"
                                          for c in row) + "</table:table-row>" for row in rows)
        xml_rows += '<table:table-row table:number-rows-repeated="1048000"><table:table-cell/></table:table-row>'
        tables.append(f'<table:table table:name="{escape(name)}">{xml_rows}</table:table>')
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF}><office:body>'
               f'<office:spreadsheet>{"".join(tables)}</office:spreadsheet></office:body></office:document-content>')
    return _zip(path, {"content.xml": content}, ("mimetype", "application/vnd.oasis.opendocument.spreadsheet"))


def write_odt(path: Path, sections: list[tuple[str, list[str]]]) -> Path:
    from xml.sax.saxutils import escape

    body = "".join(f'<text:h text:outline-level="1">{escape(h)}</text:h>'
                   + "".join(f"<text:p>{escape(p)}</text:p>" for p in paras) for h, paras in sections)
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {_ODF}><office:body>'
               f"<office:text>{body}</office:text></office:body></office:document-content>")
    return _zip(path, {"content.xml": content}, ("mimetype", "application/vnd.oasis.opendocument.text"))


def write_epub(path: Path, chapters: list[tuple[str, list[str]]]) -> Path:
    from xml.sax.saxutils import escape

    members: dict[str, str | bytes] = {
        "META-INF/container.xml": '<?xml version="1.0"?><container version="1.0" '
        'xmlns="urn:oasis:names:tc:opendocument:xmlns:container"><rootfiles><rootfile full-path="OEBPS/book.opf" '
        'media-type="application/oebps-package+xml"/></rootfiles></container>'}
    items, spine = [], []
    for i, (title, paras) in enumerate(chapters, start=1):
        members[f"OEBPS/ch{i}.xhtml"] = (
            f'<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><head><title>{escape(title)}</title>'
            f"</head><body><h1>{escape(title)}</h1>" + "".join(f"<p>{escape(p)}</p>" for p in paras) + "</body></html>")
        items.append(f'<item id="c{i}" href="ch{i}.xhtml" media-type="application/xhtml+xml"/>')
        spine.append(f'<itemref idref="c{i}"/>')
    members["OEBPS/book.opf"] = (
        '<?xml version="1.0"?><package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata/>'
        f"<manifest>{''.join(items)}</manifest><spine>{''.join(spine)}</spine></package>")
    return _zip(path, members, ("mimetype", "application/epub+zip"))


def mail_message(subject: str, sender: str, date: str, body: str,
                 attachments: list[tuple[str, bytes]] = ()) -> bytes:  # type: ignore[assignment]
    from email.message import EmailMessage

    msg = EmailMessage()
    msg["Subject"], msg["From"], msg["To"], msg["Date"] = subject, sender, "me@example.org", date
    msg.set_content(body)
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def text_image(lines: list[str], width: int = 1700, size: int = 40):  # type: ignore[no-untyped-def]
    """A clean scan of some lines of text: black on white, about 300 dpi for a 40-pixel font."""
    from PIL import Image, ImageDraw, ImageFont

    font = ImageFont.load_default(size=size)
    img = Image.new("L", (width, 120 + int(size * 2.2) * len(lines)), 255)
    draw = ImageDraw.Draw(img)
    for i, line in enumerate(lines):
        draw.text((80, 60 + int(size * 2.2) * i), line, fill=0, font=font)
    return img


def write_scanned_pdf(path: Path, pages: list[str | list[str]]) -> Path:
    """A PDF whose str pages have a text layer and whose list pages are images of those lines (scans)."""
    import tempfile

    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    with tempfile.TemporaryDirectory() as tmp:
        for i, page in enumerate(pages):
            pdf.add_page()
            if isinstance(page, str):
                pdf.multi_cell(0, 6, page)
            else:
                img = Path(tmp) / f"p{i}.png"
                text_image(page).save(img)
                pdf.image(str(img), x=10, y=10, w=190)
        pdf.output(str(path))
    return path
