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


_WML = ('xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships" '
        'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006" '
        'xmlns:wp="http://schemas.openxmlformats.org/drawingml/2006/wordprocessingDrawing" '
        'xmlns:wps="http://schemas.microsoft.com/office/word/2010/wordprocessingShape" '
        'xmlns:v="urn:schemas-microsoft-com:vml" '
        'xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main" '
        'xmlns:c="http://schemas.openxmlformats.org/drawingml/2006/chart" '
        'xmlns:dgm="http://schemas.openxmlformats.org/drawingml/2006/diagram"')
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
_SMARTART = (f'<dgm:dataModel {_WML}><dgm:ptLst><dgm:pt><dgm:t><a:p><a:r><a:t>Plant the orchard</a:t></a:r></a:p>'
             '</dgm:t></dgm:pt><dgm:pt><dgm:t><a:p><a:r><a:t>Harvest the cedar</a:t></a:r></a:p></dgm:t></dgm:pt>'
             '</dgm:ptLst></dgm:dataModel>').encode()  # a SmartArt diagram's data part: two nodes


def write_rich_docx(path: Path, strict: bool = False) -> Path:
    """A .docx holding what Word writes outside plain paragraphs, each with a sentence of its own: a text
    box (as Word writes it, the DrawingML shape and its VML fallback copy), a content control, a tracked
    insertion and a deletion, a phonetic guide, a chart, a SmartArt diagram, HTML pasted as an altChunk, a
    footnote, a header. With `strict`, the package is saved as Strict OOXML (purl.oclc.org namespaces)."""
    import docx
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    d = docx.Document()
    d.add_heading("Rich parts", level=1)
    d.add_paragraph("A plain paragraph.")
    body = d.element.body
    sect = body[-1]

    def add(xml: str) -> None:
        sect.addprevious(parse_xml(xml.replace("NS", _WML)))

    box = ("<w:txbxContent><w:p><w:r><w:t>The text box says the harbor opens at dawn.</w:t></w:r></w:p>"
           "</w:txbxContent>")
    add(f'<w:p NS><w:r><w:t>Before the box.</w:t></w:r><w:r><mc:AlternateContent><mc:Choice Requires="wps">'
        f'<w:drawing><wp:anchor><a:graphic><a:graphicData uri="http://schemas.microsoft.com/office/word/2010/'
        f'wordprocessingShape"><wps:wsp><wps:txbx>{box}</wps:txbx></wps:wsp></a:graphicData></a:graphic>'
        f'</wp:anchor></w:drawing></mc:Choice><mc:Fallback><w:pict><v:shape><v:textbox>{box}</v:textbox>'
        f'</v:shape></w:pict></mc:Fallback></mc:AlternateContent></w:r></w:p>')
    add('<w:sdt NS><w:sdtContent><w:p><w:r><w:t>The content control holds the copper budget.</w:t></w:r></w:p>'
        '</w:sdtContent></w:sdt>')
    add('<w:p NS><w:ins><w:r><w:t>The inserted words name the falcon.</w:t></w:r></w:ins>'
        '<w:del><w:r><w:delText>deleted words</w:delText></w:r></w:del></w:p>')
    add('<w:p NS><w:r><w:t xml:space="preserve">The capital is </w:t></w:r><w:r><w:ruby><w:rubyPr/><w:rt><w:r>'
        '<w:t>とうきょう</w:t></w:r></w:rt><w:rubyBase><w:r><w:t>東京</w:t></w:r></w:rubyBase></w:ruby></w:r>'
        '<w:r><w:t>.</w:t></w:r></w:p>')

    def part(name: str, content_type: str, blob: bytes, reltype: str) -> str:
        p = Part(PackURI(name), content_type, blob, d.part.package)
        return d.part.relate_to(p, _REL + reltype)

    chart = part("/word/charts/chart1.xml", "application/vnd.openxmlformats-officedocument.drawingml.chart+xml",
                 (f'<c:chartSpace {_WML}><c:chart><c:title><c:tx><c:rich><a:p><a:r><a:t>Lantern sales by quarter'
                  '</a:t></a:r></a:p></c:rich></c:tx></c:title><c:plotArea><c:barChart><c:ser><c:tx><c:strRef>'
                  '<c:strCache><c:pt idx="0"><c:v>Glacier region</c:v></c:pt></c:strCache></c:strRef></c:tx>'
                  '<c:cat><c:strRef><c:strCache><c:pt idx="0"><c:v>Spring</c:v></c:pt><c:pt idx="1"><c:v>Autumn'
                  '</c:v></c:pt></c:strCache></c:strRef></c:cat></c:ser></c:barChart></c:plotArea></c:chart>'
                  '</c:chartSpace>').encode(), "chart")
    add(f'<w:p NS><w:r><w:drawing><wp:inline><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/'
        f'drawingml/2006/chart"><c:chart r:id="{chart}"/></a:graphicData></a:graphic></wp:inline></w:drawing>'
        '</w:r></w:p>')
    data = part("/word/diagrams/data1.xml", "application/vnd.openxmlformats-officedocument.drawingml.diagramData+xml",
                _SMARTART, "diagramData")
    add(f'<w:p NS><w:r><w:drawing><wp:inline><a:graphic><a:graphicData uri="http://schemas.openxmlformats.org/'
        f'drawingml/2006/diagram"><dgm:relIds r:dm="{data}" r:lo="" r:qs="" r:cs=""/></a:graphicData>'
        '</a:graphic></wp:inline></w:drawing></w:r></w:p>')
    chunk = part("/word/afchunk1.htm", "text/html",
                 b"<html><body><p>The pasted page says the meadow floods in May.</p></body></html>", "aFChunk")
    add(f'<w:altChunk NS r:id="{chunk}"/>')
    part("/word/footnotes.xml", "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
         (f'<w:footnotes {_WML}><w:footnote w:id="1"><w:p><w:r><w:t>The footnote cites the thunder survey.</w:t>'
          '</w:r></w:p></w:footnote></w:footnotes>').encode(), "footnotes")
    d.sections[0].header.paragraphs[0].text = "Header of the quartz report"
    d.save(str(path))
    if strict:
        to_strict(path)
    return path


def to_strict(path: Path) -> Path:
    """Rewrite an Office Open XML package in place as Strict OOXML: every Transitional namespace and
    relationship type under schemas.openxmlformats.org/X/2006/ (but the packaging ones) moved to
    purl.oclc.org/ooxml/X/, as Office's "Strict Open XML" save writes them."""
    import io
    import re
    import zipfile

    src = zipfile.ZipFile(io.BytesIO(path.read_bytes()))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as w:
        for info in src.infolist():
            body = src.read(info)
            if info.filename.endswith((".xml", ".rels")):
                body = re.sub(rb"http://schemas\.openxmlformats\.org/(?!package/)([A-Za-z]+)/2006/",
                              rb"http://purl.oclc.org/ooxml/\1/", body)
            w.writestr(info, body)
    path.write_bytes(out.getvalue())
    return path


def write_rich_pptx(path: Path) -> Path:
    """A deck with a chart (title, series, categories) on slide 1 and a SmartArt diagram on slide 2."""
    from pptx import Presentation
    from pptx.chart.data import CategoryChartData
    from pptx.enum.chart import XL_CHART_TYPE
    from pptx.opc.package import Part
    from pptx.opc.packuri import PackURI
    from pptx.oxml import parse_xml
    from pptx.util import Inches

    deck = Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[5])  # title only
    slide.shapes.title.text = "Sales"
    data = CategoryChartData()
    data.categories = ["Spring", "Autumn"]
    data.add_series("Glacier region", (3, 4))
    chart = slide.shapes.add_chart(XL_CHART_TYPE.COLUMN_CLUSTERED, Inches(1), Inches(2), Inches(6), Inches(4),
                                   data).chart
    chart.has_title = True
    chart.chart_title.text_frame.text = "Lantern sales by quarter"
    slide = deck.slides.add_slide(deck.slide_layouts[5])
    slide.shapes.title.text = "Process"
    part = Part(PackURI("/ppt/diagrams/data1.xml"),
                "application/vnd.openxmlformats-officedocument.drawingml.diagramData+xml", deck.part.package,
                _SMARTART)
    rid = slide.part.relate_to(part, _REL + "diagramData")
    frame = parse_xml(
        '<p:graphicFrame xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" '
        f'{_WML}><p:nvGraphicFramePr><p:cNvPr id="9" name="Diagram 1"/><p:cNvGraphicFramePr/><p:nvPr/>'
        '</p:nvGraphicFramePr><p:xfrm><a:off x="0" y="0"/><a:ext cx="100" cy="100"/></p:xfrm><a:graphic>'
        '<a:graphicData uri="http://schemas.openxmlformats.org/drawingml/2006/diagram">'
        f'<dgm:relIds r:dm="{rid}" r:lo="" r:qs="" r:cs=""/></a:graphicData></a:graphic></p:graphicFrame>')
    slide.shapes._spTree.append(frame)
    deck.save(str(path))
    return path
