"""The program that shows a source at the cited place, and whether there is a desktop to show it on.

Text, code and Markdown open in $VISUAL / $EDITOR at the cited line (`less` without one): they run in
the terminal. A PDF opens at its page: the `viewer` setting (a command with {path} and {page}) when
set, else the first known viewer on PATH with its own page flag, else the platform's opener (xdg-open,
macOS open), which cannot be told a page. Everything else goes to the platform's opener.
"""

from __future__ import annotations

import os
import shlex
import shutil
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from assistant.errors import AssistantError

TERMINAL_FORMATS = frozenset({"text", "markdown", "rst", "code", "html"})
# Known PDF viewers and how each is told the page (1-based): the first one on PATH is used.
PAGE_FLAGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("zathura", ("--page={page}", "{path}")),
    ("evince", ("--page-index={page}", "{path}")),
    ("okular", ("--page", "{page}", "{path}")),
    ("atril", ("--page-index={page}", "{path}")),
    ("qpdfview", ("{path}#{page}",)),
    ("mupdf", ("{path}", "{page}")),
    ("xpdf", ("{path}", "{page}")),
)


@dataclass(frozen=True)
class ViewCommand:
    """How to show a source: `argv` to run; `terminal` when it runs in this terminal (an editor, less)
    rather than in a window; `page_shown` when the program is told the cited page."""

    argv: list[str]
    terminal: bool
    page_shown: bool = False


def has_desktop(env: Mapping[str, str] | None = None, platform: str | None = None) -> bool:
    """Whether a window can be shown: a display on Linux and the BSDs; on macOS, not over SSH."""
    env = os.environ if env is None else env
    platform = platform or sys.platform
    if platform == "darwin":
        return not (env.get("SSH_CONNECTION") or env.get("SSH_TTY"))
    return bool(env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"))


def opener(platform: str | None = None, which: Callable[[str], str | None] = shutil.which) -> str | None:
    """The platform's own 'open this file' program, if it has one on PATH."""
    return which("open" if (platform or sys.platform) == "darwin" else "xdg-open")


def command_for(path: str, fmt: str | None, page: int | None = None, line: int | None = None,
                viewer: str = "", env: Mapping[str, str] | None = None, platform: str | None = None,
                which: Callable[[str], str | None] = shutil.which, dry: bool = False) -> ViewCommand:
    """The command that shows `path` (of format `fmt`) at `page` or `line`. A `viewer` you configured for PDFs
    runs whether or not there is a desktop (a terminal PDF viewer, a script: you know what it needs). With
    `dry` (`open --print`), the command is given as it would run on a desktop even when there is none.

    Raises:
        AssistantError: it needs a window and there is no desktop (over SSH, a bare console), or the
            platform has no opener; the message says what to do instead.
    """
    env = os.environ if env is None else env
    if fmt in TERMINAL_FORMATS or fmt is None:
        editor = env.get("VISUAL") or env.get("EDITOR")
        args = [f"+{line or 1}", path]
        return ViewCommand(shlex.split(editor) + args if editor else ["less", *args], terminal=True)
    desktop = has_desktop(env, platform)
    if fmt == "pdf" and viewer.strip():  # the user's own viewer: without a desktop it runs in this terminal
        return ViewCommand([a.format(path=path, page=page or 1) for a in shlex.split(viewer)], not desktop,
                           "{page}" in viewer)
    if not desktop and not dry:
        hint = "`assistant page` draws the cited page as a PNG you can copy over" if fmt == "pdf" else \
            "copy the file to a machine with a desktop"
        raise AssistantError(f"no desktop to open {os.path.basename(path)} on (no DISPLAY or WAYLAND_DISPLAY; "
                             f"over SSH?): {hint}")
    if fmt == "pdf":
        for name, flags in PAGE_FLAGS:
            exe = which(name)
            if exe:
                return ViewCommand([exe, *(f.format(path=path, page=page or 1) for f in flags)], False, True)
    exe = opener(platform, which)
    if not exe:
        raise AssistantError("no program to open it with: install xdg-utils (xdg-open), or set the viewer "
                             "setting to a command with {path} (and {page} for PDFs)")
    return ViewCommand([exe, path], terminal=False)
