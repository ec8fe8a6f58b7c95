"""Architecture rules: the rooms are layered (import-linter contracts in pyproject.toml), the core never
imports the UI, the UI uses only the public API, and importing the core is cheap."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


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


def test_tui_uses_only_the_public_api() -> None:
    import ast
    from pathlib import Path

    import assistant

    tui = Path(__file__).resolve().parents[2] / "tui"
    for f in tui.glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("assistant"):
                assert node.module == "assistant", f"{f.name} imports {node.module}"
                assert all(a.name in assistant.__all__ for a in node.names), f"{f.name}: {[a.name for a in node.names]}"
            if isinstance(node, ast.Import):
                assert not any(a.name.startswith("assistant.") for a in node.names), f.name


def test_import_contracts_hold() -> None:
    """pyproject.toml's import-linter contracts: layered rooms, no UI in the core, public API only for tui."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    p = subprocess.run([sys.executable, "-c", "import sys; from importlinter.cli import lint_imports; "
                        "sys.exit(lint_imports(config_filename='pyproject.toml'))"],
                       capture_output=True, text=True, cwd=root)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count("KEPT") == 4


INTERNAL = {"store", "vectors", "indexer", "embedder", "generator"}  # parts of the Assistant, not its API


def test_tui_reaches_the_core_only_through_public_methods() -> None:
    """Attribute access counts too: no `assistant.store.counts()`, no private attributes of the core."""
    import ast
    from pathlib import Path

    tui = Path(__file__).resolve().parents[2] / "tui"
    for f in tui.glob("*.py"):
        for node in ast.walk(ast.parse(f.read_text())):
            if isinstance(node, ast.Attribute) and "assistant" in ast.unparse(node.value):
                where = f"{f.name}:{node.lineno}: {ast.unparse(node)}"
                assert node.attr not in INTERNAL and not node.attr.startswith("_"), where


def test_readers_are_given_what_they_need_explicitly() -> None:
    """A reader gets the OCR options and the parser for the files inside its file in a ReadContext argument
    (readers/containers.py), never through module-wide context variables."""
    import assistant.ingest

    root = Path(assistant.ingest.__file__).parent
    assert not [p.name for p in root.rglob("*.py") if "ContextVar" in p.read_text(encoding="utf-8")]
