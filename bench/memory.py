"""Peak memory of `assistant index` on a mixed folder, like a real Documents folder, in a fresh process.

    .venv/bin/python bench/memory.py [--pdfs 60] [--pages 20] [--book-pages 400] [--scans 3] [--memos 20]
                                     [--rows 50000] [--with FOLDER ...] [--json]

It writes the folder into a temporary directory: text PDFs (--pdfs of --pages pages, and a long one of
--book-pages), a PDF of --scans scanned pages (images of text, read by OCR), a photo of text (PNG),
Word memos, a workbook of --rows rows, and a zip holding a third of the PDFs and the long one; --with
copies folders in as well (the README's run adds ../shared/corpus/legacy-office and 150 PEPs). Then it
runs `assistant index` on it in a new process with a fresh ASSISTANT_HOME and prints:
  - files, added (documents: archive members and attachments count), chunks_embedded, no_text, errors;
  - wall_s and peak_rss_mb of that process (its own maximum resident set size).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import shutil
import sys
import tempfile
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from docgen_bench import sentence  # noqa: E402
from ingest import machine, report, timed_process  # noqa: E402


def prose(seed: int, sentences: int) -> str:
    rng = random.Random(seed)
    return " ".join(sentence(rng) for _ in range(sentences))


def write_pdf(path: Path, pages: list[str]) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text)
    pdf.output(str(path))


def text_page(seed: int, lines: int = 20):  # type: ignore[no-untyped-def]
    """An A4 page at 150 dpi with lines of text drawn on it (a scan, to PIL)."""
    from PIL import Image, ImageDraw, ImageFont

    img = Image.new("RGB", (1240, 1754), "white")
    draw = ImageDraw.Draw(img)
    font = ImageFont.load_default(size=28)
    for k in range(lines):
        draw.text((80, 80 + k * 60), prose(seed * 100 + k, 1)[:70], fill="black", font=font)
    return img


def build(folder: Path, args: argparse.Namespace) -> None:
    import docx
    import openpyxl

    pdfs = folder / "pdf"
    pdfs.mkdir(parents=True)
    for i in range(args.pdfs):
        write_pdf(pdfs / f"paper{i:03}.pdf", [prose(i * 100 + j, 25) for j in range(args.pages)])
    if args.book_pages:
        write_pdf(pdfs / "book.pdf", [prose(90_000 + j, 25) for j in range(args.book_pages)])
    if args.scans:
        pages = [text_page(s) for s in range(args.scans)]
        pages[0].save(pdfs / "scan.pdf", save_all=True, append_images=pages[1:], resolution=150)
        text_page(99).save(folder / "photo.png")
    for i in range(args.memos):
        d = docx.Document()
        for k in range(10):
            d.add_heading(f"Part {k}", level=1)
            d.add_paragraph(prose(i * 10 + k, 8))
        d.save(str(folder / f"memo{i}.docx"))
    if args.rows:
        book = openpyxl.Workbook(write_only=True)
        sheet = book.create_sheet("Data")
        sheet.append(["id", "name", "value", "note"])
        for i in range(args.rows):
            sheet.append([i, f"item {i}", i * 1.5, prose(i, 1)[:40]])
        book.save(str(folder / "big.xlsx"))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for p in sorted(pdfs.glob("paper*.pdf"))[: max(1, args.pdfs // 3)]:
            z.write(p, f"archive/{p.name}")
        if (pdfs / "book.pdf").exists():
            z.write(pdfs / "book.pdf", "archive/book.pdf")
    (folder / "papers.zip").write_bytes(buf.getvalue())
    for extra in args.with_:
        shutil.copytree(extra, folder / extra.name, dirs_exist_ok=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pdfs", type=int, default=60)
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--book-pages", type=int, default=400)
    ap.add_argument("--scans", type=int, default=3)
    ap.add_argument("--memos", type=int, default=20)
    ap.add_argument("--rows", type=int, default=50_000)
    ap.add_argument("--with", dest="with_", type=Path, nargs="*", default=[], help="folders to copy in too")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()

    work = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    try:
        folder = work / "folder"
        build(folder, args)
        env = {**os.environ, "ASSISTANT_HOME": str(work / "home"), "HF_HUB_OFFLINE": "1",
               "TRANSFORMERS_OFFLINE": "1"}
        cli = [sys.executable, "-m", "assistant.cli", "index", str(folder), "--json"]
        wall, peak_mb, out = timed_process(cli, env)
        indexed = json.loads(out)
        result = {
            "machine": machine(),
            "files": sum(1 for p in folder.rglob("*") if p.is_file()),
            "added": indexed["added"],  # documents, archive members and attachments included
            "chunks_embedded": indexed["chunks_embedded"],
            "no_text": indexed["no_text"],
            "errors": len(indexed.get("errors", [])),
            "wall_s": round(wall, 1),
            "peak_rss_mb": round(peak_mb),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)
    report(result, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
