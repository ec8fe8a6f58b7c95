"""The one sanitiser: text from documents, file names, model output and errors made safe for a terminal.

Everything that reaches a terminal or a log line goes through `printable` (the CLI, the TUI, the MCP
server, the daemon's log), and the readers use `strip_ansi` so a coloured log indexes as the text it is.
"""

from __future__ import annotations

import logging
import re
from typing import Any

# CSI (colours, cursor moves), OSC (titles, hyperlinks; ended by BEL or ST), and two-byte escapes.
ANSI = re.compile(r"\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]")
# C0 and C1 control characters except tab and newline, DEL, and the bidirectional overrides
# (U+202A-202E, U+2066-2069) that can make text read differently from what it is.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def strip_ansi(text: str) -> str:
    """Remove ANSI escape sequences (colours, cursor moves, titles), keep everything else."""
    return ANSI.sub("", text) if "\x1b" in text or "\x9b" in text else text


def printable(text: str, multiline: bool = False) -> str:
    """Text that cannot drive a terminal: no escape sequences, no control characters.

    With multiline=False (a path, an error, a log line) newlines and tabs become spaces, so one value
    stays on one line; with multiline=True they are kept.
    """
    out = CONTROL.sub("", strip_ansi(text).replace("\r\n", "\n").replace("\r", "\n"))
    if not multiline:
        out = out.replace("\n", " ").replace("\t", " ")
    return out


class SafeStream:
    """A text stream that passes everything through `printable` (newlines, tabs and \\r kept).

    The CLI writes through it, so no file name, document text or error message can reach the
    terminal with an escape sequence in it, whichever print statement it goes through.
    """

    def __init__(self, stream: Any) -> None:
        self._stream = stream

    def write(self, s: str) -> int:
        safe = CONTROL.sub(_keep_cr, strip_ansi(s))
        self._stream.write(safe)
        return len(s)

    def __getattr__(self, name: str) -> Any:  # flush, isatty, fileno, encoding, buffer...
        return getattr(self._stream, name)


def _keep_cr(m: re.Match[str]) -> str:
    return "\r" if m.group() == "\r" else ""


class SafeFormatter(logging.Formatter):
    """A log formatter whose lines hold no escape sequences or control characters (tracebacks keep
    their newlines)."""

    def format(self, record: logging.LogRecord) -> str:
        return printable(super().format(record), multiline=True)
