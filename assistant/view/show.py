"""Showing a source: the file to open, the command that shows it, running it, and the page picture."""

from __future__ import annotations

import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import AssistantError
from assistant.ingest.readers import detect_format, format_of
from assistant.ingest.readers.formats import read_head
from assistant.view.files import SourceFile, readable
from assistant.view.page import PagePicture, render_page
from assistant.view.viewer import ViewCommand, command_for

HANDOFF_S = 3.0  # a window program that returns sooner handed the file on (xdg-open): its copy is kept a while

__all__ = ["Opening", "PagePicture", "opening", "picture"]


@dataclass
class Opening:
    """A source ready to be shown: the command, and the file it opens (maybe a temporary copy)."""

    command: ViewCommand
    file: SourceFile

    def run(self, wait: bool = True, quiet: bool = False) -> int:
        """Run the command. A terminal program (editor, less) runs in the foreground and its exit code is
        returned; a window program is started on its own. A temporary copy is removed when the program
        exits (waited for here when `wait`, else in a background thread); one handed on to another
        program (xdg-open returns at once) is kept and swept an hour later by the next open. `quiet` runs a
        terminal program without this terminal (a front end that cannot give it up)."""
        if self.command.terminal:
            io = {"stdin": subprocess.DEVNULL, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
            try:
                return subprocess.call(self.command.argv, **(io if quiet else {}))  # type: ignore[call-overload]
            except OSError as exc:
                raise AssistantError(f"cannot run {self.command.argv[0]}: {exc.strerror or exc}") from exc
            finally:
                self.file.remove()
        try:
            proc = subprocess.Popen(self.command.argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL, start_new_session=True)
        except OSError as exc:
            self.file.remove()
            raise AssistantError(f"cannot run {self.command.argv[0]}: {exc.strerror or exc}") from exc
        if self.file.temporary:
            started = time.monotonic()

            def reap() -> None:
                proc.wait()
                if time.monotonic() - started > HANDOFF_S:
                    self.file.remove()

            if wait:
                reap()
            else:
                threading.Thread(target=reap, name="viewer", daemon=True).start()
        return 0


def _format(path: Path) -> str | None:
    try:
        return format_of(path, read_head(path))
    except OSError:
        return detect_format(path)


def opening(indexed_path: str, page: int | None, line: int | None, viewer: str = "", dry: bool = False) -> Opening:
    """The Opening for a source at `indexed_path` (see Assistant.open_source)."""
    file = readable(indexed_path)
    try:
        return Opening(command_for(str(file.path), _format(file.path), page, line, viewer, dry=dry), file)
    except AssistantError:
        file.remove()
        raise


def picture(indexed_path: str, page: int | None, passages: list[str], out: Path, scanned: bool) -> PagePicture:
    """The page picture of a source (see Assistant.page_picture)."""
    file = readable(indexed_path)
    try:
        try:
            data = file.path.read_bytes()
        except OSError as exc:
            raise AssistantError(f"cannot read {file.path}: {exc.strerror or exc}") from exc
        fmt = format_of(file.path, data) or "unknown"
        return render_page(data, fmt, page, passages, out, scanned)
    finally:
        file.remove()
