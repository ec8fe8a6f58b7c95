"""Reading text from images and scanned PDF pages, on the CPU, offline.

The engine is RapidOCR (PaddleOCR's detection and recognition models as ONNX, run by ONNX Runtime); its
wheel carries the models, so nothing is downloaded, ever. Pages are rendered at 300 dpi with pypdfium2.
Measured on clean rendered A4 pages at 300 dpi (README): character accuracy 1.00, about 6 s a page on
2 cores, so the indexer OCRs at most `ocr_max_pages` pages of a file in its first pass and the rest after
every other file (see indexing.py).

Options reach the PDF and image readers through a context variable set by readers.parse, so every
reader keeps the same signature.
"""

from __future__ import annotations

import contextvars
import io
import logging
import threading
import warnings
from dataclasses import dataclass, field
from typing import Any

from assistant.errors import DocumentError

log = logging.getLogger(__name__)

DPI = 300
MAX_PIXELS = 60_000_000  # an image (or a rendered page) larger than this is refused: a decompression bomb
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp"}


@dataclass
class OcrOptions:
    """How a parse may use OCR: on or off, how many pages of one file it may read (None: all), and the
    pages already read for this file (page number -> lines), so a second pass does not read them again."""

    enabled: bool = True
    max_pages: int | None = None
    done: dict[int, list[str]] = field(default_factory=dict)
    skipped: int = 0  # pages left for a later pass (set by the reader)


OPTIONS: contextvars.ContextVar[OcrOptions | None] = contextvars.ContextVar("ocr_options", default=None)
_engine: Any = None
_engine_lock = threading.Lock()


def available() -> bool:
    """Whether the OCR engine is installed."""
    import importlib.util

    return importlib.util.find_spec("rapidocr_onnxruntime") is not None and \
        importlib.util.find_spec("pypdfium2") is not None


def options() -> OcrOptions:
    return OPTIONS.get() or OcrOptions()


def _get_engine() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            logging.getLogger("RapidOCR").setLevel(logging.ERROR)
            from rapidocr_onnxruntime import RapidOCR

            _engine = RapidOCR(intra_op_num_threads=2, inter_op_num_threads=1)
        return _engine


def read_boxes(image: Any) -> list[tuple[str, tuple[float, float, float, float]]]:
    """The text boxes OCR finds on a PIL image: (text, (left, top, right, bottom)) in pixels, unsorted."""
    import numpy as np

    if image.width * image.height > MAX_PIXELS:
        raise DocumentError(f"the image is {image.width}x{image.height} pixels (limit {MAX_PIXELS:,}); "
                            "refusing a possible decompression bomb")
    pixels = np.asarray(image.convert("RGB"))
    if int(pixels.min()) >= 245 or float(pixels.std()) < 1.0:
        return []  # a blank page (or one almost white): nothing to read, and no need to spend seconds on it
    engine = _get_engine()
    with _engine_lock:  # one page at a time: the engine is not re-entrant and already uses both cores
        result, _ = engine(pixels, use_cls=False)
    out = []
    for box, text, score in result or []:
        xs, ys = [p[0] for p in box], [p[1] for p in box]
        if text.strip() and float(score) >= 0.5:
            out.append((text.strip(), (float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)))))
    return out


def read_image(image: Any) -> list[str]:
    """The text lines of a PIL image, in reading order (top to bottom, then left to right on a line)."""
    boxes = sorted((top, bottom, left, text) for text, (left, top, _, bottom) in read_boxes(image))
    lines: list[list[tuple[float, float, float, str]]] = []
    for b in boxes:  # boxes whose vertical middles are close sit on one line
        mid = (b[0] + b[1]) / 2
        if lines and abs(mid - (lines[-1][0][0] + lines[-1][0][1]) / 2) < (b[1] - b[0]) / 2:
            lines[-1].append(b)
        else:
            lines.append([b])
    return [" ".join(t for *_, t in sorted(line, key=lambda b: b[2])) for line in lines]


def paragraphs(lines: list[str]) -> list[str]:
    """OCR lines joined into paragraphs (a line ending a sentence closes one), hyphenated breaks mended."""
    out: list[str] = []
    cur = ""
    for line in lines:
        if cur.endswith("-") and line[:1].islower():
            cur = cur[:-1] + line
        else:
            cur = f"{cur} {line}".strip()
        if cur.endswith((".", "!", "?", ":")) and len(cur) > 200:
            out.append(cur)
            cur = ""
    if cur:
        out.append(cur)
    return out


def open_image(data: bytes) -> Any:
    """A PIL image from a file's bytes (the first frame of a multi-page TIFF is read by read_tiff)."""
    from PIL import Image

    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():  # PIL warns between 1x and 2x its limit; the check below refuses it
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            image.size  # noqa: B018  (the header is read; the pixels are not decoded yet)
    except Image.DecompressionBombError as exc:
        raise DocumentError(f"the image is too large ({exc}); refusing a possible decompression bomb") from exc
    except Exception as exc:  # PIL raises UnidentifiedImageError, OSError, SyntaxError... on bad files
        raise DocumentError(f"corrupt or unreadable image ({type(exc).__name__}: {exc})") from exc
    if image.width * image.height > MAX_PIXELS:
        raise DocumentError(f"the image is {image.width}x{image.height} pixels (limit {MAX_PIXELS:,}); "
                            "refusing a possible decompression bomb")
    return image


def render_pdf_page(data: bytes, index: int) -> Any:
    """Page `index` (0-based) of a PDF as a PIL image at DPI."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(data)
    try:
        page = pdf[index]
        width, height = page.get_size()
        scale = DPI / 72
        if width * height * scale * scale > MAX_PIXELS:
            scale = (MAX_PIXELS / (width * height)) ** 0.5
        return page.render(scale=scale, grayscale=True).to_pil()
    finally:
        pdf.close()
