"""Background work: every call into the core runs in a thread worker, so the event loop never waits.

A failure inside a worker is logged and shown as a notification; it never takes the app down (a worker
that raises would otherwise end the whole app, losing the conversation on screen).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from textual import work

from assistant import printable

log = logging.getLogger("assistant.tui")

F = TypeVar("F", bound=Callable[..., Any])


def background(group: str, exclusive: bool = True) -> Callable[[F], F]:
    """`@work(thread=True)` whose exceptions become an error notification instead of a crash."""

    def decorate(fn: F) -> F:
        @functools.wraps(fn)
        def guarded(self: Any, *args: Any, **kwargs: Any) -> Any:
            try:
                return fn(self, *args, **kwargs)
            except Exception as exc:
                log.exception("%s failed", group)
                message = printable(f"{type(exc).__name__}: {exc}")
                try:
                    self.app.call_from_thread(self.app.notify, message, severity="error", timeout=10)
                except RuntimeError:  # the app is shutting down
                    pass
                return None

        return work(thread=True, exclusive=exclusive, group=group, exit_on_error=False)(guarded)  # type: ignore[return-value]

    return decorate
