"""What a file is: the reader a name says (its extension), and what its first bytes say (as the peers
detect it). The one place that maps names and magic bytes to formats; readers/ maps formats to readers."""

from __future__ import annotations

import io
import re
import zipfile
from pathlib import PurePath

from assistant.ingest import ocr

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
ARCHIVE_NAMES = {".zip": "zip", ".tar": "tar", ".tgz": "tar", ".tar.gz": "tar", ".tbz2": "tar", ".tar.bz2": "tar",
                 ".txz": "tar", ".tar.xz": "tar", ".gz": "gz", ".bz2": "bz2", ".xz": "xz",
                 ".7z": "7z"}
OFFICE_EXTENSIONS = {".pptx": "pptx", ".xlsx": "xlsx", ".xlsm": "xlsx", ".ods": "ods", ".odt": "odt", ".rtf": "rtf",
              ".epub": "epub", ".eml": "eml", ".mbox": "mbox", ".odp": "odp"}
LEGACY_EXTENSIONS = {".xls": "xls", ".xlt": "xls", ".doc": "doc", ".dot": "doc", ".ppt": "ppt", ".pps": "ppt",
              ".pot": "ppt", ".msg": "msg"}
ARCHIVE_FORMATS = frozenset(ARCHIVE_NAMES.values())


def archive_format(name: str) -> str | None:
    """The archive reader for a file name ("report.tar.gz" -> "tar"), or None."""
    low = name.lower()
    for suffix in sorted(ARCHIVE_NAMES, key=len, reverse=True):
        if low.endswith(suffix):
            return ARCHIVE_NAMES[suffix]
    return None


def detect_format(path: PurePath) -> str | None:
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
    if ext == ".svg":
        return "svg"
    if ext in PLAIN or name in PLAIN_NAMES:
        return "text"
    if ext in CODE or name in CODE_NAMES:
        return "code"
    return None


_BINARY = frozenset({"pdf", "docx", "xlsx", "pptx", "odt", "ods", "odp", "epub", "doc", "xls", "ppt", "msg", "zip",
                     "7z", "rtf"})
_RFC822 = re.compile(rb"\A(?:(?:Return-Path|Received|From|To|Subject|Date|Message-ID|MIME-Version|Delivered-To|"
                     rb"X-[\w-]+):[^\r\n]*\r?\n){2}", re.IGNORECASE)


def sniff_format(data: bytes, text_too: bool = False) -> str | None:
    """The format a file's first bytes say it is (as the peers detect it), whatever its name says: a PDF,
    an Office, OpenDocument or e-book zip (or a plain zip), an OLE2 Office or Outlook file, RTF, HTML, an
    RFC 822 message; with text_too, plain text (UTF-8 or a legacy encoding, no NUL bytes). None if unknown."""
    head = data[:4096]
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"7z\xbc\xaf\x27\x1c"):
        return "7z"
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
        # An OpenDocument or EPUB package says what it is in its "mimetype" member (stored first). Bytes that
        # only look so (a zip holding an .odt stored uncompressed) are a plain zip: the mimetype must be its own.
        kind = _mimetype(data) if "mimetype" in names else b""
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


def read_head(path: PurePath | str) -> bytes:
    """Enough of a file's first bytes to tell its format by sniff_format: 64 KiB, or up to 64 MB of a zip or
    OLE2 container, whose directory is at its end (or anywhere, in OLE).

    Raises:
        OSError: the file cannot be read.
    """
    with open(path, "rb") as f:
        head = f.read(65536)
        if head[:4] == b"PK\x03\x04" or head[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            head += f.read(64 * 2**20)
    return head


def format_of(path: PurePath, data: bytes) -> str | None:
    """The format a file is read as: what its name says, unless its bytes say it is another binary format
    (a name that lies: "report.pdf" that is a Word file), or what its bytes say when the name says nothing.
    None if neither knows it."""
    fmt = detect_format(path)
    return sniff_format(data, text_too=True) if fmt is None else corrected_format(fmt, data)


_PACKAGES = frozenset({"docx", "xlsx", "pptx", "odt", "ods", "odp", "epub"})  # zips that are one document each


def corrected_format(fmt: str, data: bytes) -> str:
    """The format a binary file is read as: its name's, unless its bytes say it is another one ("report.pdf"
    that is a Word file). A package (an Office, OpenDocument or e-book file) whose bytes read only as a zip
    stays a package: it is one document, and when it cannot be read the file itself says why, instead of its
    parts being read as an archive's members."""
    if fmt in _BINARY:
        sniffed = sniff_format(data)
        if sniffed is not None and sniffed != fmt and not (sniffed == "zip" and fmt in _PACKAGES):
            return sniffed
    return fmt


def _mimetype(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo("mimetype")
            return zf.read(info)[:100] if info.file_size <= 200 else b""
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, RuntimeError, NotImplementedError):
        return b""
