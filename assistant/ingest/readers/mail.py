""".eml and .mbox: each message under "subject — from — date" (an mbox cites its messages by line range);
readable attachments are documents of their own (path: the mail file's path, then "/NAME", or
"/message N/NAME" in an mbox), read with their own reader, cited as "attachment NAME of message SUBJECT"."""

from __future__ import annotations

import email
import email.policy
import re
from email.message import EmailMessage
from pathlib import PurePosixPath

from assistant.errors import DocumentError
from assistant.ingest.readers.common import clean, corrupt
from assistant.ingest.readers.containers import ReadContext
from assistant.ingest.readers.formats import detect_format
from assistant.ingest.readers.markup import parse_html
from assistant.types import Block


def parse_eml(data: bytes, ctx: ReadContext) -> list[Block]:
    return _message_blocks(data, None, None, None, ctx)


def parse_mbox(data: bytes, ctx: ReadContext) -> list[Block]:
    """Messages of an mbox file (split at its "From " lines), each cited by its line range."""
    lines = data.split(b"\n")
    starts = [i for i, line in enumerate(lines) if line.startswith(b"From ") and (i == 0 or not lines[i - 1].strip())]
    if not starts:
        raise DocumentError("not an mbox file (no message starts with a 'From ' line)")
    blocks: list[Block] = []
    for n, start in enumerate(starts):
        end = starts[n + 1] if n + 1 < len(starts) else len(lines)
        raw = b"\n".join(lines[start + 1 : end]).replace(b"\n>From ", b"\nFrom ")
        blocks += _message_blocks(raw, n + 1, start + 1, end, ctx)
    return blocks


def _message_blocks(data: bytes, number: int | None, first: int | None, last: int | None, ctx: ReadContext
                    ) -> list[Block]:
    try:
        msg = email.message_from_bytes(data, policy=email.policy.default)
    except Exception as exc:  # the email package on malformed input
        raise corrupt("message", exc) from exc
    if not isinstance(msg, EmailMessage) or not (msg.get("From") or msg.get("Subject")):
        raise DocumentError("not an e-mail message (no From or Subject header)")
    subject = clean(str(msg.get("Subject") or "(no subject)"))
    heading = (" — ".join(clean(str(v)) for v in (subject, msg.get("From"), msg.get("Date")) if v),)
    blocks: list[Block] = []
    body = msg.get_body(preferencelist=("plain", "html"))
    if body is not None:
        try:
            content = body.get_content()
        except (LookupError, ValueError, AssertionError):
            content = body.get_payload(decode=True).decode("utf-8", "replace") if body.get_payload(decode=True) else ""
        if body.get_content_subtype() == "html":
            text_blocks = parse_html(str(content).encode("utf-8"))
            paras = [b.text for b in text_blocks]
        else:
            paras = [p.strip() for p in re.split(r"\n\s*\n", str(content)) if p.strip()]
        blocks += [Block(p, "para", heading, None, first, last) for p in paras]
    names = []
    for index, part in enumerate(msg.iter_attachments(), start=1):
        name = PurePosixPath((part.get_filename() or "").replace("\\", "/")).name.strip() or f"attachment {index}"
        names.append(name)
        fmt = detect_format(PurePosixPath(name))  # type: ignore[arg-type]
        payload = part.get_payload(decode=True)
        if fmt is not None and payload:
            ctx.attach(f"message {number}/{name}" if number else name, f"attachment {name} of message {subject}",
                    fmt, payload)
    if names:
        blocks.append(Block("Attached: " + ", ".join(names), "para", heading, None, first, last))
    if not blocks:
        blocks.append(Block(subject, "para", heading, None, first, last))
    return blocks


READERS = {"eml": parse_eml, "mbox": parse_mbox}
