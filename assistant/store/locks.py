"""One writer at a time per index: an advisory lock (flock) on a file beside the database.

The holder writes its pid and role into the lock file so others can say who is writing. The lock dies
with its process, so a killed writer never leaves a stale lock behind. Readers never take it (WAL).
"""

from __future__ import annotations

import errno
import fcntl
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from assistant.errors import IndexBusyError, IndexWriteError
from assistant.paths import private_dir


def written(exc: OSError) -> str:
    """Why a write failed, with what to do: a full disk and a read-only folder say so plainly."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full; free some space and run the same command again"
    if exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM):
        return f"{exc.strerror} (a read-only file system, or no permission); check the folder"
    return exc.strerror or str(exc)


def _holder(path: Path) -> dict[str, Any]:
    try:
        return dict(json.loads(path.read_text() or "{}"))
    except (OSError, ValueError):
        return {}


@contextmanager
def writer_lock(
    index_file: Path, role: str, wait: float = 600.0, on_wait: Callable[[dict[str, Any]], None] | None = None
) -> Iterator[None]:
    """Hold the index's writer lock for the duration of the block.

    Waits up to `wait` seconds for another writer (calling on_wait once with its pid and role).

    Raises:
        IndexBusyError: another writer kept the lock longer than `wait`.
    """
    path = Path(str(index_file) + ".lock")
    try:
        private_dir(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise IndexWriteError(f"cannot write beside the index in {path.parent}: {written(exc)}") from exc
    try:
        deadline = time.monotonic() + wait
        told = False
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if not told and on_wait:
                    on_wait(_holder(path))
                    told = True
                if time.monotonic() >= deadline:
                    h = _holder(path)
                    raise IndexBusyError(
                        f"another process is writing to the index ({h.get('role', 'unknown')}, pid "
                        f"{h.get('pid', '?')}); try again when it has finished") from None
                time.sleep(0.1)
        try:  # who holds it, for the others to say: a nicety (the lock is the flock), so a full disk is no error
            os.ftruncate(fd, 0)
            os.pwrite(fd, json.dumps({"pid": os.getpid(), "role": role, "since": time.time()}).encode(), 0)
        except OSError:
            pass
        try:
            yield
        finally:
            try:
                os.ftruncate(fd, 0)
            except OSError:
                pass
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


# --- answering: the signal that makes indexing in every process step aside while an answer is generated --

def _answering_path(index_file: Path) -> Path:
    return Path(str(index_file) + ".answering")


@contextmanager
def answering(index_file: Path) -> Iterator[None]:
    """Say, for the duration of the block, that this process is generating an answer from the index.

    A shared lock on a file beside the index: any number of answering processes hold it at once, it dies
    with its process (a killed answer never leaves indexing paused), and `answer_in_progress` sees it from
    every other process, the daemon's included. Without a writable state folder it does nothing.
    """
    path = _answering_path(index_file)
    try:
        private_dir(path.parent)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError:
        yield
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)  # releases the lock


def answer_in_progress(index_file: Path) -> bool:
    """Whether some process (this one included) is generating an answer from this index right now."""
    path = _answering_path(index_file)
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return False
    except BlockingIOError:
        return True
    finally:
        os.close(fd)


def wait_while_answering(index_file: Path, longest: float = 120.0, stop: Callable[[], bool] | None = None) -> float:
    """Block while an answer is being generated from this index (at most `longest` seconds, so a hung
    answer cannot stop indexing for good); returns the seconds waited."""
    start = time.monotonic()
    while answer_in_progress(index_file) and time.monotonic() - start < longest:
        if stop is not None and stop():
            break
        time.sleep(0.05)
    return time.monotonic() - start
