"""Files inside files (mail attachments, archive members, documents embedded in a legacy Office file):
a reader hands each one to `attach`, which reads it as a document of its own with the parser of the
registry (set for the duration of a parse by readers.parse) and collects it for the caller."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import replace
from pathlib import PurePath, PurePosixPath

from assistant.errors import DocumentError, NoTextError
from assistant.types import Attachment, Document

Parse = Callable[[PurePath, bytes, str], Document]

# Where the readers put the files found inside the one being parsed, and the parser that reads them
# (readers.parse sets both; without them a reader's attachments are not read).
ATTACHMENTS: ContextVar[list[Attachment] | None] = ContextVar("attachments", default=None)
PARSER: ContextVar[Parse | None] = ContextVar("parser", default=None)
# When set (by member_bytes), the bytes of each file found inside the one being parsed, by attachment name:
# how a cited attachment or archive member is taken out again to be opened.
PAYLOADS: ContextVar[dict[str, bytes] | None] = ContextVar("payloads", default=None)


def attach(name: str, label: str, fmt: str, payload: bytes) -> None:
    """Read an attachment as a document of its own, its blocks under its label, and collect it for parse()
    (with the attachments it carries itself, below its name). A name already taken gets " (2)"."""
    found, parse = ATTACHMENTS.get(), PARSER.get()
    if found is None or parse is None:
        return
    taken = {a.name for a in found}
    stem, dot, ext = name.rpartition(".") if "." in PurePosixPath(name).name else (name, "", "")
    n = 2
    while name in taken:
        name = f"{stem} ({n}){dot}{ext}"
        n += 1
    payloads = PAYLOADS.get()
    if payloads is not None:
        payloads.setdefault(name, payload)
    digest = hashlib.sha256(payload).hexdigest()
    keep = PAYLOADS.set(None)  # the files inside this one are named below it; member_bytes asks for them again
    try:
        doc = parse(PurePosixPath(PurePosixPath(name).name), payload, fmt)
    except NoTextError as exc:  # a photo, an empty file: nothing to read, and not an error
        found.append(Attachment(name, label, fmt, len(payload), digest, error=str(exc), no_text=True))
        return
    except DocumentError as exc:
        found.append(Attachment(name, label, fmt, len(payload), digest, error=str(exc)))
        return
    except Exception as exc:  # a parser library failing on odd input: this attachment only
        found.append(Attachment(name, label, fmt, len(payload), digest,
                                error=f"could not parse the attachment ({type(exc).__name__}: {exc})"))
        return
    finally:
        PAYLOADS.reset(keep)
    blocks = tuple(replace(b, heading=(label, *b.heading)) for b in doc.blocks)
    found.append(Attachment(name, label, fmt, len(payload), digest, Document(doc.path, fmt, blocks)))
    for inner in doc.attachments:
        found.append(replace(inner, name=f"{name}/{inner.name}"))


def attach_error(name: str, label: str, fmt: str, size: int, error: str) -> None:
    """A file inside the one being parsed that cannot be read: reported as an error of its own."""
    found = ATTACHMENTS.get()
    if found is not None:
        found.append(Attachment(name, label, fmt, size, hashlib.sha256(error.encode()).hexdigest(), error=error))
