"""Commands that keep running: watch, daemon, mcp."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from assistant.cli.common import (
    daemon_line,
    load_settings,
    print_json,
)
from assistant.text import printable


def cmd_watch(args: argparse.Namespace) -> int:
    from assistant.sync import daemon

    print("watching the registered folders; Ctrl-C stops", file=sys.stderr)
    return daemon.run(load_settings(), foreground_log=True, nice=0)


def cmd_daemon(args: argparse.Namespace) -> int:
    from assistant.sync import daemon

    s = load_settings()
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
            print_json(st)
        else:
            print(daemon_line(st))
        return 0 if st["running"] else 3
    elif args.action == "logs":
        return _tail(files.log, args.n, args.follow)
    elif args.action == "install":
        unit = daemon.install(s)
        print(f"wrote {unit}\nenable it with:\n  systemctl --user daemon-reload\n"
              "  systemctl --user enable --now assistant.service\n"
              "(on macOS use launchd instead: see the README)")
    return 0


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


def cmd_mcp(args: argparse.Namespace) -> int:
    if sys.stdin.isatty():
        print("assistant mcp speaks the Model Context Protocol on stdin/stdout: an MCP client starts it "
              "(see the README's MCP section for the config snippet). Ctrl-C stops.", file=sys.stderr)
    from assistant.mcp_server import serve

    serve()
    return 0
