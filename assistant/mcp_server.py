"""`assistant mcp`: the library as a Model Context Protocol server over stdio, for other tools.

Built on the official MCP Python SDK. It offers four read-only tools: `search` (with path and type
filters), `ask` (the same verified answers as `assistant ask`, with their sources and evidence), `status`
and `documents`. The index is opened read-only, so the server can never write it (a running daemon
or `assistant index` keeps it fresh), answers are not saved as conversations, and it runs with the same
sealed network as every other command: models load from local files only.
"""

from __future__ import annotations

import threading
from typing import Any

from assistant.config import Settings
from assistant.errors import AssistantError
from assistant.search.retrieval import Filters
from assistant.service import Assistant
from assistant.text import printable
from assistant.version import __version__

INSTRUCTIONS = (
    "Search and ask questions about the user's own documents, indexed on this machine. `ask` returns an "
    "answer whose every sentence was checked against the cited passages (grounded=true) or the passages' own "
    "words as quotes; cite the returned sources' paths and locations when you use them. `search` returns "
    "passages only. Nothing leaves this machine."
)


def build_server(assistant: Assistant) -> Any:
    """The MCP server object (tools registered), serving this read-only Assistant."""
    import anyio
    from mcp.server.mcpserver import MCPServer
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp_types import ToolAnnotations

    server = MCPServer(name="assistant", title="assistant: your documents, offline", version=__version__,
                       instructions=INSTRUCTIONS)
    read_only = ToolAnnotations(read_only_hint=True, destructive_hint=False, idempotent_hint=True,
                                open_world_hint=False)
    one_at_a_time = threading.Lock()  # the chat model and the embedder are used by one call at a time

    async def call(fn: Any, *args: Any) -> Any:
        def run() -> Any:
            with one_at_a_time:
                try:
                    return fn(*args)
                except AssistantError as exc:  # an expected failure: the client reads what to do
                    raise ToolError(printable(str(exc))) from exc

        return await anyio.to_thread.run_sync(run)

    def filters(paths: list[str] | None, types: list[str] | None) -> Filters:
        return Filters(tuple(paths or ()), tuple(types or ()))

    @server.tool(annotations=read_only)
    async def search(query: str, k: int = 5, paths: list[str] | None = None, types: list[str] | None = None,
                     mode: str = "hybrid") -> dict[str, Any]:
        """Find the passages of the user's documents that best match a query (keywords and meaning).

        Args:
            query: what to look for, in plain words.
            k: number of passages (1-50).
            paths: only documents whose absolute path matches one of these globs (e.g. "*/contracts/*").
            types: only documents with one of these extensions (e.g. "pdf", "md").
            mode: "hybrid" (default), "bm25" (keywords only) or "dense" (meaning only).
        """
        hits = await call(lambda: assistant.search(query, k=max(1, min(k, 50)), mode=mode,
                                                   filters=filters(paths, types)))
        return {"passages": [h.to_dict() | {"location": h.location} for h in hits]}

    @server.tool(annotations=read_only)
    async def ask(question: str, paths: list[str] | None = None, types: list[str] | None = None) -> dict[str, Any]:
        """Answer a question from the user's documents with the local model, citing the passages used.

        Every sentence of the answer was checked against its cited passage: `grounded` is true only when all
        of them were. For a factoid question (who, when, where, how many...) `direct_answer` holds the short
        span of a quoted sentence that answers it (text, source number, character offsets into that
        source's text), else null. When nothing in the documents is about the question, or the passages about it
        do not answer it, the answer says so ("The documents do not say who chaired the meeting."), lists the
        closest passages as such, and `grounded` is false (`stats.judgement` says why: a name of the question
        no passage holds, no person or date of the kind asked for, ...): do not present those passages as an answer.

        Args:
            question: the question, in plain words.
            paths: only documents whose absolute path matches one of these globs.
            types: only documents with one of these extensions.
        """
        answer = await call(lambda: assistant.ask(question, filters=filters(paths, types), save=False))
        data = answer.to_dict()
        del data["chat_id"]  # not saved: there is no conversation to continue
        for hit, source in zip(data["sources"], answer.sources, strict=True):
            hit["location"] = source.location
        return data

    @server.tool(annotations=read_only)
    async def status() -> dict[str, Any]:
        """How many documents and passages are indexed, which models are used, and which folders are kept
        in step (and whether the background daemon is watching them)."""
        from assistant.sync.daemon import running_pid

        return dict(await call(assistant.status)) | {"daemon_pid": running_pid(assistant.settings)}

    @server.tool(annotations=read_only)
    async def documents() -> dict[str, Any]:
        """The indexed documents: path, status ("ok" or "error"), number of passages and any error."""
        docs = await call(assistant.documents)
        return {"documents": [d.to_dict() for d in docs]}

    return server


def serve(settings: Settings | None = None) -> None:
    """Serve over stdin/stdout until the client closes the connection."""
    assistant = Assistant(settings or Settings.load(), readonly=True)
    build_server(assistant).run("stdio")
