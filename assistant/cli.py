"""The `assistant` command. It wires arguments to the Assistant service and prints text or JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from . import __version__
from .config import Settings
from .errors import AssistantError
from .paths import write_private
from .text import SafeStream, printable

EPILOG = """\
examples:
  assistant                            open the chat app
  assistant index ~/Documents          index a folder (and keep it registered)
  assistant index                      re-sync every registered folder
  assistant search "tax deadline" -k 3 the passages nearest to a question
  assistant search "invoice" --type pdf --path '*/2026/*'
  assistant eval questions.jsonl --k 5 measure retrieval quality on your own question set
  assistant status --json              counts and paths, for scripts
  assistant doctor                     check the installation

State lives in the platform's config/data folders; ASSISTANT_HOME=DIR moves all of it.
Every setting can be given in config.toml or as ASSISTANT_<SETTING> (see `assistant paths`)."""


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
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
    sp.add_argument("query", help="what to look for, in your own words (any text is fine)")
    sp.add_argument("-k", type=int, default=None, help="number of passages (default: setting search_k, 5)")
    _add_filters(sp)
    sp.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default=None,
                    help="hybrid (default): keywords + meaning; bm25: keywords only; dense: meaning only")

    cmd("chat", cmd_chat, "Open the terminal chat app (also what plain `assistant` does).", json_flag=False)

    sp = cmd("ask", cmd_ask, "Answer a question from your documents with the local chat model, citing sources.")
    sp.add_argument("question", help="your question, in your own words")
    _add_filters(sp)
    sp.add_argument("--chat", metavar="ID", help="continue this conversation (see `assistant chats`)")
    sp.add_argument("--model", metavar="GGUF", help="chat model file in the models folder (default: setting llm_model)")
    sp.add_argument("-k", type=int, default=None, help="passages to retrieve (default: setting search_k)")
    sp.add_argument("--style", choices=["auto", "quote", "generate"], default=None,
                    help="auto (default): the model's answer, every sentence checked against the sources, with "
                         "the quoted evidence; quote: the evidence only (instant, no chat model); generate: the "
                         "model's text as it is, unverified sentences marked")

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

    cmd("models", cmd_models, "List the .gguf chat models found, with size, architecture, context and quantization.")

    sp = cmd("summarize", cmd_summarize, "Summarise a whole indexed document (map-reduce over all its chunks).")
    sp.add_argument("path", type=Path)
    sp.add_argument("--model", metavar="GGUF", help="chat model file in the models folder")

    sp = cmd("eval", cmd_eval, "Measure retrieval quality on a question set (JSONL: question, answers).")
    sp.add_argument("questions", type=Path, help="JSON Lines file: {\"question\": ..., \"answers\": [...]}")
    sp.add_argument("--docs", type=Path, action="append", default=[],
                    help="index this folder first (incrementally); repeatable")
    sp.add_argument("--k", type=int, default=5, help="passages per question (default 5)")
    sp.add_argument("--mode", choices=["hybrid", "bm25", "dense"], default="hybrid")
    sp.add_argument("--answers", action="store_true",
                    help="also answer each question: how often the answer contains a gold answer (beside the "
                         "quoted evidence alone and the raw model text), holds a number found in no cited source, "
                         "cites the right section, or refuses")
    sp.add_argument("--style", choices=["auto", "quote", "generate"], default=None,
                    help="with --answers: the answer_style to measure (default: the setting)")
    sp.add_argument("--limit", type=int, default=None, help="with --answers: only the first N questions")

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
    cmd("docs", cmd_docs, "List indexed documents with their status and any error.")
    sp = cmd("forget", cmd_forget, "Remove a file or folder from the index (the files themselves are untouched).")
    sp.add_argument("path", type=Path)
    cmd("mcp", cmd_mcp, "Serve the library to other tools (editors, agents) as a read-only Model Context "
                        "Protocol server on stdin/stdout: tools search, ask, status, documents.", json_flag=False)
    cmd("doctor", cmd_doctor, "Check Python, the SQLite driver, sqlite-vec, the models and offline mode.")
    cmd("paths", cmd_paths, "Print where the config, index, logs and models live.")
    return p


def _add_filters(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--path", action="append", default=[], metavar="GLOB",
                    help="only documents whose absolute path matches (e.g. '*/contracts/*', ~/notes); repeatable")
    sp.add_argument("--type", action="append", default=[], metavar="EXT",
                    help="only documents with this extension (e.g. pdf, md); repeatable")


def _filters(args: argparse.Namespace) -> Any:
    from .retrieval import Filters

    return Filters(tuple(args.path), tuple(args.type))


def _settings(**overrides: Any) -> Settings:
    return Settings.load(overrides)


def _assistant(**overrides: Any) -> Any:
    from .service import Assistant

    return Assistant(_settings(**overrides))


def _print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def _progress_bar(enabled: bool, unit: str = "file") -> tuple[Callable[..., None], Callable[[], None]]:
    """A progress(done, total, current="") callback drawing a bar on stderr, and its close(); both do
    nothing when disabled (not a terminal)."""
    if not enabled:
        return lambda *args: None, lambda: None
    from tqdm import tqdm

    bar = tqdm(total=0, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False)

    def update(done: int, total: int, current: str = "") -> None:
        bar.total = total
        bar.n = done
        bar.set_postfix_str(printable(os.path.basename(current))[-40:], refresh=False)
        bar.refresh()

    return update, bar.close


def cmd_index(args: argparse.Namespace) -> int:
    a = _assistant()
    progress, close = _progress_bar(sys.stderr.isatty())
    if not args.paths and not a.roots():
        print("No folder registered yet: indexing the bundled sample library. "
              "Run `assistant index ~/Documents` to index your own files.", file=sys.stderr)
    try:
        report = a.index(args.paths or None, progress=progress, rebuild=args.rebuild)
    finally:
        close()
    if args.json:
        _print_json(report.to_dict())
    else:
        print(f"added {report.added}, updated {report.updated}, removed {report.removed}, moved {report.moved}, "
              f"unchanged {report.unchanged}, skipped {report.skipped}; "
              f"chunks embedded {report.chunks_embedded}, reused {report.chunks_reused}")
        for e in report.errors:
            print(f"  error: {printable(e['path'])}: {printable(e['error'])}")
        if args.verbose:
            for path, reason in report.skipped_files:
                print(f"  skipped: {printable(path)}: {printable(reason)}")
    if report.interrupted:
        print("interrupted: files indexed so far are kept; run the command again to finish", file=sys.stderr)
        return 130
    return 0


def cmd_search(args: argparse.Namespace) -> int:
    hits = _assistant().search(args.query, k=args.k, mode=args.mode, filters=_filters(args))
    if args.json:
        _print_json([h.to_dict() for h in hits])
        return 0
    if not hits:
        print("No passages found. Is anything indexed? Try `assistant status`.")
    elif not any(h.relevant for h in hits):
        print("Nothing in your documents seems to be about this. The closest passages:\n")
    for i, h in enumerate(hits, 1):
        head = f" — {h.heading}" if h.heading else ""
        mark = "" if h.relevant else ", not relevant"
        print(f"[{i}] {printable(h.path)} {h.location}{printable(head)}  (similarity {h.cosine or 0:.2f}{mark})")
        text = " ".join(h.text.split())
        print(f"    {printable(text[:300])}{'…' if len(text) > 300 else ''}\n")
    return 0


def cmd_mcp(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        print("assistant mcp speaks the Model Context Protocol on stdin/stdout: an MCP client starts it "
              "(see the README's MCP section for the config snippet). Ctrl-C stops.", file=sys.stderr)
    from .mcp_server import serve

    serve()
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    if not sys.stdout.isatty():
        print("assistant chat needs a terminal; use `assistant ask` or `assistant search` in scripts",
              file=sys.stderr)
        return 2
    from tui.app import run  # the only place the command line reaches the UI

    run(_assistant())
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    import threading

    a = _assistant(llm_model=args.model, answer_style=args.style)
    cancel = threading.Event()
    streamed = not args.json

    def on_token(piece: str) -> None:
        if streamed:
            sys.stdout.write(printable(piece, multiline=True))
            sys.stdout.flush()

    try:
        answer = a.ask(args.question, chat_id=args.chat, filters=_filters(args), k=args.k, on_token=on_token,
                       cancel=cancel)
    except KeyboardInterrupt:
        print("\n(stopped)", file=sys.stderr)
        return 130
    if args.json:
        _print_json(answer.to_dict())
        return 0
    print("\n")
    if answer.grounded and answer.sources:
        print("Sources:")
        for i, h in enumerate(answer.sources, 1):
            mark = "*" if i in answer.citations else " "
            print(f" {mark}[{i}] {printable(h.path)} {h.location}")
        if answer.citations:
            print(" (* cited in the answer)")
    unverified = [c for c in answer.checks if not c.verified]
    if unverified and answer.stats.get("answer_style") != "generate":
        print(f"\n{len(unverified)} sentence(s) of the model's answer were left out because the sources do not "
              "support them (see --json: checks).", file=sys.stderr)
    if answer.stats.get("notice"):
        print(f"note: {printable(str(answer.stats['notice']))}", file=sys.stderr)
    st = answer.stats
    if st.get("completion_tokens"):
        print(f"\n{st['prompt_tokens']} prompt tokens ({st['cached_tokens']} cached), "
              f"{st['completion_tokens']} generated at {st['tokens_per_s']} tokens/s, "
              f"first token after {st['ttft_s']:.2f} s", file=sys.stderr)
    print(f"conversation {answer.chat_id}: continue with  assistant ask --chat {answer.chat_id} \"...\"",
          file=sys.stderr)
    return 0


def cmd_chats(args: argparse.Namespace) -> int:
    a = _assistant()
    action, chat_id = args.action, args.id
    if args.show or args.delete:
        action, chat_id = ("show", args.show) if args.show else ("delete", args.delete)
    if action != "list" and not chat_id:
        raise AssistantError(f"`assistant chats {action}` needs a conversation id; `assistant chats` lists them")
    if action == "delete":
        if not a.delete_chat(chat_id):
            raise AssistantError(f"no conversation with id {chat_id!r}")
        print(f"deleted conversation {chat_id}")
        return 0
    if action == "export":
        text = a.export_chat(chat_id, args.format)
        if args.output:
            write_private(args.output.expanduser(), text)
            print(f"wrote conversation {chat_id} to {args.output} ({args.format})", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    if action == "show":
        msgs = a.chat_messages(chat_id)
        if args.json:
            _print_json(msgs)
            return 0
        if not msgs:
            raise AssistantError(f"no conversation with id {chat_id!r} (or it is empty)")
        for m in msgs:
            print(f"{'you' if m['role'] == 'user' else 'assistant'}: {printable(m['content'], multiline=True)}\n")
        return 0
    chats = a.chats()
    if args.json:
        _print_json(chats)
        return 0
    if not chats:
        print("No conversations yet. Start one with: assistant ask \"...\"")
    import datetime as _dt

    for c in chats:
        when = _dt.datetime.fromtimestamp(c["updated_at"]).strftime("%Y-%m-%d %H:%M")
        print(f"{c['id']}  {when}  {c['turns']:3} turns  {printable(c['title'])}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    a = _assistant()
    found = a.models()
    chosen = a.settings.llm_model_path.name
    if args.json:
        _print_json([m.to_dict() | {"selected": m.name == chosen} if hasattr(m, "to_dict")
                     else {"path": str(m[0]), "error": m[1]} for m in found])
        return 0
    if not found:
        print(f"No .gguf models in {a.settings.models_dir}. Run ./install.sh or copy a GGUF file there.")
    for m in found:
        if isinstance(m, tuple):
            print(f"  {m[0].name}: unreadable: {m[1]}")
            continue
        mark = "*" if m.name == chosen else " "
        print(f"{mark} {m.name:40} {m.size_mb:8.1f} MB  {m.architecture:10} ctx {m.context_length or '?':>6}  "
              f"{m.quantization}")
    print("(* selected: set llm_model in the config or use --model)")
    return 0


def cmd_summarize(args: argparse.Namespace) -> int:
    a = _assistant(llm_model=args.model)
    progress, close = _progress_bar(sys.stderr.isatty(), unit="part")

    def on_token(piece: str) -> None:
        if not args.json:
            sys.stdout.write(printable(piece, multiline=True))
            sys.stdout.flush()

    try:
        text = a.summarize(args.path, on_token=on_token, progress=progress)
    finally:
        close()
    if args.json:
        _print_json({"path": os.path.realpath(args.path), "summary": text})
    else:
        print()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from .evaluation import evaluate, load_questions

    questions = load_questions(args.questions)
    a = _assistant(answer_style=args.style)
    if args.docs:
        progress, close = _progress_bar(sys.stderr.isatty())
        try:
            report = a.index(args.docs, progress=progress)
        finally:
            close()
        print(f"indexed: added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
              f"errors {len(report.errors)}", file=sys.stderr)
    result = evaluate(a, questions, k=args.k, mode=args.mode)
    if args.answers:
        from .evaluation import evaluate_answers

        progress, close = _progress_bar(sys.stderr.isatty(), unit="answer")
        try:
            result |= evaluate_answers(a, questions, k=args.k, limit=args.limit, progress=progress)
        finally:
            close()
    if args.json:
        _print_json(result)
        return 0
    for key, value in result.items():
        print(f"{key:16} {value}")
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    a = _assistant()
    a.add_root(args.path)
    args.paths, args.rebuild, args.verbose = [args.path], False, False
    return cmd_index(args)


def cmd_remove(args: argparse.Namespace) -> int:
    n = _assistant().remove_root(args.path)
    if args.json:
        _print_json({"removed": n})
    else:
        print(f"unregistered {os.path.realpath(args.path)}; removed {n} document(s) from the index")
    return 0


def cmd_roots(args: argparse.Namespace) -> int:
    roots = _assistant().roots()
    if args.json:
        _print_json(roots)
    else:
        print("\n".join(roots) if roots else "No folders registered. Add one with: assistant add PATH")
    return 0


def cmd_watch(args: argparse.Namespace) -> int:
    from . import daemon

    print("watching the registered folders; Ctrl-C stops", file=sys.stderr)
    return daemon.run(_settings(), foreground_log=True, nice=0)


def cmd_daemon(args: argparse.Namespace) -> int:
    from . import daemon

    s = _settings()
    files = daemon.DaemonFiles(s)
    if args.action == "run":
        return daemon.run(s)
    if args.action == "start":
        pid = daemon.start(s)
        print(f"daemon started (pid {pid}); log: {files.log}")
    elif args.action == "stop":
        pid = daemon.stop(s)
        print(f"daemon (pid {pid}) stopped" if pid else "no daemon is running")
    elif args.action == "status":
        st = daemon.status(s)
        if args.json:
            _print_json(st)
        else:
            print(_daemon_line(st))
        return 0 if st["running"] else 3
    elif args.action == "logs":
        return _tail(files.log, args.n, args.follow)
    elif args.action == "install":
        unit = daemon.install(s)
        print(f"wrote {unit}\nenable it with:\n  systemctl --user daemon-reload\n"
              "  systemctl --user enable --now assistant.service\n"
              "(on macOS use launchd instead: see the README)")
    return 0


def _daemon_line(st: dict[str, Any]) -> str:
    if not st["running"]:
        return "no daemon running (start one with `assistant daemon start`)"
    last = st.get("last_change")
    when = time.strftime("%H:%M:%S", time.localtime(last["at"])) if last else None
    text = f"daemon running (pid {st['pid']}), {st.get('state')}, queue {st.get('queue', 0)}"
    if last:
        text += f", last change {os.path.basename(last['path'])} at {when}"
    for root, why in (st.get("polling") or {}).items():
        text += f"\n  {root}: {why}"
    return text


def _tail(path: Path, n: int, follow: bool) -> int:
    if not path.exists():
        print(f"no log yet at {path}")
        return 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f.readlines()[-n:]:
            print(printable(line.rstrip("\n")))
        while follow:
            line = f.readline()
            if line:
                print(printable(line.rstrip("\n")), flush=True)
            else:
                time.sleep(0.3)
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from . import daemon

    a = _assistant()
    st = a.status() | {"daemon": daemon.status(a.settings)}
    if args.json:
        _print_json(st)
        return 0
    print(f"index:           {st['index_path']}")
    print(f"documents:       {st['documents']} ({st['errors']} with errors)")
    print(f"chunks:          {st['chunks']}")
    print(f"embedding model: {st['embedding_model']}")
    print(f"chat model:      {st['llm_model']}")
    print(f"folders:         {', '.join(st['roots']) or '(none registered)'}")
    print(f"watching:        {_daemon_line(st['daemon'])}")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    docs = _assistant().documents()
    if args.json:
        _print_json([d.to_dict() for d in docs])
        return 0
    if not docs:
        print("The index is empty. Run `assistant index PATH`.")
    for d in docs:
        extra = f"  {d.error}" if d.error else ""
        print(f"{d.status:5}  {d.chunks:5} chunks  {printable(d.path)}{printable(extra)}")
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    n = _assistant().forget(args.path)
    if args.json:
        _print_json({"removed": n})
    else:
        print(f"removed {n} document(s) from the index")
    return 0


def cmd_paths(args: argparse.Namespace) -> int:
    s = _settings()
    data = {
        "config_file": str(s.paths.config_file),
        "index_file": str(s.paths.index_file),
        "log_dir": str(s.paths.log_dir),
        "models_dir": str(s.models_dir),
        "embedding_model": str(s.embedding_model_path),
        "llm_model": str(s.llm_model_path),
        "assistant_home": os.environ.get("ASSISTANT_HOME"),
    }
    if args.json:
        _print_json(data)
    else:
        for k, v in data.items():
            print(f"{k:16} {v if v is not None else '(not set)'}")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from .doctor import run_checks

    checks = run_checks(_settings())
    if args.json:
        _print_json([c.__dict__ for c in checks])
    else:
        for c in checks:
            print(f"{'ok  ' if c.ok else 'FAIL'}  {c.name:18} {c.detail}")
        bad = [c for c in checks if not c.ok]
        print("\nAll checks passed." if not bad else f"\n{len(bad)} check(s) failed: see the lines marked FAIL.")
    return 0 if all(c.ok for c in checks) else 1


if __name__ == "__main__":
    sys.exit(main())
