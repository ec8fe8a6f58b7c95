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

import functools
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
READ_SIDE = 2000  # pixels: the longer side of the image text lines are cut from (RapidOCR's max_side_len)
DET_SIDE = 1280  # pixels: the longer side of the image text lines are found in (see _detect_and_read)
STRIP = 256  # pixels: detection runs on strips this tall (of the image at DET_SIDE), not the whole page
OVERLAP = 64  # pixels shared by neighbouring strips: a line up to 128 px tall (3 cm of an A4 page) is whole in one
IMAGE_EXTENSIONS = {".png", ".jpg", ".jpeg", ".tif", ".tiff", ".webp", ".gif", ".bmp"}


@dataclass
class OcrOptions:
    """How a parse may use OCR: on or off, how many pages of one file it may read (None: all), and the
    pages already read for this file (page number -> lines), so a second pass does not read them again."""

    enabled: bool = True
    max_pages: int | None = None
    done: dict[int, list[str]] = field(default_factory=dict)
    skipped: int = 0  # pages left for a later pass (set by the reader)


_engine: Any = None
_engine_lock = threading.Lock()


def available() -> bool:
    """Whether the OCR engine is installed."""
    import importlib.util

    return importlib.util.find_spec("rapidocr_onnxruntime") is not None and \
        importlib.util.find_spec("pypdfium2") is not None


def _get_engine() -> Any:
    global _engine
    with _engine_lock:
        if _engine is None:
            logging.getLogger("RapidOCR").setLevel(logging.ERROR)
            from rapidocr_onnxruntime import RapidOCR

            _engine = RapidOCR(intra_op_num_threads=2, inter_op_num_threads=1)
            _engine.text_rec.rec_batch_num = 1  # see _detect_and_read
            _engine.text_det.limit_type = "max"  # never scale a small image up to find its lines
        return _engine


def read_boxes(image: Any) -> list[tuple[str, tuple[float, float, float, float]]]:
    """The text boxes OCR finds on a PIL image: (text, (left, top, right, bottom)) in pixels, unsorted."""
    import numpy as np

    if image.width * image.height > MAX_PIXELS:
        raise DocumentError(f"the image is {image.width}x{image.height} pixels (limit {MAX_PIXELS:,}); "
                            "refusing a possible decompression bomb")
    import cv2

    pixels = np.asarray(image.convert("RGB"))
    # cv2 computes the spread in place: numpy's std() of a 300 dpi page made a 200 MB float64 copy of it
    if int(pixels.min()) >= 245 or float(cv2.meanStdDev(pixels)[1].max()) < 1.0:
        return []  # a blank page (or one almost white): nothing to read, and no need to spend seconds on it
    engine = _get_engine()
    with _engine_lock:  # one page at a time: the engine is not re-entrant and already uses both cores
        try:
            found = _detect_and_read(engine, pixels)
        finally:
            _give_back_memory()
    return [(text.strip(), box) for text, box, score in found if text.strip() and score >= 0.5]


def _detect_and_read(engine: Any, pixels: Any) -> list[tuple[str, tuple[float, float, float, float], float]]:
    """RapidOCR's own pipeline (scale the longer side to READ_SIDE, find the text lines, cut them out of
    the scaled image, recognise them one by one), changed where it cost memory and time. Measured on A4
    pages at 300 dpi (README), against the engine's own call:
      - lines are found in the page scaled to DET_SIDE (not READ_SIDE), strip by strip: detecting a whole
        page at once took ONNX Runtime about 600 MB above the models, the peak of a whole indexing run;
        strips need about 100 MB. Small print is found better too (7 pt: 1.00 against 0.79 of the
        characters right; 8 pt: 0.96 against 0.81), and every size is read at least as well;
      - lines are recognised one at a time (RapidOCR batches 6, padding each to the widest): no
        transient memory, and faster;
      - a small image is not scaled up to 736 pixels on its short side before its lines are found (a
        157x619 screenshot in a mail became 736x2902 and took 400 MB); it is read as well as before;
    so a page takes about 40% of the time it took."""
    import numpy as np

    image, scale = _scaled(pixels, READ_SIDE)
    found_in, shrink = _scaled(image, DET_SIDE)
    h, w = found_in.shape[:2]
    if h <= 30 or w / h > 8:  # a thin strip of text: the engine's own call, which pads it first
        result, _ = engine(pixels, use_cls=False)
        return [(text, _bounds(box, 1.0), float(score)) for box, text, score in result or []]
    boxes = []
    step, window = STRIP, STRIP + 2 * OVERLAP
    last, found = (-1, -1), None
    for top in range(0, h, step):
        # Every strip is a whole window tall (the last one starts higher).
        lo = max(0, min(top - OVERLAP, h - window))
        hi = min(h, lo + window)
        if (lo, hi) != last:
            found, _ = engine.text_det(np.ascontiguousarray(found_in[lo:hi]))
            last = (lo, hi)
        for box in found if found is not None else []:
            middle = lo + (box[:, 1].min() + box[:, 1].max()) / 2
            if top <= middle < top + step:  # each line is kept by the one strip its middle falls in
                boxes.append(((box + np.array([0, lo], dtype=box.dtype)) / shrink).astype(np.float32))
    if not boxes:
        return []
    boxes = engine.sorted_boxes(np.array(boxes))
    read, _ = engine.text_rec(engine.get_crop_img_list(image, boxes), False)
    return [(text, _bounds(box, scale), float(score)) for box, (text, score, *_) in zip(boxes, read, strict=True)]


def _scaled(pixels: Any, side: int) -> tuple[Any, float]:
    """The image with its longer side at most `side` pixels, and the factor it was scaled by."""
    import cv2

    height, width = pixels.shape[:2]
    factor = min(1.0, side / max(height, width))
    if factor == 1.0:
        return pixels, factor
    return cv2.resize(pixels, (round(width * factor), round(height * factor))), factor


def _bounds(box: Any, scale: float) -> tuple[float, float, float, float]:
    xs, ys = [float(p[0]) / scale for p in box], [float(p[1]) / scale for p in box]
    return min(xs), min(ys), max(xs), max(ys)


def _give_back_memory() -> None:
    """Return the freed pages of a page's OCR to the system (glibc keeps them in its heaps otherwise, so the
    process stayed hundreds of MB larger after the first scan); elsewhere a no-op."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Any:
    """glibc's malloc_trim, looked up once (finding libc by name runs ldconfig), or None without glibc."""
    import ctypes

    try:
        return ctypes.CDLL(None).malloc_trim
    except (OSError, AttributeError):
        return None


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
