"""The `assistant` command line: the parser and main(); the commands live in modules by group
(library, answers, background, setup)."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.cli.answers import (
    cmd_ask,
    cmd_cache,
    cmd_chat,
    cmd_chats,
    cmd_eval,
    cmd_feedback,
    cmd_models,
    cmd_open,
    cmd_page,
    cmd_search,
    cmd_summarize,
)
from assistant.cli.background import cmd_daemon, cmd_mcp, cmd_watch
from assistant.cli.common import add_filters, add_rerank, positive_int
from assistant.cli.library import (
    cmd_add,
    cmd_compact,
    cmd_docs,
    cmd_forget,
    cmd_index,
    cmd_remove,
    cmd_roots,
    cmd_status,
)
from assistant.cli.setup import cmd_doctor, cmd_paths, cmd_settings
from assistant.cli.team import add_team_parser
from assistant.errors import AssistantError
from assistant.text import SafeStream, printable
from assistant.version import __version__

EPILOG = """\
examples:
  assistant                            open the chat app
  assistant index ~/Documents          index a folder (and keep it registered)
  assistant index                      re-sync every registered folder
  assistant search "tax deadline" -k 3 the passages nearest to a question
  assistant search "invoice" --type pdf --path '*/2026/*'
  assistant ask "when is rent due?"    an answer checked against your documents, with its sources
  assistant chats export ID -o c.md    a conversation as Markdown, citations as footnotes
  assistant open ID 2                  open source [2] of the last answer where it can be read
  assistant page ID 1 -o page.png      the cited PDF page, the quoted passage boxed in yellow
  assistant daemon start               keep the registered folders indexed in the background
  assistant mcp                        serve the library to other tools over MCP (stdio, read-only)
  assistant eval questions.jsonl --k 5 measure retrieval quality on your own question set
  assistant status --json              counts and paths, for scripts
  assistant team status                the team index (setting [store] url): folders, owners, shares
  assistant doctor                     check the installation

State lives in the platform's config/data folders; ASSISTANT_HOME=DIR moves all of it.
Every setting can be given in config.toml or as ASSISTANT_<SETTING> (see `assistant paths`)."""


def main(argv: list[str] | None = None, chat_app: Callable[[Any], None] | None = None) -> int:
    """Run the `assistant` command.

    Args:
        chat_app: runs the terminal chat app with an Assistant, for `assistant chat` and plain `assistant`.
            The front end passes it (tui.launch): the core never imports the UI.
    """
    parser = build_parser()
    args = parser.parse_args(argv)
    args.chat_app = chat_app
    if not getattr(args, "func", None):
        args.func = cmd_chat  # plain `assistant` opens the chat app
    saved = sys.stdout, sys.stderr
    if args.func not in (cmd_chat, cmd_mcp) and not isinstance(sys.stdout, SafeStream):
        # Every line the commands print passes the one sanitiser: a file name or a document with an
        # escape sequence in it cannot drive the terminal (JSON output is already escaped).
        sys.stdout, sys.stderr = SafeStream(sys.stdout), SafeStream(sys.stderr)  # type: ignore[assignment]
    try:
        return int(args.func(args) or 0)
    except AssistantError as exc:
        print(f"error: {printable(str(exc))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    finally:
        sys.stdout, sys.stderr = saved


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="assistant",
        description="A private, offline assistant for your own documents: index folders, search them.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--version", action="version", version=f"assistant {__version__}")
    sub = p.add_subparsers(title="commands", metavar="COMMAND")

    def cmd(name: str, func: Callable[[argparse.Namespace], int], help: str, json_flag: bool = True) -> Any:
        sp = sub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        if json_flag:
            sp.add_argument("--json", action="store_true", help="print machine-readable JSON")
        return sp

    sp = cmd("index", cmd_index, "Add or re-sync files and folders: only new or changed text is embedded.")
    sp.add_argument("paths", nargs="*", type=Path,
                    help="files or folders (default: the registered folders, or the bundled sample library)")
    sp.add_argument("--rebuild", action="store_true",
                    help="drop the index and embed everything again (needed after changing embedding model)")
    sp.add_argument("-v", "--verbose", action="store_true", help="also list skipped files with the reason")

    sp = cmd("search", cmd_search, "Show the passages of your documents that best match a query "
                                   "(keywords and meaning combined).")
    sp.add_argument("query", help="what to look for, in your own words (any text is fine); a file it names "
                                  "('PEP 8' for pep-0008.rst) is searched first (setting [search] named_documents)")
    sp.add_argument("-k", type=positive_int, default=None,
                    help="number of passages, or of documents with --documents (default: setting [search] k, 5)")
    add_filters(sp)
    sp.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default=None,
                    help="hybrid (default): keywords + meaning; bm25: keywords only; dense: meaning only")
    sp.add_argument("--documents", action="store_true",
                    help="list documents instead of passages: one line each, ranked by its best passage, "
                         "lifted toward the documents most like it that rank higher "
                         "(setting [search] document_support)")
    add_rerank(sp, "search_rerank")

    cmd("chat", cmd_chat, "Open the terminal chat app (also what plain `assistant` does).", json_flag=False)

    sp = cmd("ask", cmd_ask, "Answer a question from your documents with the local chat model, citing sources.")
    sp.add_argument("question", help="your question, in your own words; a file it names ('PEP 8' for pep-0008.rst) "
                                     "is answered from first (setting [search] named_documents)")
    add_filters(sp)
    sp.add_argument("--chat", metavar="ID", help="continue this conversation (see `assistant chats`)")
    sp.add_argument("--model", metavar="MODEL", help="chat model: a .gguf in the models folder, or the name of one "
                                                     "./install.sh --model installs (default: setting [models] chat)")
    sp.add_argument("-k", type=positive_int, default=None, help="passages to retrieve (default: setting [search] k)")
    sp.add_argument("--style", choices=["auto", "quote", "generate"], default=None,
                    help="auto (default): the model's answer, every sentence checked against the sources, with "
                         "the quoted evidence; quote: the evidence only (instant, no chat model); generate: the "
                         "model's text as it is, unverified sentences marked")
    add_rerank(sp, "rerank")

    sp = cmd("chats", cmd_chats, "List conversations (newest first); show, export or delete one.")
    sp.add_argument("action", nargs="?", choices=["list", "show", "export", "delete"], default="list",
                    help="list (default); show ID: print it; export ID: as Markdown (citations as footnotes with "
                         "path and lines) or JSON; delete ID")
    sp.add_argument("id", nargs="?", help="the conversation's id (see `assistant chats`)")
    sp.add_argument("--format", choices=["md", "json"], default="md", help="export: md (default) or json")
    sp.add_argument("-o", "--output", type=Path, metavar="FILE",
                    help="export: write to FILE (private to you, 0600) instead of printing")
    sp.add_argument("--show", metavar="ID", help=argparse.SUPPRESS)  # older spelling of `show ID`
    sp.add_argument("--delete", metavar="ID", help=argparse.SUPPRESS)  # older spelling of `delete ID`

    def cited(sp: Any) -> None:
        sp.add_argument("chat_id", help="the conversation (see `assistant chats`; `ask` prints it)")
        sp.add_argument("source", type=int, help="the source's number, as in the answer's [N]")
        sp.add_argument("--turn", type=int, default=None, help="which answer of the conversation, 1-based "
                                                               "(default: the last)")

    sp = cmd("open", cmd_open, "Open a cited source in a program that shows it: text and code in $VISUAL/$EDITOR "
                               "at the line (less without one), a PDF at its page in the desktop viewer (setting "
                               "viewer), anything else with xdg-open/open; attachments and archive members as a "
                               "private temporary copy.")
    cited(sp)
    sp.add_argument("--print", action="store_true", help="print the command instead of running it")

    sp = cmd("page", cmd_page, "Draw a cited PDF page (or scanned image) as a PNG, the quoted passage boxed in "
                               "yellow (works over SSH: no desktop needed).")
    cited(sp)
    sp.add_argument("-o", "--output", type=Path, metavar="FILE", help="where to write the PNG (default: "
                                                                      "NAME-pageN.png here)")
    sp.add_argument("--open", action="store_true", help="then open the picture with the desktop's viewer")

    sp = cmd("cache", cmd_cache, "The answer cache (setting [answer] cache): `assistant cache clear` empties it.")
    sp.add_argument("action", choices=["clear"], help="clear: forget every cached answer")

    sp = cmd("models", cmd_models, "List the .gguf chat models found (size, architecture, context, quantization) "
                                   "and those ./install.sh --model installs offline, with their measured quality "
                                   "and speed; "
                                   "add one from a file (`models add FILE`), or download one (`models pull URL "
                                   "--sha256 HEX`: the only command that uses the network).")
    sp.add_argument("action", nargs="?", choices=["list", "add", "pull"], default="list")
    sp.add_argument("target", nargs="?", help="add: a .gguf file; pull: its http(s) URL")
    sp.add_argument("--sha256", default=None, help="the file's SHA-256 (required for pull): it is checked before "
                                                  "the model is put in place")
    sp.add_argument("--installable", action="store_true",
                    help="with --json: the chat models ./install.sh --model can install, with their measured figures")

    sp = cmd("summarize", cmd_summarize, "Summarise a whole indexed document (map-reduce over all its chunks).")
    sp.add_argument("path", type=Path)
    sp.add_argument("--model", metavar="GGUF", help="chat model file in the models folder")

    sp = cmd("eval", cmd_eval, "Measure retrieval quality on a question set (JSONL: question, answers).")
    sp.add_argument("questions", type=Path, nargs="?", help="JSON Lines file: {\"question\": ..., \"answers\": [...]}")
    sp.add_argument("--from-feedback", action="store_true",
                    help="instead of a file, use your upvoted answers (`assistant feedback`): each question should "
                         "find a passage its answer cited; downvoted answers are listed with their sources")
    sp.add_argument("--docs", type=Path, action="append", default=[],
                    help="index this folder first (incrementally); repeatable")
    sp.add_argument("--k", type=positive_int, default=5, help="passages per question (default 5)")
    sp.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    sp.add_argument("--documents", action="store_true",
                    help="also rank documents (search --documents, k of them) for the questions that give their "
                         "\"documents\": where the first right one comes (documents_hit@1, documents_hit@k, "
                         "documents_mrr)")
    add_rerank(sp, "search_rerank", also="; with --answers it sets rerank too (default 10)")
    sp.add_argument("--answers", action="store_true",
                    help="also answer each question: how often the answer contains a gold answer (beside the "
                         "quoted evidence alone and the raw model text), holds a number found in no cited source, "
                         "cites the right section, or refuses")
    sp.add_argument("--style", choices=["auto", "quote", "generate"], default=None,
                    help="with --answers: the answer_style to measure (default: the setting)")
    sp.add_argument("--limit", type=int, default=None, help="with --answers: only the first N questions")

    sp = cmd("feedback", cmd_feedback, "Rate an answer up or down (with a note), or list your ratings. Upvoted "
                                       "answers become your own eval set: assistant eval --from-feedback.")
    sp.add_argument("chat_id", nargs="?", help="the conversation (see `assistant chats`); none: list the ratings")
    sp.add_argument("rating", nargs="?", choices=["up", "down"])
    sp.add_argument("--turn", type=int, default=None, help="which answer of the conversation, 1-based (default: last)")
    sp.add_argument("--note", default=None, help="what was right or wrong with it")
    sp = cmd("add", cmd_add, "Register a folder to keep indexed, and index it now.")
    sp.add_argument("path", type=Path)
    sp = cmd("remove", cmd_remove, "Unregister a folder and drop its documents from the index.")
    sp.add_argument("path", type=Path)
    cmd("roots", cmd_roots, "List the registered folders.")
    cmd("watch", cmd_watch, "Keep the index in step with the registered folders, in the foreground, with a "
                            "live log (Ctrl-C stops).", json_flag=False)
    sp = cmd("daemon", cmd_daemon, "The background sync service: start, stop, status, logs, install.")
    sp.add_argument("action", choices=["start", "stop", "status", "logs", "install", "run"],
                    help="start/stop it; status; logs (-n, -f); install a systemd user unit; run in the foreground")
    sp.add_argument("-n", type=int, default=40, help="logs: number of lines")
    sp.add_argument("-f", "--follow", action="store_true", help="logs: keep printing new lines")

    cmd("status", cmd_status, "Counts of documents, chunks and errors, and which models are in use.")
    cmd("compact", cmd_compact, "Give back the disk space of deleted documents and older index formats "
                                "(rewrites the index file; needs free space about its size while it runs).")
    cmd("docs", cmd_docs, "List indexed documents with their status and any error.")
    sp = cmd("forget", cmd_forget, "Remove a file or folder from the index (the files themselves are untouched).")
    sp.add_argument("path", type=Path)
    cmd("mcp", cmd_mcp, "Serve the library to other tools (editors, agents) as a read-only Model Context "
                        "Protocol server on stdin/stdout: tools search, ask, status, documents.", json_flag=False)
    cmd("doctor", cmd_doctor, "Check Python, the SQLite driver, sqlite-vec, the models and offline mode.")
    cmd("paths", cmd_paths, "Print where the config, index, logs and models live.")
    add_team_parser(sub)
    cmd("settings", cmd_settings, "Print every setting as it applies now, by group ([models], [search], ...): the "
                                  "defaults, the config file and ASSISTANT_<GROUP>_<NAME> variables together.")
    return p


if __name__ == "__main__":
    sys.exit(main())
