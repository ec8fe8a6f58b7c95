"""Where a cited source can be read: the file on disk, or a private temporary copy of the file inside a
mail or an archive ("/mail/offer.eml/price list.pdf" is the attachment "price list.pdf" of offer.eml)."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError, DocumentError
from assistant.ingest.readers import member_bytes

TEMP_PREFIX = "assistant-open-"
STALE_S = 3600.0  # a temporary copy older than this is swept the next time one is made


@dataclass(frozen=True)
class SourceFile:
    """A source's file: `path` can be read; `temporary` when it is a private copy taken out of
    `container` (then `member` is its name inside), to be removed with remove()."""

    path: Path
    temporary: bool = False
    container: Path | None = None
    member: str | None = None

    def remove(self) -> None:
        if self.temporary:
            shutil.rmtree(self.path.parent, ignore_errors=True)


def locate(indexed_path: str) -> tuple[Path, str | None]:
    """The file on disk that holds a source, and the member's name inside it (None: the file itself).

    Raises:
        AssistantError: neither the file nor a container of it exists any more.
    """
    p = Path(indexed_path)
    if p.is_file():
        return p, None
    for parent in p.parents:
        if parent.is_file():
            return parent, p.relative_to(parent).as_posix()
        if parent.is_dir():
            break
    raise AssistantError(f"{indexed_path} is no longer there (moved or deleted?); re-index with `assistant index`")


def readable(indexed_path: str) -> SourceFile:
    """The source as a file a program can open: the file itself, or a copy of the attachment or archive
    member in a private temporary folder (0700, the file 0600), named as inside its container.

    Raises:
        AssistantError: the file is gone, or its container no longer holds it.
    """
    container, member = locate(indexed_path)
    if member is None:
        return SourceFile(container)
    try:
        data = member_bytes(container, member)
    except DocumentError as exc:
        raise AssistantError(str(exc)) from exc
    except OSError as exc:
        raise AssistantError(f"cannot read {container}: {exc.strerror or exc}") from exc
    sweep()
    folder = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX))  # mkdtemp: 0700, only this user
    target = folder / (Path(member).name or "attachment")
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return SourceFile(target, True, container, member)


def sweep(older_than_s: float = STALE_S) -> int:
    """Remove temporary copies left by earlier opens (a viewer that returns at once, like xdg-open, leaves
    its copy behind for the program it started); returns how many went."""
    root = Path(tempfile.gettempdir())
    gone = 0
    now = time.time()
    for d in root.glob(f"{TEMP_PREFIX}*"):
        try:
            st = d.stat()
            if d.is_dir() and st.st_uid == os.getuid() and now - st.st_mtime > older_than_s:
                shutil.rmtree(d, ignore_errors=True)
                gone += 1
        except OSError:
            continue
    return gone
