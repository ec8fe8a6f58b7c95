"""Parsers: structure, positions and clear errors for each format."""

from __future__ import annotations

from pathlib import Path

import pytest
from docgen import write_docx, write_pdf

from assistant.errors import DocumentError
from assistant.ingest.readers import decode_text, detect_format, parse


def blocks(path: Path):
    return parse(path, path.read_bytes(), detect_format(path)).blocks


def test_formats_are_detected_by_extension_and_name() -> None:
    cases = {"a.md": "markdown", "a.rst": "rst", "a.HTML": "html", "a.pdf": "pdf", "a.docx": "docx",
             "a.txt": "text", "a.py": "code", "a.json": "code", "a.yaml": "code", "Makefile": "code",
             "README": "text", "a.png": "image", "a.JPG": "image", "a.exe": None}
    for name, fmt in cases.items():
        assert detect_format(Path(name)) == fmt, name


def test_markdown_keeps_heading_path_lines_and_code_blocks(tmp_path: Path) -> None:
    p = tmp_path / "a.md"
    p.write_text("# Title\n\nIntro para.\n\n## Setup\n\nStep one.\n\n```sh\npip install x\n\necho done\n```\n"
                 "\nAfter code.\n\nSub Title\n---------\n\nUnder setext.\n")
    bs = [b for b in blocks(p) if b.kind != "heading"]
    assert [(b.text.split("\n")[0], b.heading, b.start_line) for b in bs] == [
        ("Intro para.", ("Title",), 3),
        ("Step one.", ("Title", "Setup"), 7),
        ("```sh", ("Title", "Setup"), 9),
        ("After code.", ("Title", "Setup"), 15),
        ("Under setext.", ("Title", "Sub Title"), 20),
    ]
    code = bs[2]
    assert code.kind == "code" and code.end_line == 13 and "echo done" in code.text


def test_rst_headings_by_adornment_style(tmp_path: Path) -> None:
    p = tmp_path / "a.rst"
    p.write_text("=====\nTop\n=====\n\nPreamble.\n\nSection A\n=========\n\nText A.\n\nSub\n---\n\nText B.\n\n"
                 "Section C\n=========\n\nText C.\n")
    bs = [(b.text, b.heading) for b in blocks(p) if b.kind != "heading"]
    assert bs == [("Preamble.", ("Top",)), ("Text A.", ("Top", "Section A")),
                  ("Text B.", ("Top", "Section A", "Sub")), ("Text C.", ("Top", "Section C"))]


def test_html_drops_scripts_and_keeps_headings(tmp_path: Path) -> None:
    p = tmp_path / "a.html"
    p.write_text("<html><head><title>t</title><script>var x=1;</script></head><body>\n<h1>Guide</h1>\n"
                 "<p>First <b>bold</b> para.</p>\n<h2>Part</h2>\n<ul><li>item one</li><li>item two</li></ul>\n"
                 "<pre>code  here</pre></body></html>")
    bs = [b for b in blocks(p) if b.kind != "heading"]
    assert bs[0].text == "t" and bs[0].heading == ()  # the page's <title>: a page is found by its title
    bs = bs[1:]
    texts = [b.text for b in bs]
    assert "First bold para." in texts and "item one" in texts and "code  here" in texts
    assert all("var x" not in t for t in texts)
    assert bs[0].heading == ("Guide",) and bs[-1].heading == ("Guide", "Part")
    assert bs[0].start_line == 3


def test_pdf_keeps_page_numbers(tmp_path: Path) -> None:
    p = write_pdf(tmp_path / "a.pdf", ["Alpha page text about rivers.", "Beta page text about glaciers."])
    bs = blocks(p)
    assert [(b.page, "rivers" in b.text, "glaciers" in b.text) for b in bs] == [(1, True, False), (2, False, True)]


def test_docx_headings_and_paragraphs(tmp_path: Path) -> None:
    p = write_docx(tmp_path / "a.docx", [("Budget", ["The budget is 42 coins."]), ("Plan", ["Plant cedar."])])
    bs = [(b.text, b.heading) for b in blocks(p) if b.kind != "heading"]
    assert bs == [("The budget is 42 coins.", ("Budget",)), ("Plant cedar.", ("Plan",))]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bad.pdf", b"%PDF-1.4\n1 0 obj << /Type /Catalog >> garbage", "PDF"),
        ("notpdf.pdf", b"hello world, I am not a PDF", "not a PDF"),
        ("bad.docx", b"PK\x03\x04 not really a zip", "DOCX"),
        ("bin.txt", bytes(range(256)) * 8, "binary"),
        ("empty.txt", b"", "empty"),
        ("blank.md", b"\n\n   \n", "no text"),
    ],
)
def test_bad_content_gives_a_clear_error(tmp_path: Path, name: str, data: bytes, message: str) -> None:
    p = tmp_path / name
    p.write_bytes(data)
    with pytest.raises(DocumentError, match=message):
        parse(p, data, detect_format(p))


def test_non_utf8_text_is_decoded() -> None:
    assert decode_text("Café crème, naïve façade — déjà vu.".encode("cp1252")).startswith("Café crème")
    russian = "Съешь же ещё этих мягких французских булок, да выпей чаю. " * 3
    assert decode_text(russian.encode("cp1251")) == russian
    assert decode_text("Grüße aus Köln".encode("utf-16")) == "Grüße aus Köln"
    assert decode_text("\ufeffBOM text".encode()) == "BOM text"
    assert decode_text(b"a\r\nb\rc") == "a\nb\nc"


def test_markdown_front_matter_lists_quotes_and_tables(tmp_path: Path) -> None:
    p = tmp_path / "notes.md"
    p.write_text("---\ntitle: Trip notes\ntags: [travel, lyon]\n---\n\n# Lyon\n\n- the night train leaves at 22:40\n"
                 "- platform 7\n  - seats 41 and 42\n\n> Keep the ticket until the exit gate.\n> It is checked.\n\n"
                 "| item | cost |\n|---|---|\n| ticket | 89 euros |\n\n1. pack\n2. sleep\n")
    bs = blocks(p)
    # Front matter is text of its own: never a setext heading "tags: ..." over the document.
    assert (bs[0].kind, bs[0].text, bs[0].heading, bs[0].start_line, bs[0].end_line) == (
        "para", "title: Trip notes\ntags: [travel, lyon]", (), 2, 3)
    assert [b.text for b in bs if b.kind == "heading"] == ["Lyon"]
    rest = [(b.text, b.heading, b.start_line, b.end_line) for b in bs[2:]]
    assert rest == [
        ("- the night train leaves at 22:40\n- platform 7\n  - seats 41 and 42", ("Lyon",), 8, 10),  # one list
        ("Keep the ticket until the exit gate.\nIt is checked.", ("Lyon",), 12, 13),  # the quote, without ">"
        ("| item | cost |\n|---|---|\n| ticket | 89 euros |", ("Lyon",), 15, 17),
        ("1. pack\n2. sleep", ("Lyon",), 19, 20),
    ]


def test_pdf_text_is_mended_ligatures_hyphens_running_headers_and_page_numbers() -> None:
    from assistant.ingest.readers.pdf import clean_pdf_pages

    pages = [f"Annual Report 2026 - Volume {n}\nThe \ufb01nal o\ufb03ce budget is well under con-\ntrol and the\n"
             f"pdfium mark\x02er too.\n{n}" for n in (1, 2, 3)]
    cleaned = clean_pdf_pages(pages)
    assert cleaned[1] == "The final office budget is well under control and the\npdfium marker too."
    assert clean_pdf_pages(["Only one page\nwith a line"]) == ["Only one page\nwith a line"]


def test_pdf_tables_keep_their_header_row_with_every_run_of_rows(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 6, "Quarterly figures by region are below.")
    with pdf.table() as table:  # long enough to run onto a second page (fpdf repeats the header there)
        for cells in [["Region", "Q1 revenue", "Q2 revenue"]] + [[f"Region {i}", f"{100 + i}", f"{200 + i}"]
                                                                   for i in range(1, 60)]:
            row = table.row()
            for c in cells:
                row.cell(c)
    # Two columns of running text line up too, but are not a table.
    pdf.add_page()
    for n in range(30):
        pdf.set_xy(10, 20 + 6 * n)
        pdf.cell(90, 5, f"left column line {n} with several words of running text")
        pdf.set_xy(110, 20 + 6 * n)
        pdf.cell(90, 5, f"right column line {n} with several words of text")
    p = tmp_path / "report.pdf"
    pdf.output(str(p))
    bs = blocks(p)
    rows = [b for b in bs if " | " in b.text]
    assert len(rows) >= 3 and all(b.text.startswith("Region | Q1 revenue | Q2 revenue\n") for b in rows)
    row_41 = next(b for b in rows if "Region 41 | 141 | 241" in b.text)
    assert row_41.page in (1, 2)
    assert bs[0].text == "Quarterly figures by region are below."
    assert [b for b in bs if b.page == 3] and not any(" | " in b.text for b in bs if b.page == 3)


def test_a_text_files_title_line_heads_every_passage(tmp_path: Path) -> None:
    """A first line standing alone above longer text is the title: each passage is embedded and found
    with it. A file that opens with a paragraph, or holds one paragraph only, has none."""
    f = tmp_path / "study.txt"
    f.write_text("Statin use and breast cancer survival\n\nRecent studies suggest that statins lower the risk "
                 "of death from breast cancer.\n\nWe followed 31,236 women for three years.\n")
    got = blocks(f)
    assert got[0].kind == "heading" and got[0].text == "Statin use and breast cancer survival"
    assert [b.heading for b in got[1:]] == [("Statin use and breast cancer survival",)] * 2
    assert (got[1].start_line, got[2].start_line) == (3, 5)
    for text in ("One paragraph only, on one line.\n",
                 "A first paragraph\nthat runs over two lines.\n\nThen more text follows here, at length.\n",
                 "A first line longer than what follows it.\n\nShort.\n"):
        f.write_text(text)
        assert all(b.kind == "para" and b.heading == () for b in blocks(f))
