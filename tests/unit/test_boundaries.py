"""Architecture rules: the core never imports the UI, and importing it is cheap."""

from __future__ import annotations

import subprocess
import sys


def test_core_import_pulls_in_no_ui_and_no_heavy_libraries() -> None:
    code = (
        "import sys, assistant, assistant.cli, assistant.service\n"
        "bad = [m for m in ('textual', 'rich', 'tui', 'torch', 'llama_cpp', 'sentence_transformers') "
        "if m in sys.modules]\n"
        "print(bad)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_offline_switches_are_set_on_import() -> None:
    code = "import os, assistant; print(os.environ['HF_HUB_OFFLINE'], os.environ['TRANSFORMERS_OFFLINE'])"
    env = {k: v for k, v in __import__("os").environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env).stdout
    assert out.split() == ["1", "1"]
