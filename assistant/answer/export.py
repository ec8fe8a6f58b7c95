"""A conversation as a file that can leave the app: Markdown for people, JSON for programs.

The Markdown shows each question and answer; the answer's citations [n] become footnotes that give the
source's path and its page or lines, so a reader can check every claim without the app.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from assistant.types import ChatSummary, Hit, Turn

FORMATS = ("md", "json")
_CITATION = re.compile(r"\[(\d+)\]")


def export_json(summary: ChatSummary, turns: list[Turn]) -> str:
    """The conversation with every answer's sources, evidence and checks (Answer.from_dict reads them)."""
    head = {k: v for k, v in summary.to_dict().items() if k != "turns"}
    data: dict[str, Any] = {"format": "assistant-chat/1", **head, "turns": [t.to_dict() for t in turns]}
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def export_markdown(summary: ChatSummary, turns: list[Turn]) -> str:
    """Each question and answer, the answer's citations as footnotes with the path and page or lines."""
    when = dt.datetime.fromtimestamp(summary.updated_at).strftime("%Y-%m-%d %H:%M")
    out = [f"# {_one_line(summary.title)}", "",
           f"*Conversation {summary.id}, {len(turns)} question(s), last updated {when}. "
           "Answered from local documents by assistant.*", ""]
    for i, turn in enumerate(turns, 1):
        out += [f"## {i}. {_one_line(turn.question)}", ""]
        answer = turn.answer
        if answer is None:
            out += ["*(no answer: it was asked, and the app was closed or stopped before answering)*", ""]
            continue
        text, used = _footnoted(answer.answer.strip(), len(answer.sources), f"{i}-")
        out += [text or "*(the answer was stopped before it said anything)*", ""]
        if answer.stats.get("stopped") == "cancelled":
            out += ["*Stopped before its end (Esc, or the app was closed): the answer is as far as it got.*", ""]
        if not answer.grounded:
            out += [f"*{_ungrounded(answer)}*", ""]
        for n in used:
            out.append(f"[^{i}-{n}]: {_where(answer.sources[n - 1])}")
        if used:
            out.append("")
    return "\n".join(out).rstrip() + "\n"


def _ungrounded(answer: Any) -> str:
    """Why an answer is not grounded, as the export says it under the answer."""
    if (answer.stats.get("judgement") or {}).get("answered") is False:
        return "The documents do not answer this question: the passages listed are the closest ones, not an answer."
    if not answer.citations:
        return "Nothing in the documents is about this question: no answer was given."
    return "Not every sentence of this answer could be checked against the sources."


def _footnoted(text: str, sources: int, prefix: str) -> tuple[str, list[int]]:
    """The text with each citation [n] of an existing source as a footnote mark [^prefix n]; the
    sources cited, in order of first citation."""
    used: list[int] = []

    def mark(m: re.Match[str]) -> str:
        n = int(m.group(1))
        if not 1 <= n <= sources:
            return m.group(0)
        if n not in used:
            used.append(n)
        return f"[^{prefix}{n}]"

    return _CITATION.sub(mark, text), used


def _where(hit: Hit) -> str:
    place = f"page {hit.page}" if hit.page else (
        (f"line {hit.start_line}" if hit.start_line == hit.end_line else f"lines {hit.start_line}-{hit.end_line}")
        if hit.start_line else "")
    heading = f" (section \"{_one_line(hit.heading)}\")" if hit.heading else ""
    return f"`{hit.path}`" + (f", {place}" if place else "") + heading


def _one_line(text: str) -> str:
    return " ".join(text.split())
