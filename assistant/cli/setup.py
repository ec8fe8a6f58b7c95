"""Commands about the installation: paths, settings, doctor."""

from __future__ import annotations

import argparse
import json
import os

from assistant.cli.common import (
    load_settings,
    print_json,
)


def cmd_paths(args: argparse.Namespace) -> int:
    s = load_settings()
    data = {
        "config_file": str(s.paths.config_file),
        "index_file": str(s.paths.index_file),
        "log_dir": str(s.paths.log_dir),
        "models_dir": str(s.models.dir),
        "embedding_model": str(s.models.embedding_path),
        "llm_model": str(s.models.chat_path),
        "assistant_home": os.environ.get("ASSISTANT_HOME"),
    }
    if args.json:
        print_json(data)
    else:
        for k, v in data.items():
            print(f"{k:16} {v if v is not None else '(not set)'}")
    return 0


def cmd_settings(args: argparse.Namespace) -> int:
    """Every setting as it applies now (defaults, the config file, ASSISTANT_* variables), by group."""
    s = load_settings()
    data = s.to_dict()
    if args.json:
        print_json(data)
        return 0
    print(f"# {s.paths.config_file}{'' if s.paths.config_file.exists() else ' (not written yet: all defaults)'}")
    for group, values in data.items():
        print(f"\n[{group}]")
        for name, value in values.items():
            shown = json.dumps(value) if isinstance(value, str) else str(value).lower() if isinstance(value, bool) \
                else value
            print(f"{name} = {shown}")
    print("\n(docs/reference/configuration.md says what each one does; ASSISTANT_<GROUP>_<NAME> sets one)")
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    from assistant.doctor import run_checks

    checks = run_checks(load_settings())
    if args.json:
        print_json([c.__dict__ for c in checks])
    else:
        for c in checks:
            print(f"{'ok  ' if c.ok else 'FAIL'}  {c.name:18} {c.detail}")
        bad = [c for c in checks if not c.ok]
        print("\nAll checks passed." if not bad else f"\n{len(bad)} check(s) failed: see the lines marked FAIL.")
    return 0 if all(c.ok for c in checks) else 1
