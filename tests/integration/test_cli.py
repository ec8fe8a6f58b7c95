"""The `assistant` command as users and scripts run it."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import MODELS, run_cli, run_cli_json
from docgen import write_pdf

TESTS = Path(__file__).resolve().parent.parent


def test_index_search_status_docs_json(library: Path, capsys) -> None:
    (library / "a.md").write_text("# Trip\n\nThe train to Lyon leaves from platform 7.\n")
    write_pdf(library / "b.pdf", ["Nothing here.", "The invoice total is 120 euros."])
    report = run_cli_json("index", str(library), capsys=capsys)
    for key in ("added", "updated", "removed", "moved", "unchanged", "chunks_embedded", "chunks_reused"):
        assert isinstance(report[key], int), key
    assert report["added"] == 2 and report["errors"] == []

    hits = run_cli_json("search", "which platform for the train", "-k", "2", capsys=capsys)
    assert len(hits) == 2
    assert set(hits[0]) == {"path", "chunk_id", "score", "text", "heading", "page", "start_line", "end_line",
                            "relevant", "relevance", "cosine", "bm25_rank", "vector_rank", "ocr", "rerank_score",
                            "named"}
    assert hits[0]["relevant"] is True
    assert hits[0]["path"] == str(library / "a.md") and os.path.isabs(hits[0]["path"])
    assert (hits[0]["heading"], hits[0]["start_line"], hits[0]["page"]) == ("Trip", 3, None)
    assert hits[0]["score"] >= hits[1]["score"]
    pdf_hit = run_cli_json("search", "invoice total", "-k", "1", capsys=capsys)[0]
    assert (pdf_hit["page"], pdf_hit["start_line"]) == (2, None)

    status = run_cli_json("status", capsys=capsys)
    assert {"documents", "chunks", "errors", "index_path", "embedding_model", "llm_model"} <= set(status)
    assert (status["documents"], status["errors"], status["embedding_model"]) == (2, 0, "all-MiniLM-L6-v2")

    docs = run_cli_json("docs", capsys=capsys)
    assert sorted(Path(d["path"]).name for d in docs) == ["a.md", "b.pdf"]

    code, out, _ = run_cli("search", "train platform", capsys=capsys)
    assert code == 0 and "[1]" in out and "a.md" in out and "lines 3-3" in out

    assert status["index_bytes"] > 0 and status["reclaimable_bytes"] >= 0 and "vector_file_bytes" in status
    run_cli_json("forget", str(library / "b.pdf"), capsys=capsys)
    compacted = run_cli_json("compact", capsys=capsys)
    assert 0 < compacted["index_bytes"] <= status["index_bytes"] and compacted["freed_bytes"] >= 0
    assert run_cli_json("search", "which platform", "-k", "1", capsys=capsys)[0]["path"] == str(library / "a.md")


def test_no_argument_index_uses_the_sample_library(capsys) -> None:
    report = run_cli_json("index", capsys=capsys)
    assert report["added"] >= 3
    hits = run_cli_json("search", "how does incremental sync work", capsys=capsys)
    assert "sample" in hits[0]["path"]


def test_errors_are_clear_and_exit_nonzero(library: Path, capsys) -> None:
    code, _, err = run_cli("search", "   ", capsys=capsys)
    assert code == 1 and "query is empty" in err
    code, _, err = run_cli("index", str(library / "missing"), capsys=capsys)
    assert code == 1 and "no such file or folder" in err
    assert "Traceback" not in err


def test_paths_and_doctor(home: Path, capsys) -> None:
    paths = run_cli_json("paths", capsys=capsys)
    assert paths["index_file"] == str(home / "index.sqlite")
    assert paths["models_dir"] == str(MODELS)
    checks = run_cli_json("doctor", capsys=capsys)
    assert all(c["ok"] for c in checks), [c for c in checks if not c["ok"]]
    assert {c["name"] for c in checks} >= {"sqlite driver", "fts5", "sqlite-vec", "embedding model", "chat model"}


def test_help_explains_every_command() -> None:
    out = subprocess.run([sys.executable, "-m", "assistant.cli", "--help"], capture_output=True, text=True).stdout
    for word in ("index", "search", "status", "docs", "forget", "doctor", "paths", "ASSISTANT_HOME"):
        assert word in out


@pytest.mark.slow  # subprocesses
def test_index_and_search_with_network_blocked(home: Path, library: Path) -> None:
    (library / "a.md").write_text("# Keys\n\nThe spare key is in the red box.\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HF_", "TRANSFORMERS_"))}
    for args in (["index", str(library), "--json"], ["search", "where is the spare key", "--json"]):
        p = subprocess.run([sys.executable, str(TESTS / "netblock.py"), *args], capture_output=True, text=True,
                           env=env, timeout=300)
        assert p.returncode == 0, p.stderr
        assert "NETWORK-ATTEMPT" not in p.stderr, p.stderr
    assert "red box" in json.loads(p.stdout)[0]["text"]


@pytest.mark.slow  # subprocesses
@pytest.mark.skipif(os.geteuid() != 0 or not shutil.which("setpriv"), reason="needs root and util-linux setpriv")
def test_unreadable_file_as_root_without_override_capabilities(library: Path) -> None:
    """Root reads every file, so the run drops CAP_DAC_OVERRIDE/READ_SEARCH: permissions then apply."""
    (library / "ok.txt").write_text("Readable words about otters.\n")
    secret = library / "secret.txt"
    secret.write_text("nobody may read this")
    secret.chmod(0)
    caps = "-dac_override,-dac_read_search"
    p = subprocess.run(["setpriv", f"--inh-caps={caps}", f"--bounding-set={caps}",
                        sys.executable, "-m", "assistant.cli", "index", str(library), "--json"],
                       capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stderr
    report = json.loads(p.stdout)
    assert report["added"] == 1
    assert [(Path(e["path"]).name, "Permission denied" in e["error"]) for e in report["errors"]] == [
        ("secret.txt", True)]


def _can_mount() -> bool:
    return os.geteuid() == 0 and shutil.which("unshare") is not None and subprocess.run(
        ["unshare", "-m", "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt"], capture_output=True).returncode == 0


@pytest.mark.slow  # subprocesses
@pytest.mark.skipif(not _can_mount(), reason="needs root, unshare and tmpfs mounts")
def test_full_disk_gives_a_clear_error_and_keeps_what_was_indexed(tmp_path: Path) -> None:
    """A real full disk: the index lives on a 3 MB tmpfs (private to a mount namespace)."""
    from docgen import prose

    lib = tmp_path / "lib"
    lib.mkdir()
    for i in range(60):
        (lib / f"d{i:02}.md").write_text(f"# D{i}\n\n" + "\n\n".join(prose(i * 10 + j, 5) for j in range(8)))
    home = tmp_path / "home"
    home.mkdir()
    py = sys.executable
    check = (f"{py} -c \"from assistant.store import Store; s = Store('{home}/index.sqlite', readonly=True); "
             "print('CHECK', s.check(), s.counts()['documents'])\"")
    script = f"""
        mount -t tmpfs -o size=3m tmpfs {home}
        export ASSISTANT_HOME={home}
        {py} -m assistant.cli index {lib} --json > /dev/null 2> {tmp_path}/err.txt; echo "FIRST=$?"
        {check}
        {py} -m assistant.cli index {lib} --json > /dev/null 2> {tmp_path}/again.txt; echo "AGAIN=$?"
        {py} -m assistant.cli daemon start > /dev/null 2> {tmp_path}/daemon.txt; echo "DAEMON=$?"
        mount -o remount,size=64m {home}
        {py} -m assistant.cli index {lib} --json > {tmp_path}/second.json; echo "SECOND=$?"
        {check}
    """
    p = subprocess.run(["unshare", "-m", "bash", "-c", script], capture_output=True, text=True, timeout=600)
    out = p.stdout
    assert "FIRST=1" in out, out + p.stderr
    err = (tmp_path / "err.txt").read_text()
    assert "disk is full" in err and "files already indexed are kept" in err and "Traceback" not in err
    # Run again on the still full disk: the same clear line (it was a raw OSError from the writer lock), and the
    # daemon says why it cannot start (it said only "stopped right after starting", with an empty log).
    again, daemon = (tmp_path / "again.txt").read_text(), (tmp_path / "daemon.txt").read_text()
    assert "AGAIN=1" in out and "Traceback" not in again and "disk is full" in again, again
    assert "DAEMON=1" in out and "Traceback" not in daemon and "disk is full" in daemon, daemon
    first_check, second_check = [line for line in out.splitlines() if line.startswith("CHECK")]
    kept = int(first_check.split()[-1])
    assert first_check.startswith("CHECK []") and 0 < kept < 60  # consistent, with the work done so far
    assert "SECOND=0" in out
    assert second_check == "CHECK [] 60"
    assert json.loads((tmp_path / "second.json").read_text())["added"] == 60 - kept


@pytest.mark.slow  # subprocesses
def test_no_escape_sequence_reaches_the_terminal_and_coloured_logs_are_text(home: Path, library: Path) -> None:
    """File names and document text with escape sequences in them: the CLI prints none (checked as bytes),
    and a coloured log (a CI log, a `script` capture) is indexed as the text it shows."""
    (library / "dock\x1b[31mred.txt").write_bytes(b"\x00\x01binary\x00" * 50)  # refused: its name is printed
    (library / "ci\x1b]0;pwned\x07.log").write_bytes(
        b"\x1b[1;32m[ ok ]\x1b[0m fetched sources\r\n\x1b[31mERROR\x1b[0m the kestrel build failed at step 7: "
        b"\x1b[4mdisk quota exceeded\x1b[24m on volume tern\r\n")
    env = {**os.environ, "ASSISTANT_HOME": str(home)}

    def cli(*args: str) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([sys.executable, "-m", "assistant.cli", *args], capture_output=True, env=env,
                              timeout=300)

    runs = [cli("index", "-v", str(library)), cli("search", "why did the kestrel build fail"), cli("docs"),
            cli("search", "kestrel build", "--json"), cli("forget", str(library / "dock\x1b[31mred.txt"))]
    for p in runs:
        assert b"\x1b" not in p.stdout and b"\x1b" not in p.stderr and b"\x07" not in p.stdout, p.args
    index, search, docs, as_json = runs[0], runs[1], runs[2], runs[3]
    assert b"library/dockred.txt: " in index.stdout and b"binary content" in index.stdout  # the error line, made safe
    assert b"errors 0" not in index.stdout
    hits = json.loads(as_json.stdout)
    assert hits[0]["path"].endswith(".log") and "ERROR the kestrel build failed at step 7" in hits[0]["text"]
    assert "\x1b" in hits[0]["path"]  # JSON keeps the real name, escaped: scripts can still open the file
    assert b"disk quota exceeded on volume tern" in search.stdout
    assert b"library/ci.log" in docs.stdout


def test_search_says_what_a_filter_left_and_refuses_a_negative_k(assistant, library: Path, capsys) -> None:
    """`search --path /nonexistent` and `-k -3` answered "Is anything indexed?"."""
    from conftest import run_cli

    (library / "a.md").write_text("# A\n\nA note about kestrels nesting on the church tower.\n")
    assistant.index([library])
    assistant.close()
    code, out, _ = run_cli("search", "kestrels", "--path", "/nonexistent", capsys=capsys)
    assert code == 0 and "No passages found with --path /nonexistent: no indexed document matches it" in out
    assert "Is anything indexed" not in out
    with pytest.raises(SystemExit) as stopped:
        run_cli("search", "kestrels", "-k", "-3", capsys=capsys)
    assert stopped.value.code == 2 and "-3 is not allowed: it must be at least 1" in capsys.readouterr().err
