"""Incremental sync with the real embedding model, real files and a real SQLite file."""

from __future__ import annotations

import os
import shutil
import threading
import time
from pathlib import Path

import pytest
from conftest import run_cli
from docgen import prose, write_docx, write_pdf
from hashembed import HashEmbedder

from assistant import Assistant, AssistantError, IndexMismatchError, IndexReport, Settings
from assistant.search.retrieval import Filters


def long_markdown(n: int = 30) -> str:
    return "# Field notes\n\n" + "\n\n".join(prose(i, sentences=4) for i in range(n)) + "\n"


def touch_later(p: Path) -> None:
    """Make sure an edit changes the mtime even on coarse-grained file systems."""
    st = p.stat()
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))


def test_every_format_is_indexed_and_searchable(assistant: Assistant, library: Path) -> None:
    (library / "notes.md").write_text("# Garden\n\n## Tomatoes\n\nWater the tomatoes every morning in July.\n")
    (library / "guide.rst").write_text("Boats\n=====\n\nThe ferry to the island leaves at nine o'clock.\n")
    (library / "page.html").write_text("<h1>Recipes</h1><p>Bake the sourdough bread at 230 degrees.</p>")
    (library / "plain.txt").write_text("The spare key is hidden under the blue flowerpot.\n")
    (library / "tool.py").write_text("def parse_invoice(path):\n    '''Read an invoice PDF and total it.'''\n")
    (library / "cfg.yaml").write_text("database:\n  host: db.internal\n  port: 5432\n")
    write_pdf(library / "manual.pdf", ["Chapter one is about setup.", "The warranty lasts five years."])
    write_docx(library / "memo.docx", [("Budget", ["The marketing budget for 2027 is 40,000 euros."])])
    (library / "latin1.txt").write_bytes("Le café crème coûte trois euros à Montréal.".encode("cp1252"))

    report = assistant.index([library])
    assert report.errors == []
    assert report.added == 9 and report.chunks_embedded >= 9

    def top(q: str):
        return assistant.search(q, k=1)[0]

    assert top("how long is the warranty").path.endswith("manual.pdf")
    assert top("how long is the warranty").page == 2
    hit = top("marketing budget next year")
    assert hit.path.endswith("memo.docx") and hit.heading == "Budget"
    assert top("when does the boat to the island depart").path.endswith("guide.rst")
    assert top("oven temperature for bread").heading == "Recipes"
    hit = top("watering tomatoes")
    assert (hit.heading, hit.start_line, hit.end_line) == ("Garden > Tomatoes", 5, 5)
    assert "crème" in top("price of coffee in Montreal").text
    assert top("postgres port").path.endswith("cfg.yaml")
    assert assistant.store.check() == []


def test_edit_rename_move_delete_counts(assistant: Assistant, library: Path, monkeypatch) -> None:
    doc = library / "notes.md"
    doc.write_text(long_markdown())
    (library / "other.txt").write_text(prose(999))
    first = assistant.index([library])
    assert (first.added, first.chunks_embedded) == (2, first.chunks_embedded)
    n_chunks = assistant.status()["chunks"]
    assert n_chunks >= 25

    # Unchanged folder: nothing is parsed at all.
    import assistant.ingest.indexing as indexing

    parsed: list[str] = []
    real_parse = indexing.parse
    monkeypatch.setattr(indexing, "parse", lambda p, d, f, o=None: parsed.append(str(p)) or real_parse(p, d, f, o))
    again = assistant.index([library])
    assert (again.unchanged, again.chunks_embedded, again.added, again.updated) == (2, 0, 0, 0)
    assert parsed == []

    # Edit one paragraph of the long file: about one chunk is embedded again.
    text = doc.read_text().replace(prose(12, sentences=4), prose(12, sentences=4) + " Suddenly a heron appeared.")
    doc.write_text(text)
    touch_later(doc)
    edit = assistant.index([library])
    assert (edit.updated, edit.unchanged) == (1, 1)
    assert 1 <= edit.chunks_embedded <= 2
    assert edit.chunks_reused >= n_chunks - 3
    assert "heron" in assistant.search("a heron appeared", k=1)[0].text

    # Touch without change: hash confirms, nothing parsed.
    touch_later(doc)
    parsed.clear()
    same = assistant.index([library])
    assert (same.unchanged, same.updated, same.chunks_embedded) == (2, 0, 0) and parsed == []

    # Rename, then move into a sub-folder: no embedding.
    doc.rename(library / "renamed.md")
    moved = assistant.index([library])
    assert (moved.moved, moved.added, moved.removed, moved.chunks_embedded) == (1, 0, 0, 0)
    (library / "sub").mkdir()
    (library / "renamed.md").rename(library / "sub" / "deeper.md")
    moved = assistant.index([library])
    assert (moved.moved, moved.chunks_embedded) == (1, 0)
    assert assistant.search("a heron appeared", k=1)[0].path == str(library / "sub" / "deeper.md")

    # Delete.
    (library / "other.txt").unlink()
    gone = assistant.index([library])
    assert (gone.removed, gone.unchanged) == (1, 1)
    assert [d.path for d in assistant.documents()] == [str(library / "sub" / "deeper.md")]
    assert assistant.store.check() == []


def test_copy_of_a_file_reuses_its_vectors(assistant: Assistant, library: Path) -> None:
    (library / "a.md").write_text(long_markdown(10))
    assistant.index([library])
    shutil.copy(library / "a.md", library / "b.md")
    r = assistant.index([library])
    assert (r.added, r.chunks_embedded) == (1, 0) and r.chunks_reused > 0


def _bad_library(library: Path) -> dict[str, str]:
    """Every kind of bad input beside two good files; returns name -> expected error fragment."""
    (library / "good.md").write_text("# Good\n\nThe lighthouse keeper feeds the cat at noon.\n")
    (library / "good2.txt").write_text("Remember to renew the passport before March.\n")
    (library / "corrupt.pdf").write_bytes(b"%PDF-1.7\n%\xe2\xe3\n1 0 obj <</Type/Pages/Kids[2 0 R]>> trailer junk")
    (library / "binary.txt").write_bytes(os.urandom(2048).replace(b"\n", b"\0"))
    (library / "empty.txt").write_bytes(b"")
    (library / "big.txt").write_text("x" * 5000)
    (library / "latin.txt").write_bytes("Déjà vu à Noël: grève générale.".encode("latin-1"))
    os.symlink(library / "nowhere.txt", library / "broken.txt")
    os.symlink(library / "loop_b.txt", library / "loop_a.txt")
    os.symlink(library / "loop_a.txt", library / "loop_b.txt")
    (library / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")  # an image (read by OCR), truncated
    (library / "program.exe").write_bytes(b"MZ\x90\x00")  # unsupported: skipped, not an error
    (library / ".hidden.md").write_text("secret")
    (library / "node_modules").mkdir()
    (library / "node_modules" / "x.js").write_text("var a;")
    return {
        "corrupt.pdf": "PDF", "binary.txt": "binary", "big.txt": "over the",  # empty.txt: no text, not an error
        "broken.txt": "broken symlink", "loop_a.txt": "symbolic link loop", "loop_b.txt": "symbolic link loop",
        "image.png": "corrupt or unreadable image",
    }


def test_bad_inputs_get_per_file_errors_and_the_rest_is_indexed(home: Path, embedder, library: Path) -> None:
    expected = _bad_library(library)
    a = Assistant(Settings.load({"max_file_mb": 0.004}), embedder=embedder)
    report = a.index([library])
    errors = {Path(e["path"]).name: e["error"] for e in report.errors}
    assert set(errors) == set(expected)
    for name, fragment in expected.items():
        assert fragment in errors[name], (name, errors[name])
    assert report.added == 3 and report.no_text == 1  # good.md, good2.txt and the latin-1 file; empty.txt
    assert report.skipped >= 3  # exe, hidden file, node_modules
    assert "grève" in a.search("general strike at Christmas", k=1)[0].text
    docs = {Path(d.path).name: d for d in a.documents()}
    assert docs["corrupt.pdf"].status == "error" and docs["good.md"].status == "ok"
    assert a.status()["errors"] == len(expected)
    assert a.store.check() == []
    # A second run reports the same errors without re-reading the files.
    again = a.index([library])
    assert {Path(e["path"]).name for e in again.errors} == set(expected)
    assert again.unchanged == 3 and again.chunks_embedded == 0
    # Fixing a file clears its error; words in an empty file make it a document.
    (library / "empty.txt").write_text("Now the empty file has words about zebras.\n")
    touch_later(library / "empty.txt")
    (library / "binary.txt").write_text("The binary file is text now, about giraffes.\n")
    touch_later(library / "binary.txt")
    fixed = a.index([library])
    assert fixed.updated == 2 and "binary.txt" not in {Path(e["path"]).name for e in fixed.errors}
    assert "zebras" in a.search("zebras", k=1)[0].text
    assert a.store.check() == []


def test_file_deleted_mid_run(assistant: Assistant, library: Path) -> None:
    for i in range(6):
        (library / f"f{i}.txt").write_text(prose(i))
    victim = library / "f4.txt"

    def progress(done: int, total: int, path: str) -> None:
        if path.endswith("f1.txt") and victim.exists():
            victim.unlink()

    report = assistant.index([library], progress=progress)
    assert [Path(e["path"]).name for e in report.errors] == ["f4.txt"]
    assert "vanished" in report.errors[0]["error"]
    assert report.added == 5
    assert assistant.store.check() == []


def test_interrupt_leaves_the_index_consistent(assistant: Assistant, library: Path) -> None:
    for i in range(12):
        (library / f"f{i:02}.md").write_text(long_markdown(3 + i % 3).replace("Field", f"Field {i}"))

    def progress(done: int, total: int, path: str) -> None:
        if done == 7:
            raise KeyboardInterrupt

    report = assistant.index([library], progress=progress)
    assert report.interrupted
    assert assistant.store.check() == []
    finished = assistant.index([library])
    assert finished.added + report.added == 12
    assert finished.chunks_embedded + report.chunks_embedded == assistant.status()["chunks"]
    assert assistant.store.check() == []


def test_unreadable_file(home: Path, embedder, tmp_path: Path) -> None:
    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "ok.txt").write_text("Readable words about otters.\n")
    secret = lib / "secret.txt"
    secret.write_text("nobody may read this")
    secret.chmod(0)
    if os.geteuid() == 0:
        pytest.skip("root reads every file; covered by test_cli's capability-dropping variant")
    a = Assistant(Settings.load(), embedder=embedder)
    r = a.index([lib])
    assert [(Path(e["path"]).name, "Permission denied" in e["error"]) for e in r.errors] == [("secret.txt", True)]


def test_embedding_model_mismatch_says_how_to_rebuild(assistant: Assistant, library: Path, home: Path) -> None:
    (library / "a.txt").write_text("Quiet words.")
    assistant.index([library])
    assistant.close()
    other = Assistant(Settings.load(), embedder=HashEmbedder(dim=32))
    with pytest.raises(IndexMismatchError, match=r"all-MiniLM-L6-v2.*--rebuild"):
        other.search("words")
    report = other.index([library], rebuild=True)
    assert report.added == 1
    assert other.status()["embedding_model"] == "hash-32"


def test_forget(assistant: Assistant, library: Path) -> None:
    (library / "a.txt").write_text("Alpha words.")
    (library / "b.txt").write_text("Beta words.")
    assistant.index([library])
    assert assistant.forget(library / "a.txt") == 1
    assert assistant.forget(library) == 1
    assert assistant.status()["documents"] == 0 and assistant.roots() == []


def test_index_file_is_private_and_in_wal_mode(assistant: Assistant, library: Path, home: Path) -> None:
    (library / "a.txt").write_text("Alpha words.")
    assistant.index([library])
    db = home / "index.sqlite"
    assert db.stat().st_mode & 0o777 == 0o600
    assert assistant.store.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert time.time() - assistant.documents()[0].indexed_at < 600


def test_documents_are_keyword_searchable_before_their_vectors_exist(home: Path, embedder, library: Path,
                                                                     capsys) -> None:
    """The reader writes each document at once; vectors follow from the embedding stage. The real model is
    held at the door of embed() until the test has searched, so the in-between state is observed for sure."""
    for i, animal in enumerate(["axolotl", "pangolin", "quokka", "narwhal", "okapi"]):
        (library / f"{animal}.md").write_text(f"# Note {i}\n\nThe {animal} in enclosure {i} is fed at noon.\n")
    door = threading.Event()

    class HeldAtTheDoor:
        def __init__(self) -> None:
            self.model_id, self.dim, self.max_tokens = embedder.model_id, embedder.dim, embedder.max_tokens
            self.count_tokens, self.token_spans = embedder.count_tokens, embedder.token_spans

        def embed(self, texts: list[str], query: bool = False):
            door.wait(120)
            return embedder.embed(texts, query)

    writer = Assistant(Settings.load(), embedder=HeldAtTheDoor())
    reader = Assistant(Settings.load(), embedder=embedder)
    result: list[IndexReport] = []
    t = threading.Thread(target=lambda: result.append(writer.index([library])))
    t.start()
    try:
        deadline = time.monotonic() + 60
        while reader.counts()["documents"] < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        counts = reader.counts()
        assert counts["documents"] == 5 and counts["pending"] == counts["chunks"] == 5
        hits = reader.search("pangolin", k=3)
        assert hits[0].path.endswith("pangolin.md") and hits[0].cosine is None
        assert reader.search("quokka", mode="bm25", k=1)[0].path.endswith("quokka.md")
        assert reader.store.check() == []  # waiting for vectors is a consistent state
        code, out, _ = run_cli("status", capsys=capsys)
        assert code == 0 and "embedding: 0 of 5 have vectors" in out
        code, out, _ = run_cli("search", "okapi", capsys=capsys)
        assert "okapi.md" in out and "still being embedded" in out
    finally:
        door.set()
        t.join(120)
    assert result and result[0].chunks_embedded == 5 and result[0].chunks_pending == 0
    assert reader.counts()["pending"] == 0 and reader.store.check() == []
    hit = reader.search("which animal is fed at noon in enclosure 3", k=1)[0]
    assert hit.path.endswith("narwhal.md") and hit.cosine is not None and hit.relevant
    writer.close()
    reader.close()


def test_the_embedding_stage_never_misses_the_readers_last_document(assistant: Assistant, library: Path) -> None:
    """The reader writes its last document and finishes just after the embedding thread found the queue
    empty: the thread must still embed it (CI once caught it leaving 3 chunks waiting)."""
    from assistant.ingest.chunking import CHUNKER_VERSION
    from assistant.store import Store
    from assistant.types import Chunk

    (library / "a.md").write_text("# A\n\nAlpha text about otters.\n")
    assistant.index([library])
    store = Store(assistant.store.path)
    state = {"reading": True, "looks": 0}
    real = store.pending_chunks

    def pending_chunks(limit: int):
        out = real(limit)
        if state["looks"] == 0:  # between this look and the next, the reader writes and finishes
            chunk = Chunk("Beta text about badgers.", 0, None, None, 1, 1, 6, "badgers-hash")
            assistant.store.write_document(str(library / "b.md"), 25, 1, "b-digest", "markdown", CHUNKER_VERSION,
                                           [chunk], [None])
            state["reading"] = False
        state["looks"] += 1
        return out

    store.pending_chunks = pending_chunks  # type: ignore[method-assign]
    report = IndexReport()
    assistant.library.indexer().embed_waiting(store, report, more=lambda: state["reading"])
    assert store.pending_count() == 0 and report.chunks_embedded == 1
    assert assistant.search("badgers", k=1)[0].cosine is not None
    store.close()


def test_slides_sheets_books_and_mail_are_indexed_with_their_citation_units(
        assistant: Assistant, library: Path) -> None:
    from docgen import mail_message, write_epub, write_ods, write_odt, write_pptx, write_xlsx

    slides = [("Quarterly review", ["Revenue grew in every region"], None),
              ("Hiring", ["We will hire three data engineers in Lisbon"], "Mention the relocation budget."),
              ("Risks", ["The supplier contract ends in June"], None)]
    write_pptx(library / "review.pptx", slides)
    rows: list[list[object]] = [["Item", "Supplier", "Unit price"]]
    rows += [[f"Part {i}", f"Supplier {i % 7}", 10 + i] for i in range(1, 80)]
    rows.append(["Titanium hinge", "Ostrava Metalworks", 412])
    write_xlsx(library / "prices.xlsx", {"Summary": [["Total", 1]], "Parts": rows})
    write_ods(library / "garden.ods", {"Beds": [["Bed", "Plant"], ["East", "Asparagus"], ["West", "Rhubarb"]]})
    write_odt(library / "lease.odt", [("Deposit", ["The deposit of 1,800 euros is returned within two months."])])
    write_epub(library / "novel.epub", [("Arrival", ["The lighthouse keeper was named Oskar."]),
                                        ("Departure", ["The ferry left without the cat."])])
    (library / "memo.rtf").write_bytes(rb"{\rtf1\ansi\pard The server room door code is 5521.\par}")
    (library / "dentist.eml").write_bytes(mail_message("Appointment", "clinic@example.org",
                                                       "Tue, 03 Nov 2026 09:00:00 +0000",
                                                       "Your dental appointment is on Friday at 15:30."))
    (library / "inbox.mbox").write_bytes(
        b"From a@example.org Tue Nov  3 09:00:00 2026\n" + mail_message(
            "Boiler", "bob@example.org", "Wed, 04 Nov 2026 09:00:00 +0000", "The boiler was repaired on Monday.")
        + b"\n")
    report = assistant.index([library])
    assert report.errors == [] and report.added == 8

    def top3(q: str) -> list:
        return assistant.search(q, k=3)

    hit = next(h for h in top3("how many data engineers will we hire") if h.path.endswith("review.pptx"))
    assert (hit.page, hit.heading, hit.location) == (2, "Hiring", "slide 2")
    hit = next(h for h in top3("unit price of the titanium hinge") if h.path.endswith("prices.xlsx"))
    assert hit.heading == "Parts" and "Item | Supplier | Unit price" in hit.text and "412" in hit.text
    assert hit.start_line <= 81 <= hit.end_line and hit.location.startswith("rows ")
    assert any(h.path.endswith("garden.ods") and h.heading == "Beds" for h in top3("where is the rhubarb planted"))
    assert any(h.path.endswith("lease.odt") and h.heading == "Deposit" for h in top3("when is the deposit returned"))
    assert any(h.path.endswith("novel.epub") and h.heading == "Arrival" for h in top3("name of the lighthouse keeper"))
    assert any(h.path.endswith("memo.rtf") for h in top3("server room door code"))
    assert any(h.path.endswith("dentist.eml") and h.heading.startswith("Appointment")
               for h in top3("when is my dental appointment"))
    assert any(h.path.endswith("inbox.mbox") and h.start_line == 1 for h in top3("when was the boiler repaired"))

    # A renamed deck embeds nothing; a changed slide embeds about that slide.
    (library / "review.pptx").rename(library / "review-final.pptx")
    assert assistant.index([library]).chunks_embedded == 0
    slides[2] = ("Risks", ["The supplier contract ends in September"], None)
    write_pptx(library / "review-final.pptx", slides)
    again = assistant.index([library])
    assert again.updated == 1 and 1 <= again.chunks_embedded <= 2
    assert assistant.store.check() == []


def test_mail_attachments_are_documents_of_their_own(assistant: Assistant, library: Path, tmp_path: Path) -> None:
    from docgen import mail_message, write_pptx

    write_pdf(tmp_path / "lease.pdf", ["The tenant is Mira Olsen.", "The monthly rent is 1,240 euros."])
    write_pptx(tmp_path / "plan.pptx", [("Launch", ["The launch date is 12 March"], None)])

    def mbox(lease: bytes) -> bytes:
        first = mail_message("Hello", "a@example.org", "Mon, 2 Nov 2026 09:00:00 +0000", "Just saying hello.")
        second = mail_message("Lease signed", "agency@example.org", "Tue, 3 Nov 2026 09:00:00 +0000",
                              "The signed lease and the plan are attached.",
                              [("lease.pdf", lease), ("plan.pptx", (tmp_path / "plan.pptx").read_bytes()),
                               ("broken.docx", b"PK not a zip")])
        return (b"From a@example.org Mon Nov  2 09:00:00 2026\n" + first + b"\n\n"
                b"From agency@example.org Tue Nov  3 09:00:00 2026\n" + second + b"\n")

    box = library / "inbox.mbox"
    box.write_bytes(mbox((tmp_path / "lease.pdf").read_bytes()))
    report = assistant.index([library])
    lease, plan, broken = (f"{box}/message 2/{n}" for n in ("lease.pdf", "plan.pptx", "broken.docx"))
    assert report.added == 1 and [e["path"] for e in report.errors] == [broken]
    docs = {d.path: d for d in assistant.documents()}
    assert set(docs) == {str(box), lease, plan, broken}
    assert docs[lease].status == "ok" and docs[lease].format == "pdf" and docs[broken].status == "error"
    assert docs[lease].container == str(box) and docs[str(box)].container is None

    hit = assistant.search("what is the monthly rent", k=3)[0]
    assert (hit.path, hit.page, hit.location) == (lease, 2, "page 2") and "1,240" in hit.text
    assert hit.heading.startswith("attachment lease.pdf of message Lease signed")
    hit = assistant.search("when is the launch date", k=3)[0]
    assert (hit.path, hit.location) == (plan, "slide 1")
    assert assistant.search("who is the tenant", k=3, filters=Filters(types=("pdf",)))[0].path == lease

    # Unchanged: nothing happens. Renamed: the attachments move with it, nothing is embedded.
    again = assistant.index([library])
    assert again.unchanged == 1 and [e["path"] for e in again.errors] == [broken]  # told again, as files are
    box.rename(library / "mail.mbox")
    again = assistant.index([library])
    assert (again.moved, again.chunks_embedded) == (1, 0)
    box = library / "mail.mbox"
    moved = {p.replace("inbox.mbox", "mail.mbox") for p in (lease, plan, broken)}
    assert {d.path for d in assistant.documents()} == {str(box), *moved}

    # A changed attachment is re-read; the others keep their vectors.
    write_pdf(tmp_path / "lease.pdf", ["The tenant is Mira Olsen.", "The monthly rent is 1,310 euros."])
    box.write_bytes(mbox((tmp_path / "lease.pdf").read_bytes()))
    touch_later(box)
    changed = assistant.index([library])
    assert changed.updated == 1 and 1 <= changed.chunks_embedded <= 2
    assert "1,310" in assistant.search("what is the monthly rent", k=1)[0].text
    assert assistant.store.check() == []

    # Forgotten or deleted with its container, not on its own.
    with pytest.raises(AssistantError, match=r"attachment inside .*mail\.mbox; .*assistant forget"):
        assistant.forget(Path(f"{box}/message 2/lease.pdf"))
    box.unlink()
    assert assistant.index([library]).removed == 1
    assert assistant.documents() == [] and assistant.store.counts()["chunks"] == 0
    assert assistant.store.check() == []


def test_the_same_folder_gets_the_same_vectors_however_fast_it_is_read(
        home: Path, embedder, library: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The int8 embedder scales a call's activations together, so a passage's vector depends a little on
    the passages embedded beside it. While the reader writes, the embedder takes only whole groups of
    waiting chunks, so a slow read (a pause after every file) and a fast one give the same vectors, bit for
    bit (before, the slow read's were embedded a file at a time and differed)."""
    from assistant.ingest import indexing

    for d in range(24):
        (library / f"doc{d:02}.md").write_text("\n\n".join(
            f"# Part {d}.{p}\n\n{prose(100 * d + p, 3)}" for p in range(12)) + "\n")

    real_write = indexing.Indexer._write

    def slow_write(self, *args, **kwargs):
        out = real_write(self, *args, **kwargs)
        time.sleep(0.15)
        return out

    def build(name: str, slow: bool) -> dict[tuple[str, int], bytes]:
        with monkeypatch.context() as m:
            m.setenv("ASSISTANT_HOME", str(home.parent / name))
            if slow:
                m.setattr(indexing.Indexer, "_write", slow_write)
            a = Assistant(Settings.load(), embedder=embedder)
            try:
                assert a.index([library]).chunks_embedded > indexing.EMBED_GROUP  # more than one group
                where = {cid: (os.path.basename(p), pos) for cid, p, pos in a.store.conn.execute(
                    "SELECT c.id, d.path, c.position FROM chunks c JOIN documents d ON d.id = c.document_id")}
                return {where[int(c)]: v.tobytes() for ids, vecs in a.store.iter_vectors()
                        for c, v in zip(ids, vecs, strict=True)}
            finally:
                a.close()

    fast, slow = build("fast", False), build("slow", True)
    assert len(fast) == 24 * 12 and fast == slow
