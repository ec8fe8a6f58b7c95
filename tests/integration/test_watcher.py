"""Freshness with real watchdog events on real folders, the daemon, and crash safety under kill -9."""

from __future__ import annotations

import json
import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from conftest import assert_private
from docgen import prose

from assistant import Assistant
from assistant.store import Store
from assistant.sync.watcher import Watcher


def wait_until(check: Callable[[], bool], timeout: float = 30.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what}")


@pytest.fixture
def watching(assistant: Assistant, library: Path) -> Iterator[tuple[Assistant, Watcher, list]]:
    (library / "seed.md").write_text("# Seed\n\nThe first note is about lanterns.\n")
    assistant.add_root(library)
    reports: list = []
    w = Watcher(assistant, debounce=0.3, max_delay=2.0, on_report=lambda r, s: reports.append(r))
    stop = threading.Event()
    t = threading.Thread(target=w.run, args=(stop,), daemon=True)
    t.start()
    wait_until(lambda: w.status.state == "watching", what="the first reconcile")
    yield assistant, w, reports
    stop.set()
    t.join(timeout=30)
    assert w.status.state == "stopped"


def paths(a: Assistant) -> set[str]:
    return {Path(d.path).name for d in a.documents() if d.status == "ok"}


def found(a: Assistant, text: str, query: str | None = None) -> bool:
    return any(text in h.text for h in a.search(query or text, k=5))


def test_create_modify_delete_and_renames(watching, library: Path) -> None:
    a, w, reports = watching
    assert paths(a) == {"seed.md"}
    # create
    (library / "otter.md").write_text("# Otters\n\nThe otter swims at dawn near the old mill.\n")
    wait_until(lambda: found(a, "otter swims"), what="a created file")
    # modify (editor-style: write a temp file, rename it over the original)
    tmp = library / ".otter.md.swp"
    tmp.write_text("# Otters\n\nThe otter sleeps at noon under the willow.\n")
    os.replace(tmp, library / "otter.md")
    wait_until(lambda: found(a, "otter sleeps"), what="a modified file")
    assert not found(a, "otter swims", "otter swims at dawn near the mill")
    # rename a file: moved, nothing embedded
    before = sum(r.chunks_embedded for r in reports)
    (library / "otter.md").rename(library / "river-otter.md")
    wait_until(lambda: "river-otter.md" in paths(a), what="a renamed file")
    assert "otter.md" not in paths(a)
    assert sum(r.chunks_embedded for r in reports) == before
    # rename a folder holding files
    (library / "dir").mkdir()
    (library / "dir" / "inner.md").write_text("# Inner\n\nA compass points north to the glacier.\n")
    wait_until(lambda: "inner.md" in paths(a), what="a file in a new folder")
    (library / "dir").rename(library / "renamed-dir")
    wait_until(lambda: any(d.path == str(library / "renamed-dir" / "inner.md") for d in a.documents()),
               what="a renamed folder")
    assert not any("/dir/" in d.path for d in a.documents())
    # move out of the root, then delete
    outside = library.parent / "outside.md"
    (library / "river-otter.md").rename(outside)
    wait_until(lambda: "river-otter.md" not in paths(a), what="a file moved out of the root")
    (library / "seed.md").unlink()
    wait_until(lambda: "seed.md" not in paths(a), what="a deleted file")
    shutil.rmtree(library / "renamed-dir")
    wait_until(lambda: paths(a) == set(), what="a deleted folder")
    assert a.store.check() == []
    assert w.status.last_change is not None


def test_ignored_and_temp_files_are_not_indexed(watching, library: Path) -> None:
    a, w, _ = watching
    (library / ".assistantignore").write_text("drafts/\n")
    (library / "drafts").mkdir()
    (library / "drafts" / "secret.md").write_text("# Draft\n\nUnfinished words about zeppelins.\n")
    (library / "notes.md~").write_text("backup copy about zeppelins")
    (library / ".hidden.md").write_text("hidden words about zeppelins")
    (library / "real.md").write_text("# Real\n\nPublished words about airships.\n")
    wait_until(lambda: "real.md" in paths(a), what="the real file")
    time.sleep(1.0)
    assert paths(a) == {"seed.md", "real.md"}


def test_burst_of_a_thousand_files_is_coalesced(watching, library: Path) -> None:
    a, w, reports = watching
    seen = len(reports)
    burst = library / "burst"
    burst.mkdir()
    for i in range(1000):
        (burst / f"n{i:04}.txt").write_text(f"Note {i}: {prose(i, 1)}\n")
    wait_until(lambda: a.status()["documents"] == 1001, timeout=240, what="1000 files indexed")
    wait_until(lambda: w.status.queue == 0 and w.status.state == "watching", what="an idle watcher")
    docs = [d.path for d in a.documents()]
    assert len(docs) == len(set(docs)) == 1001  # each file exactly once
    syncs = [r for r in reports[seen:] if r.added]
    assert sum(r.added for r in syncs) == 1000
    assert len(syncs) <= 20, f"{len(syncs)} syncs for one burst: events were not coalesced"
    assert a.store.check() == []


def test_roots_registered_later_are_picked_up(watching, tmp_path: Path) -> None:
    a, w, _ = watching
    other = tmp_path / "other"
    other.mkdir()
    (other / "late.md").write_text("# Late\n\nA folder added while watching, about kestrels.\n")
    a.add_root(other)
    wait_until(lambda: "late.md" in paths(a), what="a newly registered root's files")
    (other / "later.md").write_text("# Later\n\nAnd a file created in it afterwards, about falcons.\n")
    wait_until(lambda: "later.md" in paths(a), what="an event in the new root")


def _cli(home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, text=True,
                          env=env, timeout=timeout)


@pytest.mark.slow  # subprocesses
def test_daemon_start_status_refuse_second_stop(home: Path, library: Path) -> None:
    (library / "a.md").write_text("# A\n\nThe daemon indexes this note about beacons.\n")
    umask = os.umask(0o022)  # the usual umask: the files and folders must still come out private
    assert _cli(home, "add", str(library)).returncode == 0
    try:
        p = _cli(home, "daemon", "start")
        assert p.returncode == 0, p.stderr
        st = json.loads(_cli(home, "daemon", "status", "--json").stdout)
        assert st["running"] and st["pid"] > 0
        second = _cli(home, "daemon", "start")
        assert second.returncode == 1 and "already running" in second.stderr
        watch = _cli(home, "watch", timeout=60)
        assert watch.returncode == 1 and "already watching" in watch.stderr
        (library / "b.md").write_text("# B\n\nWritten while the daemon runs: about semaphores.\n")
        wait_until(lambda: "b.md" in _cli(home, "docs").stdout, what="the daemon to index a new file")
        # The daemon publishes its status once the whole sync (the gate's calibration included) is done.
        wait_until(lambda: json.loads(_cli(home, "status", "--json").stdout)["daemon"]["last_change"],
                   what="the daemon to publish the change")
        status = json.loads(_cli(home, "status", "--json").stdout)
        assert status["daemon"]["running"] and status["daemon"]["last_change"]
        logs = _cli(home, "daemon", "logs").stdout
        assert "watching" in logs and "added" in logs  # by the start-up reconcile or by the event
    finally:
        stop = _cli(home, "daemon", "stop")
        os.umask(umask)
    assert stop.returncode == 0 and "stopped" in stop.stdout
    assert_private(home)  # index, WAL, lock, pid, status, logs
    assert not json.loads(_cli(home, "daemon", "status", "--json").stdout)["running"]
    assert Store(home / "index.sqlite").check() == []


def test_daemon_install_writes_a_systemd_unit(home: Path, tmp_path: Path) -> None:
    env_home = tmp_path / "xdg"
    p = subprocess.run([sys.executable, "-m", "assistant.cli", "daemon", "install"], capture_output=True, text=True,
                       env={**os.environ, "XDG_CONFIG_HOME": str(env_home)}, timeout=60)
    assert p.returncode == 0, p.stderr
    unit = (env_home / "systemd" / "user" / "assistant.service").read_text()
    assert "daemon run" in unit and f"ASSISTANT_HOME={home}" in unit and "systemctl --user enable" in p.stdout


@pytest.mark.slow  # subprocesses
def test_kill_9_at_random_moments_leaves_the_index_consistent(home: Path, library: Path) -> None:
    files = []
    for i in range(120):
        f = library / f"doc{i:03}.md"
        f.write_text(f"# Document {i}\n\n" + "\n\n".join(prose(i * 10 + j, 4) for j in range(6)) + "\n")
        files.append(f)
    env = {**os.environ, "ASSISTANT_HOME": str(home)}
    rng = random.Random(42)
    db = home / "index.sqlite"
    kills = 0
    for round_ in range(10):
        # Change the library between rounds too: edits, deletions, renames and new files.
        if round_ % 3 == 2:
            victim = rng.choice([f for f in files if f.exists()])
            victim.write_text(victim.read_text() + f"\n\nEdited in round {round_}.\n")
        # Every third run rebuilds, so there is always work to kill (reading, writing or embedding).
        rebuild = ["--rebuild"] if round_ % 3 == 1 else []
        proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "index", str(library), *rebuild], env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        time.sleep(rng.uniform(1.0, 4.0))  # start-up takes ~1 s; kill while reading, writing or embedding
        if proc.poll() is None:
            proc.send_signal(signal.SIGKILL)
            kills += 1
        proc.wait()
        if db.exists():
            s = Store(db)
            assert s.check() == [], f"round {round_}: {s.check()}"
            s.close()
    assert kills >= 5
    p = subprocess.run([sys.executable, "-m", "assistant.cli", "index", str(library), "--json"], env=env,
                       capture_output=True, text=True, timeout=600)
    assert p.returncode == 0, p.stderr
    s = Store(db)
    assert s.check() == [] and s.counts()["pending"] == 0  # chunks a kill left waiting were embedded
    docs = [r[0] for r in s.conn.execute("SELECT path FROM documents WHERE status = 'ok'")]
    assert sorted(docs) == sorted(str(f) for f in files)  # every file exactly once
    # Nothing already indexed was lost: every file's chunks are searchable by their own text.
    n_chunks = s.conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
    assert n_chunks >= 120 * 6 // 2


def test_watch_limit_falls_back_to_rescans_and_says_so(assistant: Assistant, library: Path, monkeypatch) -> None:
    """When the kernel refuses more inotify watches (watchdog raises OSError ENOSPC, as it does at
    fs.inotify.max_user_watches), the root is rescanned periodically instead. The kernel limit is
    machine-wide, so the refusal is raised at watchdog's schedule() rather than by lowering the limit."""
    import errno

    from watchdog.observers import Observer

    def refuse(self, *args, **kwargs):
        raise OSError(errno.ENOSPC, "inotify watch limit reached")

    monkeypatch.setattr(Observer, "schedule", refuse)
    (library / "a.md").write_text("# A\n\nA note about kingfishers.\n")
    assistant.add_root(library)
    w = Watcher(assistant, poll_interval=1.0)
    stop = threading.Event()
    t = threading.Thread(target=w.run, args=(stop,), daemon=True)
    t.start()
    try:
        wait_until(lambda: w.status.state == "watching", what="the first reconcile")
        assert "inotify watch limit reached" in w.status.polling[str(library)]
        (library / "b.md").write_text("# B\n\nA note about herons, found by a rescan.\n")
        wait_until(lambda: "b.md" in paths(assistant), what="a rescan to find the new file")
    finally:
        stop.set()
        t.join(timeout=30)


def test_a_mail_saved_into_a_watched_folder_brings_its_attachments(watching, library: Path, tmp_path: Path) -> None:
    from docgen import mail_message, write_pdf

    a, w, reports = watching
    write_pdf(tmp_path / "invoice.pdf", ["Invoice 2231.", "The plumber charged 185 euros for the boiler."])
    mail = mail_message("Invoice", "plumber@example.org", "Mon, 7 Dec 2026 08:00:00 +0000", "Invoice attached.",
                        [("invoice.pdf", (tmp_path / "invoice.pdf").read_bytes())])
    (library / "invoice.eml").write_bytes(mail)
    wait_until(lambda: found(a, "185 euros", "how much did the plumber charge"), what="an attachment of a new mail")
    hit = next(h for h in a.search("how much did the plumber charge", k=5) if "185 euros" in h.text)
    assert hit.path == str(library / "invoice.eml" / "invoice.pdf") and hit.location == "page 2"
    (library / "invoice.eml").unlink()
    wait_until(lambda: not any("invoice" in d.path for d in a.documents()), what="a deleted mail and its attachment")
    assert a.store.check() == []
