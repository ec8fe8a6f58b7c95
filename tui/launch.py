"""The `assistant` console command: the core's command line, with this package's chat app plugged in
for `assistant chat` and plain `assistant` (so the core never imports the UI)."""

from __future__ import annotations

import sys

from assistant import command_line


def main(argv: list[str] | None = None) -> int:
    from tui.app import run

    return command_line(argv, chat_app=run)


if __name__ == "__main__":
    sys.exit(main())
