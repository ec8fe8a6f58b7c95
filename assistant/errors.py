"""Errors raised by the assistant core. Every message says what happened and what the user can do."""

from __future__ import annotations


class AssistantError(Exception):
    """Base class for every error the core raises on purpose."""


class ConfigError(AssistantError):
    """The configuration file or an ASSISTANT_* variable is invalid."""


class ModelNotFoundError(AssistantError):
    """A model file or folder is missing or unreadable."""


class SqliteDriverError(AssistantError):
    """No SQLite driver that can load extensions (sqlite-vec) is available."""


class IndexMismatchError(AssistantError):
    """The index was built with a different embedding model than the one configured."""


class IndexWriteError(AssistantError):
    """The index file could not be written (disk full, read-only file system)."""


class IndexBusyError(AssistantError):
    """Another process is writing to the index."""


class DocumentError(AssistantError):
    """One file could not be read or parsed; indexing records it and carries on."""


class NoTextError(DocumentError):
    """A file was read, and nothing readable is in it (a photo, a blank page): not an error, a status."""


class EmptyQueryError(AssistantError):
    """A search or question was empty."""
