"""The `assistant` console command: the core's command line, with this package's chat app plugged in
for `assistant chat` and plain `assistant` (so the core never imports the UI)."""

from __future__ import annotations

import sys

from assistant import command_line


def main(argv: list[str] | None = None) -> int:
    from tui.app import run

    args = sys.argv[1:] if argv is None else argv
    if sys.stdout.isatty() and (not args or args[0] == "chat") and not set(args) & {"-h", "--help"}:
        try:  # it asks the terminal what images it can draw: only possible before the app starts
            import textual_image.widget  # noqa: F401
        except Exception:  # pragma: no cover - an old terminal, a closed stdout: pages open in a viewer
            pass

    return command_line(argv, chat_app=run)


if __name__ == "__main__":
    sys.exit(main())
