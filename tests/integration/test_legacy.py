"""Legacy Office and Outlook files, read from real files (Apache POI's test data, tests/fixtures/legacy) into
a real index, and found by search with their slides, sheets and attachments."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant import Assistant
from assistant.search.retrieval import Filters

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "legacy"


def test_legacy_office_files_are_indexed_and_cited(assistant: Assistant, library: Path) -> None:
    for f in FIXTURES.iterdir():
        if f.suffix in (".doc", ".xls", ".ppt", ".msg"):
            shutil.copy(f, library / f.name)
    report = assistant.index([library])
    errors = {Path(e["path"]).name: e["error"] for e in report.errors}
    assert set(errors) == {"35897-type4.xls"} and "password-protected" in errors["35897-type4.xls"]

    def top(query: str, **kw: object):
        return assistant.search(query, k=1, filters=Filters(**kw) if kw else None)[0]  # type: ignore[arg-type]

    hit = top("otherwise very very boring")
    assert hit.path.endswith("test2.doc") and "very very boring" in hit.text
    assert "TestFootnote" in top("TestFootnote", types=("doc",)).text  # a footnote is text of the file too
    comment = top("first cell comment Yegor Kozlov", types=("xls",))
    assert "Comment by Yegor Kozlov" in comment.text and comment.location.startswith("rows")
    slide = top("title on page 2", types=("ppt",))
    assert slide.page == 2 and slide.location == "slide 2"
    # The .msg: the attached message inline, the attached PDF a document of its own inside the .msg.
    msg = str(library / "attachment_msg_pdf.msg")
    docs = {d.path: d for d in assistant.documents()}
    inside = [p for p, d in docs.items() if d.container == msg]
    assert inside and inside[0].endswith(".pdf") and docs[inside[0]].chunks > 0
    assert any("Test Attachment" in h.text or "Test Attachment" in (h.heading or "")
               for h in assistant.search("Test Attachment", k=5, filters=Filters(paths=(msg,))))


def test_damaged_legacy_files_get_a_clear_error() -> None:
    """Truncated or fuzzed compound files: a DocumentError that says the file is damaged, never a traceback."""
    import pytest

    from assistant.errors import DocumentError
    from assistant.ingest.readers.containers import ReadContext
    from assistant.ingest.readers.legacy import READERS as PARSERS

    for name, fmt in (("test2.doc", "doc"), ("basic_test_ppt_file.ppt", "ppt"), ("SimpleWithComments.xls", "xls"),
                      ("attachment_msg_pdf.msg", "msg")):
        data = (FIXTURES / name).read_bytes()
        for cut in (len(data) // 2, 600):
            try:
                PARSERS[fmt](data[:cut], ReadContext())
            except DocumentError as exc:
                assert "corrupt" in str(exc) or "not a" in str(exc), exc
        with pytest.raises(DocumentError):
            PARSERS[fmt](b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600, ReadContext())
