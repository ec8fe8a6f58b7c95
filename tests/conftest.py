"""Shared fixtures. Every test gets its own ASSISTANT_HOME; the real embedding model loads once."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MODELS = Path(os.environ.get("ASSISTANT_MODELS_DIR", REPO / "models"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

os.environ.setdefault("HF_HUB_OFFLINE", "1")


@pytest.fixture(autouse=True)
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private state folder for each test; no test touches the user's real config or index."""
    h = tmp_path / "home"
    monkeypatch.setenv("ASSISTANT_HOME", str(h))
    monkeypatch.setenv("ASSISTANT_MODELS_DIR", str(MODELS))
    for var in list(os.environ):
        if var.startswith("ASSISTANT_") and var not in ("ASSISTANT_HOME", "ASSISTANT_MODELS_DIR"):
            monkeypatch.delenv(var)
    return h


@pytest.fixture(scope="session")
def embedder():
    """The real default embedding model (all-MiniLM-L6-v2) on the default backend (its int8 ONNX export,
    made by install.sh), loaded once per test session."""
    from assistant.ingest.embedding import load_embedder

    path = MODELS / "all-MiniLM-L6-v2"
    if not path.exists():
        pytest.fail(f"default embedding model missing at {path}: run ./install.sh")
    return load_embedder(path, "auto", threads=2)


@pytest.fixture
def assistant(home: Path, embedder):
    from assistant import Assistant, Settings

    a = Assistant(Settings.load(), embedder=embedder)
    yield a
    a.close()


@pytest.fixture
def library(tmp_path: Path) -> Path:
    d = tmp_path / "library"
    d.mkdir()
    return d


def run_cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    from assistant.cli import main

    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def run_cli_json(*args: str, capsys: pytest.CaptureFixture[str]):
    code, out, err = run_cli(*args, "--json", capsys=capsys)
    assert code == 0, err
    return json.loads(out)


@pytest.fixture(scope="session")
def generator():
    """The real default chat model (SmolLM2-135M-Instruct Q4_1), loaded once per test session."""
    from assistant.answer.generation import LlamaCppGenerator

    path = MODELS / "SmolLM2-135M-Instruct.Q4_1.gguf"
    if not path.exists():
        pytest.fail(f"default chat model missing at {path}: run ./install.sh")
    return LlamaCppGenerator(path, n_ctx=4096, threads=2)


@pytest.fixture
def answering(home: Path, embedder, generator):
    from assistant import Assistant, Settings

    a = Assistant(Settings.load({"temperature": 0.0, "seed": 0, "answer_tokens": 96}), embedder=embedder,
                  generator=generator)
    yield a
    a.close()


def assert_private(folder: Path) -> None:
    """Every folder under `folder` (itself included) is 0700 and every file 0600."""
    import stat

    wrong = []
    for p in [folder, *folder.rglob("*")]:
        mode = stat.S_IMODE(p.lstat().st_mode)
        if p.is_symlink():
            continue
        want = 0o700 if p.is_dir() else 0o600
        if mode != want:
            wrong.append(f"{p.relative_to(folder.parent)}: {oct(mode)}")
    assert not wrong, "not private: " + ", ".join(wrong)
