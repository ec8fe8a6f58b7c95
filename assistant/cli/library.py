"""Commands that build and inspect the library: index, add, remove, roots, status, docs, forget."""

from __future__ import annotations

import argparse
import os
import sys
from typing import Any

from assistant.cli.common import (
    daemon_line,
    open_assistant,
    print_json,
    print_listing,
    progress_bar,
)
from assistant.text import printable


def cmd_index(args: argparse.Namespace) -> int:
    a = open_assistant()
    tty = sys.stderr.isatty()
    progress, close = progress_bar(tty, desc="reading")
    embedding, close_embedding = progress_bar(tty, unit="chunk", desc="embedding", position=1)
    if not args.paths and not a.roots():
        print("No folder registered yet: indexing the bundled sample library. "
              "Run `assistant index ~/Documents` to index your own files.", file=sys.stderr)
    def waiting(holder: dict[str, Any]) -> None:
        who = f"{holder.get('role', 'another writer')} (pid {holder.get('pid', '?')})" if holder else "another writer"
        print(f"waiting: {printable(who)} is writing to this index; this run starts when it has finished "
              "(Ctrl-C to stop waiting)", file=sys.stderr, flush=True)

    try:
        report = a.index(args.paths or None, progress=progress, rebuild=args.rebuild, on_embed=embedding,
                         on_wait=waiting)
    finally:
        close_embedding()
        close()
    if args.json:
        print_json(report.to_dict())
    else:
        print(f"added {report.added}, updated {report.updated}, removed {report.removed}, moved {report.moved}, "
              f"unchanged {report.unchanged}, skipped {report.skipped}, no text {report.no_text}; "
              f"chunks embedded {report.chunks_embedded}, reused {report.chunks_reused}")
        for e in report.errors:
            print(f"  error: {printable(e['path'])}: {printable(e['error'])}")
        if report.queued:
            print(f"the team index does not answer: {report.queued} writes wait on this workstation and are sent "
                  "when it answers (the next `assistant index`, search or the daemon sends them)")
        if args.verbose:
            for path, reason in report.skipped_files:
                print(f"  skipped: {printable(path)}: {printable(reason)}")
    if report.interrupted:
        print("interrupted: files indexed so far are kept (searchable by keywords; "
              f"{report.chunks_pending} chunks still wait for their vectors); run the command again to finish",
              file=sys.stderr)
        return 130
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    a = open_assistant()
    a.add_root(args.path)
    args.paths, args.rebuild, args.verbose = [args.path], False, False
    return cmd_index(args)


def cmd_remove(args: argparse.Namespace) -> int:
    n = open_assistant().remove_root(args.path)
    if args.json:
        print_json({"removed": n})
    else:
        print(f"unregistered {os.path.realpath(args.path)}; removed {n} document(s) from the index")
    return 0


def cmd_roots(args: argparse.Namespace) -> int:
    roots = open_assistant().roots()
    if args.json:
        print_json(roots)
    else:
        print("\n".join(roots) if roots else "No folders registered. Add one with: assistant add PATH")
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from assistant.sync import daemon

    a = open_assistant()
    st = a.status() | {"daemon": daemon.status(a.settings)}
    if args.json:
        print_json(st)
        return 0
    print(f"index:           {st['index_path']}" + (" (team index on PostgreSQL)" if st["store"] != "sqlite" else ""))
    print(f"documents:       {st['documents']} ({st['errors']} with errors"
          + (f", {st['no_text']} with no text in them: photos, blank scans" if st.get("no_text") else "") + ")")
    waiting = f" (embedding: {st['chunks'] - st['pending']} of {st['chunks']} have vectors; the rest are " \
              "searchable by keywords until then)" if st["pending"] else ""
    print(f"chunks:          {st['chunks']}{waiting}")
    mb = 2**20
    spare = f"; {st['reclaimable_bytes'] / mb:.0f} MB free inside it: `assistant compact` gives it back" \
        if st["reclaimable_bytes"] > 16 * mb else ""
    print(f"disk:            {st['index_bytes'] / mb:.1f} MB index + {st['vector_file_bytes'] / mb:.1f} MB "
          f"vector file{spare}")
    print(f"embedding model: {st['embedding_model']}")
    if st["languages"]:
        print(f"languages:       {languages_line(st['languages'], st['embedding_model'])}")
    print(f"chat model:      {st['llm_model']}")
    print(f"folders:         {', '.join(st['roots']) or '(none registered)'}")
    print(f"watching:        {daemon_line(st['daemon'])}")
    return 0


def languages_line(shares: dict[str, float], model: str) -> str:
    """'English 62%, German 38%', and the multilingual model suggested when a fifth or more of the library is
    not English while an English-only model embeds it."""
    from assistant.language import NAMES
    from assistant.search.retrieval import CROSS_LINGUAL

    line = ", ".join(f"{NAMES.get(lang, lang)} {share:.0%}" for lang, share in list(shares.items())[:5]
                     if share >= 0.005) or "-"
    if 1.0 - shares.get("en", 0.0) >= 0.2 and model not in CROSS_LINGUAL:
        line += ("\n                 (a multilingual embedding model would serve it better: ./install.sh "
                 "--multilingual; docs/guide/languages.md)")
    return line


def cmd_compact(args: argparse.Namespace) -> int:
    a = open_assistant()
    freed = a.compact()
    st = a.status()
    if args.json:
        print_json({"freed_bytes": freed, "index_bytes": st["index_bytes"]})
    else:
        print(f"gave back {freed / 2**20:.1f} MB; the index now takes {st['index_bytes'] / 2**20:.1f} MB")
    return 0


def cmd_docs(args: argparse.Namespace) -> int:
    print_listing(open_assistant().documents(), args.json, "The index is empty. Run `assistant index PATH`.",
                  lambda d: f"{d.status:5}  {d.chunks:5} chunks  {printable(d.path)}"
                            f"{printable(f'  {d.error}' if d.error else '')}",
                  lambda d: d.to_dict())
    return 0


def cmd_forget(args: argparse.Namespace) -> int:
    n = open_assistant().forget(args.path)
    if args.json:
        print_json({"removed": n})
    else:
        print(f"removed {n} document(s) from the index")
    return 0
