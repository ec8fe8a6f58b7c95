"""Legacy binary Office and Outlook files (OLE2 compound documents): .xls, .doc, .ppt and .msg.

- .xls: xlrd (BIFF2-8: Excel 2.0 to 2003), cited by sheet and rows like a .xlsx.
- .doc, .ppt, .msg: olefile opens the compound file; the text is read by small readers of our own, since
  no maintained Python library reads them (textract and others shell out to antiword or catdoc, system
  programs this project does not install). Each is short and follows Microsoft's published format
  ([MS-DOC] piece table, [MS-PPT] text atoms, [MS-OXMSG] property streams); bench/legacy_office.py measures
  them against the text Apache POI's own tests assert, per kind.

Password-protected files are recognised and reported as such (their text cannot be read without it).
"""

from __future__ import annotations

import datetime as dt
import io
import re
import struct
from pathlib import PurePosixPath
from typing import Any

from assistant.errors import DocumentError
from assistant.ingest.readers.common import MAX_CELLS, sheet_blocks
from assistant.ingest.readers.containers import ReadContext, plain
from assistant.ingest.readers.formats import detect_format
from assistant.ingest.readers.markup import parse_html
from assistant.types import Block

_FIELD = re.compile(r"\x13[^\x13\x14\x15]*\x14([^\x13\x15]*)\x15|\x13[^\x13\x15]*\x15")  # keep a field's result


def _ole(data: bytes, kind: str) -> Any:
    import olefile

    try:
        return olefile.OleFileIO(io.BytesIO(data))
    except Exception as exc:  # olefile raises OSError and its own errors on damaged files
        raise DocumentError(f"corrupt or unreadable {kind} (not a valid compound file: {exc})") from exc


def _protected(kind: str) -> DocumentError:
    return DocumentError(f"the {kind} is password-protected (encrypted); save an unprotected copy to index it")


def _properties(ole: Any) -> list[Block]:
    """The file's title, subject and author (its summary information), as a block: "Author: Nick Burch"."""
    try:
        meta = ole.get_metadata()
    except Exception:  # a damaged property set: the text is still read
        return []
    lines = []
    for label, attr in (("Title", "title"), ("Subject", "subject"), ("Author", "author")):
        value = getattr(meta, attr, None)
        if isinstance(value, bytes):
            value = value.decode("cp1252", "replace")
        value = " ".join(str(value or "").replace("\x00", "").split())
        if value:
            lines.append(f"{label}: {value}")
    return [Block("\n".join(lines))] if lines else []


def _damaged(kind: str) -> Any:
    """A reader whose damaged input (truncated records, offsets past the end: fuzzer-made files) raises a
    DocumentError that says so, instead of a traceback in the log."""

    def wrap(reader: Any) -> Any:
        def read(data: bytes, *ctx: ReadContext) -> list[Block]:
            try:
                return list(reader(data, *ctx))
            except DocumentError:
                raise
            except (struct.error, OSError, IndexError, ValueError, KeyError, UnicodeDecodeError) as exc:
                raise DocumentError(f"corrupt or unreadable {kind} ({type(exc).__name__}: {exc})") from exc

        read.__doc__, read.__name__ = reader.__doc__, reader.__name__
        return read

    return wrap


def _paragraphs(text: str) -> list[str]:
    text = _FIELD.sub(lambda m: m.group(1) or "", text)
    text = text.replace("\x07", "\t").replace("\x0b", "\n").replace("\x0c", "\n").replace("\r", "\n")
    text = re.sub(r"[\x00-\x08\x0e-\x1f\x13-\x15]", "", text)
    paras = [re.sub(r"[ \t\u00a0]+", " ", p).strip() for p in re.split(r"\n+", text)]
    return [p for p in paras if p]


# --- .xls ----------------------------------------------------------------------------------------------


@_damaged("XLS workbook")
def parse_xls(data: bytes) -> list[Block]:
    """Every sheet's rows under the sheet's name, the header row above each run (as .xlsx), cell comments,
    page headers and footers, and the text of documents embedded in it."""
    blocks = _xls_blocks(data)
    if data[:8] == _OLE_MAGIC:
        ole = _ole(data, "workbook")
        stream = _stream(ole, "Workbook") or _stream(ole, "Book")
        if stream:
            blocks += _biff_extras(stream)
        blocks += _embedded(ole) + _properties(ole)
    return blocks


_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def _stream(ole: Any, name: str) -> bytes | None:
    """A stream's bytes; None when there is none of that name (or the name is a storage, not a stream)."""
    import olefile

    return ole.openstream(name).read() if ole.exists(name) and ole.get_type(name) == olefile.STGTY_STREAM else None


def _biff_extras(stream: bytes) -> list[Block]:
    """What xlrd leaves out, read from the BIFF records themselves: every sheet's name (macro and chart sheets
    too: BOUNDSHEET) and the page headers and footers (HEADER, FOOTER), their &-codes dropped."""
    names, marks = [], []
    i = 0
    while i + 4 <= len(stream):
        rtype, length = struct.unpack_from("<HH", stream, i)
        body = stream[i + 4: i + 4 + length]
        i += 4 + length
        try:
            if rtype == 0x0085 and len(body) >= 8:  # BOUNDSHEET: position, state, type, name
                names.append(_biff_string(body[6:], short=True))
            elif rtype in (0x0014, 0x0015) and len(body) >= 3:  # HEADER, FOOTER
                text = re.sub(r'&(?:"[^"]*"|\d+|[A-Za-z&])', " ", _biff_string(body, short=False))
                if text.strip():
                    marks.append(" ".join(text.split()))
        except (struct.error, UnicodeDecodeError):
            continue
    out = [Block("Sheets: " + ", ".join(names))] if names else []
    return out + [Block(m, "para", ("page header or footer",)) for m in dict.fromkeys(marks)]


def _biff_string(body: bytes, short: bool) -> str:
    """A BIFF8 string: its length (one byte, or two), a flags byte (bit 0: UTF-16), then the characters."""
    n, at = (body[0], 1) if short else (struct.unpack_from("<H", body, 0)[0], 2)
    wide = body[at] & 1
    raw = body[at + 1: at + 1 + n * (2 if wide else 1)]
    return raw.decode("utf-16-le" if wide else "cp1252", "replace")


def _xls_blocks(data: bytes) -> list[Block]:
    import xlrd


    # Cell comments (cell_note_map) are read without formatting_info, which would cost memory and time.
    try:
        book = xlrd.open_workbook(file_contents=data, on_demand=True, formatting_info=False,
                                  logfile=io.StringIO())
    except xlrd.XLRDError as exc:
        if "encrypt" in str(exc).lower():
            raise _protected("workbook") from exc
        raise DocumentError(f"corrupt or unreadable XLS ({exc})") from exc
    except Exception as exc:  # xlrd on damaged records: struct, index and assertion errors
        raise DocumentError(f"corrupt or unreadable XLS ({type(exc).__name__}: {exc})") from exc
    blocks: list[Block] = []
    budget = [MAX_CELLS]
    for index in range(book.nsheets):
        try:
            sheet = book.sheet_by_index(index)
        except Exception:  # one damaged sheet: the others are read
            continue
        rows = ((r + 1, [_xls_cell(sheet.cell(r, c), book.datemode) for c in range(sheet.ncols)])
                for r in range(sheet.nrows))
        found = sheet_blocks(sheet.name, rows, budget)
        blocks += found or [Block(f"Sheet: {sheet.name}", "para", (sheet.name,))]  # an empty sheet: its name
        for (r, _c), note in sorted(getattr(sheet, "cell_note_map", {}).items()):
            text = " ".join(str(note.text or "").split())
            if text:
                author = f" by {note.author}" if getattr(note, "author", "") else ""
                blocks.append(Block(f"Comment{author}: {text}", "para", (sheet.name,), None, r + 1, r + 1))
    return blocks


def _xls_cell(cell: Any, datemode: int) -> str:
    import xlrd

    if cell.ctype == xlrd.XL_CELL_NUMBER:
        v = float(cell.value)
        return str(int(v)) if v.is_integer() else repr(v)
    if cell.ctype == xlrd.XL_CELL_DATE:
        try:
            d = xlrd.xldate_as_datetime(cell.value, datemode)
            return d.isoformat(sep=" ") if d.hour or d.minute else d.date().isoformat()
        except (ValueError, OverflowError):
            return str(cell.value)
    if cell.ctype == xlrd.XL_CELL_BOOLEAN:
        return "TRUE" if cell.value else "FALSE"
    if cell.ctype in (xlrd.XL_CELL_EMPTY, xlrd.XL_CELL_BLANK, xlrd.XL_CELL_ERROR):
        return ""
    return re.sub(r"\s+", " ", str(cell.value)).strip()


# --- .doc ----------------------------------------------------------------------------------------------


@_damaged("Word document")
def parse_doc(data: bytes) -> list[Block]:
    """A Word 97-2003 document's text from its piece table (all stories: body, footnotes, headers and
    footers, comments, text boxes), in paragraphs; Word 6/95 files whose text is stored plainly too."""
    ole = _ole(data, "Word document")
    return _doc_blocks(lambda name: _stream(ole, name)) + _embedded(ole) + _properties(ole)


def _doc_blocks(get: Any) -> list[Block]:
    word = get("WordDocument")
    if word is None:
        raise DocumentError("not a Word document (no WordDocument stream)")
    if len(word) < 0x20 or struct.unpack_from("<H", word, 0)[0] != 0xA5EC:
        if len(word) >= 0x20 and struct.unpack_from("<H", word, 0)[0] == 0xA5DC:
            return [Block(p) for p in _paragraphs(_word6_text(word))]
        raise DocumentError("corrupt or unreadable Word document (unknown file information block)")
    n_fib, flags = struct.unpack_from("<HxxxxxxH", word, 2)
    if flags & 0x0100:
        raise _protected("Word document")
    if n_fib < 101:  # Word 6/95 written with a Word 97 signature
        return [Block(p) for p in _paragraphs(_word6_text(word))]
    table = get("1Table" if flags & 0x0200 else "0Table")
    if table is None or len(word) < 0x01AA:
        raise DocumentError("corrupt or unreadable Word document (no table stream)")
    fc_clx, lcb_clx = struct.unpack_from("<II", word, 0x01A2)
    pieces = _pieces(table[fc_clx: fc_clx + lcb_clx])
    text = []
    for cp_start, cp_end, fc, compressed in pieces:
        n = cp_end - cp_start
        if compressed:
            text.append(word[fc // 2: fc // 2 + n].decode("cp1252", "replace"))
        else:
            text.append(word[fc: fc + 2 * n].decode("utf-16-le", "replace"))
    return [Block(p) for p in _paragraphs("".join(text))]


def _embedded(ole: Any) -> list[Block]:
    """The text of Office documents embedded in this one (a workbook in a Word file, a slide show in a
    workbook...): each is a storage of its own (ObjectPool/_N in Word, MBD... in Excel and PowerPoint), read
    from its streams, under the heading "embedded document"."""
    blocks: list[Block] = []
    storages = {tuple(e[:-1]) for e in ole.listdir(streams=True) if len(e) >= 2
                and (e[0] == "ObjectPool" or e[0].startswith("MBD"))}
    for parts in sorted(storages):
        base = "/".join(parts) + "/"

        def get(name: str, base: str = base) -> bytes | None:
            return _stream(ole, base + name)

        try:
            if get("WordDocument") is not None:
                found = _doc_blocks(get)
            elif (book := get("Workbook") or get("Book")) is not None:
                found = _xls_blocks(book)
            elif (show := get("PowerPoint Document")) is not None:
                found = _ppt_blocks(show)
            else:
                continue
        except DocumentError:
            continue
        blocks += [Block(b.text, "para", ("embedded document", *b.heading), b.page) for b in found]
    return blocks


def _pieces(clx: bytes) -> list[tuple[int, int, int, bool]]:
    """The piece table of a Clx: (first character, end character, byte offset, 8-bit?) per piece."""
    i = 0
    while i < len(clx) and clx[i] == 0x01:  # Prc: formatting, skipped
        i += 3 + struct.unpack_from("<H", clx, i + 1)[0]
    if i + 5 > len(clx) or clx[i] != 0x02:
        raise DocumentError("corrupt or unreadable Word document (no piece table)")
    lcb = struct.unpack_from("<I", clx, i + 1)[0]
    plc = clx[i + 5: i + 5 + lcb]
    n = (len(plc) - 4) // 12
    cps = struct.unpack_from(f"<{n + 1}I", plc, 0)
    out = []
    for k in range(n):
        fc_raw = struct.unpack_from("<I", plc, 4 * (n + 1) + 8 * k + 2)[0]
        compressed = bool(fc_raw & 0x40000000)
        out.append((cps[k], cps[k + 1], fc_raw & 0x3FFFFFFF, compressed))
    return out


def _word6_text(word: bytes) -> str:
    """Word 6/95: the text runs from fcMin to fcMac in the main stream, one byte a character."""
    fc_min, fc_mac = struct.unpack_from("<II", word, 0x18)
    if not 0 < fc_min < fc_mac <= len(word):
        raise DocumentError("corrupt or unreadable Word 6/95 document")
    return word[fc_min:fc_mac].decode("cp1252", "replace")


# --- .ppt ----------------------------------------------------------------------------------------------

_SLIDE_LIST, _SLIDE_PERSIST, _TEXT_CHARS, _TEXT_BYTES, _CSTRING = 0x0FF0, 0x03F3, 0x0FA0, 0x0FA8, 0x0FBA
_SLIDE, _NOTES, _MAIN_MASTER, _CRYPT = 0x03EE, 0x03F0, 0x03F8, 0x2F14
_COMMENT, _HEADERS_FOOTERS = 0x2EE0, 0x0FD9  # containers whose CString atoms are text (comments, headers)


@_damaged("PowerPoint file")
def parse_ppt(data: bytes) -> list[Block]:
    """A PowerPoint 97-2003 file's text, slide by slide (a slide is a page), then notes and masters."""
    ole = _ole(data, "PowerPoint file")
    if ole.exists("EncryptedSummary"):
        raise _protected("presentation")
    if not ole.exists("PowerPoint Document"):
        raise DocumentError("not a PowerPoint 97-2003 file (PowerPoint 4.0 and older are not read)")
    return _ppt_blocks(ole.openstream("PowerPoint Document").read()) + _embedded(ole) + _properties(ole)


def _ppt_blocks(stream: bytes) -> list[Block]:
    slides: list[list[str]] = []
    other: list[str] = []
    state = {"list": -1, "crypt": False}

    def walk(start: int, end: int, inside: tuple[int, ...]) -> None:
        i = start
        while i + 8 <= end:
            ver_inst, rtype, length = struct.unpack_from("<HHI", stream, i)
            body, nxt = i + 8, min(end, i + 8 + length)
            if rtype == _CRYPT:
                state["crypt"] = True
            if ver_inst & 0x0F == 0x0F:
                if rtype == _SLIDE_LIST:
                    state["list"] = ver_inst >> 4
                    if state["list"] == 0:  # a file saved in place holds earlier versions first: the last is live
                        slides.clear()
                walk(body, nxt, (*inside, rtype))
                if rtype == _SLIDE_LIST:
                    state["list"] = -1
            elif rtype == _SLIDE_PERSIST and state["list"] == 0:
                slides.append([])
            elif rtype == _CSTRING and (_COMMENT in inside or _HEADERS_FOOTERS in inside):
                other.append(stream[body:nxt].decode("utf-16-le", "replace"))
            elif rtype in (_TEXT_CHARS, _TEXT_BYTES):
                raw = stream[body:nxt]
                text = raw.decode("utf-16-le", "replace") if rtype == _TEXT_CHARS else raw.decode("cp1252", "replace")
                if state["list"] == 0 and slides:
                    slides[-1].append(text)
                else:
                    other.append(text)
            i = nxt

    try:
        walk(0, len(stream), ())
    except struct.error as exc:
        if not slides and not other:
            raise DocumentError(f"corrupt or unreadable PowerPoint file ({exc})") from exc
    if state["crypt"] and not any(slides) and not other:
        raise _protected("presentation")
    blocks: list[Block] = []
    seen: set[str] = set()
    for number, texts in enumerate(slides, start=1):
        paras = [p for t in texts for p in _paragraphs(t)]
        seen.update(paras)
        title = paras[0] if paras else None
        blocks += [Block(p, "para", (title,) if title and p != title else (), number) for p in paras]
    rest = [p for t in other for p in _paragraphs(t) if p not in seen]
    blocks += [Block(p) for p in dict.fromkeys(rest)]
    return blocks


# --- .msg ----------------------------------------------------------------------------------------------


@_damaged("Outlook message")
def parse_msg(data: bytes, ctx: ReadContext) -> list[Block]:
    """An Outlook message: subject, sender, recipients and date as its heading, the body in paragraphs,
    attached messages inline; attached files are documents of their own (as a .eml's)."""
    ole = _ole(data, "Outlook message")
    if not any(e[0].startswith("__substg1.0_") for e in ole.listdir()):
        raise DocumentError("not an Outlook message (no message properties)")
    return _message(ole, "", _codepage(ole, ""), ctx)


def _fixed(ole: Any, prefix: str, header: int) -> dict[int, bytes]:
    """A storage's fixed-length properties (__properties_version1.0): tag -> its 8 value bytes. The stream
    opens with a header of `header` bytes: 32 for the message, 24 for an attached message, 8 otherwise."""
    path = prefix + "__properties_version1.0"
    if not ole.exists(path):
        return {}
    props = ole.openstream(path).read()
    return {struct.unpack_from("<I", props, i)[0]: props[i + 8: i + 16] for i in range(header, len(props) - 15, 16)}


def _children(ole: Any, prefix: str, kind: str) -> list[str]:
    """The storages directly below `prefix` whose name starts with `kind` (attachments, recipients)."""
    parts = [p for p in prefix.split("/") if p]
    return sorted({e[len(parts)] for e in ole.listdir(streams=True, storages=True)
                   if len(e) > len(parts) and e[:len(parts)] == parts and e[len(parts)].startswith(kind)})


def _codepage(ole: Any, prefix: str) -> str:
    """The code page of the message's 8-bit strings (PR_MESSAGE_CODEPAGE, PR_INTERNET_CPID), else cp1252."""
    props = _fixed(ole, prefix, 32 if not prefix else 24)
    for tag in (0x3FFD0003, 0x3FDE0003):
        if tag in props:
            cp = struct.unpack_from("<I", props[tag])[0]
            return "utf-8" if cp == 65001 else f"cp{cp}"
    return "cp1252"


def _prop(ole: Any, prefix: str, tag: str, codepage: str) -> str:
    for kind, encoding in (("001F", "utf-16-le"), ("001E", codepage)):
        path = f"{prefix}__substg1.0_{tag}{kind}"
        if ole.exists(path):
            raw = ole.openstream(path).read()
            if kind == "001F":
                return raw.decode(encoding, "replace").rstrip("\x00")
            try:  # the declared code page, else Windows-1252 (8-bit strings often say UTF-8 and are not)
                return raw.decode(encoding).rstrip("\x00")
            except (LookupError, UnicodeDecodeError):
                return raw.decode("cp1252", "replace").rstrip("\x00")
    return ""


def _date(ole: Any, prefix: str) -> str:
    props = _fixed(ole, prefix, 32 if not prefix else 24)
    for tag in (0x00390040, 0x0E060040):  # client submit time, delivery time (FILETIME)
        if tag in props:
            ticks = struct.unpack_from("<Q", props[tag])[0]
            try:
                when = dt.datetime(1601, 1, 1) + dt.timedelta(microseconds=ticks // 10)
            except OverflowError:
                return ""
            return f"{when:%a}, {when.day} {when:%b %Y %H:%M:%S} +0000"  # as mail writes it (RFC 5322), UTC
    return ""


def _recipients(ole: Any, prefix: str, codepage: str) -> dict[str, list[str]]:
    """To, CC and BCC from the recipient storages: "Name <address>" (the address alone when it is the name);
    the display lists (PR_DISPLAY_TO...) when there are no recipient storages."""
    out: dict[str, list[str]] = {}
    for storage in _children(ole, prefix, "__recip_version1.0_"):
        base = f"{prefix}{storage}/"
        name = _prop(ole, base, "3001", codepage).strip()
        address = (_prop(ole, base, "39FE", codepage) or _prop(ole, base, "3003", codepage)).strip()
        recipient_type = _fixed(ole, base, 8).get(0x0C150003)  # PR_RECIPIENT_TYPE: 1 To, 2 CC, 3 BCC
        kind = struct.unpack_from("<I", recipient_type)[0] if recipient_type else 1
        label = {1: "To", 2: "CC", 3: "BCC"}.get(kind, "To")
        shown = f"{name} <{address}>" if name and address and address != name else name or address
        if shown:
            out.setdefault(label, []).append(shown)
    if not out:
        for label, tag in (("To", "0E04"), ("CC", "0E03"), ("BCC", "0E02")):
            value = _prop(ole, prefix, tag, codepage).strip()
            if value:
                out[label] = [value]
    return out


def _message(ole: Any, prefix: str, codepage: str, ctx: ReadContext, depth: int = 0) -> list[Block]:
    subject = " ".join(_prop(ole, prefix, "0037", codepage).split()) or "(no subject)"
    sender = _prop(ole, prefix, "0C1A", codepage) or _prop(ole, prefix, "0042", codepage)
    address = next((a for a in (_prop(ole, prefix, t, codepage) for t in ("5D01", "5D02", "0C1F", "0065"))
                    if a and not a.startswith("/")), "")  # SMTP, not an Exchange name
    who = f"{sender} <{address}>" if sender and address and address not in sender else sender or address
    date = _date(ole, prefix)
    heading = (" — ".join(v for v in (subject, who, date) if v),)
    blocks: list[Block] = []
    lines = [f"From: {who}"] if who else []
    for label, names in _recipients(ole, prefix, codepage).items():
        lines.append(f"{label}: " + "; ".join(names))
    lines += [f"Subject: {subject}"] + ([f"Date: {date}"] if date else [])
    blocks.append(Block("\n".join(lines), "para", heading))
    body = _prop(ole, prefix, "1000", codepage)
    if body.strip():
        blocks += [Block(p, "para", heading) for p in re.split(r"\n\s*\n", body.replace("\r\n", "\n"))
                   if p.strip()]
    else:
        html = ""
        for kind in ("0102", "001F", "001E"):
            path = f"{prefix}__substg1.0_1013{kind}"
            if ole.exists(path):
                raw = ole.openstream(path).read()
                html = raw.decode("utf-16-le", "replace") if kind == "001F" else raw.decode("utf-8", "replace")
                break
        if html:
            blocks += [Block(b.text, "para", heading) for b in parse_html(html.encode("utf-8"))]
    names = []
    for storage in _children(ole, prefix, "__attach_version1.0_"):
        base = f"{prefix}{storage}/"
        name = _prop(ole, base, "3707", codepage) or _prop(ole, base, "3704", codepage) or \
            _prop(ole, base, "3001", codepage) or storage.rsplit("#", 1)[-1]
        name = name.replace("\\", "/").rsplit("/", 1)[-1].strip() or "attachment"
        names.append(name)
        inner = f"{base}__substg1.0_3701000D/"
        if ole.exists(inner.rstrip("/")) and depth < 3:  # an attached message: its text, inline
            blocks += [Block(b.text, "para", (f"attached message: {b.heading[0]}" if b.heading else name,))
                       for b in _message(ole, inner, codepage, ctx, depth + 1)]
            continue
        data_path = f"{base}__substg1.0_37010102"
        fmt = detect_format(PurePosixPath(name))
        if fmt is not None and ole.exists(data_path):
            ctx.attach(name, f"attachment {name} of message {subject}", fmt, ole.openstream(data_path).read())
    if names:
        blocks.append(Block("Attached: " + ", ".join(names), "para", heading))
    if not blocks:
        blocks.append(Block(subject, "para", heading))
    return blocks


READERS = {"xls": plain(parse_xls), "doc": plain(parse_doc), "ppt": plain(parse_ppt), "msg": parse_msg}
