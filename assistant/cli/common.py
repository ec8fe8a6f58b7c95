"""What every command shares: settings, the Assistant, JSON output, progress bars, filters."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable
from typing import Any

from assistant.config import Settings
from assistant.text import printable


def add_filters(sp: argparse.ArgumentParser) -> None:
    sp.add_argument("--path", action="append", default=[], metavar="GLOB",
                    help="only documents whose absolute path matches (e.g. '*/contracts/*', ~/notes); repeatable")
    sp.add_argument("--type", action="append", default=[], metavar="EXT",
                    help="only documents with this extension (e.g. pdf, md); repeatable")


def add_rerank(sp: argparse.ArgumentParser, setting: str, also: str = "") -> None:
    """--rerank N for an answer (setting [answer] rerank) or for searches (setting [search] rerank)."""
    from assistant.config import AnswerSettings, SearchSettings
    from assistant.search.rerank import TIE_MARGIN

    if setting == "rerank":
        default = AnswerSettings.model_fields["rerank"].default
        help_text = (f"reorder the first N passages with the cross-encoder (setting [answer] rerank, default "
                     f"{default}{also}; 0 = off; about 30 ms a passage)")
    else:
        fields = SearchSettings.model_fields
        help_text = (f"reorder the first N passages with the cross-encoder on every search (setting [search] rerank, "
                     f"default {fields['rerank'].default}{also}; about 30 ms a passage). Without it, the first "
                     f"{fields['rerank_ties'].default} are reordered only when hybrid search's first two score "
                     f"within {TIE_MARGIN} of each other (setting [search] rerank_ties); --rerank 0: never")
    sp.add_argument("--rerank", type=int, default=None, metavar="N", help=help_text)


def search_rerank(n: int | None) -> dict[str, int | None]:
    """The settings `search --rerank N` and `eval --rerank N` give: N on every search, and with 0 no
    near-tie reordering either (hybrid's order as it is)."""
    return {"search_rerank": n, "search_rerank_ties": 0 if n == 0 else None}


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 ("-k -3" is refused with a line saying so)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not allowed: it must be at least 1")
    return value


def filters(args: argparse.Namespace) -> Any:
    from assistant.search.retrieval import Filters

    return Filters(tuple(args.path), tuple(args.type))


def load_settings(**overrides: Any) -> Settings:
    """The settings of this command (flags as overrides); a config file written with old setting names gets a
    note on stderr saying the new ones."""
    settings = Settings.load(overrides)
    for note in settings.notes:
        print(f"note: {printable(note)}", file=sys.stderr)
    return settings


def open_assistant(**overrides: Any) -> Any:
    from assistant.service import Assistant

    return Assistant(load_settings(**overrides))


def print_json(data: Any) -> None:
    print(json.dumps(data, indent=2, ensure_ascii=False))


def print_listing(items: list[Any], as_json: bool, empty: str, line: Callable[[Any], str],
                  data: Callable[[Any], Any] = lambda item: item) -> None:
    """What a listing command prints: the items as JSON for scripts, or a line each (and, when there are
    none, `empty`: what to do to have some)."""
    if as_json:
        print_json([data(item) for item in items])
        return
    if not items:
        print(empty)
    for item in items:
        print(line(item))


def progress_bar(enabled: bool, unit: str = "file", desc: str | None = None,
                 position: int = 0) -> tuple[Callable[..., None], Callable[[], None]]:
    """A progress(done, total, current="") callback drawing a bar (with its rate and time left) on stderr,
    and its close(); both do nothing when disabled (not a terminal)."""
    if not enabled:
        return lambda *args: None, lambda: None
    from tqdm import tqdm

    bars: list[Any] = []  # drawn at the first update: not "reading: 0file" while the run waits to start

    def update(done: int, total: int, current: str = "") -> None:
        if not bars:
            bars.append(tqdm(total=0, unit=unit, file=sys.stderr, dynamic_ncols=True, leave=False, desc=desc,
                             position=position))
        bar = bars[0]
        bar.total = total
        bar.n = done
        bar.set_postfix_str(printable(os.path.basename(current))[-40:], refresh=False)
        bar.refresh()

    def close() -> None:
        for bar in bars:
            bar.close()

    return update, close


def daemon_line(st: dict[str, Any]) -> str:
    if not st["running"]:
        return "no daemon running (start one with `assistant daemon start`)"
    last = st.get("last_change")
    when = time.strftime("%H:%M:%S", time.localtime(last["at"])) if last else None
    text = f"daemon running (pid {st['pid']}), {st.get('state')}, queue {st.get('queue', 0)}"
    if st.get("embedding"):
        text += f", embedding {st['embedding']} chunks"
    if last:
        text += f", last change {os.path.basename(last['path'])} at {when}"
    for root, why in (st.get("polling") or {}).items():
        text += f"\n  {root}: {why}"
    return text
