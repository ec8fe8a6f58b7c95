"""PDF text by page with pdfium, mended (ligatures, hyphen breaks, running headers); tables kept as rows
under their header; pages without a text layer read by OCR."""

from __future__ import annotations

import re
from typing import Any

from assistant.errors import DocumentError, NoTextError
from assistant.ingest import ocr
from assistant.ingest.readers.common import paragraphs, table_runs
from assistant.ingest.readers.containers import ReadContext
from assistant.types import Block

_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})
_HYPHEN_BREAK = re.compile(r"([a-z\u00e0-\u00ff])-\n([a-z\u00e0-\u00ff])")
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?\s*$", re.I)
TABLE_MIN_ROWS = 3
TABLE_CELL_CHARS = 40  # longer runs are running text (a column of a two-column page), not cells


def _page_text(textpage: Any, number: int, tables: dict[str, list[str]]) -> str:
    """A page's text; where its text runs line up in columns over TABLE_MIN_ROWS lines or more, the table
    stands as one placeholder paragraph, its rows kept in `tables` (pdfium splits a line's text into runs
    at wide gaps, which is where a table's cells are)."""
    plain = textpage.get_text_bounded().replace("\r\n", "\n").replace("\r", "\n")
    n_rects = textpage.count_rects()
    if n_rects < sum(1 for line in plain.split("\n") if line.strip()) + TABLE_MIN_ROWS:
        # Every line has a text run of its own; a table needs TABLE_MIN_ROWS lines of two runs or more,
        # so a page of fewer runs has none, and reading each run's text (most of this function's time) is
        # not needed.
        return plain
    runs = []
    for i in range(n_rects):
        left, bottom, right, top = textpage.get_rect(i)
        text = textpage.get_text_bounded(left, bottom, right, top).strip()
        if text:
            runs.append((top, bottom, left, text))
    lines: list[list[tuple[float, float, float, str]]] = []
    for run in sorted(runs, key=lambda r: (-r[0], r[2])):
        mid = (run[0] + run[1]) / 2
        if lines and abs(mid - (lines[-1][0][0] + lines[-1][0][1]) / 2) < (run[0] - run[1]) / 2:
            lines[-1].append(run)
        else:
            lines.append([run])
    rows = [sorted(line, key=lambda r: r[2]) for line in lines]

    def aligned(a: list[Any], b: list[Any]) -> bool:
        # Cells are short: two columns of running text (a paper's layout) line up too, with long lines.
        return len(a) == len(b) >= 2 and all(abs(x[2] - y[2]) < 12 for x, y in zip(a, b, strict=True)) and \
            all(len(r[3]) <= TABLE_CELL_CHARS for r in b)

    out: list[str] = []
    i = 0
    found = False
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and aligned(rows[i], rows[j + 1]):
            j += 1
        if j - i + 1 >= TABLE_MIN_ROWS:
            key = f"\x00table {number}.{len(tables)}\x00"
            tables[key] = [" | ".join(r[3] for r in row) for row in rows[i : j + 1]]
            out += ["", key, ""]
            found = True
            i = j + 1
        else:
            out.append(" ".join(r[3] for r in rows[i]))
            i += 1
    return "\n".join(out) if found else plain


def clean_pdf_pages(pages: list[str]) -> list[str]:
    """What PDF text extraction leaves behind, mended: ligature characters expanded (a search for
    "office" must find "o\ufb03ce"), words broken by a hyphen at a line end joined, and running headers
    and footers (a line that starts or ends most pages, digits aside) and bare page numbers dropped."""
    # pdfium marks a word broken by a hyphen at a line end with \x02 where the hyphen was.
    pages = [_HYPHEN_BREAK.sub(r"\1\2", p.translate(_LIGATURES).replace("\x02", "")) for p in pages]
    split = [[line for line in p.split("\n")] for p in pages]

    def edges(lines: list[str]) -> list[tuple[int, str]]:
        idx = [i for i, line in enumerate(lines) if line.strip() and not line.startswith("\x00")]
        return [(i, re.sub(r"\d+", "#", lines[i].strip()).lower()) for i in idx[:1] + idx[-1:]]

    counts: dict[str, int] = {}
    for lines in split:
        for key in {k for _, k in edges(lines)}:
            counts[key] = counts.get(key, 0) + 1
    running = {k for k, n in counts.items() if len(pages) >= 3 and n >= 0.6 * len(pages)}
    out = []
    for lines in split:
        drop = {i for i, k in edges(lines) if k in running or _PAGE_NUMBER.match(lines[i])}
        out.append("\n".join(line for i, line in enumerate(lines) if i not in drop))
    return out


def parse_pdf(data: bytes, ctx: ReadContext) -> list[Block]:
    """A PDF's text by page, extracted with pdfium (bench/pdf_text.py: as good as pypdf on two-column
    pages once cleaned, and 3-5x faster); pages without a text layer go to OCR."""
    import pypdfium2 as pdfium

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise DocumentError("not a PDF file (no %PDF header); the file may be corrupt or misnamed")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise DocumentError("the PDF is password-protected; save an unprotected copy to index it") from exc
        raise DocumentError(f"corrupt or unreadable PDF ({exc})") from exc
    tables: dict[str, list[str]] = {}  # placeholder line -> the table's rows, "cell | cell"
    try:
        texts = []
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            texts.append(_page_text(textpage, i + 1, tables))
            textpage.close()
            page.close()
    except pdfium.PdfiumError as exc:
        raise DocumentError(f"corrupt or unreadable PDF ({exc})") from exc
    finally:
        pdf.close()
    scanned: list[int] = []
    pages: list[list[Block]] = []
    has_text = [bool(t.strip()) for t in texts]  # before mending: a page with only its number is not a scan
    for number, text in enumerate(clean_pdf_pages(texts), start=1):
        blocks = []
        for b in paragraphs(text.split("\n"), 1, ()):
            if b.text in tables:  # a table: its header row above every run of its rows
                blocks += [Block(t, "para", (), number, None, None) for _, _, t in table_runs(tables[b.text])]
            else:
                blocks.append(Block(b.text, "para", (), number, None, None))
        pages.append(blocks)
        if not has_text[number - 1]:
            scanned.append(number)
    if scanned:
        _ocr_pages(data, scanned, pages, ctx.ocr)
    blocks = [b for page in pages for b in page]
    if not blocks:
        why = "OCR is off (setting ocr)" if not ctx.ocr.enabled else \
            "no OCR engine is installed (rapidocr-onnxruntime)" if not ocr.available() else "OCR found no text"
        error = NoTextError if why == "OCR found no text" else DocumentError
        raise error(f"the PDF has no extractable text (scanned images?), and {why}")
    return blocks


def _ocr_pages(data: bytes, numbers: list[int], pages: list[list[Block]], opts: ocr.OcrOptions) -> None:
    """Read pages without a text layer by OCR, as far as the options allow (the rest is counted as
    skipped, for a later pass); pages read in an earlier pass come from the options' cache."""
    if not opts.enabled or not ocr.available():
        return
    budget = opts.max_pages
    for number in numbers:
        if number not in opts.done:
            if budget is not None and budget <= 0:
                opts.skipped += 1
                continue
            opts.done[number] = ocr.read_image(ocr.render_pdf_page(data, number - 1))
            budget = None if budget is None else budget - 1
        paras = ocr.paragraphs(opts.done[number])
        pages[number - 1] = [Block(p, "para", (), number, None, None, ocr=True) for p in paras]


READERS = {"pdf": parse_pdf}
