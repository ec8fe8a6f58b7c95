"""Turning a file's bytes into a Document: one parser per format, each keeping structure and positions."""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path, PurePosixPath
from typing import Any

from assistant.errors import DocumentError, NoTextError
from assistant.ingest import ocr
from assistant.ingest.archives import ARCHIVE_NAMES, archive_format, read_archive
from assistant.ingest.legacy import EXTENSIONS as LEGACY_EXTENSIONS
from assistant.ingest.legacy import PARSERS as LEGACY_PARSERS
from assistant.ingest.office import ATTACHMENTS, PAYLOADS, table_runs
from assistant.ingest.office import EXTENSIONS as OFFICE_EXTENSIONS
from assistant.ingest.office import PARSERS as OFFICE_PARSERS
from assistant.text import strip_ansi
from assistant.types import Attachment, Block, Document

MARKDOWN = {".md", ".markdown", ".mdx"}
RST = {".rst", ".rest"}
HTML = {".html", ".htm", ".xhtml"}
PLAIN = {".txt", ".text", ".org", ".adoc", ".tex", ".log"}
CODE = {
    ".py", ".pyi", ".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".go", ".rs", ".java", ".kt", ".kts",
    ".c", ".h", ".cc", ".cpp", ".cxx", ".hpp", ".hh", ".cs", ".rb", ".php", ".swift", ".scala", ".m",
    ".sh", ".bash", ".zsh", ".fish", ".ps1", ".sql", ".r", ".lua", ".pl", ".pm", ".hs", ".ex", ".exs",
    ".erl", ".clj", ".dart", ".vue", ".svelte", ".css", ".scss", ".less",
    ".json", ".jsonl", ".yaml", ".yml", ".toml", ".csv", ".tsv", ".ini", ".cfg", ".conf", ".xml",
    ".properties", ".gradle", ".proto", ".graphql", ".tf",
}
PLAIN_NAMES = {"readme", "license", "copying", "authors", "changelog", "notice", "todo"}
CODE_NAMES = {"makefile", "dockerfile", "containerfile", "justfile", "cmakelists.txt", "gemfile", "rakefile"}


ARCHIVE_FORMATS = frozenset(ARCHIVE_NAMES.values())


def detect_format(path: Path) -> str | None:
    """The parser to use for a path, by its extension or name; None if the file type is not supported."""
    name = path.name.lower()
    ext = path.suffix.lower()
    if archive := archive_format(name):
        return archive
    if ext in LEGACY_EXTENSIONS:
        return LEGACY_EXTENSIONS[ext]
    if ext == ".pdf":
        return "pdf"
    if ext == ".docx":
        return "docx"
    if ext in OFFICE_EXTENSIONS:
        return OFFICE_EXTENSIONS[ext]
    if ext in ocr.IMAGE_EXTENSIONS:
        return "image"
    if ext in MARKDOWN:
        return "markdown"
    if ext in RST:
        return "rst"
    if ext in HTML:
        return "html"
    if ext in PLAIN or name in PLAIN_NAMES:
        return "text"
    if ext in CODE or name in CODE_NAMES:
        return "code"
    return None


_BINARY = frozenset({"pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub", "doc", "xls", "ppt", "msg", "zip",
                     "rtf"})
_RFC822 = re.compile(rb"\A(?:(?:Return-Path|Received|From|To|Subject|Date|Message-ID|MIME-Version|Delivered-To|"
                     rb"X-[\w-]+):[^\r\n]*\r?\n){2}", re.IGNORECASE)


def sniff_format(data: bytes, text_too: bool = False) -> str | None:
    """The format a file's first bytes say it is (as the peers detect it), whatever its name says: a PDF,
    an Office, OpenDocument or e-book zip (or a plain zip), an OLE2 Office or Outlook file, RTF, HTML, an
    RFC 822 message; with text_too, plain text (UTF-8 or a legacy encoding, no NUL bytes). None if unknown."""
    head = data[:4096]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"PK\x03\x04"):
        try:
            names = set(zipfile.ZipFile(io.BytesIO(data)).namelist())
        except (zipfile.BadZipFile, ValueError, OSError):
            return None
        if "word/document.xml" in names:
            return "docx"
        if any(n.startswith("xl/") for n in names):
            return "xlsx"
        if any(n.startswith("ppt/") for n in names):
            return "pptx"
        kind = head[30:120]
        for marker, fmt in ((b"opendocument.text", "odt"), (b"opendocument.spreadsheet", "ods"),
                            (b"opendocument.presentation", "odp"),
                            (b"epub+zip", "epub")):
            if marker in kind:
                return fmt
        return "zip"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        import olefile

        try:
            ole = olefile.OleFileIO(io.BytesIO(data))
            streams = {"/".join(e) for e in ole.listdir()}
        except Exception:  # not a readable compound file
            return None
        for stream, fmt in (("WordDocument", "doc"), ("Workbook", "xls"), ("Book", "xls"),
                            ("PowerPoint Document", "ppt")):
            if stream in streams:
                return fmt
        return "msg" if any(s.startswith("__substg1.0_") for s in streams) else None
    if head.startswith(b"{\\rtf"):
        return "rtf"
    low = head.lstrip()[:200].lower()
    if low.startswith((b"<!doctype html", b"<html")):
        return "html"
    if _RFC822.match(head.lstrip()):
        return "eml"
    if text_too and head and b"\x00" not in head:
        try:
            head.decode("utf-8")
            return "text"
        except UnicodeDecodeError:
            return "text" if sum(b < 9 or 13 < b < 32 for b in head) < len(head) // 100 + 1 else None
    return None


def parse(path: Path, data: bytes, fmt: str, ocr_options: ocr.OcrOptions | None = None) -> Document:
    """Parse a file's bytes into blocks. Scanned PDF pages and images are read by OCR as `ocr_options`
    allow (default: on, every page).

    Raises:
        DocumentError: the content is binary, corrupt, encrypted or holds no text.
    """
    fmt = _corrected(fmt, data)
    parser = _PARSERS.get(fmt)
    token = ocr.OPTIONS.set(ocr_options or ocr.OcrOptions())
    attached: list[Attachment] = []
    found = ATTACHMENTS.set(attached)
    try:
        read = parser if parser is not None else (lambda d: read_archive(fmt, d, path.name))
        blocks = tuple(_safe_block(b) for b in read(data) if b.text.strip())
    finally:
        ATTACHMENTS.reset(found)
        ocr.OPTIONS.reset(token)
    if not blocks and not attached:
        raise NoTextError("no text found in the file (it is empty or holds only whitespace)")
    return Document(path=str(path), format=fmt, blocks=blocks, attachments=tuple(attached))


def format_of(path: Path, data: bytes) -> str | None:
    """The format a file is read as: what its name says, unless its bytes say it is another binary format
    (a name that lies: "report.pdf" that is a Word file), or what its bytes say when the name says nothing.
    None if neither knows it."""
    fmt = detect_format(path)
    return sniff_format(data, text_too=True) if fmt is None else _corrected(fmt, data)


def _corrected(fmt: str, data: bytes) -> str:
    if fmt in _BINARY:
        sniffed = sniff_format(data)
        if sniffed is not None and sniffed != fmt:
            return sniffed
    return fmt


def member_bytes(container: Path, member: str) -> bytes:
    """The bytes of a file inside another (a mail attachment, an archive member): `member` is its name
    below the container as indexed ("memo.pdf", "inner.zip/notes.txt"), found by reading the container
    again, OCR off.

    Raises:
        DocumentError: the container cannot be read, or no longer holds that member.
    """
    return _member_of(container, container.read_bytes(), member)


def _member_of(path: Path, data: bytes, member: str) -> bytes:
    fmt = format_of(path, data) or "text"
    payloads: dict[str, bytes] = {}
    token = PAYLOADS.set(payloads)
    try:
        parse(path, data, fmt, ocr.OcrOptions(enabled=False))
    except NoTextError:
        pass
    finally:
        PAYLOADS.reset(token)
    for name in sorted(payloads, key=len, reverse=True):
        if member == name:
            return payloads[name]
        if member.startswith(name + "/"):
            return _member_of(Path(PurePosixPath(name).name), payloads[name], member[len(name) + 1:])
    raise DocumentError(f"{path} no longer holds {member!r}; re-index it (`assistant index`)")


def _safe_block(block: Block) -> Block:
    text = safe_text(block.text)
    heading = tuple(safe_text(h) for h in block.heading)
    return block if text is block.text and heading == block.heading else replace(block, text=text, heading=heading)


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


# --- text decoding ---------------------------------------------------------------------------------

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
        raise DocumentError("the file is empty")
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


# --- line-oriented formats -------------------------------------------------------------------------


def _paragraphs(
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


def _parse_text(data: bytes) -> list[Block]:
    return _paragraphs(decode_text(data).split("\n"), 1, ())


def _parse_code(data: bytes) -> list[Block]:
    return _paragraphs(decode_text(data).split("\n"), 1, (), kind="code")


class _Headings:
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


_FRONT_MATTER = re.compile(r"\A(?:---|\+\+\+)[ \t]*\n")


def _parse_markdown(data: bytes) -> list[Block]:
    """Markdown (CommonMark with tables) through markdown-it-py, which gives each block its line span.

    Headings nest; paragraphs, lists (one block per top-level list), quotes (without their `>` marks),
    tables and HTML blocks keep their source text; code blocks are kind "code". YAML/TOML front matter
    is a paragraph of its own (searchable, and never mistaken for a setext heading).
    """
    from markdown_it import MarkdownIt

    text = decode_text(data)
    lines = text.split("\n")
    blocks: list[Block] = []
    headings = _Headings()
    start = 0
    fm = _FRONT_MATTER.match(text)
    if fm:
        fence = fm.group().strip()
        end = next((i for i in range(1, len(lines)) if lines[i].strip() == fence), None)
        if end is not None:
            body = "\n".join(lines[1:end]).strip()
            if body:
                blocks.append(Block(body, "para", (), None, 2, end))
            start = end + 1
    source = "\n".join([""] * start + lines[start:])  # blank front matter keeps the line numbers
    tokens = MarkdownIt("commonmark").enable("table").parse(source)
    depth = 0  # nesting inside lists and quotes: their inner blocks belong to the outer one
    for i, tok in enumerate(tokens):
        if tok.nesting == -1 and tok.type in ("bullet_list_close", "ordered_list_close", "blockquote_close"):
            depth -= 1
            continue
        if depth or tok.map is None or tok.nesting == -1:
            if tok.type in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
                depth += 1
            continue
        first, last = tok.map[0] + 1, tok.map[1]  # 1-based, inclusive
        while last > first and not lines[last - 1].strip():  # a list's span takes the blank line after it
            last -= 1
        span = "\n".join(lines[first - 1 : last]).strip("\n")
        if tok.type == "heading_open":
            title = " ".join(tokens[i + 1].content.split()) or "(untitled)"
            level = int(tok.tag[1])
            last = last if tok.markup.startswith("#") else last - 1  # a setext heading ends above its underline
            blocks.append(Block(title, "heading", headings.open(level, title), None, first, last, level))
        elif tok.type in ("fence", "code_block"):
            blocks.append(Block(span, "code", headings.path, None, first, last))
        elif tok.type in ("bullet_list_open", "ordered_list_open", "blockquote_open"):
            depth += 1
            if tok.type == "blockquote_open":
                span = "\n".join(re.sub(r"^ {0,3}> ?", "", ln) for ln in span.split("\n"))
            blocks.append(Block(span, "para", headings.path, None, first, last))
        elif tok.type in ("paragraph_open", "table_open", "html_block"):
            blocks.append(Block(span, "para", headings.path, None, first, last))
    return blocks


_RST_ADORN = re.compile(r"^([=\-~`:'\"^_*+#<>.])\1{2,}\s*$")


def _parse_rst(data: bytes) -> list[Block]:
    lines = decode_text(data).split("\n")
    blocks: list[Block] = []
    styles: list[tuple[str, bool]] = []  # adornment styles in order of first use = heading levels
    headings = _Headings()
    body_start = 0
    i = 0

    def flush(end: int) -> None:
        blocks.extend(_paragraphs(lines[body_start:end], body_start + 1, headings.path))

    while i < len(lines):
        over = False
        title_i = i
        if _RST_ADORN.match(lines[i]) and i + 2 < len(lines) and _RST_ADORN.match(lines[i + 2]):
            over, title_i = True, i + 1
        title = lines[title_i].strip() if title_i < len(lines) else ""
        under = title_i + 1
        if (
            title
            and not _RST_ADORN.match(lines[title_i])
            and under < len(lines)
            and _RST_ADORN.match(lines[under])
            and len(lines[under].rstrip()) >= len(title)
            and (title_i == 0 or not lines[title_i - 1].strip() or over)
        ):
            flush(i)
            style = (lines[under].strip()[0], over)
            if style not in styles:
                styles.append(style)
            level = styles.index(style) + 1
            blocks.append(Block(title, "heading", headings.open(level, title), None, title_i + 1, title_i + 1,
                                level))
            i = under + 1
            body_start = i
            continue
        i += 1
    flush(len(lines))
    return blocks


# --- HTML ------------------------------------------------------------------------------------------

_HTML_BLOCKS = {
    "p", "div", "li", "ul", "ol", "table", "tr", "td", "th", "section", "article", "blockquote", "dd", "dt",
    "figcaption", "caption", "br", "hr", "main", "header", "footer", "aside", "form", "body",
}


def _parse_html(data: bytes) -> list[Block]:
    from bs4 import BeautifulSoup, NavigableString, Tag
    from bs4.element import Comment, Doctype, ProcessingInstruction

    soup = BeautifulSoup(decode_text(data), "html.parser")
    for node in soup.find_all(string=lambda s: isinstance(s, ProcessingInstruction)):
        node.extract()  # an XHTML file's <?xml ...?> declaration is not text
    title_tag = soup.find("title")
    title = " ".join(title_tag.get_text().split()) if title_tag is not None else ""
    for tag in soup(["script", "style", "noscript", "template", "svg", "head"]):
        tag.decompose()
    blocks: list[Block] = []
    headings = _Headings()
    buf: list[str] = []
    buf_line: list[int | None] = [None]

    def path() -> tuple[str, ...]:
        return headings.path

    def flush() -> None:
        text = re.sub(r"[ \t\r\f\v]+", " ", "".join(buf)).strip()
        text = re.sub(r" ?\n ?", "\n", text)
        if text:
            line = buf_line[0]
            blocks.append(Block(text, "para", path(), None, line, line + text.count("\n") if line else None))
        buf.clear()
        buf_line[0] = None

    def walk(node: Tag) -> None:
        for child in node.children:
            if isinstance(child, Comment | Doctype):
                continue
            if isinstance(child, NavigableString):
                if buf_line[0] is None and str(child).strip():
                    buf_line[0] = getattr(node, "sourceline", None)
                buf.append(str(child))
                continue
            if not isinstance(child, Tag):
                continue
            name = child.name.lower()
            if re.fullmatch(r"h[1-6]", name):
                flush()
                level = int(name[1])
                title = " ".join(child.get_text(" ").split()) or "(untitled)"
                blocks.append(Block(title, "heading", headings.open(level, title), None, child.sourceline,
                                    child.sourceline, level))
            elif name == "pre":
                flush()
                text = child.get_text()
                line = child.sourceline
                blocks.append(Block(text, "code", path(), None, line, line + text.count("\n") if line else None))
            elif name in _HTML_BLOCKS:
                flush()
                walk(child)
                flush()
            else:
                walk(child)

    walk(soup)
    flush()
    if title and not any(b.text.strip() == title for b in blocks[:3]):  # a page is searched by its title too
        line = title_tag.sourceline if title_tag is not None else None
        blocks.insert(0, Block(title, "para", (), None, line, line))
    return blocks


# --- binary office formats ----------------------------------------------------------------------------


_LIGATURES = str.maketrans({"\ufb00": "ff", "\ufb01": "fi", "\ufb02": "fl", "\ufb03": "ffi", "\ufb04": "ffl",
                            "\ufb05": "st", "\ufb06": "st"})
_HYPHEN_BREAK = re.compile(r"([a-z\u00e0-\u00ff])-\n([a-z\u00e0-\u00ff])")
_PAGE_NUMBER = re.compile(r"^\s*(?:page\s+)?\d{1,4}(?:\s*(?:/|of)\s*\d{1,4})?\s*$", re.I)


TABLE_MIN_ROWS = 3
TABLE_CELL_CHARS = 40  # longer runs are running text (a column of a two-column page), not cells


def _page_text(textpage: Any, number: int, tables: dict[str, list[str]]) -> str:
    """A page's text; where its text runs line up in columns over TABLE_MIN_ROWS lines or more, the table
    stands as one placeholder paragraph, its rows kept in `tables` (pdfium splits a line's text into runs
    at wide gaps, which is where a table's cells are)."""
    plain = textpage.get_text_bounded().replace("\r\n", "\n").replace("\r", "\n")
    n_rects = textpage.count_rects()
    if n_rects < sum(1 for line in plain.split("\n") if line.strip()) + TABLE_MIN_ROWS:
        # Every line has a text run of its own; a table needs TABLE_MIN_ROWS lines of two runs or more,
        # so a page of fewer runs has none, and reading each run's text (most of this function's time) is
        # not needed.
        return plain
    runs = []
    for i in range(n_rects):
        left, bottom, right, top = textpage.get_rect(i)
        text = textpage.get_text_bounded(left, bottom, right, top).strip()
        if text:
            runs.append((top, bottom, left, text))
    lines: list[list[tuple[float, float, float, str]]] = []
    for run in sorted(runs, key=lambda r: (-r[0], r[2])):
        mid = (run[0] + run[1]) / 2
        if lines and abs(mid - (lines[-1][0][0] + lines[-1][0][1]) / 2) < (run[0] - run[1]) / 2:
            lines[-1].append(run)
        else:
            lines.append([run])
    rows = [sorted(line, key=lambda r: r[2]) for line in lines]

    def aligned(a: list[Any], b: list[Any]) -> bool:
        # Cells are short: two columns of running text (a paper's layout) line up too, with long lines.
        return len(a) == len(b) >= 2 and all(abs(x[2] - y[2]) < 12 for x, y in zip(a, b, strict=True)) and \
            all(len(r[3]) <= TABLE_CELL_CHARS for r in b)

    out: list[str] = []
    i = 0
    found = False
    while i < len(rows):
        j = i
        while j + 1 < len(rows) and aligned(rows[i], rows[j + 1]):
            j += 1
        if j - i + 1 >= TABLE_MIN_ROWS:
            key = f"\x00table {number}.{len(tables)}\x00"
            tables[key] = [" | ".join(r[3] for r in row) for row in rows[i : j + 1]]
            out += ["", key, ""]
            found = True
            i = j + 1
        else:
            out.append(" ".join(r[3] for r in rows[i]))
            i += 1
    return "\n".join(out) if found else plain


def clean_pdf_pages(pages: list[str]) -> list[str]:
    """What PDF text extraction leaves behind, mended: ligature characters expanded (a search for
    "office" must find "o\ufb03ce"), words broken by a hyphen at a line end joined, and running headers
    and footers (a line that starts or ends most pages, digits aside) and bare page numbers dropped."""
    # pdfium marks a word broken by a hyphen at a line end with \x02 where the hyphen was.
    pages = [_HYPHEN_BREAK.sub(r"\1\2", p.translate(_LIGATURES).replace("\x02", "")) for p in pages]
    split = [[line for line in p.split("\n")] for p in pages]

    def edges(lines: list[str]) -> list[tuple[int, str]]:
        idx = [i for i, line in enumerate(lines) if line.strip() and not line.startswith("\x00")]
        return [(i, re.sub(r"\d+", "#", lines[i].strip()).lower()) for i in idx[:1] + idx[-1:]]

    counts: dict[str, int] = {}
    for lines in split:
        for key in {k for _, k in edges(lines)}:
            counts[key] = counts.get(key, 0) + 1
    running = {k for k, n in counts.items() if len(pages) >= 3 and n >= 0.6 * len(pages)}
    out = []
    for lines in split:
        drop = {i for i, k in edges(lines) if k in running or _PAGE_NUMBER.match(lines[i])}
        out.append("\n".join(line for i, line in enumerate(lines) if i not in drop))
    return out


def _parse_pdf(data: bytes) -> list[Block]:
    """A PDF's text by page, extracted with pdfium (bench/pdf_text.py: as good as pypdf on two-column
    pages once cleaned, and 3-5x faster); pages without a text layer go to OCR."""
    import pypdfium2 as pdfium

    if not data.lstrip()[:5].startswith(b"%PDF"):
        raise DocumentError("not a PDF file (no %PDF header); the file may be corrupt or misnamed")
    try:
        pdf = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if "password" in str(exc).lower():
            raise DocumentError("the PDF is password-protected; save an unprotected copy to index it") from exc
        raise DocumentError(f"corrupt or unreadable PDF ({exc})") from exc
    tables: dict[str, list[str]] = {}  # placeholder line -> the table's rows, "cell | cell"
    try:
        texts = []
        for i in range(len(pdf)):
            page = pdf[i]
            textpage = page.get_textpage()
            texts.append(_page_text(textpage, i + 1, tables))
            textpage.close()
            page.close()
    except pdfium.PdfiumError as exc:
        raise DocumentError(f"corrupt or unreadable PDF ({exc})") from exc
    finally:
        pdf.close()
    scanned: list[int] = []
    pages: list[list[Block]] = []
    has_text = [bool(t.strip()) for t in texts]  # before mending: a page with only its number is not a scan
    for number, text in enumerate(clean_pdf_pages(texts), start=1):
        blocks = []
        for b in _paragraphs(text.split("\n"), 1, ()):
            if b.text in tables:  # a table: its header row above every run of its rows
                blocks += [Block(t, "para", (), number, None, None) for _, _, t in table_runs(tables[b.text])]
            else:
                blocks.append(Block(b.text, "para", (), number, None, None))
        pages.append(blocks)
        if not has_text[number - 1]:
            scanned.append(number)
    if scanned:
        _ocr_pages(data, scanned, pages)
    blocks = [b for page in pages for b in page]
    if not blocks:
        why = "OCR is off (setting ocr)" if not ocr.options().enabled else \
            "no OCR engine is installed (rapidocr-onnxruntime)" if not ocr.available() else "OCR found no text"
        error = NoTextError if why == "OCR found no text" else DocumentError
        raise error(f"the PDF has no extractable text (scanned images?), and {why}")
    return blocks


def _ocr_pages(data: bytes, numbers: list[int], pages: list[list[Block]]) -> None:
    """Read pages without a text layer by OCR, as far as the options allow (the rest is counted as
    skipped, for a later pass); pages read in an earlier pass come from the options' cache."""
    opts = ocr.options()
    if not opts.enabled or not ocr.available():
        return
    budget = opts.max_pages
    for number in numbers:
        if number not in opts.done:
            if budget is not None and budget <= 0:
                opts.skipped += 1
                continue
            opts.done[number] = ocr.read_image(ocr.render_pdf_page(data, number - 1))
            budget = None if budget is None else budget - 1
        paras = ocr.paragraphs(opts.done[number])
        pages[number - 1] = [Block(p, "para", (), number, None, None, ocr=True) for p in paras]


def _parse_image(data: bytes) -> list[Block]:
    """An image file (a scan, a photo of a receipt) read by OCR; a multi-page TIFF page by page."""
    from PIL import ImageSequence

    opts = ocr.options()
    if not opts.enabled:
        raise DocumentError("an image, and OCR is off (setting ocr); set ocr = auto to read it")
    if not ocr.available():
        raise DocumentError("an image, and no OCR engine is installed (rapidocr-onnxruntime); run ./install.sh")
    image = ocr.open_image(data)
    frames = getattr(image, "n_frames", 1)
    blocks: list[Block] = []
    try:
        for number, frame in enumerate(ImageSequence.Iterator(image), start=1):
            if number not in opts.done:
                if opts.max_pages is not None and len(opts.done) >= opts.max_pages:
                    opts.skipped += 1
                    continue
                opts.done[number] = ocr.read_image(frame)
            page = number if frames > 1 else None
            blocks += [Block(p, "para", (), page, None, None, ocr=True) for p in ocr.paragraphs(opts.done[number])]
    except DocumentError:
        raise
    except Exception as exc:  # PIL decoding a truncated or corrupt image
        raise DocumentError(f"corrupt or unreadable image ({type(exc).__name__}: {exc})") from exc
    if not blocks and not opts.skipped:
        raise NoTextError("an image with no text in it (OCR found none)")
    return blocks


def _parse_docx(data: bytes) -> list[Block]:
    import zipfile

    import docx
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise DocumentError(f"corrupt or unreadable DOCX ({type(exc).__name__}: {exc})") from exc
    except Exception as exc:  # python-docx raises assorted errors on malformed packages
        raise DocumentError(f"corrupt or unreadable DOCX ({type(exc).__name__}: {exc})") from exc
    blocks: list[Block] = []
    headings = _Headings()
    body = document.element.body
    for child in body.iterchildren():
        tag = child.tag.rsplit("}", 1)[-1]
        if tag == "p":
            para = Paragraph(child, document)
            text = para.text.strip()
            if not text:
                continue
            style = (para.style.name if para.style is not None else "") or ""
            m = re.match(r"(?:Heading|heading) (\d)", style)
            if m or style == "Title":
                level = int(m.group(1)) if m else 0
                blocks.append(Block(text, "heading", headings.open(level, text), level=level))
            else:
                blocks.append(Block(text, "para", headings.path))
        elif tag == "tbl":
            table = Table(child, document)
            rows = [" | ".join(cell.text.strip() for cell in row.cells) for row in table.rows]
            if rows:
                blocks.append(Block("\n".join(rows), "para", headings.path))
    return blocks


_PARSERS: dict[str, Callable[[bytes], list[Block]]] = {
    "text": _parse_text,
    "code": _parse_code,
    "markdown": _parse_markdown,
    "rst": _parse_rst,
    "html": _parse_html,
    "pdf": _parse_pdf,
    "docx": _parse_docx,
    "image": _parse_image,
    **OFFICE_PARSERS,
    **LEGACY_PARSERS,
}
