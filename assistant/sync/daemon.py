"""The background sync service: one watcher per index, a pid file, a status file and a log file.

`run` is the daemon itself (also what `assistant watch` runs in the foreground). It holds an exclusive
lock on the pid file for its whole life, so a second daemon on the same index is refused and a killed
one leaves nothing stale. SIGTERM lets the current file's transaction finish, then it exits.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from dataclasses import asdict
from pathlib import Path
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError, IndexWriteError
from assistant.paths import touch_private, write_private
from assistant.service import Assistant
from assistant.store.locks import written
from assistant.sync.watcher import Watcher, WatchStatus
from assistant.text import SafeFormatter


class DaemonFiles:
    def __init__(self, settings: Settings) -> None:
        self.pid = settings.paths.data_dir / "daemon.pid"
        self.status = settings.paths.data_dir / "daemon.json"
        self.log = settings.paths.log_dir / "daemon.log"


def running_pid(settings: Settings) -> int | None:
    """The pid of the daemon (or `assistant watch`) holding this index, or None."""
    files = DaemonFiles(settings)
    try:
        fd = os.open(files.pid, os.O_RDONLY)
    except FileNotFoundError:
        return None
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_UN)
        return None  # nobody holds it: no daemon
    except BlockingIOError:
        try:
            return int(files.pid.read_text().strip() or 0) or None
        except (OSError, ValueError):
            return None
    finally:
        os.close(fd)


def status(settings: Settings) -> dict[str, Any]:
    """Whether a daemon runs and what it last reported."""
    pid = running_pid(settings)
    out: dict[str, Any] = {"running": pid is not None, "pid": pid}
    if pid is not None:
        try:
            data = json.loads(DaemonFiles(settings).status.read_text())
            out |= {k: data.get(k) for k in ("state", "queue", "roots", "polling", "last_change", "last_error",
                                                   "embedding")}
            out["uptime_s"] = round(time.time() - float(data.get("started_at", time.time())), 1)
        except (OSError, ValueError):
            out["state"] = "starting"
    return out


def _write_status(path: Path, st: WatchStatus) -> None:
    write_private(path, json.dumps(asdict(st)))


def run(settings: Settings, foreground_log: bool = False, nice: int = 10) -> int:
    """Watch every registered root until SIGTERM/SIGINT, logging to the daemon's log (to stdout with
    foreground_log). Refuses to start beside another daemon.

    Raises:
        AssistantError: another daemon (or `assistant watch`) already serves this index.
    """
    files = DaemonFiles(settings)
    try:
        settings.paths.ensure()
        fd = os.open(files.pid, os.O_RDWR | os.O_CREAT, 0o600)
    except OSError as exc:
        raise IndexWriteError(f"the daemon cannot write its files in {files.pid.parent}: {written(exc)}") from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        other = running_pid(settings)
        raise AssistantError(f"a daemon is already watching this index (pid {other}); "
                             "`assistant daemon status` shows what it does, `assistant daemon stop` stops it") from None
    try:
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
    except OSError as exc:
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
        raise IndexWriteError(f"the daemon cannot write its pid file {files.pid}: {written(exc)}") from exc
    handler: logging.Handler = logging.StreamHandler(sys.stdout) if foreground_log else \
        logging.FileHandler(touch_private(files.log), encoding="utf-8")
    handler.setFormatter(SafeFormatter("%(asctime)s %(levelname)s %(message)s", "%Y-%m-%d %H:%M:%S"))
    root_logger = logging.getLogger()
    root_logger.addHandler(handler)
    root_logger.setLevel(logging.INFO)
    logging.getLogger("watchdog").setLevel(logging.WARNING)
    log = logging.getLogger("assistant.daemon")
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        log.info("received %s: finishing the current file, then stopping", signal.Signals(signum).name)
        stop.set()

    old = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        if nice:
            try:
                os.nice(nice)  # polite: indexing yields the CPU to interactive work
            except OSError:
                pass
        assistant = Assistant(settings)

        def on_report(report: Any, scope: list[Path]) -> None:
            what = ", ".join(f"{n} {k}" for k, n in (("added", report.added), ("updated", report.updated),
                                                    ("removed", report.removed), ("moved", report.moved))
                             if n)
            if what or report.errors:
                where = str(scope[0]) if len(scope) == 1 else f"{len(scope)} paths"
                log.info("%s: %s; chunks embedded %d", where, what or "no change", report.chunks_embedded)
            for e in report.errors:
                log.warning("%s: %s", e["path"], e["error"])

        watcher = Watcher(assistant, on_report=on_report, on_status=lambda st: _write_status(files.status, st),
                          stop=stop)
        log.info("watching %s (pid %d)", ", ".join(assistant.roots()) or "no folders yet", os.getpid())
        watcher.run(stop)
        log.info("stopped")
        return 0
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        root_logger.removeHandler(handler)
        handler.close()
        try:
            files.status.unlink()
        except FileNotFoundError:
            pass
        os.ftruncate(fd, 0)
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def start(settings: Settings, wait: float = 60.0) -> int:
    """Start the daemon in the background and wait until it is up; returns its pid.

    Raises:
        AssistantError: a daemon already runs, or the new one died on start (its log says why).
    """
    pid = running_pid(settings)
    if pid is not None:
        raise AssistantError(f"a daemon is already running (pid {pid})")
    files = DaemonFiles(settings)
    try:
        settings.paths.ensure()
        _probe(files.status.with_name(".start-probe"))  # a full disk or a read-only folder: say so now
        log = open(touch_private(files.log), "a", encoding="utf-8")  # noqa: SIM115 - handed to the child
    except OSError as exc:
        raise IndexWriteError(f"cannot start the daemon: its folder {files.log.parent} cannot be written: "
                              f"{written(exc)}") from exc
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "daemon", "run"], stdin=subprocess.DEVNULL,
                            stdout=log, stderr=log, start_new_session=True, close_fds=True)
    log.close()
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = "".join(files.log.read_text(encoding="utf-8", errors="replace").splitlines(True)[-5:])
            if not tail.strip():  # nothing in its log: it could not even write there
                try:
                    _probe(files.status.with_name(".start-probe"))
                except OSError as exc:
                    raise IndexWriteError(f"the daemon stopped right after starting: {written(exc)}") from exc
                raise AssistantError(f"the daemon stopped right after starting and wrote nothing to {files.log}; "
                                     "run `assistant daemon run` in a terminal to see why")
            raise AssistantError(f"the daemon stopped right after starting; end of {files.log}:\n{tail}")
        st = status(settings)
        if st["running"] and st.get("state") not in (None, "starting"):
            return proc.pid
        time.sleep(0.2)
    return proc.pid


def _probe(path: Path) -> None:
    """Write and remove a small file: raises OSError when the folder cannot take one (full, read-only)."""
    try:
        with open(path, "wb") as f:
            f.write(b"\0" * 4096)
            f.flush()
            os.fsync(f.fileno())
    finally:
        path.unlink(missing_ok=True)


def stop(settings: Settings, wait: float = 60.0) -> int | None:
    """SIGTERM the daemon and wait for it to exit; returns its pid, or None when none was running."""
    pid = running_pid(settings)
    if pid is None:
        return None
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        if running_pid(settings) is None:
            return pid
        time.sleep(0.1)
    raise AssistantError(f"the daemon (pid {pid}) did not stop within {wait:g} s; `kill -9 {pid}` is safe: "
                         "the index stays consistent")


def systemd_unit(settings: Settings) -> str:
    env = f"Environment=ASSISTANT_HOME={os.environ['ASSISTANT_HOME']}\n" if os.environ.get("ASSISTANT_HOME") else ""
    return (
        "[Unit]\nDescription=assistant: keep the document index in step with your folders\n\n"
        "[Service]\nType=simple\n"
        f"ExecStart={sys.executable} -m assistant.cli daemon run\n{env}"
        "Environment=HF_HUB_OFFLINE=1\nNice=10\nRestart=on-failure\nRestartSec=5\n\n"
        "[Install]\nWantedBy=default.target\n"
    )


def install(settings: Settings) -> Path:
    base = Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config"))
    unit = base / "systemd" / "user" / "assistant.service"
    write_private(unit, systemd_unit(settings))
    return unit
