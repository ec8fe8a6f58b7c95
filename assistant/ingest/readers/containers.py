"""Files inside files (mail attachments, archive members, documents embedded in a legacy Office file):
a reader hands each one to `attach`, which reads it as a document of its own with the parser of the
registry (given in the ReadContext readers.parse hands every reader) and collects it for the caller."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import PurePath, PurePosixPath

from assistant.errors import DocumentError, NoTextError
from assistant.ingest.ocr import OcrOptions
from assistant.types import Attachment, Block, Document

Parse = Callable[[PurePath, bytes, str, "ReadContext"], Document]
Reader = Callable[[bytes, "ReadContext"], list[Block]]


def plain(read: Callable[[bytes], list[Block]]) -> Reader:
    """A reader that needs nothing but the bytes, as the registry calls readers."""
    return lambda data, _ctx: read(data)


@dataclass
class ReadContext:
    """What a reader is given besides a file's bytes (readers.parse makes one per file): how scanned pages are
    read, and, for the files found inside this one (mail attachments, archive members, documents embedded in a
    legacy Office file), the parser that reads them and the list they are collected in."""

    ocr: OcrOptions = field(default_factory=OcrOptions)
    parse: Parse | None = None  # the registry's parser (without it, a reader's attachments are not read)
    attachments: list[Attachment] | None = None
    # When set (by member_bytes), the bytes of each file found inside this one, by attachment name: how a cited
    # attachment or archive member is taken out again to be opened.
    payloads: dict[str, bytes] | None = None
    depth: int = 0  # archives this file is inside of

    def attach(self, name: str, label: str, fmt: str, payload: bytes) -> None:
        """Read an attachment as a document of its own, its blocks under its label, and collect it (with the
        attachments it carries itself, below its name). A name already taken gets " (2)"."""
        found, parse = self.attachments, self.parse
        if found is None or parse is None:
            return
        taken = {a.name for a in found}
        stem, dot, ext = name.rpartition(".") if "." in PurePosixPath(name).name else (name, "", "")
        n = 2
        while name in taken:
            name = f"{stem} ({n}){dot}{ext}"
            n += 1
        if self.payloads is not None:
            self.payloads.setdefault(name, payload)
        digest = hashlib.sha256(payload).hexdigest()
        # The files inside this one are named below it (member_bytes asks for them again): no payloads.
        inner = ReadContext(OcrOptions(enabled=self.ocr.enabled), parse, None, None, self.depth)
        try:
            doc = parse(PurePosixPath(PurePosixPath(name).name), payload, fmt, inner)
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
        blocks = tuple(replace(b, heading=(label, *b.heading)) for b in doc.blocks)
        found.append(Attachment(name, label, fmt, len(payload), digest, Document(doc.path, fmt, blocks)))
        for attached in doc.attachments:
            found.append(replace(attached, name=f"{name}/{attached.name}"))

    def attach_error(self, name: str, label: str, fmt: str, size: int, error: str) -> None:
        """A file inside this one that cannot be read: reported as an error of its own."""
        if self.attachments is not None:
            self.attachments.append(Attachment(name, label, fmt, size, hashlib.sha256(error.encode()).hexdigest(),
                                               error=error))
