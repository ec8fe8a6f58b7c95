"""`assistant mcp` driven through the official MCP SDK's own client over stdio: a real server process,
the real models, a real index, and the network blocked (an audit hook refuses every connection)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from assistant import Assistant
from assistant.store import Store

pytestmark = pytest.mark.slow  # server subprocesses

TESTS = Path(__file__).resolve().parent.parent

TORQUE = ("# Zephyr-9 service manual\n\n## Inlet valve\n\nThe Zephyr-9 inlet valve must be tightened to exactly "
          "42 newton-metres. Over-tightening cracks the seat.\n\n## Filters\n\nReplace the oil filter every "
          "300 operating hours.\n")


def _server(home: Path) -> StdioServerParameters:
    # The SDK starts servers with a minimal environment: pass what the product needs explicitly.
    env = {k: v for k, v in os.environ.items() if k.startswith(("ASSISTANT_", "HF_", "PYTHON"))}
    env["ASSISTANT_HOME"] = str(home)
    return StdioServerParameters(command=sys.executable, args=[str(TESTS / "netblock.py"), "mcp"], env=env)


async def _session_run(home: Path, errlog: Path, steps) -> None:
    with errlog.open("w") as err:
        async with stdio_client(_server(home), errlog=err) as (read, write):
            async with ClientSession(read, write) as session:
                await session.initialize()
                await steps(session)


def test_mcp_server_search_ask_status_documents(assistant: Assistant, library: Path, home: Path,
                                                tmp_path: Path) -> None:
    (library / "zephyr.md").write_text(TORQUE)
    (library / "bakery.md").write_text("# Bakery\n\nThe village bakery opens at six and sells rye bread on Fridays.\n")
    assistant.index([library])
    assistant.close()
    index = home / "index.sqlite"
    before = index.stat().st_mtime_ns, Store(index, readonly=True).counts()
    seen: dict[str, object] = {}

    async def steps(session: ClientSession) -> None:
        tools = {t.name: t for t in (await session.list_tools()).tools}
        seen["tools"] = tools
        seen["search"] = await session.call_tool("search", {"query": "valve torque", "k": 2, "types": ["md"]})
        seen["filtered"] = await session.call_tool("search", {"query": "valve torque", "types": ["pdf"]})
        seen["ask"] = await session.call_tool(
            "ask", {"question": "What torque should the Zephyr-9 inlet valve be tightened to?"})
        seen["status"] = await session.call_tool("status", {})
        seen["documents"] = await session.call_tool("documents", {})
        seen["empty"] = await session.call_tool("search", {"query": "   "})
        seen["bad_mode"] = await session.call_tool("search", {"query": "valve torque", "mode": "magic"})
        seen["huge_k"] = await session.call_tool("search", {"query": "valve torque", "k": 100000})
        seen["off"] = await session.call_tool("ask", {"question": "Who chaired the meeting?"})

    errlog = tmp_path / "server.err"
    anyio.run(_session_run, home, errlog, steps)

    tools = seen["tools"]
    assert set(tools) == {"search", "ask", "status", "documents"}
    assert all(t.annotations and t.annotations.read_only_hint for t in tools.values())
    assert "paths" in tools["search"].input_schema["properties"] and "types" in tools["search"].input_schema[
        "properties"]

    passages = seen["search"].structured_content["passages"]
    assert passages[0]["path"] == str(library / "zephyr.md") and "42 newton-metres" in passages[0]["text"]
    assert passages[0]["location"].startswith("lines ")
    assert seen["filtered"].structured_content["passages"] == []  # no PDF in the library

    answer = seen["ask"].structured_content
    assert "42 newton-metres" in answer["answer"] and answer["grounded"] is True
    assert answer["sources"][0]["path"].endswith("zephyr.md") and answer["citations"]
    assert all(1 <= n <= len(answer["sources"]) for n in answer["citations"])

    status = seen["status"].structured_content
    assert (status["documents"], status["chunks"]) == (2, before[1]["chunks"])
    docs = seen["documents"].structured_content["documents"]
    assert sorted(Path(d["path"]).name for d in docs) == ["bakery.md", "zephyr.md"]

    assert seen["empty"].is_error and "empty" in seen["empty"].content[0].text  # a clear error, not a crash
    bad = seen["bad_mode"]  # it was "Error executing tool search", and a traceback on the server's stderr
    assert bad.is_error and "unknown search mode 'magic'; choose one of hybrid, bm25, dense" in bad.content[0].text
    assert len(seen["huge_k"].structured_content["passages"]) <= 50
    off = seen["off"].structured_content  # nothing about meetings: said so, not answered
    assert off["grounded"] is False and off["direct_answer"] is None and "**" not in off["answer"]
    assert "Traceback" not in errlog.read_text()

    # Read-only: the index file was not written, and no conversation was saved.
    assert index.stat().st_mtime_ns == before[0]
    assert Store(index, readonly=True).list_chats() == []
    assert "NETWORK-ATTEMPT" not in errlog.read_text()


def test_mcp_server_without_an_index_says_what_to_do(home: Path, tmp_path: Path) -> None:
    seen: dict[str, object] = {}

    async def steps(session: ClientSession) -> None:
        seen["status"] = await session.call_tool("status", {})

    anyio.run(_session_run, home, tmp_path / "server.err", steps)
    result = seen["status"]
    assert result.is_error and "assistant index" in result.content[0].text
    assert not (home / "index.sqlite").exists()  # the server created nothing


def test_mcp_help_says_what_it_is() -> None:
    import subprocess

    p = subprocess.run([sys.executable, "-m", "assistant.cli", "mcp", "--help"], capture_output=True, text=True,
                       timeout=60)
    assert p.returncode == 0 and "read-only Model Context Protocol server" in " ".join(p.stdout.split())
