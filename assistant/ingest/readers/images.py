"""Images (scans, photos of receipts) read by OCR; a multi-page TIFF page by page."""

from __future__ import annotations

from assistant.errors import DocumentError, NoTextError
from assistant.ingest import ocr
from assistant.ingest.readers.containers import ReadContext
from assistant.types import Block


def parse_image(data: bytes, ctx: ReadContext) -> list[Block]:
    """An image file (a scan, a photo of a receipt) read by OCR; a multi-page TIFF page by page (of an
    animated GIF or WebP, only the first frame: the others are the same picture moving)."""
    from PIL import ImageSequence

    opts = ctx.ocr
    if not opts.enabled:
        raise DocumentError("an image, and OCR is off (setting ocr); set ocr = auto to read it")
    if not ocr.available():
        raise DocumentError("an image, and no OCR engine is installed (rapidocr-onnxruntime); run ./install.sh")
    image = ocr.open_image(data)
    frames = getattr(image, "n_frames", 1) if image.format == "TIFF" else 1
    blocks: list[Block] = []
    try:
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if number > frames:
                break
            if number not in opts.done:
                if opts.max_pages is not None and len(opts.done) >= opts.max_pages:
                    opts.skipped += 1
                    continue
                opts.done[number] = ocr.read_image(frame)
            page = number if frames > 1 else None
            blocks += [Block(p, "para", (), page, None, None, ocr=True) for p in ocr.paragraphs(opts.done[number])]
    except DocumentError:
        raise
    except Exception as exc:  # PIL decoding a truncated or corrupt image
        raise DocumentError(f"corrupt or unreadable image ({type(exc).__name__}: {exc})") from exc
    if not blocks and not opts.skipped:
        raise NoTextError("an image with no text in it (OCR found none)")
    return blocks


READERS = {"image": parse_image}
