"""The one sanitiser (assistant.printable) and the ANSI stripping the readers use."""

from __future__ import annotations

import io
import logging

import pytest

from assistant import printable, strip_ansi
from assistant.text import SafeFormatter, SafeStream


@pytest.mark.parametrize(("raw", "safe"), [
    ("dock\x1b[31mred.txt", "dockred.txt"),  # CSI colour
    ("a\x1b[2J\x1b[Hb", "ab"),  # clear screen, cursor home
    ("t\x1b]0;title\x07x", "tx"),  # OSC window title, BEL-terminated
    ("l\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "llink"),  # OSC 8 hyperlink, ST-terminated
    ("c1\x9b31mred", "c1red"),  # 8-bit CSI
    ("bell\x07 bs\x08 nul\x00", "bell bs nul"),
    ("evil\u202eexe.txt", "evilexe.txt"),  # bidirectional override
    ("naïve café 日本 🙂", "naïve café 日本 🙂"),  # real text is untouched
    ("two\nlines\tand a tab", "two lines and a tab"),
])
def test_printable_removes_what_can_drive_a_terminal(raw: str, safe: str) -> None:
    assert printable(raw) == safe


def test_multiline_keeps_newlines_and_tabs() -> None:
    assert printable("a\r\nb\tc\x1b[0m\rd", multiline=True) == "a\nb\tc\nd"
    assert strip_ansi("\x1b[1mbold\x1b[0m\n\x07") == "bold\n\x07"  # only the sequences


def test_the_cli_stream_and_the_log_formatter_are_safe() -> None:
    out = io.StringIO()
    SafeStream(out).write("progress\r50% \x1b[31mfile\x1b[0m\n")
    assert out.getvalue() == "progress\r50% file\n"  # \r kept for progress bars
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "indexed %s", ("a\x1b[31mb.txt",), None)
    assert SafeFormatter("%(message)s").format(record) == "indexed ab.txt"
