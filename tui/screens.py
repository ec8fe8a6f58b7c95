"""Secondary screens: a source passage, the library, conversations, settings, help, a text prompt."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen, Screen
from textual.widgets import (
    Button,
    DataTable,
    Footer,
    Header,
    Input,
    Label,
    OptionList,
    ProgressBar,
    Select,
    Static,
)
from textual.widgets.option_list import Option

from assistant import Assistant, AssistantError, ChatSummary, printable, write_private

from .widgets import clean, highlighted, plain, where
from .workers import background


class CoreUser:
    """A screen that calls the core: the app's Assistant (always from a worker thread)."""

    app: Any

    @property
    def assistant(self) -> Assistant:
        return self.app.assistant  # type: ignore[no-any-return]


class PromptScreen(ModalScreen[str | None]):
    """Ask for one line of text (a folder to add, a new title)."""

    BINDINGS = [("escape", "cancel", "Cancel")]

    def __init__(self, title: str, value: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.value = value

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(self.title_text)
            yield Input(value=self.value, id="prompt-input")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class SourceScreen(CoreUser, ModalScreen[None]):
    """A source passage in full, with where it comes from: `e` opens the file in the editor at that line
    (text) or where it can be read, `o` in the program that shows it (a PDF at its page), `p` draws the
    cited page with the passage boxed."""

    BINDINGS = [("escape,q", "close", "Close"), ("e", "edit", "Open at the line"), ("o", "open", "Open"),
                ("p", "page", "Page picture")]

    def __init__(self, hit: Any, spans: list[tuple[int, int]] | None = None) -> None:
        super().__init__()
        self.hit = hit
        self.spans = spans or []  # the answer's evidence in this passage, highlighted

    def compose(self) -> ComposeResult:
        h = self.hit
        with Vertical(classes="dialog source"):
            head = Text(clean(h.path), style="bold")
            head.append(f"  {where(h)}", style="dim")
            if h.heading:
                head.append(f"\n{clean(h.heading)}", style="italic")
            yield Static(head)
            with VerticalScroll():
                yield Static(highlighted(h.text, self.spans), id="passage")
            keys = "o: open where it can be read"
            if h.page or h.ocr:
                keys += " · p: the page, passage highlighted"
            yield Static(Text(f"{keys} · e: in $EDITOR at the line · Esc: close", style="dim"))

    def action_close(self) -> None:
        self.dismiss(None)

    def action_edit(self) -> None:
        self.action_open()

    def action_open(self) -> None:
        try:
            opening = self.assistant.open_source(self.hit)
        except AssistantError as exc:
            self.notify(str(exc), title="Open", severity="warning", timeout=10)
            return
        if not opening.command.terminal:
            opening.run(wait=False)
            self.notify(f"opened with {os.path.basename(opening.command.argv[0])}"
                        + ("" if opening.command.page_shown or not self.hit.page else f": go to {where(self.hit)}"))
            return
        try:
            try:
                with self.app.suspend():
                    opening.run()
            except AssistantError:
                raise
            except Exception:  # suspend is unsupported in some drivers (headless tests): run it detached
                opening.run(quiet=True)
        except AssistantError as exc:
            self.notify(f"{exc}; set $EDITOR", severity="error")

    def action_page(self) -> None:
        self.app.push_screen(PageScreen(self.hit, [self.hit.text[a:b] for a, b in self.spans]))


class PageScreen(CoreUser, ModalScreen[None]):
    """The cited page as a picture, the passage boxed in yellow: shown here when the terminal can draw
    images (kitty, sixel; half cells elsewhere), and written to a private file `o` opens in a viewer."""

    BINDINGS = [("escape,q", "close", "Close"), ("o", "open", "Open in viewer")]

    def __init__(self, hit: Any, passages: list[str]) -> None:
        super().__init__()
        self.hit = hit
        self.passages = passages
        self.picture: Any = None
        self.folder = Path(tempfile.mkdtemp(prefix="assistant-page-"))  # 0700: a private page

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog page"):
            yield Static(Text(f"{clean(self.hit.path)}  {where(self.hit)}", style="bold"))
            yield Static(Text("drawing the page…", style="italic dim"), id="page-state")
            yield Static(Text("o: open the picture in a viewer · Esc: close", style="dim"))

    def on_mount(self) -> None:
        self.draw()

    @background("page")
    def draw(self) -> None:
        out = self.folder / f"{Path(self.hit.path).stem or 'page'}-page{self.hit.page or 1}.png"
        try:
            picture = self.assistant.page_picture(self.hit, self.passages, out)
        except AssistantError as exc:
            self.app.call_from_thread(self._state, str(exc))
            return
        self.app.call_from_thread(self._show, picture)

    def _state(self, text: str) -> None:
        self.query_one("#page-state", Static).update(Text(clean(text)))

    async def _show(self, picture: Any) -> None:
        self.picture = picture
        found = f"passage boxed ({picture.found:.0%} of its words found)" if picture.boxes else \
            "the passage was not found on the page: nothing is boxed"
        self._state(f"page {picture.page}: {found} · saved as {picture.path}")
        try:  # textual-image is imported before the app starts (tui.launch), when it can query the terminal
            from textual_image.widget import Image

            await self.query_one(".dialog").mount(Image(str(picture.path), classes="page-image"), before=2)
        except Exception:  # no image support here: the file and `o` remain
            pass

    def action_open(self) -> None:
        if self.picture is None:
            return
        try:
            self.assistant.open_file(self.picture.path).run(wait=False)
        except AssistantError as exc:
            self.notify(str(exc), severity="warning", timeout=10)

    def action_close(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)
        self.dismiss(None)


class HelpScreen(ModalScreen[None]):
    BINDINGS = [("escape,q,f1", "close", "Close")]
    KEYS = [
        ("Enter", "send the question"), ("Up / Down", "earlier questions"), ("Esc", "stop the answer"),
        ("+ / - note", "then Enter: rate the last answer"),
        ("Tab", "move to the sources; Enter opens one"),
        ("o / e", "in a source: open it where it can be read (a PDF at its page)"),
        ("p", "in a source: the page, the passage highlighted"),
        ("Ctrl+L", "library: folders and documents"), ("Ctrl+O", "conversations (e exports one)"),
        ("Ctrl+N", "new conversation"), ("F2-F4", "on an empty chat: ask an example question"),
        ("Ctrl+S", "settings"), ("Ctrl+P", "command palette"), ("F1", "this help"), ("Ctrl+Q", "quit"),
    ]

    def compose(self) -> ComposeResult:
        text = Text("Keys\n\n", style="bold")
        for key, what in self.KEYS:
            text.append(f"{key:>12}  ", style="bold")
            text.append(f"{what}\n")
        with Vertical(classes="dialog"):
            yield Static(text)

    def action_close(self) -> None:
        self.dismiss(None)


class LibraryScreen(CoreUser, Screen[None]):
    """Registered folders and their documents; add, remove, re-index."""

    BINDINGS = [("escape", "app.pop_screen", "Back"), ("a", "add", "Add folder"), ("d", "remove", "Remove folder"),
                ("r", "reindex", "Re-index")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("Folders", classes="section")
        yield OptionList(id="roots")
        yield ProgressBar(id="progress", show_eta=False)
        yield Label("Documents", classes="section")
        yield DataTable(id="documents", cursor_type="row")
        yield Static("", id="reason")  # the whole reason of the selected document's error (the column cuts it)
        yield Footer()

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        doc = self._docs.get(str(event.row_key.value)) if event.row_key is not None else None
        reason = self.query_one("#reason", Static)
        if doc is not None and doc.error:
            label = "no text" if doc.status == "no text" else "error"
            reason.update(Text.assemble((f"{label}: ", "bold"), plain(doc.error)))
        else:
            reason.update("")

    def on_mount(self) -> None:
        self._docs: dict[str, Any] = {}
        self._roots: list[str] = []
        self._columns()
        self.query_one(ProgressBar).display = False
        self.refresh_data()

    def _columns(self) -> None:
        """The table's columns, the document and its error sharing the width (the error column was cut to a
        few characters beside long paths); the whole error is under the table for the selected row."""
        table = self.query_one(DataTable)
        free = max(40, self.size.width - 24)
        self._widths = (free * 11 // 20, free * 9 // 20)
        table.clear(columns=True)
        table.add_column("status", width=8)
        table.add_column("chunks", width=6)
        table.add_column("document", width=self._widths[0])
        table.add_column("error", width=self._widths[1])

    def on_resize(self) -> None:
        if hasattr(self, "_widths"):
            self._columns()
            self._fill()

    @background("library-load")
    def refresh_data(self) -> None:
        a = self.assistant
        roots, docs = a.roots(), a.documents()
        self.app.call_from_thread(self._show, roots, docs)

    def _show(self, roots: list[str], docs: list[Any]) -> None:
        roots_list = self.query_one("#roots", OptionList)
        roots_list.clear_options()
        roots_list.add_options([Option(plain(r), id=r) for r in roots] or [Option("(no folders yet: press a)")])
        self._roots = sorted(roots, key=len, reverse=True)
        self._docs = {d.path: d for d in docs}
        self._fill()

    def _fill(self) -> None:
        table = self.query_one(DataTable)
        table.clear()
        for d in self._docs.values():
            table.add_row(d.status, str(d.chunks), Text(printable(self._short(d.path))), Text(printable(d.error or "")),
                          key=d.path)

    def _short(self, path: str) -> str:
        """A document's path below the folder it is indexed from (its folder's name first): the table shows more
        of what tells documents apart than of the folder they share."""
        for root in self._roots:
            if path.startswith(root.rstrip("/") + "/"):
                return os.path.basename(root.rstrip("/")) + path[len(root.rstrip("/")):]
        return path

    def action_add(self) -> None:
        def done(path: str | None) -> None:
            if path:
                self.run_index(Path(os.path.expanduser(path)), add=True)

        self.app.push_screen(PromptScreen("Folder to add and keep indexed:"), done)

    def action_remove(self) -> None:
        roots = self.query_one("#roots", OptionList)
        if roots.highlighted is None:
            return
        option = roots.get_option_at_index(roots.highlighted)
        if option.id:
            self.remove_root(option.id)

    @background("library-write")
    def remove_root(self, root: str) -> None:
        try:
            n = self.assistant.remove_root(Path(root))
            self.app.call_from_thread(self.notify, f"removed {root} ({n} documents)")
        except Exception as exc:
            self.app.call_from_thread(self.notify, str(exc), severity="error")
        self.refresh_data()

    def action_reindex(self) -> None:
        self.run_index(None)

    @background("library-write")
    def run_index(self, path: Path | None, add: bool = False) -> None:
        a = self.assistant

        def progress(done: int, total: int, current: str) -> None:
            self.app.call_from_thread(self._progress, total, done)

        self.app.call_from_thread(self._show_progress, True)
        try:
            if add and path is not None:
                a.add_root(path)
            report = a.index([path] if path else None, progress=progress, role="app")
            msg = (f"added {report.added}, updated {report.updated}, removed {report.removed}, "
                   f"errors {len(report.errors)}")
            self.app.call_from_thread(self.notify, msg)
        except Exception as exc:
            self.app.call_from_thread(self.notify, f"{exc}", severity="error")
        finally:
            self.app.call_from_thread(self._show_progress, False)
        self.refresh_data()

    def _progress(self, total: int, done: int) -> None:
        self.query_one(ProgressBar).update(total=max(total, 1), progress=done)

    def _show_progress(self, shown: bool) -> None:
        self.query_one(ProgressBar).display = shown


class ChatsScreen(CoreUser, Screen[str | None]):
    """Conversations: resume (Enter), rename (r), delete (d), export to Markdown or JSON (e), new (n)."""

    BINDINGS = [("escape", "back", "Back"), ("n", "new", "New"), ("r", "rename", "Rename"), ("d", "delete", "Delete"),
                ("e", "export", "Export")]

    def compose(self) -> ComposeResult:
        yield Header()
        yield Label("Conversations (Enter resumes)", classes="section")
        yield OptionList(id="chats")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    @background("chats-load")
    def load(self) -> None:
        chats = self.assistant.chat_summaries()
        self.app.call_from_thread(self._show, chats)

    def _show(self, chats: list[ChatSummary]) -> None:
        ol = self.query_one(OptionList)
        keep = ol.highlighted or 0
        ol.clear_options()
        ol.add_options([Option(plain(f"{c.title}  ({c.turns} turns, {c.id})"), id=c.id) for c in chats]
                       or [Option("(no conversations yet)")])
        ol.highlighted = min(keep, ol.option_count - 1)  # so r/d keep working after a reload

    def _selected(self) -> str | None:
        ol = self.query_one(OptionList)
        if ol.highlighted is None:
            return None
        return ol.get_option_at_index(ol.highlighted).id

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        if event.option.id:
            self.dismiss(event.option.id)

    def action_back(self) -> None:
        self.dismiss(None)

    def action_new(self) -> None:
        self.dismiss("")

    def action_rename(self) -> None:
        chat_id = self._selected()
        if not chat_id:
            return

        def done(title: str | None) -> None:
            if title:
                self.rename(chat_id, title)

        self.app.push_screen(PromptScreen("New title:"), done)

    def action_delete(self) -> None:
        chat_id = self._selected()
        if chat_id:
            self.delete(chat_id)

    def action_export(self) -> None:
        chat_id = self._selected()
        if not chat_id:
            return

        def done(path: str | None) -> None:
            if path:
                self.export(chat_id, Path(os.path.expanduser(path)))

        default = Path.cwd() / f"chat-{chat_id}.md"
        self.app.push_screen(PromptScreen("Export to (.md for Markdown, .json for JSON):", str(default)), done)

    @background("chats-export")
    def export(self, chat_id: str, path: Path) -> None:
        fmt = "json" if path.suffix.lower() == ".json" else "md"
        write_private(path, self.assistant.export_chat(chat_id, fmt))
        self.app.call_from_thread(self.notify, f"exported to {printable(str(path))}")

    @background("chats-write")
    def rename(self, chat_id: str, title: str) -> None:
        self.assistant.rename_chat(chat_id, title)
        self.load()

    @background("chats-write")
    def delete(self, chat_id: str) -> None:
        self.assistant.delete_chat(chat_id)
        self.app.call_from_thread(self.notify, "conversation deleted")
        self.load()


class SettingsScreen(CoreUser, ModalScreen[None]):
    """Model, answer style, number of sources, temperature; saved to the config file."""

    BINDINGS = [("escape", "close", "Close")]

    def compose(self) -> ComposeResult:
        s = self.assistant.settings
        with Vertical(classes="dialog"):
            yield Label("Chat model")
            # The models folder is read (every GGUF header) in a worker; until then the current model shows.
            yield Select([(s.models.chat, s.models.chat)], value=s.models.chat, id="model", allow_blank=False)
            yield Label("Answer style")
            yield Select([("auto: model answer, checked, with quotes", "auto"),
                          ("quote: the sources' words only", "quote"),
                          ("generate: model text, unverified marked", "generate")],
                         value=s.answer.style if s.answer.style in ("auto", "quote", "generate") else "auto",
                         id="style", allow_blank=False)
            yield Label("Sources per answer")
            yield Input(str(s.search.k), id="k", type="integer")
            yield Label("Temperature (0 = most likely words)")
            yield Input(str(s.answer.temperature), id="temperature", type="number")
            with Horizontal():
                yield Button("Save", variant="primary", id="save")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.load_models()

    @background("settings-models")
    def load_models(self) -> None:
        names = [m.name for m in self.assistant.models() if hasattr(m, "name")]
        self.app.call_from_thread(self._show_models, names)

    def _show_models(self, names: list[str]) -> None:
        current = self.assistant.settings.models.chat
        select = self.query_one("#model", Select)
        chosen = select.value
        select.set_options([(m, m) for m in dict.fromkeys([current, *names])])
        select.value = chosen

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id != "save":
            self.dismiss(None)
            return
        model = str(self.query_one("#model", Select).value)
        style = str(self.query_one("#style", Select).value)
        try:
            k = int(self.query_one("#k", Input).value.strip())
            if not 1 <= k <= 50:
                raise ValueError
        except ValueError:
            self.notify("Sources per answer must be a whole number from 1 to 50.", severity="error")
            return
        try:
            temperature = float(self.query_one("#temperature", Input).value.strip())
            if not 0 <= temperature <= 2:
                raise ValueError
        except ValueError:
            self.notify("Temperature must be a number from 0 to 2 (0: always the likeliest word).", severity="error")
            return
        self.save(model, style, k, temperature)

    @background("settings-save")
    def save(self, model: str, style: str, k: int, temperature: float) -> None:
        a = self.assistant
        if model != a.settings.models.chat:
            a.set_model(model)
        a.settings.save(llm_model=model, answer_style=style, search_k=k, temperature=temperature)
        self.app.call_from_thread(self.notify, f"saved to {a.settings.paths.config_file}")
        self.app.call_from_thread(self.dismiss, None)

    def action_close(self) -> None:
        self.dismiss(None)
