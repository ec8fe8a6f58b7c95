"""Widgets of the chat app. Document and model text is always shown as plain text (never as markup)."""

from __future__ import annotations

import os
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.message import Message
from textual.widgets import Input, Markdown, OptionList, Static
from textual.widgets.option_list import Option

from assistant import printable


def clean(text: str) -> str:
    """Document or model text for the screen: the core's one sanitiser, newlines and tabs kept."""
    return printable(text, multiline=True)


def plain(text: str) -> Text:
    """Document text as a Rich Text: never parsed as markup, never able to drive the terminal."""
    return Text(clean(text))


def highlighted(text: str, spans: list[tuple[int, int]], style: str = "bold reverse") -> Text:
    """Document text with the given character spans (the answer's evidence) highlighted."""
    out = Text()
    pos = 0
    for start, end in sorted(spans):
        start, end = max(start, pos), min(end, len(text))
        if start >= end:
            continue
        out.append(clean(text[pos:start]))
        out.append(clean(text[start:end]), style=style)
        pos = end
    out.append(clean(text[pos:]))
    return out


def where(hit: Any) -> str:
    """The hit's location, with a one-line span shown as "line N"."""
    if not hit.page and hit.start_line and hit.end_line == hit.start_line:
        return f"line {hit.start_line}"
    return str(hit.location)


class QuestionInput(Input):
    """Enter sends; Up/Down recall earlier questions."""

    BINDINGS = [("up", "older", "Earlier question"), ("down", "newer", "Later question")]

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(placeholder="Ask about your documents…  (Enter to send, Esc to stop)", **kwargs)
        self.history: list[str] = []
        self._pos = 0

    def remember(self, question: str) -> None:
        if not self.history or self.history[-1] != question:
            self.history.append(question)
        self._pos = len(self.history)

    def action_older(self) -> None:
        if self.history and self._pos > 0:
            self._pos -= 1
            self.value = self.history[self._pos]
            self.cursor_position = len(self.value)

    def action_newer(self) -> None:
        if self._pos < len(self.history) - 1:
            self._pos += 1
            self.value = self.history[self._pos]
        else:
            self._pos = len(self.history)
            self.value = ""
        self.cursor_position = len(self.value)


class UserMessage(Static):
    def __init__(self, question: str) -> None:
        super().__init__(plain(question), classes="user")


class SourceList(OptionList):
    """The numbered sources of one answer; choosing one opens the passage."""

    class Chosen(Message):
        def __init__(self, hit: Any, spans: list[tuple[int, int]]) -> None:
            super().__init__()
            self.hit = hit
            self.spans = spans  # the evidence quoted from this passage, to highlight

    def __init__(self, hits: list[Any], cited: list[int], evidence: list[Any] | None = None) -> None:
        options = []
        self.spans: list[list[tuple[int, int]]] = [[] for _ in hits]
        for e in evidence or []:
            if 1 <= e.source <= len(hits):
                self.spans[e.source - 1].append((e.start, e.end))
        for i, h in enumerate(hits, 1):
            label = Text()
            label.append(f"[{i}]{'*' if i in cited else ' '} ", style="bold")
            label.append(printable(os.path.basename(h.path)))  # one line: a newline in a file name is no new row
            label.append(f"  {where(h)}", style="dim")
            label.append("" if h.relevant else "  (not relevant)", style="italic dim")
            quoted = self.spans[i - 1]
            snippet = " ".join(clean(h.text[quoted[0][0]:quoted[0][1]] if quoted else h.text).split())[:90]
            label.append(f"\n     {'quoted: ' if quoted else ''}{snippet}", style="dim")
            options.append(Option(label, id=str(i)))
        super().__init__(*options, classes="sources")
        self.hits = hits

    def on_focus(self) -> None:
        if self.highlighted is None and self.option_count:
            self.highlighted = 0

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.post_message(self.Chosen(self.hits[event.option_index], self.spans[event.option_index]))


class AnswerView(Vertical):
    """One answer: streamed Markdown, then its sources."""

    def __init__(self) -> None:
        super().__init__(classes="answer")
        self.markdown = Markdown("", classes="answer-text")
        self.status = Static(Text("thinking…", style="italic dim"), classes="answer-status")
        self.stream: Any = None
        self.text = ""

    def compose(self) -> ComposeResult:
        yield self.markdown
        yield self.status

    async def append(self, piece: str) -> None:
        piece = clean(piece)
        if not piece:
            return
        if self.stream is None:
            self.stream = Markdown.get_stream(self.markdown)
            self.status.update(Text("answering… (Esc stops)", style="italic dim"))
        self.text += piece
        await self.stream.write(piece)

    async def show_sources(self, sources: list[Any], evidence: list[Any], direct: Any) -> None:
        """The numbered sources with their quoted sentences, shown as soon as the evidence is picked (the
        model's sentences follow); finish() puts the final list, with every citation, in its place."""
        cited = sorted({e.source for e in evidence} | ({direct.source} if direct else set()))
        for old in self.query(SourceList):
            await old.remove()
        if sources:
            await self.mount(SourceList(sources, cited, evidence))

    async def finish(self, answer: Any | None, note: str = "") -> None:
        if self.stream is not None:
            await self.stream.stop()
            self.stream = None
        if answer is None:
            self.status.update(Text(note or "stopped", style="italic dim"))
            return
        # The final text is exactly what was checked: quotes, verified sentences, known citations only.
        await self.markdown.update(clean(answer.answer))
        st = answer.stats
        unverified = sum(not c.verified for c in answer.checks)
        judged = st.get("judgement") or {}
        if not answer.grounded and not answer.citations and judged.get("answered") is False:
            self.add_class("not-grounded")
            self.status.update(Text("Your documents do not answer this: the passages shown are the closest ones, "
                                    "not an answer.", style="bold"))
        elif not answer.grounded and not answer.citations:
            self.add_class("not-grounded")
            self.status.update(Text("Not covered by your documents: no answer was generated from the model's "
                                    "own knowledge.", style="bold"))
        elif not answer.grounded:
            self.add_class("not-grounded")
            self.status.update(Text(f"{unverified} sentence(s) marked (unverified) are not supported by the "
                                    "sources: check them before you act on them.", style="bold"))
        else:
            parts = ["checked against your sources"]
            if st.get("notice"):
                parts = [str(st["notice"])]
            elif unverified:
                parts.append(f"{unverified} unsupported sentence(s) left out")
            if st.get("cached"):
                parts.append("cached: asked before, and its sources have not changed")
            if st.get("completion_tokens") and not st.get("cached"):
                parts.append(f"{st['completion_tokens']} tokens · {st.get('tokens_per_s', 0)} tok/s · "
                             f"first token {st.get('ttft_s', 0):.2f} s")
            self.status.update(Text(clean(" · ".join(parts)) + note, style="dim"))
        early = list(self.query(SourceList))  # shown when the evidence was picked: replaced, without a gap
        if answer.sources:
            await self.mount(SourceList(answer.sources, answer.citations, answer.evidence))
        for old in early:
            await old.remove()


class Welcome(Vertical):
    """The empty chat's first screen: what is indexed, how to add a folder, and three questions drawn from
    the library (F2, F3, F4, or a click, asks one)."""

    KEYS = ("F2", "F3", "F4")

    class Picked(Message):
        def __init__(self, question: str) -> None:
            super().__init__()
            self.question = question

    def __init__(self) -> None:
        super().__init__(id="welcome")
        self.state = Static(Text("Reading the library…", style="dim"), id="welcome-state")
        self.questions: list[str] = []
        self.documents: int | None = None  # how many documents it last showed (the app refreshes it on a change)

    def compose(self) -> ComposeResult:
        yield Static(Text("Ask about your documents", style="bold"))
        yield self.state

    async def show(self, overview: dict[str, Any], age: str) -> None:
        """Fill in the library's state and the example questions (overview: Assistant.overview())."""
        text = Text()
        docs, chunks = overview["documents"], overview["chunks"]
        self.documents = docs
        if not docs:
            text.append("Nothing is indexed yet. ", style="bold")
            text.append("Add a folder: Ctrl+L, then a (or `assistant add ~/Documents` in a shell).")
        else:
            text.append(f"{docs} document(s), {chunks} passages indexed", style="bold")
            text.append(f", last change {age}" if age else "")
            if overview.get("errors"):
                text.append(f"; {overview['errors']} could not be read (Ctrl+L lists them)")
            text.append(".\n")
            if overview.get("sample_only"):
                text.append("This is only the bundled sample library. ", style="bold")
                text.append("Add your own folder: Ctrl+L, then a (or `assistant add ~/Documents`).")
            else:
                roots = overview.get("roots") or []
                text.append("Folders: " + ", ".join(clean(r) for r in roots[:3])
                            + (f" and {len(roots) - 3} more" if len(roots) > 3 else "") + " (Ctrl+L: library)")
        self.state.update(text)
        self.questions = list(overview.get("questions") or [])[:3]
        for old in self.query(".example"):
            await old.remove()
        if self.questions:
            await self.mount(Static(Text("\nTry one of these, drawn from your library:", style="dim"),
                                    classes="example"))
            for key, q in zip(self.KEYS, self.questions, strict=False):
                line = Text()
                line.append(f" {key} ", style="bold reverse")
                line.append(f"  {clean(q)}")
                await self.mount(Example(line, q))

    def pick(self, n: int) -> bool:
        """Ask example n (0-based); False when there is none."""
        if n < len(self.questions):
            self.post_message(self.Picked(self.questions[n]))
            return True
        return False


class Example(Static):
    """One example question on the first screen; a click asks it."""

    def __init__(self, label: Text, question: str) -> None:
        super().__init__(label, classes="example")
        self.question = question

    def on_click(self) -> None:
        self.post_message(Welcome.Picked(self.question))


class StatusBar(Static):
    """Model, index size, who is watching, indexing progress."""

    def show(self, model: str, loaded: bool, documents: int, chunks: int, watching: str, indexing: str) -> None:
        parts = [f"model {model}{'' if loaded else ' (loading…)'}", f"{documents} docs · {chunks} chunks",
                 f"watch: {watching}"]
        if indexing:
            parts.append(indexing)
        self.update(Text("  │  ".join(parts)))
