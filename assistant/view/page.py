"""A picture of the cited page with the quoted passage boxed in translucent yellow.

PDF pages are rendered with pdfium (pypdfium2); the passage is found among the page's words (an
alignment of words, so the text cleaning done at indexing, hyphens and line breaks do not stop it),
and pdfium gives the boxes of its characters, merged into one box per line. A scanned page (or an
image) has no text layer: OCR reads it again and the boxes of the lines that hold the passage are drawn.
Other formats have no page geometry, and say so.
"""

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError, DocumentError

WIDTH_PX = 1400  # a page is drawn about this wide: its body text reads at 100% zoom
FILL = (255, 221, 0, 96)  # translucent yellow over the passage
EDGE = (214, 160, 0, 255)
_WORD = re.compile(r"\w+")


@dataclass(frozen=True)
class PagePicture:
    """A written page picture: where, which page (1-based), the boxes drawn (pixels: left, top, right,
    bottom), whether they came from OCR, and the share of the passage's words found on the page."""

    path: Path
    page: int
    boxes: list[tuple[float, float, float, float]] = field(default_factory=list)
    scanned: bool = False
    found: float = 0.0

    def to_dict(self) -> dict[str, Any]:
        return {"path": str(self.path), "page": self.page, "boxes": [list(b) for b in self.boxes],
                "scanned": self.scanned, "found": round(self.found, 3)}


def _norm(word: str) -> str:
    return word.lower().replace("ﬁ", "fi").replace("ﬂ", "fl")


def align(words: list[str], passage: str) -> tuple[int, int, float] | None:
    """The run of `words` (a page's, in reading order) that best holds the passage: (first, last) word
    indices and the share of the passage's words inside it; None when too little of it is there."""
    target = [_norm(w) for w in _WORD.findall(passage)]
    page = [_norm(w) for w in words]
    if not target or not page:
        return None
    want = Counter(target)
    n = len(target)
    best: tuple[int, int, int] | None = None
    window: Counter[str] = Counter()
    for i, w in enumerate(page):  # a window as long as the passage, slid over the page
        window[w] += 1
        if i >= n:
            window[page[i - n]] -= 1
        hits = sum(min(c, want[k]) for k, c in window.items() if c > 0)
        if best is None or hits > best[0]:
            best = (hits, max(0, i - n + 1), i)
    assert best is not None
    hits, lo, hi = best
    if hits < max(2, 0.5 * n) and not (n <= 2 and hits == n):
        return None
    while lo < hi and page[lo] not in want:  # trimmed to the first and last word that belong
        lo += 1
    while hi > lo and page[hi] not in want:
        hi -= 1
    return lo, hi, hits / n


def render_page(data: bytes, fmt: str, page: int | None, passages: list[str], out: Path,
                scanned: bool = False) -> PagePicture:
    """Draw the cited page of a PDF (or a scanned image) with the passages boxed, as a PNG at `out`.

    Args:
        data: the file's bytes; fmt: its format ("pdf" or "image").
        page: the cited page, 1-based (PDFs).
        passages: the quoted sentences (or the whole passage) to box.
        scanned: the page was read by OCR when indexed: its boxes come from OCR again.

    Raises:
        AssistantError: a format without pages, a page the file does not have, a corrupt file.
    """
    if fmt == "image":
        from assistant.ingest.ocr import open_image

        try:
            image = open_image(data).convert("RGB")
        except DocumentError as exc:
            raise AssistantError(str(exc)) from exc
        boxes, found = _ocr_boxes(image, passages, 1.0)
        return _write(image, boxes, out, 1, True, found)
    if fmt != "pdf":
        raise AssistantError(f"a .{fmt} file has no pages to draw (only PDFs and scanned images do); "
                             "`assistant open` shows it in its own program")
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        raise AssistantError(f"cannot read the PDF ({exc})") from exc
    try:
        number = page or 1
        if not 1 <= number <= len(pdf):
            raise AssistantError(f"the PDF has {len(pdf)} page(s), not a page {number}; re-index it if it changed")
        p = pdf[number - 1]
        width, height = p.get_size()
        scale = WIDTH_PX / max(width, 1.0)
        image = p.render(scale=scale).to_pil().convert("RGB")
        boxes: list[tuple[float, float, float, float]] = []
        found = 0.0
        if not scanned:
            boxes, found = _text_boxes(p, height, scale, passages)
        if not boxes:  # no text layer (a scan), or the passage was read by OCR: read the page again
            hi_res = p.render(scale=300 / 72, grayscale=True).to_pil()
            ocr_boxes, ocr_found = _ocr_boxes(hi_res, passages, scale / (300 / 72))
            if ocr_boxes:
                boxes, found, scanned = ocr_boxes, ocr_found, True
        p.close()
    finally:
        pdf.close()
    return _write(image, boxes, out, number, scanned, found)


def _text_boxes(page: Any, height: float, scale: float,
                passages: list[str]) -> tuple[list[tuple[float, float, float, float]], float]:
    """The line boxes (pixels) of each passage's characters on a page with a text layer."""
    textpage = page.get_textpage()
    try:
        text = textpage.get_text_range()
        words = list(_WORD.finditer(text))
        boxes: list[tuple[float, float, float, float]] = []
        found: list[float] = []
        for passage in passages:
            hit = align([m.group(0) for m in words], passage)
            if hit is None:
                found.append(0.0)
                continue
            lo, hi, share = hit
            found.append(share)
            start, end = words[lo].start(), words[hi].end()
            for i in range(textpage.count_rects(start, end - start)):
                left, bottom, right, top = textpage.get_rect(i)
                boxes.append(((left - 1) * scale, (height - top - 1) * scale,
                              (right + 1) * scale, (height - bottom + 1) * scale))
        return boxes, (sum(found) / len(found) if found else 0.0)
    finally:
        textpage.close()


def _ocr_boxes(image: Any, passages: list[str],
               scale: float) -> tuple[list[tuple[float, float, float, float]], float]:
    """The OCR line boxes (scaled to the picture) that hold each passage's words."""
    from assistant.ingest.ocr import available, read_boxes

    if not available():
        return [], 0.0
    try:
        found_boxes = read_boxes(image)
    except DocumentError:
        return [], 0.0
    found_boxes.sort(key=lambda b: (round(b[1][1] / 20), b[1][0]))  # reading order, by rows
    words: list[str] = []
    owner: list[int] = []
    for n, (text, _) in enumerate(found_boxes):
        for w in _WORD.findall(text):
            words.append(w)
            owner.append(n)
    boxes: list[tuple[float, float, float, float]] = []
    shares: list[float] = []
    for passage in passages:
        hit = align(words, passage)
        if hit is None:
            shares.append(0.0)
            continue
        lo, hi, share = hit
        shares.append(share)
        for n in sorted(set(owner[lo:hi + 1])):
            left, top, right, bottom = found_boxes[n][1]
            boxes.append((left * scale - 2, top * scale - 2, right * scale + 2, bottom * scale + 2))
    return boxes, (sum(shares) / len(shares) if shares else 0.0)


def _write(image: Any, boxes: list[tuple[float, float, float, float]], out: Path, page: int, scanned: bool,
           found: float) -> PagePicture:
    from PIL import Image, ImageDraw

    overlay = Image.new("RGBA", image.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for box in boxes:
        draw.rectangle(box, fill=FILL)
        draw.line([(box[0], box[3]), (box[2], box[3])], fill=EDGE, width=2)  # underlined, for grey print-outs
    picture = Image.alpha_composite(image.convert("RGBA"), overlay).convert("RGB")
    out.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # a picture of a private page: private
    with os.fdopen(fd, "wb") as f:
        picture.save(f, format="PNG")
    return PagePicture(out, page, boxes, scanned, found)
