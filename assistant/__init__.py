"""assistant: a private, fully offline assistant that answers questions about your own documents.

Importing this package is cheap: models load on first use. It also switches every Hugging Face library
to offline mode and turns off telemetry, so nothing ever reaches for the network.
"""

from __future__ import annotations

import os

for _var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HF_HUB_DISABLE_TELEMETRY",
             "DO_NOT_TRACK", "ANONYMIZED_TELEMETRY", "TOKENIZERS_PARALLELISM"):
    os.environ.setdefault(_var, "false" if _var == "TOKENIZERS_PARALLELISM" else "1")

from .config import Settings  # noqa: E402
from .errors import (  # noqa: E402
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
from .paths import Paths, write_private  # noqa: E402
from .service import Assistant  # noqa: E402
from .text import printable, strip_ansi  # noqa: E402
from .types import (  # noqa: E402
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
from .watcher import Watcher, WatchStatus  # noqa: E402


def daemon_pid(settings: Settings) -> int | None:
    """The pid of the background daemon watching this index, or None."""
    from .daemon import running_pid

    return running_pid(settings)


__all__ = [
    "Answer", "Assistant", "AssistantError", "ChatSummary", "Chunk", "ConfigError", "Document", "DocumentError",
    "DocumentInfo", "EmptyQueryError", "Evidence", "Hit", "IndexBusyError", "IndexMismatchError", "IndexReport",
    "IndexWriteError", "ModelNotFoundError", "Paths", "SentenceCheck", "Settings", "SqliteDriverError", "Turn",
    "WatchStatus", "Watcher", "daemon_pid", "printable", "strip_ansi", "write_private",
]
__version__ = "0.1.0"
