"""PDF text extraction: pypdf (the reader in use) against pypdfium2, on generated two-column pages.

    .venv/bin/python bench/pdf_text.py [--pages 20] [--json]

Each page has a running header and a page-number footer, two columns of prose with words broken by a
hyphen at line ends, and words set with the ligature characters U+FB01/U+FB02 (fi, fl) when the DejaVu
font is installed (else without them). The ground truth is the columns' text in reading order, without
the header and footer, with whole words. For each extractor it reports, after the project's clean-up
(documents.clean_pdf_pages: ligatures expanded, hyphenated line ends joined, running headers and page
numbers dropped) and without it:
  - order: similarity of the extracted word sequence to the truth (difflib ratio, 1.0 = identical);
  - ligatures_left: ligature characters still in the text;
  - pages_per_s: extraction speed.
"""

from __future__ import annotations

import argparse
import difflib
import json
import random
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from ingest import REPO, machine  # noqa: E402

sys.path.insert(0, str(REPO))
FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
WORDS = ("field office flow profile filter reflect figure final flight benefit official conflict river harbor "
         "lantern copper meadow signal engine thunder velvet canyon glacier compass marble ember willow").split()


def make(path: Path, pages: int) -> list[str]:
    """Write the PDF; return the true text of each page."""
    from fpdf import FPDF

    rng = random.Random(7)
    pdf = FPDF()
    ligatures = FONT.exists()
    if ligatures:
        pdf.add_font("DejaVu", fname=str(FONT))
        pdf.set_font("DejaVu", size=10)
    else:
        pdf.set_font("Helvetica", size=10)
    truth = []
    for p in range(1, pages + 1):
        pdf.add_page()
        pdf.set_xy(10, 8)
        pdf.cell(0, 5, "Journal of Reproducible Tests - Volume 3")
        page_truth: list[str] = []
        for x in (10, 110):  # two columns, the left one first
            words = [rng.choice(WORDS) for _ in range(220)]
            page_truth += words
            lines: list[list[str]] = []
            cur: list[str] = []
            i = 0
            while i < len(words):
                cur.append(words[i])
                i += 1
                if len(cur) >= 6 and i < len(words):
                    if rng.random() < 0.25:  # the next word is broken across the line end with a hyphen
                        cut = len(words[i]) // 2
                        lines.append([*cur, words[i][:cut] + "-"])
                        cur = [words[i][cut:]]
                        i += 1
                    else:
                        lines.append(cur)
                        cur = []
            if cur:
                lines.append(cur)
            for n, line in enumerate(lines):
                shown = " ".join(line)
                if ligatures:
                    shown = shown.replace("fi", "\ufb01").replace("fl", "\ufb02")
                pdf.set_xy(x, 20 + 6 * n)
                pdf.cell(90, 5, shown)
        pdf.set_xy(100, 285)
        pdf.cell(10, 5, str(p))
        truth.append(" ".join(page_truth))
    pdf.output(str(path))
    return truth


def extract_pypdf(data: bytes) -> list[str]:
    import io

    from pypdf import PdfReader

    return [(page.extract_text() or "") for page in PdfReader(io.BytesIO(data)).pages]


def extract_pdfium(data: bytes) -> list[str]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        return [pdf[i].get_textpage().get_text_bounded().replace("\r\n", "\n").replace("\r", "\n")
                for i in range(len(pdf))]
    finally:
        pdf.close()


def score(pages: list[str], truth: list[str]) -> float:
    got = " ".join(pages).split()
    want = " ".join(truth).split()
    return round(difflib.SequenceMatcher(None, got, want, autojunk=False).ratio(), 4)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=20)
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args()
    from assistant.ingest.readers.pdf import clean_pdf_pages

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "two-column.pdf"
        truth = make(path, args.pages)
        data = path.read_bytes()
    out: dict[str, object] = {"machine": machine(), "pages": args.pages, "ligature_font": FONT.exists()}
    for name, extract in (("pypdf", extract_pypdf), ("pypdfium2", extract_pdfium)):
        extract(data)  # warm up (imports)
        t = time.perf_counter()
        raw = extract(data)
        seconds = time.perf_counter() - t
        cleaned = clean_pdf_pages(raw)
        out[name] = {
            "pages_per_s": round(args.pages / seconds, 1),
            "order_raw": score(raw, truth), "order_cleaned": score(cleaned, truth),
            "ligatures_left_raw": sum(p.count("\ufb01") + p.count("\ufb02") for p in raw),
            "ligatures_left_cleaned": sum(p.count("\ufb01") + p.count("\ufb02") for p in cleaned),
        }
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        for k, v in out.items():
            print(f"{k:16} {v}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
