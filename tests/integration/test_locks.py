"""One writer at a time: the advisory writer lock, IndexBusyError, and forget() waiting its turn."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest

from assistant import Assistant, IndexBusyError
from assistant.store.locks import writer_lock


def test_a_second_writer_is_told_who_holds_the_lock(home: Path) -> None:
    index = home / "index.sqlite"
    told: list[dict] = []
    with writer_lock(index, "daemon"):
        busy = rf"another process is writing to the index \(daemon, pid {os.getpid()}\)"
        with pytest.raises(IndexBusyError, match=busy), writer_lock(index, "index", wait=0.3, on_wait=told.append):
            pass
    assert told == [told[0]] and told[0]["role"] == "daemon" and told[0]["pid"] == os.getpid()
    with writer_lock(index, "index", wait=0.3):  # released: the next writer gets it at once
        pass


def test_forget_waits_for_the_writer_lock(assistant: Assistant, library: Path) -> None:
    (library / "a.md").write_text("# A\n\nA note about kestrels.\n")
    assistant.index([library])
    holding, release, order = threading.Event(), threading.Event(), []

    def other_writer() -> None:
        with writer_lock(assistant.settings.paths.index_file, "watcher"):
            holding.set()
            release.wait(30)
            order.append("writer done")

    t = threading.Thread(target=other_writer)
    t.start()
    holding.wait(30)
    timer = threading.Timer(0.5, release.set)
    timer.start()
    removed = assistant.forget(library / "a.md")  # blocks until the other writer is done
    order.append("forget done")
    t.join()
    assert removed == 1 and order == ["writer done", "forget done"]
    assert [d.path for d in assistant.documents()] == []


@pytest.mark.slow  # subprocesses
def test_a_second_index_run_says_it_waits_for_the_first(home: Path, library: Path) -> None:
    """Two `index` runs at once: the second showed "reading: 0file" for ~19 s and never said it was waiting."""
    import subprocess
    import sys
    import time

    (library / "a.md").write_text("# A\n\nA note about kestrels.\n")
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    home.mkdir(parents=True, exist_ok=True)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from assistant.store.locks import writer_lock\n"
        f"with writer_lock({str(home / 'index.sqlite')!r}, 'daemon'):\n"
        "    print('held', flush=True); time.sleep(3)")], stdout=subprocess.PIPE, text=True, env=env)
    assert holder.stdout.readline().strip() == "held"
    start = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "assistant.cli", "index", str(library)], capture_output=True,
                       text=True, env=env, timeout=120)
    holder.wait(30)
    assert p.returncode == 0 and time.monotonic() - start >= 1.0
    assert f"waiting: daemon (pid {holder.pid}) is writing to this index" in p.stderr, p.stderr
    assert "added 1" in p.stdout
