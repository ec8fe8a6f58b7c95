"""assistant: a private, fully offline assistant that answers questions about your own documents.

Importing this package is cheap: models load on first use. It also switches every Hugging Face library
to offline mode and turns off telemetry, so nothing ever reaches for the network.
"""

from __future__ import annotations

import os
from collections.abc import Callable

if os.name != "posix":  # the writer lock, the daemon and the watcher's signals use POSIX (fcntl, setsid)
    raise ImportError("assistant runs on Linux and macOS (POSIX systems) only; on Windows use WSL")

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY",
             "DO_NOT_TRACK", "ANONYMIZED_TELEMETRY", "TOKENIZERS_PARALLELISM"):
    os.environ.setdefault(_var, "false" if _var == "TOKENIZERS_PARALLELISM" else "1")

from assistant.config import Settings  # noqa: E402
from assistant.errors import (  # noqa: E402
    AssistantError,
    ConfigError,
    DocumentError,
    EmptyQueryError,
    IndexBusyError,
    IndexMismatchError,
    IndexWriteError,
    ModelNotFoundError,
    SqliteDriverError,
)
from assistant.paths import Paths, write_private  # noqa: E402
from assistant.service import Assistant  # noqa: E402
from assistant.sync.watcher import Watcher, WatchStatus  # noqa: E402
from assistant.text import printable, strip_ansi  # noqa: E402
from assistant.types import (  # noqa: E402
    Answer,
    ChatSummary,
    Chunk,
    Document,
    DocumentInfo,
    Evidence,
    Hit,
    IndexReport,
    SentenceCheck,
    Turn,
)
from assistant.view.show import Opening, PagePicture  # noqa: E402


def command_line(argv: list[str] | None = None, chat_app: Callable[[Assistant], None] | None = None) -> int:
    """Run the `assistant` command with these arguments; `chat_app` runs the terminal app for `assistant chat`
    (a front end passes its own, see tui.launch)."""
    from assistant.cli import main

    return main(argv, chat_app=chat_app)


def daemon_pid(settings: Settings) -> int | None:
    """The pid of the background daemon watching this index, or None."""
    from assistant.sync.daemon import running_pid

    return running_pid(settings)


__all__ = [
    "Answer", "Assistant", "AssistantError", "ChatSummary", "Chunk", "ConfigError", "Document", "DocumentError",
    "DocumentInfo", "EmptyQueryError", "Evidence", "Hit", "IndexBusyError", "IndexMismatchError", "IndexReport",
    "IndexWriteError", "ModelNotFoundError", "Opening", "PagePicture", "Paths", "SentenceCheck", "Settings",
    "SqliteDriverError", "Turn", "WatchStatus", "Watcher", "command_line", "daemon_pid", "printable", "strip_ansi",
    "write_private",
]
from assistant.version import __version__ as __version__  # noqa: E402
