"""Turning a file's bytes into a Document: one reader per format family, each keeping structure and
positions, and one registry (READERS) that maps a detected format to its reader.

    formats.py       what a file is: by name (extension) and by its first bytes
    common.py        what every reader shares (decoding, paragraphs, headings, safe zips, table rows)
    containers.py    files inside files: attachments, archive members, embedded documents
    text.py          plain text, code, Markdown, reStructuredText
    markup.py        HTML, RTF
    pdf.py           PDF (pdfium), scanned pages by OCR
    images.py        images by OCR
    ooxml.py         .docx .pptx .xlsx
    opendocument.py  .odt .ods .odp
    ebooks.py        .epub
    mail.py          .eml .mbox
    legacy.py        .doc .xls .ppt .msg (OLE2)
    archives.py      .zip .tar(.gz/.bz2/.xz) .gz .bz2 .xz

Readers import common, containers and formats (and markup, for HTML bodies); only this module imports the
readers, so nothing imports in a circle.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path, PurePath, PurePosixPath

from assistant.errors import DocumentError, NoTextError
from assistant.ingest import ocr
from assistant.ingest.readers import (
    ebooks,
    images,
    legacy,
    mail,
    markup,
    ooxml,
    opendocument,
    pdf,
    text,
)
from assistant.ingest.readers.archives import read_archive
from assistant.ingest.readers.common import decode_text, safe_text
from assistant.ingest.readers.containers import ReadContext, Reader, plain
from assistant.ingest.readers.formats import (
    ARCHIVE_FORMATS,
    archive_format,
    corrected_format,
    detect_format,
    format_of,
    sniff_format,
)
from assistant.types import Attachment, Block, Document

__all__ = ["READERS", "ARCHIVE_FORMATS", "archive_format", "decode_text", "detect_format", "format_of",
           "member_bytes", "parse", "safe_text", "sniff_format"]

READERS: dict[str, Reader] = {
    **{fmt: plain(read) for fmt, read in {**text.READERS, **markup.READERS, **ooxml.READERS, **opendocument.READERS,
                                          **ebooks.READERS}.items()},
    **pdf.READERS, **images.READERS, **mail.READERS, **legacy.READERS,
}  # and each of ARCHIVE_FORMATS, read by archives.read_archive (which needs the archive's name)


def parse(path: PurePath, data: bytes, fmt: str, ocr_options: ocr.OcrOptions | None = None) -> Document:
    """Parse a file's bytes into blocks. Scanned PDF pages and images are read by OCR as `ocr_options`
    allow (default: on, every page). Files inside it (attachments, archive members) are parsed too and
    come back as the Document's attachments.

    Raises:
        DocumentError: the content is binary, corrupt, encrypted or holds no text.
    """
    return _parse(path, data, fmt, ReadContext(ocr_options or ocr.OcrOptions()))


def _parse(path: PurePath, data: bytes, fmt: str, ctx: ReadContext) -> Document:
    """parse() with a ReadContext: the files found inside this one are read by this same function."""
    if not data:  # a 0-byte file (a PDF, a document, a text): nothing to read, and not an error
        raise NoTextError("the file is empty")
    if len(data) < 4096 and not data.strip():
        raise NoTextError("no text found in the file (it is empty or holds only whitespace)")
    fmt = corrected_format(fmt, data)
    reader = READERS.get(fmt)
    if reader is None and fmt in ARCHIVE_FORMATS:
        reader = lambda d, c: read_archive(fmt, d, path.name, c)  # noqa: E731
    if reader is None:
        raise DocumentError(f"no reader for the format {fmt!r}")
    attached: list[Attachment] = []
    here = ReadContext(ctx.ocr, _parse, attached, ctx.payloads, ctx.depth)
    blocks = tuple(_safe_block(b) for b in reader(data, here) if b.text.strip())
    if not blocks and not attached:
        raise NoTextError("no text found in the file (it is empty or holds only whitespace)")
    return Document(path=str(path), format=fmt, blocks=blocks, attachments=tuple(attached))


def member_bytes(container: Path, member: str) -> bytes:
    """The bytes of a file inside another (a mail attachment, an archive member): `member` is its name
    below the container as indexed ("memo.pdf", "inner.zip/notes.txt"), found by reading the container
    again, OCR off.

    Raises:
        DocumentError: the container cannot be read, or no longer holds that member.
    """
    return _member_of(container, container.read_bytes(), member)


def _member_of(path: PurePath, data: bytes, member: str) -> bytes:
    fmt = format_of(path, data) or "text"
    payloads: dict[str, bytes] = {}
    try:
        _parse(path, data, fmt, ReadContext(ocr.OcrOptions(enabled=False), payloads=payloads))
    except NoTextError:
        pass
    for name in sorted(payloads, key=len, reverse=True):
        if member == name:
            return payloads[name]
        if member.startswith(name + "/"):
            return _member_of(PurePosixPath(PurePosixPath(name).name), payloads[name], member[len(name) + 1:])
    raise DocumentError(f"{path} no longer holds {member!r}; re-index it (`assistant index`)")


def _safe_block(block: Block) -> Block:
    text = safe_text(block.text)
    heading = tuple(safe_text(h) for h in block.heading)
    return block if text is block.text and heading == block.heading else replace(block, text=text, heading=heading)
