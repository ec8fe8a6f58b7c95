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
