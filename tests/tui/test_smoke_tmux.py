"""Smoke test: the real `assistant` app in a real terminal (tmux), with the real models."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.slow,  # a real terminal, subprocesses
              pytest.mark.skipif(shutil.which("tmux") is None, reason="needs tmux (install.sh --dev installs it)")]


def screen(name: str) -> str:
    return subprocess.run(["tmux", "capture-pane", "-t", name, "-p"], capture_output=True, text=True).stdout


def wait_for(name: str, text: str, timeout: float = 90) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = screen(name)
        if text in shown:
            return shown
        time.sleep(0.3)
    raise AssertionError(f"{text!r} never appeared on screen:\n{screen(name)}")


def test_type_a_question_read_the_answer_and_quit(home: Path, library: Path) -> None:
    (library / "lighthouse.md").write_text("# Skerry Island lighthouse\n\nThe lighthouse on Skerry Island was built "
                                           "in 1874 by the engineer Margaret Hale.\n")
    env = {**os.environ, "ASSISTANT_HOME": str(home), "TERM": "xterm-256color"}
    subprocess.run([sys.executable, "-m", "assistant.cli", "index", str(library)], env=env, check=True,
                   capture_output=True, timeout=300)
    name = f"assistant-smoke-{os.getpid()}"
    cmd = f"{sys.executable} -m tui chat; echo EXITED-$?; sleep 30"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "100", "-y", "30",
                    *[f"-e{k}={v}" for k, v in env.items() if k.startswith(("ASSISTANT_", "TERM"))], cmd],
                   check=True, env=env)
    try:
        wait_for(name, "Ask about your documents", timeout=60)
        subprocess.run(["tmux", "send-keys", "-t", name, "Who built the lighthouse on Skerry Island?", "Enter"],
                       check=True)
        wait_for(name, "tok/s", timeout=120)  # the answer finished streaming
        shown = wait_for(name, "lighthouse.md", timeout=30)  # its source is listed
        assert "Who built the lighthouse on Skerry Island?" in shown and "**" not in shown  # bold, not asterisks
        assert "Traceback" not in shown
        subprocess.run(["tmux", "send-keys", "-t", name, "C-q"], check=True)
        wait_for(name, "EXITED-0", timeout=30)
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)


QUIT_WHILE_LOADING = """
import threading
from assistant import Assistant, Settings
from tui.app import run

class LoadsForever(Assistant):
    def warm_up(self):
        threading.Event().wait()  # a model that never finishes loading

run(LoadsForever(Settings.load()))
"""


def test_ctrl_q_quits_at_once_while_a_model_loads(home: Path, tmp_path: Path) -> None:
    """The process ends on Ctrl+Q although a worker thread never returns (it would hang forever if the
    app waited for its threads, as asyncio.run() does)."""
    script = tmp_path / "loads_forever.py"
    script.write_text(QUIT_WHILE_LOADING)
    env = {**os.environ, "ASSISTANT_HOME": str(home), "TERM": "xterm-256color",
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    name = f"assistant-quit-{os.getpid()}"
    cmd = f"{sys.executable} {script}; echo EXITED-$?; sleep 30"
    subprocess.run(["tmux", "new-session", "-d", "-s", name, "-x", "100", "-y", "30",
                    *[f"-e{k}={v}" for k, v in env.items() if k.startswith(("ASSISTANT_", "TERM", "PYTHONPATH"))],
                    cmd], check=True, env=env)
    try:
        wait_for(name, "Ask about your documents", timeout=60)
        subprocess.run(["tmux", "send-keys", "-t", name, "C-q"], check=True)
        shown = wait_for(name, "EXITED-0", timeout=30)
        assert "Traceback" not in shown
    finally:
        subprocess.run(["tmux", "kill-session", "-t", name], capture_output=True)
