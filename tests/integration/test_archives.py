"""Archives as folders, files with nothing readable in them, text no tokenizer can take, and plain --path
filters: real files on disk, the real embedder and index."""

from __future__ import annotations

import gzip
import io
import tarfile
import time
import zipfile
from pathlib import Path

import pytest

from assistant import Assistant
from assistant.search.retrieval import Filters

INNER = "# Inner\n\nThe zebra codeword is PAPAYA-77 in the inner file.\n"


def _zip(members: dict[str, bytes | str], encrypted: frozenset[str] = frozenset()) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    out = bytearray(buf.getvalue())
    for name in encrypted:  # set the "encrypted" flag bit in the member's local and central headers
        for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            start = 0
            while (i := out.find(signature, start)) >= 0:
                name_at = i + (30 if flag_at == 6 else 46)
                if out[name_at:name_at + len(name)] == name.encode():
                    out[i + flag_at] |= 1
                start = i + 4
    return bytes(out)


def test_archive_members_are_documents_of_their_own(assistant: Assistant, library: Path) -> None:
    members = {"docs/inner.md": INNER, "../../etc/evil.txt": "The heron nests by lake Kolm.",
               "secret.txt": "never read", "photo.bin": b"\x00\x01"}
    (library / "pack.zip").write_bytes(_zip(members, frozenset({"secret.txt"})))
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tf:
        data = b"Tar member: the kettle holds 1.7 litres of water."
        info = tarfile.TarInfo("kettle.txt")
        info.size = len(data)
        tf.addfile(info, io.BytesIO(data))
    (library / "more.tar.gz").write_bytes(buf.getvalue())
    (library / "note.txt.gz").write_bytes(gzip.compress(b"A gzipped note about the copper bell tower."))
    report = assistant.index([library])
    paths = {d.path: d for d in assistant.documents()}
    base = str(library)
    assert f"{base}/pack.zip/docs/inner.md" in paths
    assert f"{base}/pack.zip/etc/evil.txt" in paths  # ".." cannot climb out of the archive's path
    assert not any("/etc/evil.txt" == p for p in paths)
    assert f"{base}/more.tar.gz/kettle.txt" in paths and f"{base}/note.txt.gz/note.txt" in paths
    assert paths[f"{base}/pack.zip/docs/inner.md"].container == f"{base}/pack.zip"
    errors = {e["path"]: e["error"] for e in report.errors}
    assert "encrypted" in errors[f"{base}/pack.zip/secret.txt"]
    hit = assistant.search("zebra codeword", k=1, filters=Filters(paths=(f"{base}/pack.zip",)))[0]
    assert hit.path.endswith("pack.zip/docs/inner.md") and "PAPAYA-77" in hit.text
    assert assistant.search("kettle litres", k=1, filters=Filters(types=("txt",)))[0].path.endswith("kettle.txt")
    # Removed with its archive.
    (library / "pack.zip").unlink()
    assistant.index([library])
    assert not any("pack.zip" in d.path for d in assistant.documents())


def _seven_zip(members: dict[str, bytes | str], password: str | None = None, header: bool = False) -> bytes:
    import py7zr

    buf = io.BytesIO()
    with py7zr.SevenZipFile(buf, "w", password=password, header_encryption=header) as z:
        for name, data in members.items():
            z.writestr(data, name)
    return buf.getvalue()


def test_7z_members_are_documents_and_can_be_taken_out_again(assistant: Assistant, library: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.ingest.readers import archives, member_bytes

    monkeypatch.setattr(archives, "SEVEN_ZIP_BATCH", 64)  # several unpacking passes over a solid archive
    inner = _zip({"deep/inner.md": INNER})
    members = {"reports/kettle.txt": "The seven-zip kettle holds 1.7 litres of water.",
               "reports/filler.txt": "Filler words about nothing much at all, " * 8,
               "nested.zip": inner}
    (library / "pack.7z").write_bytes(_seven_zip(members))
    (library / "locked.7z").write_bytes(_seven_zip({"s.txt": "never read"}, password="pw"))
    (library / "hidden.7z").write_bytes(_seven_zip({"s.txt": "never read"}, password="pw", header=True))
    (library / "broken.7z").write_bytes(_seven_zip(members)[:200])
    report = assistant.index([library])
    base = str(library)
    paths = {d.path for d in assistant.documents()}
    assert {f"{base}/pack.7z/reports/kettle.txt", f"{base}/pack.7z/nested.zip/deep/inner.md"} <= paths
    hit = assistant.search("seven-zip kettle litres", k=1)[0]
    assert hit.path == f"{base}/pack.7z/reports/kettle.txt" and "1.7 litres" in hit.text
    errors = {e["path"]: e["error"] for e in report.errors}
    assert "encrypted" in errors[f"{base}/locked.7z/s.txt"]
    assert "password" in errors[f"{base}/hidden.7z"]
    assert "corrupt or unreadable 7z" in errors[f"{base}/broken.7z"]
    assert member_bytes(library / "pack.7z", "nested.zip/deep/inner.md") == INNER.encode()
    assert member_bytes(library / "pack.7z", "reports/kettle.txt").startswith(b"The seven-zip kettle")


def test_bombs_and_self_containing_zips_end_quickly(assistant: Assistant, library: Path) -> None:
    data = _zip({"x.md": "# X\n\nThe innermost level.\n"})
    for _ in range(6):  # a zip that holds itself, again and again
        data = _zip({"self.zip": data, "x.md": "# X\n\nA level of the nesting.\n"})
    (library / "self.zip").write_bytes(data)
    (library / "bomb.zip").write_bytes(_zip({"zeros.txt": b"0" * (300 * 2**20 // 10)} |
                                            {f"z{i}.txt": b"0" * (30 * 2**20) for i in range(20)}))
    start = time.monotonic()
    report = assistant.index([library])
    assert time.monotonic() - start < 60
    errors = {e["path"]: e["error"] for e in report.errors}
    assert any("nested more than" in e for e in errors.values())
    assert any("bomb" in e for p, e in errors.items() if "bomb.zip" in p)


def test_no_text_is_a_status_not_an_error(assistant: Assistant, library: Path) -> None:
    from PIL import Image

    Image.new("RGB", (400, 300), (30, 120, 200)).save(library / "sky.png")  # a photo with no text
    (library / "blank.txt").write_text("   \n\n  \n")
    (library / "real.md").write_text("# Real\n\nSome words about the tide tables of the bay.\n")
    report = assistant.index([library])
    assert report.errors == [] and report.no_text == 2
    status = {Path(d.path).name: d.status for d in assistant.documents()}
    assert status == {"sky.png": "no text", "blank.txt": "no text", "real.md": "ok"}
    assert assistant.counts()["errors"] == 0 and assistant.counts()["no_text"] == 2
    again = assistant.index([library])  # unchanged: not read again, still no error
    assert again.errors == [] and again.no_text == 2 and again.unchanged == 1


def test_text_no_tokenizer_can_take_is_made_safe(assistant: Assistant, library: Path) -> None:
    # RTF writes astral characters as two \\u escapes (UTF-16 halves); an invalid one leaves a lone half.
    gothic = "{\\rtf1\\ansi Gothic word: \\u-10240?\\u-8400? and a lone half \\u-10240? end of the line.}"
    (library / "gothic.rtf").write_text(gothic)
    report = assistant.index([library])
    assert report.errors == [], report.errors
    hit = assistant.search("Gothic word lone half", k=1)[0]
    assert "\U00010330" in hit.text and "\ufffd" in hit.text  # the pair joined, the lone half replaced


def test_a_plain_path_names_that_file_not_a_prefix(assistant: Assistant, library: Path) -> None:
    (library / "report.md").write_text("The quarterly report counts eleven lighthouses.")
    (library / "report.mdx").write_text("The older report counts eleven lighthouses too.")
    assistant.index([library])
    hits = assistant.search("eleven lighthouses", k=5, filters=Filters(paths=(str(library / "report.md"),)))
    assert [h.path for h in hits] == [str(library / "report.md")]
    under = assistant.search("eleven lighthouses", k=5, filters=Filters(paths=(str(library),)))
    assert len(under) == 2


def test_files_are_read_as_what_their_bytes_say(assistant: Assistant, library: Path) -> None:
    """No extension, or a wrong one: a Word file, a message and plain text are read as what they are."""
    legacy = Path(__file__).resolve().parents[1] / "fixtures" / "legacy"
    (library / "scan_0001").write_bytes((legacy / "test2.doc").read_bytes())
    (library / "slides.pdf").write_bytes((legacy / "basic_test_ppt_file.ppt").read_bytes())
    (library / "message").write_text("From: a@example.org\nTo: b@example.org\nSubject: Sniffed\n\nThe walrus sleeps.\n")
    (library / "NOTES").write_text("A plain notes file about the otter river.\n")
    (library / "blob.bak").write_bytes(b"plain text with an unknown extension stays out")
    report = assistant.index([library])
    assert report.errors == []
    formats = {Path(d.path).name: d.format for d in assistant.documents()}
    assert formats == {"scan_0001": "doc", "slides.pdf": "ppt", "message": "eml", "NOTES": "text"}
    assert assistant.search("otherwise very very boring", k=1)[0].path.endswith("scan_0001")
