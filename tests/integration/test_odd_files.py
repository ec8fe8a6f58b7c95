"""Odd files a careful user's folder holds (issue 40's defects), indexed for real: every one gets its right
status and one clear reason, and nothing else of the folder is lost."""

from __future__ import annotations

import bz2
import io
import lzma
import os
import zipfile
from pathlib import Path

from assistant import Assistant

ODT_CONTENT = ('<?xml version="1.0"?><office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:'
               'office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>'
               '<text:p>The odt says the ferry leaves at noon from the north pier.</text:p></office:text></office:body>'
               '</office:document-content>')


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (300, 200), (30, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


def _odt() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("mimetype", "application/vnd.oasis.opendocument.text")
        z.writestr("content.xml", ODT_CONTENT)
        z.writestr("Thumbnails/thumbnail.png", _png())
        z.writestr("Configurations2/accelerator/current.xml", "")
        z.writestr("META-INF/manifest.xml", "<manifest/>")
    return buf.getvalue()


def _statuses(a: Assistant) -> dict[str, tuple[str, str | None]]:
    return {Path(d.path).name if d.container is None else d.path.split("/")[-1]: (d.status, d.error)
            for d in a.documents()}


def test_bz2_and_xz_files_are_read(assistant: Assistant, library: Path) -> None:
    """Every .bz2 file failed with "BZ2File.__init__() got an unexpected keyword argument 'fileobj'"."""
    (library / "log.txt.bz2").write_bytes(bz2.compress(b"A bzipped note about the lighthouse keeper's logbook."))
    (library / "crane.txt.xz").write_bytes(lzma.compress(b"An xz note about the harbour crane schedule."))
    report = assistant.index([library])
    assert report.errors == []
    assert "logbook" in assistant.search("lighthouse keeper logbook", k=1)[0].text
    assert "crane" in assistant.search("harbour crane schedule", k=1)[0].text


def test_empty_files_and_images_without_text_are_no_text_not_errors(assistant: Assistant, library: Path) -> None:
    (library / "empty.txt").write_bytes(b"")
    (library / "empty.pdf").write_bytes(b"")
    with zipfile.ZipFile(library / "photos.zip", "w") as z:
        z.writestr("sky.png", _png())
        z.writestr("readme.txt", "Holiday photos of the blue sky over the dunes.")
    report = assistant.index([library])
    assert report.errors == [] and report.no_text == 3
    status = _statuses(assistant)
    assert status["empty.txt"] == ("no text", "the file is empty") and status["empty.pdf"][0] == "no text"
    assert status["sky.png"] == ("no text", "an image with no text in it (OCR found none)")
    assert status["readme.txt"][0] == "ok" and assistant.counts()["errors"] == 0


def test_a_symbolic_link_loop_is_named_as_one(assistant: Assistant, library: Path, capsys) -> None:
    from conftest import run_cli

    os.symlink("loop_b", library / "loop_a")
    os.symlink("loop_a", library / "loop_b")
    (library / "real.md").write_text("# Real\n\nThe tide tables of the bay.\n")
    assistant.index([library])
    assistant.close()
    code, out, err = run_cli("index", str(library), capsys=capsys)
    assert "loop_a: a symbolic link loop (loop_a -> loop_b leads back to itself)" in out + err
    assert "unsupported file type" not in out + err
    code, out, err = run_cli("index", str(library / "loop_a"), capsys=capsys)
    assert "a symbolic link loop" in out + err


def test_a_package_that_cannot_be_read_is_one_document_with_its_reason(assistant: Assistant, library: Path) -> None:
    """A zip-bomb .pptx read "ok, 0 chunks" with the refusal on a member path ("bomb.pptx/[Content_Types].xml"),
    and an .odt inside a zip listed its thumbnail and its settings file as error members."""
    with zipfile.ZipFile(library / "bomb.pptx", "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", b"\0" * (200 * 2**20))
    with zipfile.ZipFile(library / "broken.docx", "w") as z:
        z.writestr("word/document.xml", b"<not xml")
        z.writestr("[Content_Types].xml", b"<Types/>")
    with zipfile.ZipFile(library / "docs.zip", "w") as z:  # stored: the .odt's own bytes show through the zip
        z.writestr("ferry.odt", _odt())
    report = assistant.index([library])
    errors = {Path(e["path"]).name: e["error"] for e in report.errors}
    assert set(errors) == {"bomb.pptx", "broken.docx"}, errors
    assert "refusing a possible zip bomb" in errors["bomb.pptx"] and "[Content_Types].xml" in errors["bomb.pptx"]
    assert "corrupt or unreadable DOCX" in errors["broken.docx"]
    paths = {d.path for d in assistant.documents()}
    assert not any("/bomb.pptx/" in p or "/broken.docx/" in p or "Thumbnails" in p for p in paths), paths
    assert "ferry leaves at noon" in assistant.search("when does the ferry leave", k=1)[0].text
