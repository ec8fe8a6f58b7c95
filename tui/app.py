"""The Textual chat app: the front door of assistant. It only uses `assistant`'s public API; every call
into the core runs in a thread worker and reports back through messages or call_from_thread."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
import time
from collections.abc import Iterable
from typing import Any

from textual import on
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Footer, Header, Input

from assistant import Assistant, AssistantError, Turn, Watcher, daemon_pid

from .screens import ChatsScreen, HelpScreen, LibraryScreen, SettingsScreen, SourceScreen
from .widgets import AnswerView, QuestionInput, SourceList, StatusBar, UserMessage, Welcome
from .workers import background

QUIT_GRACE = 0.2  # seconds an answer being stopped gets to be saved when the app quits (its question already is)


class TokenArrived(Message):
    def __init__(self, view: AnswerView, text: str) -> None:
        super().__init__()
        self.view, self.text = view, text


class SourcesPicked(Message):
    """The evidence is picked: the numbered sources can be shown before the model says anything."""

    def __init__(self, view: AnswerView, sources: list[Any], evidence: list[Any], direct: Any) -> None:
        super().__init__()
        self.view, self.sources, self.evidence, self.direct = view, sources, evidence, direct


class AnswerCompleted(Message):
    def __init__(self, view: AnswerView, answer: Any | None, error: str | None = None) -> None:
        super().__init__()
        self.view, self.answer, self.error = view, answer, error


class IndexChanged(Message):
    """The app's own watcher indexed something."""


class WatchState(Message):
    """Who watches the folders and what the watcher is doing (sent from its thread)."""

    def __init__(self, watching: str | None = None, indexing: str | None = None) -> None:
        super().__init__()
        self.watching, self.indexing = watching, indexing


class AssistantApp(App[None]):
    TITLE = "assistant"
    SUB_TITLE = "your documents, offline"
    CSS_PATH = "app.tcss"
    BINDINGS = [
        Binding("escape", "stop", "Stop answer", show=True),
        Binding("ctrl+l", "library", "Library"),
        Binding("ctrl+o", "chats", "Chats"),
        Binding("ctrl+n", "new_chat", "New chat"),
        Binding("ctrl+s", "settings", "Settings"),
        Binding("f1", "help", "Help"),
        Binding("ctrl+q", "quit", "Quit"),
        Binding("f2", "example(0)", "Example", show=False),
        Binding("f3", "example(1)", "Example", show=False),
        Binding("f4", "example(2)", "Example", show=False),
    ]

    def __init__(self, assistant: Assistant, watch: bool = True) -> None:
        super().__init__()
        self.assistant = assistant
        self.watch_folders = watch
        self.chat_id: str | None = None
        self.cancel = threading.Event()
        self.answering = threading.Event()  # set while an answer is being made and saved
        self.watching = "off"
        self.indexing = ""
        self._stop_watcher = threading.Event()

    def compose(self) -> ComposeResult:
        yield Header()
        yield VerticalScroll(id="messages")
        yield QuestionInput(id="question")
        yield StatusBar(id="status")
        yield Footer()

    def on_mount(self) -> None:
        self.query_one(QuestionInput).focus()
        self.query_one("#messages", VerticalScroll).anchor()
        self.warm_up()
        if self.watch_folders:
            self.start_watcher()
        self.set_interval(1.0, self.refresh_counts)
        self.refresh_counts()
        self.call_later(self.show_welcome)

    # --- the first screen ---------------------------------------------------------------------------

    async def show_welcome(self) -> None:
        messages = self.query_one("#messages", VerticalScroll)
        if messages.children:
            return
        await messages.mount(Welcome())
        self.load_overview()

    @background("overview")
    def load_overview(self) -> None:
        overview = self.assistant.overview()
        self.call_from_thread(self._fill_welcome, overview)

    async def _fill_welcome(self, overview: dict[str, Any]) -> None:
        for welcome in self.query(Welcome):
            await welcome.show(overview, _age(overview.get("last_indexed")))

    def action_example(self, n: int) -> None:
        for welcome in self.query(Welcome):
            if welcome.pick(n):
                return

    async def on_welcome_picked(self, message: Welcome.Picked) -> None:
        await self.send(message.question)

    # --- background work ----------------------------------------------------------------------------

    @background("warm-up")
    def warm_up(self) -> None:
        try:
            self.assistant.warm_up()
        except AssistantError as exc:
            self.call_from_thread(self.notify, str(exc), title="Models", severity="error", timeout=15)
        except Exception as exc:  # never a traceback on screen
            self.call_from_thread(self.notify, f"{type(exc).__name__}: {exc}", severity="error", timeout=15)

    @background("watcher")
    def start_watcher(self) -> None:
        pid = daemon_pid(self.assistant.settings)
        if pid is not None:
            self.post_message(WatchState(watching=f"daemon (pid {pid})"))
            return
        self.post_message(WatchState(watching="this app"))

        def on_report(report: Any, scope: Any) -> None:
            if report.added or report.updated or report.removed or report.moved:
                self.post_message(IndexChanged())

        def on_status(st: Any) -> None:
            self.post_message(WatchState(indexing="" if st.state == "watching" else f"{st.state}…"))

        try:
            Watcher(self.assistant, on_report=on_report, on_status=on_status, stop=self._stop_watcher).run()
        except AssistantError as exc:
            self.post_message(WatchState(watching="off"))
            self.call_from_thread(self.notify, str(exc), severity="warning")

    def on_watch_state(self, message: WatchState) -> None:
        if message.watching is not None:
            self.watching = message.watching
        if message.indexing is not None:
            self.indexing = message.indexing

    @background("status")
    def refresh_counts(self) -> None:
        a = self.assistant
        try:
            counts = a.counts()
        except Exception:  # the index is being rebuilt or is busy: show zeros until the next tick
            counts = {"documents": 0, "chunks": 0, "pending": 0}
        indexing = self.indexing
        if counts.get("pending"):  # documents are in (keyword-searchable); their vectors are being computed
            indexing = f"embedding {counts['chunks'] - counts['pending']} of {counts['chunks']}"
        self.call_from_thread(self._show_counts, a.settings.models.chat, a.generator_loaded, counts["documents"],
                              counts["chunks"], self.watching, indexing)

    def _show_counts(self, *args: Any) -> None:
        self.query_one(StatusBar).show(*args)
        documents = args[2]
        # The first screen follows the library: it said "Nothing is indexed yet" after the sample (or a folder)
        # had been indexed meanwhile, by the Library screen, the daemon or another terminal.
        if any(w.documents is not None and w.documents != documents for w in self.query(Welcome)):
            self.load_overview()

    def on_unmount(self) -> None:
        self.stop_watcher()
        self.cancel.set()

    def stop_watcher(self) -> None:
        self._stop_watcher.set()

    # --- asking -------------------------------------------------------------------------------------

    @on(Input.Submitted, "#question")
    async def ask(self, event: Input.Submitted) -> None:
        await self.send(event.value)

    async def send(self, text: str) -> None:
        """Ask a question (or rate the last answer with "+" / "- note")."""
        question = text.strip()
        if not question:
            return
        box = self.query_one(QuestionInput)
        box.value = ""
        if question[:1] in "+-" and question[1:2] in ("", " "):  # "+" or "- wrong date": rate the last answer
            if self.chat_id is None:
                self.notify("Nothing to rate yet: ask a question first.", severity="warning")
            else:
                self.rate(self.chat_id, "up" if question[0] == "+" else "down", question[1:].strip())
            return
        box.remember(question)
        messages = self.query_one("#messages", VerticalScroll)
        for welcome in self.query(Welcome):
            await welcome.remove()
        view = AnswerView()
        await messages.mount(UserMessage(question))
        await messages.mount(view)
        messages.anchor()
        self.cancel = threading.Event()
        self.generate(question, view, self.cancel)

    @background("rate")
    def rate(self, chat_id: str, rating: str, note: str) -> None:
        try:
            done = self.assistant.rate(chat_id, rating, note=note or None)
        except AssistantError as exc:
            self.call_from_thread(self.notify, str(exc), severity="warning")
            return
        self.call_from_thread(self.notify, f"Answer {done['turn']} rated {rating}" + (f": {note}" if note else "")
                              + ". `assistant eval --from-feedback` measures search on your rated questions.",
                              title="Feedback")

    @background("answer")
    def generate(self, question: str, view: AnswerView, cancel: threading.Event) -> None:
        self.answering.set()  # until the answer is saved (Assistant.ask saves it before returning)
        try:
            answer = self.assistant.ask(
                question, chat_id=self.chat_id, cancel=cancel,
                on_token=lambda t: self.post_message(TokenArrived(view, t)),
                on_sources=lambda hits, ev, da: self.post_message(SourcesPicked(view, hits, ev, da)))
            self.post_message(AnswerCompleted(view, answer))
        except AssistantError as exc:
            self.post_message(AnswerCompleted(view, None, str(exc)))
        except Exception as exc:
            self.post_message(AnswerCompleted(view, None, f"{type(exc).__name__}: {exc}"))
        finally:
            self.answering.clear()

    async def on_token_arrived(self, message: TokenArrived) -> None:
        await message.view.append(message.text)

    async def on_sources_picked(self, message: SourcesPicked) -> None:
        await message.view.show_sources(message.sources, message.evidence, message.direct)

    async def on_answer_completed(self, message: AnswerCompleted) -> None:
        if message.error:
            await message.view.finish(None, "failed")
            self.notify(message.error, severity="error", timeout=10)
            return
        answer = message.answer
        note = "  (stopped)" if answer.stats.get("stopped") == "cancelled" else ""
        if answer.chat_id:
            self.chat_id = answer.chat_id
        await message.view.finish(answer, note)

    def action_stop(self) -> None:
        if self.screen is not self.screen_stack[0]:
            return  # Esc belongs to the screen on top (it closes it)
        self.cancel.set()

    @on(SourceList.Chosen)
    def open_source(self, event: SourceList.Chosen) -> None:
        # Closed (Esc), the passage gives the keys back to the question box: the next question typed is not lost
        # on the source list.
        self.push_screen(SourceScreen(event.hit, event.spans), lambda _: self.query_one(QuestionInput).focus())

    def on_index_changed(self, message: IndexChanged) -> None:
        if isinstance(self.screen, LibraryScreen):
            self.screen.refresh_data()

    # --- navigation ---------------------------------------------------------------------------------

    def action_library(self) -> None:
        self.push_screen(LibraryScreen())

    def action_chats(self) -> None:
        def done(chat_id: str | None) -> None:
            if chat_id == "":
                self.action_new_chat()
            elif chat_id:
                self.load_chat(chat_id)

        self.push_screen(ChatsScreen(), done)

    async def action_new_chat(self) -> None:
        self.chat_id = None
        await self.query_one("#messages", VerticalScroll).remove_children()
        await self.show_welcome()
        self.notify("new conversation")

    @background("load-chat")
    def load_chat(self, chat_id: str) -> None:
        turns = self.assistant.chat_turns(chat_id)
        self.call_from_thread(self._show_chat, chat_id, turns)

    async def _show_chat(self, chat_id: str, turns: list[Turn]) -> None:
        self.chat_id = chat_id
        messages = self.query_one("#messages", VerticalScroll)
        await messages.remove_children()
        for turn in turns:
            await messages.mount(UserMessage(turn.question))
            if turn.answer is not None:
                view = AnswerView()
                await messages.mount(view)
                await view.finish(turn.answer)

    def action_settings(self) -> None:
        self.push_screen(SettingsScreen())

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def get_system_commands(self, screen: Any) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Library", "Folders and documents: add, remove, re-index", self.action_library)
        yield SystemCommand("Conversations", "Resume, rename or delete a conversation", self.action_chats)
        yield SystemCommand("New conversation", "Start a new conversation", self.action_new_chat)
        yield SystemCommand("Settings", "Chat model, sources per answer, temperature", self.action_settings)
        yield SystemCommand("Help", "The keys of this app", self.action_help)


def _age(when: float | None) -> str:
    """How long ago the index last changed, in words."""
    if not when:
        return ""
    s = max(0.0, time.time() - when)
    if s < 60:
        return "just now"
    for unit, size in (("day", 86400), ("h", 3600), ("min", 60)):
        if s >= size:
            n = int(s // size)
            return f"{n} {unit}{'s' if unit == 'day' and n > 1 else ''} ago"
    return ""


def run(assistant: Assistant) -> None:
    """Run the app in this terminal; the process ends as soon as the app does.

    Worker threads cannot be interrupted: a model still loading, the watcher in the middle of a file or
    the interpreter unloading torch would hold the process for seconds after Ctrl+Q (asyncio.run()
    joins every worker thread). The terminal is already restored when `App.run` returns, so the process
    leaves at once: an answer being stopped gets a moment to be saved, and an index write that is cut
    short is rolled back by SQLite.
    """
    app = AssistantApp(assistant)
    loop = asyncio.new_event_loop()  # our own loop, which is never made to wait for the worker threads
    asyncio.set_event_loop(loop)
    try:
        app.run(loop=loop)
    finally:
        app.cancel.set()
        app.stop_watcher()
        finish_by = time.monotonic() + QUIT_GRACE
        while app.answering.is_set() and time.monotonic() < finish_by:
            time.sleep(0.01)
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(app.return_code or 0)
