"""OCR of scanned PDF pages and images, with the real engine (RapidOCR's ONNX models from its wheel)."""

from __future__ import annotations

import difflib
from pathlib import Path

import pytest
from docgen import text_image, write_pdf, write_scanned_pdf

from assistant import Assistant
from assistant.errors import DocumentError
from assistant.ingest import ocr
from assistant.ingest.readers import detect_format, parse

pytestmark = pytest.mark.skipif(not ocr.available(), reason="the OCR engine is part of the install")

LINES = ["The warranty for the boiler lasts seven years from installation.",
         "Invoice number 2026-0417 totals 1,284.50 euros, due on 15 January.",
         "Contact the landlord at least three months before moving out."]


def test_clean_page_is_read_with_at_least_95_percent_of_characters_right() -> None:
    got = "\n".join(ocr.read_image(text_image(LINES)))
    accuracy = difflib.SequenceMatcher(None, "\n".join(LINES), got).ratio()
    assert accuracy >= 0.95, got


def test_a_mixed_pdf_reads_only_its_scanned_pages_and_says_so(tmp_path: Path) -> None:
    p = write_scanned_pdf(tmp_path / "lease.pdf", ["The tenant is Mira Holm.", LINES])
    blocks = parse(p, p.read_bytes(), "pdf").blocks
    text_pages = [b for b in blocks if not b.ocr]
    scanned = [b for b in blocks if b.ocr]
    assert [b.page for b in text_pages] == [1] and {b.page for b in scanned} == {2}
    assert "seven years" in " ".join(b.text for b in scanned)


def test_images_and_the_limits(tmp_path: Path) -> None:
    png = tmp_path / "receipt.png"
    text_image(["Receipt: two espressos, 5.40 euros."]).save(png)
    (block,) = parse(png, png.read_bytes(), detect_format(png)).blocks
    assert block.ocr and "espressos" in block.text and block.page is None
    with pytest.raises(DocumentError, match="OCR is off"):
        parse(png, png.read_bytes(), "image", ocr.OcrOptions(enabled=False))
    huge = tmp_path / "huge.png"
    from PIL import Image

    Image.new("1", (9000, 7000)).save(huge)
    with pytest.raises(DocumentError, match="decompression bomb"):
        parse(huge, huge.read_bytes(), "image")
    # A BMP is read like a PNG; of an animated GIF only the first frame (the others are the picture moving).
    bmp = tmp_path / "receipt.bmp"
    text_image(["Receipt: two espressos, 5.40 euros."]).save(bmp)
    assert "espressos" in parse(bmp, bmp.read_bytes(), detect_format(bmp)).blocks[0].text
    gif = tmp_path / "banner.gif"
    first, second = text_image(["Opening hours nine to five."]), text_image(["A second frame never read."])
    first.save(gif, save_all=True, append_images=[second], duration=500, loop=0)
    blocks = parse(gif, gif.read_bytes(), detect_format(gif)).blocks
    assert [b.page for b in blocks] == [None] and "Opening hours" in blocks[0].text
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"\xff\xd8\xff\xe0 truncated")
    with pytest.raises(DocumentError, match="corrupt or unreadable image"):
        parse(bad, bad.read_bytes(), "image")


def test_long_scans_wait_for_the_other_files_and_searches_cite_scanned_pages(
        assistant: Assistant, library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assistant.settings.index.ocr_max_pages = 1
    write_scanned_pdf(library / "a-scan.pdf", [["The boiler was serviced in March."],
                                               ["The chimney sweep comes every October."]])
    write_pdf(library / "b-notes.pdf", ["The garden shed key is on the red hook."])
    order: list[str] = []
    report = assistant.index([library], progress=lambda done, total, path: order.append(path))
    assert report.errors == [] and report.added == 2
    rest = next(i for i, p in enumerate(order) if "more pages" in p)
    assert rest > next(i for i, p in enumerate(order) if p.endswith("b-notes.pdf"))  # after the other file
    hit = assistant.search("how often does the chimney sweep come", k=1)[0]
    assert hit.path.endswith("a-scan.pdf") and (hit.page, hit.ocr, hit.location) == (2, True, "page 2 (scanned)")
    assert assistant.index([library]).unchanged == 2  # complete: nothing to read again

    # Stopped before its second pass, a long scan is read again (all of it) by the next run.
    from assistant.ingest.indexing import Indexer

    write_scanned_pdf(library / "c-scan.pdf", [["Form A was filed in May."], ["Form B was filed in June."]])
    monkeypatch.setattr(Indexer, "_read_the_rest", lambda *a: (_ for _ in ()).throw(KeyboardInterrupt()))
    assert assistant.index([library]).interrupted
    monkeypatch.undo()
    assistant.index([library])
    hit = assistant.search("when was form B filed", k=1)[0]
    assert hit.path.endswith("c-scan.pdf") and hit.page == 2
    assert assistant.store.check() == []


@pytest.mark.slow  # subprocesses
def test_kill_9_during_ocr_leaves_a_consistent_index_that_finishes_the_scan(home: Path, library: Path) -> None:
    import os
    import random
    import signal
    import subprocess
    import sys
    import time

    from assistant.ingest.chunking import CHUNKER_VERSION
    from assistant.store import Store

    write_scanned_pdf(library / "scan.pdf", [[f"Sheet {n} records the meter reading {n}41{n}."] for n in range(1, 6)])
    (library / "notes.md").write_text("# Notes\n\nThe meter is in the cellar.\n")
    env = {**os.environ, "ASSISTANT_HOME": str(home), "ASSISTANT_OCR_MAX_PAGES": "1"}
    rng = random.Random(5)
    db = home / "index.sqlite"
    for _ in range(3):
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "index", str(library)], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(2.0, 5.0))  # start-up ~1 s, then about a second per scanned page
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
        proc.wait()
        if db.exists():
            s = Store(db)
            assert s.check() == []
            s.close()
    p = subprocess.run([sys.executable, "-m", "assistant.cli", "index", str(library), "--json"], env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    s = Store(db)
    assert s.check() == [] and s.counts()["pending"] == 0
    version, = s.conn.execute("SELECT chunker_version FROM documents WHERE path LIKE '%scan.pdf'").fetchone()
    pages = {r[0] for r in s.conn.execute("SELECT page FROM chunks WHERE ocr = 1")}
    assert version == CHUNKER_VERSION and pages == {1, 2, 3, 4, 5}
