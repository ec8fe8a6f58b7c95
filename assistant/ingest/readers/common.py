"""What every reader shares: text made safe and decoded, paragraphs and open headings, a safe zip
container, and a table's rows cut into blocks under their header row."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Iterator

from assistant.errors import DocumentError, NoTextError
from assistant.text import strip_ansi
from assistant.types import Block


def safe_text(text: str) -> str:
    """Text every later stage can take (the tokenizer, SQLite, a terminal): surrogate pairs written as two
    UTF-16 halves (RTF's \\u-escapes of astral characters, Gothic script...) joined into the character they
    are, and lone halves and other code points UTF-8 cannot encode replaced by U+FFFD. Any reader can
    produce such text; a tokenizer given it raised TypeError and the file was lost."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


_LATIN_LOOKALIKES = {
    "cp1250", "cp1252", "cp1254", "cp1257", "latin_1", "iso8859_2", "iso8859_3", "iso8859_4", "iso8859_9",
    "iso8859_10", "iso8859_13", "iso8859_15", "iso8859_16", "mac_roman", "mac_latin2", "cp850", "cp437",
}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")


def decode_text(data: bytes) -> str:
    """Decode text of unknown encoding: UTF-8 (with or without BOM), UTF-16 with BOM, else the best guess.

    Raises:
        DocumentError: the bytes are not text (NUL bytes or mostly control characters).
    """
    if not data:
        raise NoTextError("the file is empty")
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise DocumentError(f"invalid UTF-16 text: {exc}") from exc
    if b"\x00" in data[:8192]:
        raise DocumentError("binary content (NUL bytes) in a file named like text; not indexed")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        from charset_normalizer import from_bytes

        best = from_bytes(data).best()
        if best is None:
            raise DocumentError("not text in any known encoding; not indexed") from None
        text = str(best)
        if best.encoding in _LATIN_LOOKALIKES:
            # Short Western text is often guessed as a sibling code page (cp1250 for French, say);
            # Windows-1252 is by far the most common of them, so it wins when it decodes cleanly.
            try:
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                pass
    # Colour codes and cursor moves (a CI log, a `script` capture) are terminal markup, not content.
    text = strip_ansi(text)
    sample = text[:8192]
    if sample and len(_CONTROL.findall(sample)) > 0.05 * len(sample):
        raise DocumentError("binary content (control characters) in a file named like text; not indexed")
    return _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))


def paragraphs(
    lines: list[str], first_line: int, heading: tuple[str, ...], kind: str = "para"
) -> list[Block]:
    """Split lines into blank-line separated blocks, keeping 1-based line numbers."""
    out: list[Block] = []
    start: int | None = None
    for i, line in enumerate(lines + [""]):
        if line.strip():
            if start is None:
                start = i
        elif start is not None:
            text = "\n".join(lines[start:i]).strip("\n")
            out.append(Block(text, kind, heading, None, first_line + start, first_line + i - 1))
            start = None
    return out


class Headings:
    """The open headings while a document is read: a heading closes every open one at its level or deeper."""

    def __init__(self) -> None:
        self.stack: list[tuple[int, str]] = []

    @property
    def path(self) -> tuple[str, ...]:
        return tuple(t for _, t in self.stack)

    def open(self, level: int, title: str) -> tuple[str, ...]:
        """Enter a heading; returns the path of the headings it sits under (its own block's heading)."""
        while self.stack and self.stack[-1][0] >= level:
            self.stack.pop()
        parents = self.path
        self.stack.append((level, title))
        return parents


def clean(text: str) -> str:
    return re.sub(r"[ \t\u00a0]+", " ", text.replace("\x0b", "\n")).strip()


def corrupt(kind: str, exc: BaseException) -> DocumentError:
    return DocumentError(f"corrupt or unreadable {kind} ({type(exc).__name__}: {exc})")


MAX_MEMBERS = 10_000  # entries in a zip-based document
MAX_UNPACKED = 512 * 2**20  # bytes, all entries together
BOMB_MIN_SIZE = 32 * 2**20  # a part this large (bytes)...
BOMB_RATIO = 100  # ...that packs more than this many times smaller is refused (text and XML pack 5-20 times)
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # old binary Office files, and every password-protected one


def open_zip(data: bytes, kind: str) -> zipfile.ZipFile:
    """The zip container of an Office, OpenDocument or EPUB file, after checking it is safe to unpack.

    Raises:
        DocumentError: encrypted, not a zip, or too many / too large members (a possible zip bomb).
    """
    if data[:8] == OLE_MAGIC:
        raise DocumentError(f"the {kind} is password-protected or in the old binary format; save an "
                            "unprotected copy in the current format to index it")
    try:
        z = zipfile.ZipFile(io.BytesIO(data))
        members = z.infolist()
    except (zipfile.BadZipFile, ValueError, OSError) as exc:
        raise DocumentError(f"corrupt or unreadable {kind} (not a valid zip container: {exc})") from exc
    if len(members) > MAX_MEMBERS:
        raise DocumentError(f"the {kind} holds {len(members)} parts (limit {MAX_MEMBERS}); refusing a possible "
                            "zip bomb")
    for m in members:  # one part that unpacks far beyond what it packs (zeros, a repeated run): a bomb
        if m.file_size > BOMB_MIN_SIZE and m.file_size > BOMB_RATIO * max(1, m.compress_size):
            raise DocumentError(f"the {kind}'s part {m.filename} would unpack to {m.file_size / 2**20:.0f} MB from "
                                f"{m.compress_size / 2**10:.0f} KB; refusing a possible zip bomb")
    unpacked = sum(m.file_size for m in members)
    if unpacked > MAX_UNPACKED:
        raise DocumentError(f"the {kind} would unpack to {unpacked / 2**20:.0f} MB (limit "
                            f"{MAX_UNPACKED / 2**20:.0f} MB); refusing a possible zip bomb")
    return z


MAX_CELLS = 2_000_000  # spreadsheet cells read per workbook; the rest is left out
ROWS_CHARS = 500  # a spreadsheet block: the header row and about this many characters of rows


def table_runs(lines: list[str]) -> list[tuple[int, int, str]]:
    """A table's rows (its header first) as runs of about ROWS_CHARS, each under the header row:
    (index of the run's first row, of its last, text)."""
    header, out, start = lines[0], [], 1
    while start < len(lines):
        end, size = start, len(lines[start])
        while end + 1 < len(lines) and size + len(lines[end + 1]) + 1 <= ROWS_CHARS:
            end += 1
            size += len(lines[end]) + 1
        out.append((start, end, header + "\n" + "\n".join(lines[start : end + 1])))
        start = end + 1
    return out or [(0, 0, header)]


def sheet_blocks(name: str, rows: Iterator[tuple[int, list[str]]], budget: list[int]) -> list[Block]:
    """Blocks of a sheet: the header row (its first non-empty row) repeated above each run of rows."""
    numbers: list[int] = []
    lines: list[str] = []
    for number, cells in rows:
        while cells and not cells[-1]:
            cells.pop()
        if not any(cells):
            continue
        budget[0] -= len(cells)
        if budget[0] < 0:
            break
        numbers.append(number)
        lines.append(" | ".join(cells))
    if not lines:
        return []
    return [Block(text, "para", (name,), None, numbers[first], numbers[last])
            for first, last, text in table_runs(lines)]
