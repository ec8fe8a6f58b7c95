"""Slides, spreadsheets, e-books, OpenDocument, RTF and mail: real files built with their libraries."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from docgen import (
    mail_message,
    to_strict,
    write_docx,
    write_epub,
    write_ods,
    write_odt,
    write_pptx,
    write_rich_docx,
    write_rich_pptx,
    write_xlsx,
)

from assistant.errors import DocumentError
from assistant.ingest.readers import common as office
from assistant.ingest.readers import detect_format, parse
from assistant.types import Block, Hit


def blocks(path: Path) -> list[Block]:
    fmt = detect_format(path)
    assert fmt is not None, path
    return [b for b in parse(path, path.read_bytes(), fmt).blocks if b.kind != "heading"]


def test_new_formats_are_detected() -> None:
    cases = {"a.pptx": "pptx", "a.XLSX": "xlsx", "a.xlsm": "xlsx", "a.ods": "ods", "a.odt": "odt", "a.rtf": "rtf",
             "a.epub": "epub", "a.eml": "eml", "a.mbox": "mbox"}
    for name, fmt in cases.items():
        assert detect_format(Path(name)) == fmt, name


def test_slides_are_pages_under_their_titles_with_notes_and_tables(tmp_path: Path) -> None:
    p = write_pptx(tmp_path / "deck.pptx", [
        ("Roadmap", ["Ship the beta in March", "Hire two engineers"], None),
        ("Budget", ["Travel is capped at 9,000 euros"], "Remind the board that the cap excludes training."),
    ])
    bs = blocks(p)
    assert [(b.page, b.heading) for b in bs] == [(1, ("Roadmap",)), (2, ("Budget",)), (2, ("Budget",))]
    assert bs[0].text == "Ship the beta in March\nHire two engineers"
    assert bs[2].text.startswith("Speaker notes: Remind the board")
    hit = Hit(str(p), 1, 1.0, bs[1].text, "Budget", 2, None, None)
    assert hit.location == "slide 2"


def test_sheets_repeat_their_header_row_in_every_block(tmp_path: Path) -> None:
    rows: list[list[object]] = [["Invoice", "Client", "Amount"]]
    rows += [[f"INV-{i:03}", f"Client {i}", 100 + i] for i in range(1, 60)]
    p = write_xlsx(tmp_path / "book.xlsx", {"Invoices 2026": rows, "Empty": [], "Notes": [["Only a header"]]})
    bs = blocks(p)
    invoices = [b for b in bs if b.heading == ("Invoices 2026",)]
    assert len(invoices) > 2 and all(b.text.startswith("Invoice | Client | Amount\n") for b in invoices)
    assert (invoices[0].start_line, invoices[-1].end_line) == (2, 60)
    row_42 = next(b for b in invoices if "INV-041 | Client 41 | 141" in b.text)
    assert row_42.start_line <= 42 <= row_42.end_line
    assert [b.text for b in bs if b.heading == ("Notes",)] == ["Only a header"]
    assert Hit(str(p), 1, 1.0, "", None, None, 2, 9).location == "rows 2-9"


def test_ods_sheets_with_repeated_rows(tmp_path: Path) -> None:
    p = write_ods(tmp_path / "plan.ods", {"Crops": [["Crop", "Field", "Hectares"], ["Barley", "North", "12"],
                                                    ["Rye", "South", "7"]]})
    (b,) = blocks(p)
    assert b.heading == ("Crops",) and b.text == "Crop | Field | Hectares\nBarley | North | 12\nRye | South | 7"
    assert (b.start_line, b.end_line) == (2, 3)


def test_odt_epub_and_rtf_keep_headings_and_paragraphs(tmp_path: Path) -> None:
    odt = write_odt(tmp_path / "letter.odt", [("Lease", ["The rent is due on the fifth."]), ("Keys", ["Two keys."])])
    assert [(b.heading, b.text) for b in blocks(odt)] == [(("Lease",), "The rent is due on the fifth."),
                                                           (("Keys",), "Two keys.")]
    epub = write_epub(tmp_path / "book.epub", [("The Harbor", ["Ships came at dawn."]), ("The Storm", ["It rained."])])
    assert [(b.heading, b.text) for b in blocks(epub)] == [(("The Harbor",), "Ships came at dawn."),
                                                            (("The Storm",), "It rained.")]
    rtf = tmp_path / "memo.rtf"
    rtf.write_bytes(rb"{\rtf1\ansi{\fonttbl\f0\fswiss Helvetica;}\f0\pard The parking code is 4471.\par"
                    rb"\par Caf\'e9 opens at eight.\par}")
    assert [b.text for b in blocks(rtf)] == ["The parking code is 4471.", "Café opens at eight."]


def test_mail_messages_their_headings_lines_and_attachments(tmp_path: Path) -> None:
    memo = write_docx(tmp_path / "memo.docx", [("Offer", ["The salary offered is 52,000 euros."])])
    eml = tmp_path / "offer.eml"
    eml.write_bytes(mail_message("Job offer", "Ana <ana@example.org>", "Mon, 02 Nov 2026 10:00:00 +0000",
                                 "Please find the offer attached.", [("memo.docx", memo.read_bytes())]))
    bs = blocks(eml)
    assert bs[0].heading == ("Job offer — Ana <ana@example.org> — Mon, 02 Nov 2026 10:00:00 +0000",)
    assert [b.text for b in bs] == ["Please find the offer attached.", "Attached: memo.docx"]
    # The attachment is a document of its own, its blocks under "attachment X of message Y".
    doc = parse(eml, eml.read_bytes(), "eml")
    [memo_doc] = doc.attachments
    assert (memo_doc.name, memo_doc.format, memo_doc.error) == ("memo.docx", "docx", None)
    assert memo_doc.document is not None
    attached = [b for b in memo_doc.document.blocks if "52,000" in b.text]
    assert attached and attached[0].heading == ("attachment memo.docx of message Job offer", "Offer")

    first = mail_message("Dentist", "clinic@example.org", "Tue, 3 Nov 2026 09:00:00 +0000",
                         "Your appointment is on Friday at 15:30.\n\nFrom now on, bring your card.")
    second = mail_message("Plumber", "bob@example.org", "Wed, 4 Nov 2026 09:00:00 +0000", "The boiler is fixed.")
    box = tmp_path / "inbox.mbox"
    box.write_bytes(b"From clinic@example.org Tue Nov  3 09:00:00 2026\n" + first.replace(b"\nFrom ", b"\n>From ")
                    + b"\n\nFrom bob@example.org Wed Nov  4 09:00:00 2026\n" + second + b"\n")
    bs = blocks(box)
    dentist = [b for b in bs if b.heading[0].startswith("Dentist")]
    plumber = [b for b in bs if b.heading[0].startswith("Plumber")]
    assert dentist[0].text == "Your appointment is on Friday at 15:30." and dentist[1].text.startswith("From now on")
    assert dentist[0].start_line == 1 and plumber[0].start_line == dentist[0].end_line + 1
    assert plumber[0].text == "The boiler is fixed."

    # In an mbox, attachments sit below their message's number; a name used twice is told apart, and
    # an unreadable attachment is an error of its own.
    third = mail_message("Scans", "c@example.org", "Thu, 5 Nov 2026 09:00:00 +0000", "Two memos, one broken.",
                         [("memo.docx", memo.read_bytes()), ("memo.docx", memo.read_bytes()),
                          ("broken.pdf", b"%PDF-1.4 not really")])
    box.write_bytes(box.read_bytes() + b"\nFrom c@example.org Thu Nov  5 09:00:00 2026\n" + third + b"\n")
    doc = parse(box, box.read_bytes(), "mbox")
    assert [(a.name, a.error is None) for a in doc.attachments] == [
        ("message 3/memo.docx", True), ("message 3/memo (2).docx", True), ("message 3/broken.pdf", False)]
    assert doc.attachments[0].content_hash == doc.attachments[1].content_hash


def _bomb(path: Path, members: int = 1, size: int = 0) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for i in range(members):
            z.writestr(f"ppt/part{i}.xml", b"\0" * size)
    return path


@pytest.mark.parametrize("name", ["deck.pptx", "book.xlsx", "plan.ods", "letter.odt", "book.epub"])
def test_bad_zip_based_files_give_clear_errors(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    p = tmp_path / name

    def error(data: bytes) -> str:
        p.write_bytes(data)
        with pytest.raises(DocumentError) as info:
            parse(p, data, detect_format(p))  # type: ignore[arg-type]
        return str(info.value)

    assert "password-protected" in error(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600)
    assert "corrupt or unreadable" in error(b"PK\x03\x04 truncated")
    monkeypatch.setattr(office, "MAX_MEMBERS", 50)
    assert "zip bomb" in error(_bomb(tmp_path / "m.zip", members=51).read_bytes())
    monkeypatch.setattr(office, "MAX_UNPACKED", 2**20)
    assert "zip bomb" in error(_bomb(tmp_path / "s.zip", size=2 * 2**20).read_bytes())
    assert "corrupt or unreadable" in error(_bomb(tmp_path / "ok.zip").read_bytes())  # a zip, not this format


def test_empty_workbook_and_bad_mail(tmp_path: Path) -> None:
    p = write_xlsx(tmp_path / "empty.xlsx", {"Sheet": []})
    with pytest.raises(DocumentError, match="no text found"):
        blocks(p)
    for name, data, message in (("x.mbox", b"hello\nworld\n", "not an mbox"), ("x.eml", b"\0\1\2", "not an e-mail"),
                                ("x.rtf", b"plain words", "not an RTF")):
        (tmp_path / name).write_bytes(data)
        with pytest.raises(DocumentError, match=message):
            blocks(tmp_path / name)


def test_odp_slides_are_pages_with_their_titles() -> None:
    import io
    import zipfile

    from assistant.ingest.readers.opendocument import parse_odp

    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:draw="urn:oasis:names:tc:opendocument:xmlns:drawing:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"')
    content = (f'<office:document-content {ns}><office:body><office:presentation>'
               '<draw:page><draw:frame><draw:text-box><text:p>Harbour plan</text:p><text:p>New moorings in May'
               '</text:p></draw:text-box></draw:frame></draw:page>'
               '<draw:page><draw:frame><draw:text-box><text:p>Budget</text:p><text:p>It costs 40,000 euros'
               '</text:p></draw:text-box></draw:frame></draw:page>'
               '</office:presentation></office:body></office:document-content>')
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.presentation")
        z.writestr("content.xml", content)
    blocks = parse_odp(buf.getvalue())
    assert [(b.page, b.heading, b.text) for b in blocks] == [
        (1, (), "Harbour plan"), (1, ("Harbour plan",), "New moorings in May"),
        (2, (), "Budget"), (2, ("Budget",), "It costs 40,000 euros")]


def test_docx_text_outside_plain_paragraphs(tmp_path: Path) -> None:
    """Text boxes, content controls, tracked changes, phonetic guides, charts, SmartArt, altChunk HTML,
    footnotes and headers: each sentence is found once, and the deleted words are not."""
    texts = [b.text for b in blocks(write_rich_docx(tmp_path / "rich.docx"))]
    assert texts == [
        "A plain paragraph.",
        "Before the box.",
        "The text box says the harbor opens at dawn.",  # once: the VML fallback copy is not read again
        "The content control holds the copper budget.",
        "The inserted words name the falcon.",
        "The capital is 東京 (とうきょう).",
        "Chart: Lantern sales by quarter\nSeries: Glacier region\nCategories: Spring, Autumn",
        "Plant the orchard\nHarvest the cedar",
        "The pasted page says the meadow floods in May.",
        "The footnote cites the thunder survey.",
        "Header of the quartz report",
    ]
    assert not any("deleted" in t for t in texts)


def test_strict_ooxml_reads_like_transitional(tmp_path: Path) -> None:
    """Strict Open XML (purl.oclc.org namespaces), which openpyxl, python-docx and python-pptx refuse."""
    made = [write_rich_docx(tmp_path / "a.docx"),
            write_xlsx(tmp_path / "a.xlsx", {"Costs": [["item", "cost"], ["lantern", 12], ["copper", 7]]}),
            write_pptx(tmp_path / "a.pptx", [("Harbor", ["Opens at dawn"], "Bring rope")])]
    for path in made:
        strict = tmp_path / f"strict{path.suffix}"
        strict.write_bytes(path.read_bytes())
        to_strict(strict)
        assert b"purl.oclc.org/ooxml" in zipfile.ZipFile(strict).read("_rels/.rels")
        assert [(b.text, b.heading, b.page) for b in blocks(strict)] == \
            [(b.text, b.heading, b.page) for b in blocks(path)], path.suffix
    assert "lantern | 12" in blocks(tmp_path / "strict.xlsx")[0].text


def test_pptx_chart_and_smartart_text_on_their_slides(tmp_path: Path) -> None:
    found = [(b.page, b.heading, b.text) for b in blocks(write_rich_pptx(tmp_path / "rich.pptx"))]
    assert found == [
        (1, ("Sales",), "Chart: Lantern sales by quarter\nSeries: Glacier region\nCategories: Spring, Autumn"),
        (2, ("Process",), "Plant the orchard\nHarvest the cedar"),
    ]


@pytest.mark.parametrize(("rtf", "expected"), [
    # an ignorable destination at a group's start is skipped whole, also after a line break
    (rb"{\rtf1 Seen.\par {\*\generator Riched20;}{" b"\r\n" rb"\*\unknown hidden} Also seen.\par}",
     "Seen. Also seen."),
    # "\*" inside a group only marks the next control word: the text after it is kept
    (rb"{\rtf1 {\field{\*\fldinst HYPERLINK x}{\fldrslt \*\cs12 the harbor map}} follows.\par}",
     "the harbor map follows."),
    (rb"{\rtf1 Alpha \*\foo Gamma\par}", "Alpha Gamma"),
    (rb"{\rtf1 a literal \\* stays\par}", "a literal \\* stays"),
])
def test_rtf_text_after_an_ignorable_control_word(tmp_path: Path, rtf: bytes, expected: str) -> None:
    (tmp_path / "a.rtf").write_bytes(rtf)
    assert " ".join(" ".join(b.text for b in blocks(tmp_path / "a.rtf")).split()) == expected


def test_svg_drawings_are_read_by_their_words(tmp_path: Path) -> None:
    svg = tmp_path / "map.svg"
    svg.write_bytes(b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><title>Site map</title>'
                    b'<desc>Where the boats moor</desc><g><text x="1" y="2">North <tspan>gate</tspan></text></g>'
                    b'<rect width="4" height="4"/></svg>')
    assert [b.text for b in blocks(svg)] == ["Site map", "Where the boats moor", "North gate"]
    (tmp_path / "empty.svg").write_bytes(b'<svg xmlns="http://www.w3.org/2000/svg"><rect/></svg>')
    from assistant.errors import NoTextError

    with pytest.raises(NoTextError):
        blocks(tmp_path / "empty.svg")
    (tmp_path / "bad.svg").write_bytes(b"<svg><text>never closed")
    with pytest.raises(DocumentError, match="corrupt or unreadable SVG"):
        blocks(tmp_path / "bad.svg")
    entities = "".join(f'<!ENTITY e{i} "{"".join(f"&e{i - 1};" for _ in range(10))}">' for i in range(1, 10))
    (tmp_path / "bomb.svg").write_text(f'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY e0 "boom">{entities}]>'
                                       '<svg xmlns="http://www.w3.org/2000/svg"><text>&e9;</text></svg>')
    with pytest.raises(DocumentError, match="corrupt or unreadable SVG"):  # a billion laughs: refused by expat
        blocks(tmp_path / "bomb.svg")


def test_xlsx_text_boxes_and_charts_are_read_under_their_sheet(tmp_path: Path) -> None:
    """openpyxl reads cells only: a text box and a chart drawn on a sheet are read from its drawing part."""
    import io

    import openpyxl
    from openpyxl.chart import BarChart, Reference

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "Sales"
    for row in (["quarter", "lanterns"], ["Spring", 3], ["Autumn", 4]):
        sheet.append(row)
    chart = BarChart()
    chart.title = "Lantern sales by quarter"
    chart.add_data(Reference(sheet, min_col=2, min_row=1, max_row=3), titles_from_data=True)
    chart.set_categories(Reference(sheet, min_col=1, min_row=2, max_row=3))
    sheet.add_chart(chart, "D2")
    book.create_sheet("Empty")
    buf = io.BytesIO()
    book.save(buf)
    src = zipfile.ZipFile(io.BytesIO(buf.getvalue()))
    path = tmp_path / "sales.xlsx"
    # openpyxl writes no text boxes: one is added to the drawing as Excel writes it (and the chart, written
    # without the cached names Excel keeps, has only its title to give)
    box = ('<twoCellAnchor xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><from><col>0</col>'
           '<colOff>0</colOff><row>5</row><rowOff>0</rowOff></from><to><col>3</col><colOff>0</colOff><row>8</row>'
           '<rowOff>0</rowOff></to><sp><nvSpPr><cNvPr id="9" name="TextBox 1"/><cNvSpPr txBox="1"/></nvSpPr>'
           '<spPr/><txBody><a:bodyPr/><a:p><a:r><a:t>The note says the harbor stall sells most in spring.</a:t>'
           '</a:r></a:p></txBody></sp><clientData/></twoCellAnchor>')
    with zipfile.ZipFile(path, "w") as out:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == "xl/drawings/drawing1.xml":
                assert body.endswith(b"</wsDr>")
                body = body.replace(b"</wsDr>", box.encode() + b"</wsDr>")
            out.writestr(info, body)
    assert [(b.heading, b.text) for b in blocks(path)] == [
        (("Sales",), "quarter | lanterns\nSpring | 3\nAutumn | 4"),
        (("Sales",), "The note says the harbor stall sells most in spring."),
        (("Sales",), "Chart: Lantern sales by quarter"),
    ]
