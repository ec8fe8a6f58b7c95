"""See it in the original: the cited page drawn with the passage boxed, a source opened in the program
that shows it (an attachment from a private temporary copy), and the viewer command for a PDF page."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
from docgen import mail_message, write_pdf, write_scanned_pdf

from assistant import Assistant, AssistantError, Settings
from assistant.ingest import ocr
from assistant.view.viewer import command_for

SENTENCE = "The Zephyr-9 inlet valve must be torqued to exactly 42 newton-metres before the pump is started."
FILLER = "The quarterly review covered staffing, procurement and the state of the regional depots. "


def _ask(home: Path, embedder, lib: Path, question: str) -> tuple[Assistant, str]:
    a = Assistant(Settings.load({"answer_style": "quote"}), embedder=embedder)
    a.index([lib])
    answer = a.ask(question)
    assert answer.sources and answer.chat_id
    return a, answer.chat_id


def _char_boxes(pdf_path: Path, page: int, scale: float) -> tuple[str, list[tuple[float, float]]]:
    """The page's text and each character's box centre in picture pixels (measured independently)."""
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(str(pdf_path))
    p = pdf[page - 1]
    height = p.get_size()[1]
    tp = p.get_textpage()
    text = tp.get_text_range()
    centres = []
    for i in range(tp.count_chars()):
        left, bottom, right, top = tp.get_charbox(i)
        centres.append(((left + right) / 2 * scale, (height - (top + bottom) / 2) * scale))
    tp.close()
    p.close()
    pdf.close()
    return text, centres


def test_page_picture_boxes_the_cited_sentence_and_little_else(home, embedder, library, tmp_path) -> None:
    from PIL import Image

    from assistant.view.page import WIDTH_PX

    pdf_path = write_pdf(library / "manual.pdf", ["Contents of the manual: pumps, valves, depots.",
                                                  FILLER * 3 + SENTENCE + " " + FILLER * 2])
    a, chat = _ask(home, embedder, library, "What torque for the Zephyr-9 inlet valve?")
    hit, passages = a.cited_source(chat, 1)
    assert hit.page == 2 and passages and "42 newton-metres" in passages[0]
    pic = a.page_picture(hit, passages, tmp_path / "page.png")
    assert pic.page == 2 and not pic.scanned and pic.found == 1.0 and pic.boxes
    assert stat.S_IMODE(pic.path.stat().st_mode) == 0o600  # a picture of a private page

    scale = WIDTH_PX / 595.28  # fpdf's A4 width in points
    text, centres = _char_boxes(pdf_path, 2, scale)
    start = text.find("The Zephyr-9")
    assert start >= 0
    wanted, need, i = set(), [c for c in SENTENCE[:-1] if not c.isspace()], start  # the final "." may go
    while need:  # the sentence's glyphs, across the page's line breaks
        if not text[i].isspace():
            assert text[i] == need.pop(0)
            wanted.add(i)
        i += 1

    def boxed(pt: tuple[float, float]) -> bool:
        return any(b[0] <= pt[0] <= b[2] and b[1] <= pt[1] <= b[3] for b in pic.boxes)

    inside = {i for i, c in enumerate(centres) if boxed(c) and not text[i].isspace()}
    assert wanted <= inside  # every glyph of the sentence is covered
    assert len(inside - wanted) <= 2  # ...and hardly any other (a full stop at most)

    image = Image.open(pic.path).convert("RGB")  # the boxes are really drawn, in yellow
    b = pic.boxes[0]
    samples = [image.getpixel((int(x), int(b[1]) + 2)) for x in range(int(b[0]) + 4, int(b[2]) - 4, 7)]
    assert sum(r > 220 and g > 200 and bl < 200 for r, g, bl in samples) > 0.8 * len(samples)


@pytest.mark.skipif(not ocr.available(), reason="the OCR engine is part of the install")
def test_page_picture_of_a_scanned_page_boxes_the_ocr_line(home, embedder, library, tmp_path) -> None:
    write_scanned_pdf(library / "scan.pdf", [["The quarterly review covered staffing.",
                                              "The inlet valve is torqued to 42 newton-metres.",
                                              "Maintenance windows are announced early."]])
    a, chat = _ask(home, embedder, library, "What is the inlet valve torqued to?")
    hit, passages = a.cited_source(chat, 1)
    assert hit.ocr
    pic = a.page_picture(hit, passages, tmp_path / "scan.png")
    assert pic.scanned and pic.found >= 0.8 and pic.boxes
    # The scan's second line sits between y 177 and 207 in the picture (the image is placed 10 mm down,
    # 190 mm wide, 1700 px: lines 88 px apart): the box is on it, not on its neighbours.
    mids = [(b[1] + b[3]) / 2 for b in pic.boxes]
    assert all(160 < m < 225 for m in mids)


def test_an_attachment_opens_from_a_private_temporary_copy(home, embedder, library, tmp_path,
                                                          monkeypatch) -> None:
    attachment = write_pdf(tmp_path / "schedule.pdf",
                           ["The Kestrel boiler flue must be inspected every 14 months by a certified fitter."])
    data = attachment.read_bytes()
    (library / "offer.eml").write_bytes(mail_message("Boiler service", "ann@example.org",
                                                     "Tue, 3 Mar 2026 10:00:00 +0000", "See the schedule.",
                                                     [("schedule.pdf", data)]))
    a, chat = _ask(home, embedder, library, "How often must the Kestrel boiler flue be inspected?")
    hit, _ = a.cited_source(chat, 1)
    assert hit.path.endswith("offer.eml/schedule.pdf")
    copy, mode = tmp_path / "seen.pdf", tmp_path / "mode"
    monkeypatch.setenv("DISPLAY", ":99")  # a desktop, and a viewer that records what it was given
    a.settings.open.viewer = (f"sh -c 'cp \"$0\" {copy}; stat -c %a \"$0\" > {mode}; echo \"$1\" >> {mode}; "
                              "sleep 3.5' {path} {page}")
    opening = a.open_source(hit)
    temp = opening.file.path
    assert opening.file.temporary and temp.name == "schedule.pdf"
    assert stat.S_IMODE(temp.parent.stat().st_mode) == 0o700 and stat.S_IMODE(temp.stat().st_mode) == 0o600
    assert opening.command.page_shown and opening.command.argv[-1] == "1"
    assert opening.run(wait=True) == 0
    assert copy.read_bytes() == data  # the viewer got the attachment itself
    assert mode.read_text().split() == ["600", "1"]
    assert not temp.exists() and not temp.parent.exists()  # removed once the viewer closed

    page = a.page_picture(hit, [], tmp_path / "att.png")  # the page picture works for it too
    assert page.boxes and page.found == 1.0


def test_the_viewer_command_for_a_pdf_page_and_when_there_is_no_desktop(tmp_path) -> None:
    desktop = {"DISPLAY": ":0"}
    found = {"evince": "/usr/bin/evince", "xdg-open": "/usr/bin/xdg-open"}
    cmd = command_for("/d/a.pdf", "pdf", page=3, env=desktop, platform="linux", which=found.get)
    assert cmd.argv == ["/usr/bin/evince", "--page-index=3", "/d/a.pdf"] and cmd.page_shown and not cmd.terminal
    cmd = command_for("/d/a.pdf", "pdf", page=3, viewer="okular --page {page} {path}", env=desktop,
                      platform="linux", which=found.get)
    assert cmd.argv == ["okular", "--page", "3", "/d/a.pdf"]
    cmd = command_for("/d/a.docx", "docx", env=desktop, platform="linux", which=found.get)
    assert cmd.argv == ["/usr/bin/xdg-open", "/d/a.docx"] and not cmd.page_shown
    with pytest.raises(AssistantError, match="assistant page"):  # over SSH: say so, offer the picture
        command_for("/d/a.pdf", "pdf", page=3, env={"SSH_CONNECTION": "1 2 3 4"}, platform="linux")
    # A viewer you configured runs without a desktop too (a terminal PDF viewer, a script), in this terminal.
    cmd = command_for("/d/a.pdf", "pdf", page=3, viewer="termpdf --page {page} {path}", env={}, platform="linux")
    assert cmd.argv == ["termpdf", "--page", "3", "/d/a.pdf"] and cmd.terminal and cmd.page_shown
    # `open --print` gives the command as it would run on a desktop, even with none.
    cmd = command_for("/d/a.pdf", "pdf", page=3, env={}, platform="linux", which=found.get, dry=True)
    assert cmd.argv == ["/usr/bin/evince", "--page-index=3", "/d/a.pdf"]
    cmd = command_for("/d/notes.md", "markdown", line=12, env={"EDITOR": "vim -R"})
    assert cmd.argv == ["vim", "-R", "+12", "/d/notes.md"] and cmd.terminal
    assert command_for("/d/notes.md", "markdown", line=12, env={}).argv == ["less", "+12", "/d/notes.md"]


def test_cli_open_and_page(home, embedder, library, tmp_path, monkeypatch, capsys) -> None:
    from conftest import run_cli, run_cli_json

    (library / "notes.md").write_text("# Pumps\n\nIntro line.\n\nThe Zephyr-9 inlet valve is torqued to 42 "
                                      "newton-metres.\n")
    write_pdf(library / "manual.pdf", [SENTENCE])
    a, chat = _ask(home, embedder, library, "Zephyr-9 inlet valve torque newton-metres")
    a.close()
    monkeypatch.setenv("EDITOR", "myeditor")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    first = Assistant(Settings.load()).cited_source(chat, 1)[0]
    if first.path.endswith(".md"):  # text: the editor at the cited line
        out = run_cli_json("open", chat, "1", capsys=capsys)
        assert out["argv"] == ["myeditor", f"+{first.start_line}", first.path] and out["terminal"]
    else:  # a PDF with no desktop: the error says so and offers the page picture; --print still prints
        code, _, err = run_cli("open", chat, "1", capsys=capsys)
        assert code == 1 and "assistant page" in err
        code, out, err = run_cli("open", chat, "1", "--print", capsys=capsys)
        assert code == 0 and first.path in out, err
    out = run_cli_json("page", chat, "1", "-o", str(tmp_path / "p.png"), capsys=capsys) \
        if first.path.endswith(".pdf") else None
    assert out is None or out["found"] == 1.0
    code, _, err = run_cli("page", chat, "99", capsys=capsys)
    assert code == 1 and "source" in err
    code, _, err = run_cli("open", "nosuchchat", "1", capsys=capsys)
    assert code == 1 and "no conversation" in err
