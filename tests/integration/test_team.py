"""The team index on a real PostgreSQL 18 with pgvector (started by the suite on 127.0.0.1): workstations that
push, people who see only what they may read, BM25 as the local index computes it, the outbox, a server killed
mid-run, a dropped connection, and the commands an administrator scripts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import PG_PASSWORD, run_cli, run_cli_json

from assistant import Assistant, Settings
from assistant.errors import AssistantError, IndexMismatchError
from assistant.store import Store
from assistant.store import team as team_store
from assistant.store.postgres import StoreUnavailableError

pytestmark = pytest.mark.slow

TESTS = Path(__file__).resolve().parent.parent

TRAVEL = ("# Travel policy\n\n## Flights\n\nEmployees book flights through Ostrava Travel at least 14 days ahead. "
          "Economy class is the rule for flights under six hours.\n\n## Hotels\n\nA hotel night in Prague is "
          "refunded up to 140 euros; in Vienna up to 160 euros.\n")
SECURITY = ("# Security handbook\n\nBadges must be worn at all times inside the building. A lost badge is reported "
            "to the front desk within 24 hours, and the desk issues a temporary one.\n")
SALARIES = ("# Salaries 2027\n\nThe zanzibarine project lead earns 98,000 euros a year. The quokkaphile analyst "
            "earns 71,500 euros a year.\n")
QUESTIONS = ["How far ahead must flights be booked?", "What is refunded for a hotel night in Vienna?",
             "What happens when a badge is lost?", "How much does the zanzibarine project lead earn?"]


def person(team, who: str, home: Path, embedder, **settings) -> Assistant:
    os.environ["ASSISTANT_HOME"] = str(home / who)
    return Assistant(Settings.load({"store_url": team.url(who), **settings}), embedder=embedder)


@pytest.fixture
def folders(tmp_path: Path) -> tuple[Path, Path]:
    handbook, private = tmp_path / "shared-drive" / "handbook", tmp_path / "bob-private"
    handbook.mkdir(parents=True)
    private.mkdir()
    (handbook / "travel.md").write_text(TRAVEL)
    (handbook / "security.md").write_text(SECURITY)
    (private / "salaries.md").write_text(SALARIES)
    return handbook, private


def test_two_workstations_one_index_searched_as_a_local_index_of_both(team, folders, tmp_path, embedder) -> None:
    handbook, private = folders
    alice = person(team, "alice", tmp_path, embedder)
    report = alice.index([handbook])
    assert (report.added, report.chunks_pending, report.queued) == (2, 0, 0)
    alice.share_folder(handbook, "assistant_users")
    bob = person(team, "bob", tmp_path, embedder)
    assert bob.index([private]).added == 1
    bob.share_folder(private, "carol")

    os.environ["ASSISTANT_HOME"] = str(tmp_path / "local")
    local = Assistant(Settings.load({"answer_style": "quote"}), embedder=embedder)
    local.index([handbook, private])
    carol = person(team, "carol", tmp_path, embedder, answer_style="quote")
    for q in QUESTIONS:
        mine, theirs = carol.search(q, k=5), local.search(q, k=5)
        assert [(h.path, h.text, h.relevant) for h in mine] == [(h.path, h.text, h.relevant) for h in theirs], q
        # (the int8 embedder scales each call's activations together: a passage embedded beside others gets a
        # vector a little different from the one it gets elsewhere, cosines 0.02 apart here; the keyword scores
        # are the same: test_keyword_scores_are_fts5s_bm25)
        assert [h.score for h in mine] == pytest.approx([h.score for h in theirs], abs=0.03)
        assert carol.ask(q, save=False).answer == local.ask(q, save=False).answer
    answer = carol.ask("How much does the zanzibarine project lead earn?", save=False)
    assert "98,000 euros" in answer.answer and answer.grounded

    dave = person(team, "dave", tmp_path, embedder, answer_style="quote")
    for mode in ("hybrid", "bm25", "dense"):
        hits = dave.search("zanzibarine project lead salary 98,000 euros", k=10, mode=mode)
        assert all(not h.path.startswith(str(private)) for h in hits), mode
    assert "98,000" not in dave.ask("How much does the zanzibarine project lead earn?", save=False).answer
    assert all(not d.path.startswith(str(private)) for d in dave.documents())
    for who in (alice, bob, local, carol, dave):
        who.close()


def test_the_cli_and_mcp_of_a_third_person(team, folders, tmp_path, embedder, monkeypatch, capsys) -> None:
    handbook, private = folders
    alice = person(team, "alice", tmp_path, embedder)
    alice.index([handbook])
    alice.share_folder(handbook, "assistant_users")
    alice.close()
    bob = person(team, "bob", tmp_path, embedder)
    bob.index([private])
    bob.close()

    monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "carol"))
    monkeypatch.setenv("ASSISTANT_STORE_URL", team.url("carol"))
    hits = run_cli_json("search", "What is refunded for a hotel night in Vienna?", "-k", "3", capsys=capsys)
    assert hits[0]["path"] == str(handbook / "travel.md") and "160 euros" in hits[0]["text"]
    answer = run_cli_json("ask", "What is refunded for a hotel night in Vienna?", "--style", "quote", capsys=capsys)
    assert "160 euros" in answer["answer"] and answer["grounded"]
    hits = run_cli_json("search", "zanzibarine project lead salary", "-k", "5", capsys=capsys)
    assert all("salaries" not in h["path"] for h in hits)
    status = run_cli_json("status", capsys=capsys)
    assert status["store"] == "postgresql" and status["documents"] == 2  # bob's file is not hers to count
    team_status = run_cli_json("team", "status", capsys=capsys)
    assert team_status["user"] == "carol"
    assert {(f["path"], f["owner"], f["readable"]) for f in team_status["folders"]} == \
        {(str(handbook), "alice", True), (str(private), "bob", False)}
    code, out, _ = run_cli("doctor", capsys=capsys)
    line = next(x for x in out.splitlines() if " store " in x)
    assert line.startswith("ok") and "team index at postgresql://carol@127.0.0.1" in line

    # MCP: the same library to another tool (a real `assistant mcp` process over stdio).
    import anyio
    from mcp.client.session import ClientSession
    from mcp.client.stdio import StdioServerParameters, stdio_client

    env = {k: v for k, v in os.environ.items() if k.startswith(("ASSISTANT_", "HF_", "PYTHON", "PG"))}
    params = StdioServerParameters(command=sys.executable, args=[str(TESTS / "netblock.py"), "mcp"], env=env)
    seen: dict[str, str] = {}

    async def run() -> None:
        with (tmp_path / "mcp.err").open("w") as err:
            async with stdio_client(params, errlog=err) as (read, write), ClientSession(read, write) as session:
                await session.initialize()
                result = await session.call_tool("search", {"query": "What happens when a badge is lost?", "k": 2})
                seen["search"] = result.content[0].text
                result = await session.call_tool("search", {"query": "zanzibarine project lead salary", "k": 5})
                seen["private"] = result.content[0].text

    anyio.run(run)
    assert "front desk within 24 hours" in seen["search"] and str(handbook / "security.md") in seen["search"]
    assert "zanzibarine" not in seen["private"] and "salaries.md" not in seen["private"]


@pytest.mark.asyncio
async def test_the_chat_app_answers_from_the_team_index(team, folders, tmp_path, embedder) -> None:
    from textual.widgets import Input

    from tui.app import AssistantApp
    from tui.widgets import AnswerView, SourceList

    handbook, _ = folders
    alice = person(team, "alice", tmp_path, embedder)
    alice.index([handbook])
    alice.share_folder(handbook, "assistant_users")
    alice.close()
    carol = person(team, "carol", tmp_path, embedder, answer_style="quote")
    app = AssistantApp(carol, watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        app.query_one("#question", Input).value = "How far ahead must flights be booked?"
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        view = list(app.query(AnswerView))[-1]
        assert "14 days ahead" in view.text
        assert view.query_one(SourceList).hits[0].path == str(handbook / "travel.md")
    carol.close()


def test_row_level_security_holds_for_any_query(team, folders, tmp_path, embedder) -> None:
    """Whatever SQL a person runs, a folder not shared with them gives nothing: no passage, posting, statistic
    or vector; sharing it opens it, unsharing closes it again."""
    _, private = folders
    bob = person(team, "bob", tmp_path, embedder)
    bob.index([private])
    from assistant.store.terms import phrase_term

    term = phrase_term("zanzibarine")
    queries = ["SELECT count(*) FROM assistant.chunks WHERE text LIKE '%%zanzibarine%%'",
               "SELECT count(*) FROM assistant.documents", "SELECT count(*) FROM assistant.chunks",
               f"SELECT count(*) FROM assistant.postings WHERE term = {term}",
               f"SELECT coalesce(sum(df), 0) FROM assistant.term_stats WHERE term = {term}"]
    assert [team.sql(q, person="dave")[0][0] for q in queries] == [0, 0, 0, 0, 0]
    assert [team.sql(q, person="bob")[0][0] for q in queries] == [1, 1, 1, 1, 1]
    with pytest.raises(Exception, match="row-level security"):
        team.sql("INSERT INTO assistant.documents (folder_id, path, status, indexed_at) "
                 "SELECT id, '/x', 'ok', 0 FROM assistant.folders LIMIT 1", person="dave")
    assert team.sql("DELETE FROM assistant.chunks", person="dave") is None
    assert team.sql(queries[2], person="bob")[0][0] == 1  # dave's delete reached nothing
    bob.share_folder(private, "dave")
    assert team.sql(queries[0], person="dave")[0][0] == 1
    bob.share_folder(private, "dave", remove=True)
    assert team.sql(queries[0], person="dave")[0][0] == 0
    team.sql("DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'finance') THEN CREATE ROLE finance "
             "NOLOGIN; END IF; END $$")
    team.sql("GRANT finance TO dave")
    try:
        bob.share_folder(private, "finance")  # a group role: its members read the folder
        assert team.sql(queries[0], person="dave")[0][0] == 1
        assert team.sql(queries[0], person="carol")[0][0] == 0
    finally:
        team.sql("REVOKE finance FROM dave")
    with pytest.raises(AssistantError, match="belongs to bob"):
        person(team, "dave", tmp_path, embedder).share_folder(private, "dave")
    bob.close()


def test_keyword_scores_are_fts5s_bm25(team, tmp_path, embedder) -> None:
    """The same passages, the same BM25 (IDF, length normalisation, heading weight 0.5, two-word phrases) on
    PostgreSQL as SQLite's FTS5 computes, for the terms retrieval.fts_query makes."""
    from assistant.search.retrieval import fts_query

    lib = tmp_path / "lib"
    lib.mkdir()
    (lib / "travel.md").write_text(TRAVEL)
    (lib / "security.md").write_text(SECURITY)
    (lib / "salaries.md").write_text(SALARIES)
    (lib / "more.md").write_text("# Flights and hotels\n\nFlights to Vienna are booked by the travel desk. Hotels "
                                 "in Vienna and Prague are booked by employees themselves.\n\n" * 3)
    os.environ["ASSISTANT_HOME"] = str(tmp_path / "local")
    local = Assistant(Settings.load(), embedder=embedder)
    local.index([lib])
    alice = person(team, "alice", tmp_path, embedder)
    alice.index([lib])
    for q in ["flights booked Vienna", "hotel night refunded", "travel desk", "lost badge front desk", "euros"]:
        match = fts_query(q)
        ours, theirs = alice.store.keyword_search(match, 20), local.store.keyword_search(match, 20)
        rows_ours = alice.store.chunk_rows([c for c, _ in ours])
        rows_theirs = local.store.chunk_rows([c for c, _ in theirs])
        named = [(rows_ours[c]["path"], rows_ours[c]["position"], s) for c, s in ours]
        expected = [(rows_theirs[c]["path"], rows_theirs[c]["position"], s) for c, s in theirs]
        assert [n[:2] for n in named] == [e[:2] for e in expected], q
        assert [n[2] for n in named] == pytest.approx([e[2] for e in expected], rel=1e-5), q
    local.close()
    alice.close()


def test_writes_are_idempotent_and_a_move_is_a_rename(team, folders, tmp_path, embedder) -> None:
    handbook, _ = folders
    alice = person(team, "alice", tmp_path, embedder)
    alice.index([handbook])
    server = alice.store.server()
    before = team.sql("SELECT id, embedding::text FROM assistant.chunks ORDER BY id")
    generation = team.sql("SELECT generation FROM assistant.folders")
    doc = server.documents_under([str(handbook)])[str(handbook / "travel.md")]
    # The same document written again (as a queued write sent twice would be) changes nothing.
    rows = server.conn.execute(
        "SELECT position, text, heading, page, start_line, end_line, token_count, content_hash, ocr, embedding "
        "FROM assistant.chunks WHERE document_id = %s ORDER BY position", (doc.id,)).fetchall()
    from assistant.types import Chunk

    again = [Chunk(r[1], r[0], r[2], r[3], r[4], r[5], r[6], r[7], r[8]) for r in rows]
    server.write_document(doc.path, doc.size, doc.mtime_ns, doc.content_hash, doc.format, doc.chunker_version,
                          again, [r[9].to_numpy().tobytes() for r in rows])
    assert team.sql("SELECT id, embedding::text FROM assistant.chunks ORDER BY id") == before
    assert team.sql("SELECT generation FROM assistant.folders") == generation

    (handbook / "travel.md").rename(handbook / "travel-2027.md")
    report = alice.index([handbook])
    assert (report.moved, report.added, report.chunks_embedded) == (1, 0, 0)
    assert team.sql("SELECT id, embedding::text FROM assistant.chunks ORDER BY id") == before
    hits = alice.search("How far ahead must flights be booked?", k=1)
    assert hits[0].path == str(handbook / "travel-2027.md")
    alice.close()


def test_a_workstation_with_another_embedding_model_is_refused(team, folders, tmp_path) -> None:
    from hashembed import HashEmbedder

    handbook, _ = folders
    os.environ["ASSISTANT_HOME"] = str(tmp_path / "erin")
    other = Assistant(Settings.load({"store_url": team.url("alice")}), embedder=HashEmbedder(dim=64))
    with pytest.raises(IndexMismatchError, match=r"holds vectors of embedding model 'all-MiniLM-L6-v2' \(384-d\), "
                                                 r"but this workstation's is 'hash-64' \(64-d\)"):
        other.index([handbook])
    with pytest.raises(IndexMismatchError):
        other.search("flights")
    other.close()


def test_writes_wait_in_the_outbox_while_the_server_is_away(team, pg_server, folders, tmp_path, embedder,
                                                            monkeypatch) -> None:
    monkeypatch.setattr(team_store, "RETRY_S", 0.0)
    handbook, _ = folders
    alice = person(team, "alice", tmp_path, embedder)
    alice.index([handbook])
    alice.share_folder(handbook, "assistant_users")
    (handbook / "parking.md").write_text("# Parking\n\nThe garage under building C opens at 6:30 and visitors "
                                         "park on level minus two.\n")
    (handbook / "security.md").unlink()
    pg_server.stop()
    try:
        report = alice.index([handbook])
        assert (report.added, report.removed, report.queued) == (1, 1, 2)
        with pytest.raises(StoreUnavailableError, match="does not answer"):
            alice.search("Where do visitors park?")
    finally:
        pg_server.start()
    hits = alice.search("Where do visitors park?", k=1)  # the outbox goes first
    assert hits[0].path == str(handbook / "parking.md")
    assert alice.store.queued() == 0
    report = alice.index([handbook])  # the queued document's vectors, embedded now
    assert report.chunks_pending == 0 and report.queued == 0
    carol = person(team, "carol", tmp_path, embedder)
    assert [d.path for d in carol.documents()] == [str(handbook / "parking.md"), str(handbook / "travel.md")]
    assert carol.search("Where do visitors park?", k=1, mode="dense")[0].path == str(handbook / "parking.md")
    alice.close()
    carol.close()


def test_kill_9_of_the_server_mid_index(team, pg_server, tmp_path, embedder) -> None:
    """The server is killed (SIGKILL, every process) while `assistant index` writes a folder: after a restart no
    document is half written, every passage has its vector or waits for one, and running the command again
    finishes the job."""
    lib = tmp_path / "big"
    lib.mkdir()
    for i in range(80):
        (lib / f"note-{i:02d}.md").write_text(
            f"# Note {i}\n\n" + " ".join(f"Paragraph {j} of note {i} mentions the quarterly figure {i * 100 + j} "
                                          f"for the region number {j}." for j in range(40)) + "\n")
    env = {**os.environ, "ASSISTANT_HOME": str(tmp_path / "alice"), "ASSISTANT_STORE_URL": team.url("alice")}
    proc = subprocess.Popen([sys.executable, "-m", "assistant.cli", "index", str(lib), "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        n = team.sql("SELECT count(*) FROM assistant.documents")[0][0]
        if n >= 10:
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    pg_server.kill()
    out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err
    assert "Traceback" not in err
    assert json.loads(out)["queued"] > 0  # what the server did not get waits in the outbox
    pg_server.start()
    written = team.sql("SELECT count(*) FROM assistant.documents")[0][0]
    assert 10 <= written < 80
    # No document half written: each holds the chunks it says, each chunk its postings (PgLibrary.check); a chunk
    # without a vector is one waiting for it (embedding NULL), which the next run gives it.
    from assistant.store.postgres import PgLibrary

    server = PgLibrary(team.url("alice"))
    assert server.check() == []
    assert server.pending_count() == team.sql("SELECT count(*) FROM assistant.chunks WHERE embedding IS NULL")[0][0]
    server.close()
    again = subprocess.run([sys.executable, "-m", "assistant.cli", "index", str(lib), "--json"], env=env,
                           capture_output=True, text=True, timeout=900)
    assert again.returncode == 0, again.stderr
    assert team.sql("SELECT count(*) FROM assistant.documents")[0][0] == 80
    assert team.sql("SELECT count(*) FROM assistant.chunks WHERE embedding IS NULL")[0][0] == 0
    alice = person(team, "alice", tmp_path, embedder)
    assert alice.store.check() == []
    assert alice.search("quarterly figure 7512 for the region number 12", k=1)[0].path == str(lib / "note-75.md")
    alice.close()


def test_a_dropped_connection_is_an_error_then_reconnects(team, folders, tmp_path, embedder, monkeypatch) -> None:
    handbook, _ = folders
    alice = person(team, "alice", tmp_path, embedder)
    alice.index([handbook])
    assert alice.search("lost badge", k=1)
    team.sql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'alice'")
    t0 = time.monotonic()
    with pytest.raises(StoreUnavailableError, match="does not answer"):
        alice.search("lost badge", k=1)
    assert time.monotonic() - t0 < 10
    monkeypatch.setattr(team_store, "RETRY_S", 0.0)
    assert alice.search("lost badge", k=1)[0].path == str(handbook / "security.md")
    alice.close()


def test_administration_from_the_command_line(pg_server, embedder, tmp_path, folders, capsys, monkeypatch) -> None:
    """What a site's administrator scripts: setup, people, shares, status; passwords never in clear anywhere."""
    import psycopg

    handbook, _ = folders
    with psycopg.connect(pg_server.url(), autocommit=True) as c:
        c.execute("CREATE DATABASE cli_team")
        c.execute("ALTER SYSTEM SET log_statement = 'all'")
        c.execute("SELECT pg_reload_conf()")
    try:
        admin = pg_server.url(database="cli_team")
        setup = run_cli_json("team", "setup", admin, capsys=capsys)
        assert setup["created"] and setup["embedding_model"] == "all-MiniLM-L6-v2" and setup["embedding_dim"] == 384
        assert not run_cli_json("team", "setup", admin, capsys=capsys)["created"]  # again: up to date
        monkeypatch.setattr("sys.stdin", __import__("io").StringIO("erins-secret-pw\n"))
        added = run_cli_json("team", "user", "add", "erin", "--admin-url", admin, "--password-stdin", capsys=capsys)
        assert added == {"user": "erin", "created": True, "password_set": True}
        pgpass = Path(os.environ["PGPASSFILE"])
        pgpass.write_text(pgpass.read_text() + f"127.0.0.1:{pg_server.port}:*:erin:erins-secret-pw\n")

        monkeypatch.setenv("ASSISTANT_HOME", str(tmp_path / "erin"))
        url = pg_server.url("erin", "cli_team")
        (tmp_path / "erin").mkdir()
        (tmp_path / "erin" / "config.toml").write_text(f'[store]\nurl = "{url}"\n')
        code, out, err = run_cli("index", str(handbook), capsys=capsys)
        assert code == 0, err
        shared = run_cli_json("team", "share", str(handbook), "--with", "carol", capsys=capsys)
        assert shared["shared"] and shared["changed"]
        status = run_cli_json("team", "status", capsys=capsys)
        assert status["folders"] == [{"path": str(handbook), "owner": "erin", "chunks": 3, "shared_with": ["carol"],
                                      "readable": True}]
        code, _, err = run_cli("team", "share", str(handbook), "--with", "nobody-here", capsys=capsys)
        assert code == 1 and err.startswith("error: there is no role 'nobody-here'")
        # A password in the URL is refused, and not repeated.
        monkeypatch.setenv("ASSISTANT_STORE_URL", f"postgresql://erin:{PG_PASSWORD}@127.0.0.1/cli_team")
        code, _, err = run_cli("status", capsys=capsys)
        assert code == 1 and "~/.pgpass" in err and PG_PASSWORD not in err
        monkeypatch.delenv("ASSISTANT_STORE_URL")
        # Any libpq URL: here the server's Unix socket (its folder as host), the login trusted locally.
        from assistant.store.postgres import PgLibrary

        over_socket = PgLibrary(f"postgresql://erin@/cli_team?host={pg_server.data}&port={pg_server.port}")
        assert over_socket.roots() == [str(handbook)]
        over_socket.close()
        log = (pg_server.data / "log").read_text(errors="replace")
        assert "CREATE ROLE" in log and "erins-secret-pw" not in log
        assert "erins-secret-pw" not in (tmp_path / "erin" / "config.toml").read_text()
    finally:
        with psycopg.connect(pg_server.url(), autocommit=True) as c:
            c.execute("ALTER SYSTEM RESET log_statement")
            c.execute("SELECT pg_reload_conf()")


def test_the_local_index_is_untouched_by_the_team_setting(team, folders, tmp_path, embedder) -> None:
    """Chats and the answer cache stay in the workstation's file; its own library tables stay empty."""
    handbook, _ = folders
    alice = person(team, "alice", tmp_path, embedder, answer_style="quote")
    alice.index([handbook])
    answer = alice.ask("What happens when a badge is lost?")
    assert "front desk" in answer.answer
    local = Store(tmp_path / "alice" / "index.sqlite", readonly=True)
    assert local.counts()["documents"] == 0 and local.counts()["chunks"] == 0
    assert [c["id"] for c in local.list_chats()] == [answer.chat_id]
    local.close()
    alice.close()
