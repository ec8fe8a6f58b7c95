"""The Textual app driven by Pilot, with the real core (real embedding model, real SQLite, real files)."""

from __future__ import annotations

from pathlib import Path

import pytest
from scripted import ScriptedGenerator
from textual.widgets import Input, Static

from assistant import Assistant, Settings
from tui.app import AssistantApp
from tui.screens import ChatsScreen, HelpScreen, LibraryScreen, PromptScreen, SourceScreen
from tui.widgets import AnswerView, SourceList, UserMessage

LIGHTHOUSE = ("# Skerry Island lighthouse\n\nThe lighthouse on Skerry Island was built in 1874 by the engineer "
              "Margaret Hale. Its lamp could be seen from 22 nautical miles away.\n")


@pytest.fixture
def lib(library: Path) -> Path:
    (library / "lighthouse.md").write_text(LIGHTHOUSE)
    (library / "tricky.md").write_text(
        "# Tricky\n\nRich [bold red]markup[/] and an ANSI \x1b[31mred\x1b[0m escape and a bell \x07 here, "
        "about the Skerry ferry timetable.\n")
    return library


def make(home: Path, embedder, generator, lib: Path) -> Assistant:
    a = Assistant(Settings.load({"temperature": 0.0, "answer_tokens": 64}), embedder=embedder, generator=generator)
    a.index([lib])
    return a


async def ask(pilot, app: AssistantApp, question: str) -> AnswerView:
    await pilot.click("#question")
    for ch in question:
        await pilot.press(ch if ch != " " else "space")
    await pilot.press("enter")
    await app.workers.wait_for_complete()
    await pilot.pause()
    return list(app.query(AnswerView))[-1]


@pytest.mark.asyncio
async def test_ask_streams_an_answer_with_its_sources_real_model(home, embedder, generator, lib) -> None:
    app = AssistantApp(make(home, embedder, generator, lib), watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        view = await ask(pilot, app, "Who built the lighthouse on Skerry Island?")
        assert view.text.strip()  # streamed from the real SmolLM2
        sources = view.query_one(SourceList)
        assert sources.hits[0].path.endswith("lighthouse.md")
        assert "not-grounded" not in view.classes
        assert app.chat_id is not None


@pytest.mark.asyncio
async def test_evidence_is_quoted_and_highlighted_in_its_source(home, embedder, generator, lib) -> None:
    app = AssistantApp(make(home, embedder, generator, lib), watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        view = await ask(pilot, app, "Who built the lighthouse on Skerry Island?")
        assert "Margaret Hale" in view.text and view.text.startswith("**Margaret Hale** [1]")  # the direct answer first
        assert "\n\n> " in view.text  # then the quote
        sources = view.query_one(SourceList)
        sources.focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SourceScreen)
        passage = app.screen.query_one("#passage", Static).content  # the Rich Text the passage was given
        marked = [passage.plain[s.start:s.end] for s in passage.spans if "reverse" in str(s.style)]
        assert marked and "Margaret Hale" in marked[0]


@pytest.mark.asyncio
async def test_off_topic_is_shown_as_not_covered(home, embedder, lib) -> None:
    app = AssistantApp(make(home, embedder, ScriptedGenerator(), lib), watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        view = await ask(pilot, app, "How many moons does Jupiter have?")
        assert "not-grounded" in view.classes
        assert "do not seem to cover" in view.text


@pytest.mark.asyncio
async def test_escape_stops_the_answer(home, embedder, lib) -> None:
    slow = ScriptedGenerator(" ".join(["word"] * 400), delay=0.02)
    app = AssistantApp(make(home, embedder, slow, lib), watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.click("#question")
        for ch in "lighthouse builder":
            await pilot.press(ch if ch != " " else "space")
        await pilot.press("enter")
        await pilot.pause(0.6)
        await pilot.press("escape")
        await app.workers.wait_for_complete()
        await pilot.pause()
        view = app.query_one(AnswerView)
        assert "stopped" in str(view.status.render())
        assert 0 < len(view.text.split()) < 400


@pytest.mark.asyncio
async def test_open_a_source_and_the_editor(home, embedder, lib, tmp_path, monkeypatch) -> None:
    record = tmp_path / "editor-args"
    editor = tmp_path / "fake-editor"
    editor.write_text(f"#!/bin/sh\necho \"$@\" > {record}\n")
    editor.chmod(0o755)
    monkeypatch.setenv("EDITOR", str(editor))
    app = AssistantApp(make(home, embedder, ScriptedGenerator(), lib), watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, app, "Skerry ferry timetable markup")
        app.query_one(SourceList).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SourceScreen)
        hit = app.screen.hit
        passage = str(app.screen.query_one("#passage").render())
        assert hit.path.endswith("tricky.md")  # the question names its words: it is the first source
        assert "[bold red]markup[/]" in passage  # markup shown literally
        assert "ANSI red escape" in passage  # the text stays, the sequence goes
        assert "\x1b" not in passage and "\x07" not in passage  # escapes and controls removed
        await pilot.press("e")
        await pilot.pause(0.5)
        assert record.read_text().split() == [f"+{hit.start_line}", hit.path]
        await pilot.press("escape")
        assert not isinstance(app.screen, SourceScreen)


@pytest.mark.asyncio
async def test_conversations_switch_and_resume(home, embedder, lib) -> None:
    app = AssistantApp(make(home, embedder, ScriptedGenerator(), lib), watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, app, "Who built the lighthouse?")
        first = app.chat_id
        await pilot.press("ctrl+n")
        await pilot.pause()
        assert app.chat_id is None and not list(app.query(UserMessage))
        await ask(pilot, app, "What could be seen from far away?")
        assert app.chat_id != first
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert isinstance(app.screen, ChatsScreen)
        ol = app.screen.query_one("OptionList")
        ids = [ol.get_option_at_index(i).id for i in range(ol.option_count)]
        ol.highlighted = ids.index(first)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert app.chat_id == first
        assert [str(m.render()) for m in app.query(UserMessage)] == ["Who built the lighthouse?"]
        assert app.query_one(AnswerView).query_one(SourceList).hits


@pytest.mark.asyncio
async def test_add_a_folder_and_watch_it_index(home, embedder, lib, tmp_path) -> None:
    a = Assistant(Settings.load(), embedder=embedder, generator=ScriptedGenerator())
    app = AssistantApp(a, watch=True)
    new = tmp_path / "new-folder"
    new.mkdir()
    (new / "first.md").write_text("# First\n\nA note about kestrels.\n")
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+l")
        await pilot.pause()
        assert isinstance(app.screen, LibraryScreen)
        await pilot.press("a")
        for _ in range(50):  # a loaded machine can take a moment to show the dialog
            if isinstance(app.screen, PromptScreen):
                break
            await pilot.pause(0.1)
        prompt = app.screen.query_one(Input)
        prompt.value = str(new)
        await pilot.press("enter")
        await pilot.pause(0.5)
        assert isinstance(app.screen, LibraryScreen)

        async def documents() -> list[str]:
            await pilot.pause(0.3)
            table = app.screen.query_one("DataTable")
            return [str(table.get_row_at(i)[2]) for i in range(table.row_count)]

        for _ in range(300):
            if any(p.endswith("first.md") for p in await documents()):
                break
        assert any(p.endswith("first.md") for p in await documents())
        (new / "second.md").write_text("# Second\n\nA note about falcons, written while the app watches.\n")
        for _ in range(300):
            if any(p.endswith("second.md") for p in await documents()):
                break
        assert any(p.endswith("second.md") for p in await documents())
        assert app.watching == "this app"


@pytest.mark.asyncio
async def test_help_and_palette_commands(home, embedder, lib) -> None:
    app = AssistantApp(Assistant(Settings.load(), embedder=embedder, generator=ScriptedGenerator()), watch=False)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Library", "Conversations", "New conversation", "Settings", "Help"} <= set(titles)


@pytest.mark.asyncio
async def test_settings_are_saved_to_the_config(home, embedder, lib) -> None:
    from textual.widgets import Input

    from tui.screens import SettingsScreen

    a = Assistant(Settings.load(), embedder=embedder, generator=ScriptedGenerator())
    app = AssistantApp(a, watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        k = app.screen.query_one("#k", Input)
        k.value = "7"
        app.screen.query_one("#temperature", Input).value = "0.3"
        await pilot.click("#save")
        await pilot.pause()
        assert not isinstance(app.screen, SettingsScreen)
    saved = Settings.load()
    assert (saved.search.k, saved.answer.temperature) == (7, 0.3)
    assert "[search]\nk = 7" in (home / "config.toml").read_text()


@pytest.mark.asyncio
async def test_rename_export_and_delete_a_conversation(home, embedder, lib, tmp_path) -> None:
    a = make(home, embedder, ScriptedGenerator(), lib)
    app = AssistantApp(a, watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, app, "Who built the lighthouse?")
        await pilot.press("ctrl+o")
        await app.workers.wait_for_complete()  # the list loads in a worker
        await pilot.pause()
        ol = app.screen.query_one("OptionList")
        ol.focus()
        ol.highlighted = 0
        await pilot.press("r")
        await pilot.pause()
        for ch in "Lighthouse":
            await pilot.press(ch)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert a.chats()[0]["title"] == "Lighthouse"
        await pilot.press("e")
        await pilot.pause()
        assert isinstance(app.screen, PromptScreen)
        target = tmp_path / "exported.md"
        app.screen.query_one(Input).value = str(target)
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        exported = target.read_text()
        assert exported.startswith("# Lighthouse\n") and "## 1. Who built the lighthouse?" in exported
        assert "Margaret Hale" in exported and "lighthouse.md`, line" in exported  # the answer, its footnote
        await pilot.press("d")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert a.chats() == []


class LoadsForever(Assistant):
    """A model that is still loading: warm_up blocks until the test releases it."""

    release = None

    def warm_up(self) -> None:
        assert self.release is not None
        self.release.wait(60)


@pytest.mark.asyncio
async def test_ctrl_q_quits_while_the_model_is_still_loading(home, embedder, lib) -> None:
    import threading

    a = LoadsForever(Settings.load(), embedder=embedder, generator=ScriptedGenerator())
    a.release = threading.Event()
    app = AssistantApp(a, watch=False)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await pilot.pause()
            assert any(w.group == "warm-up" and not w.is_finished for w in app.workers)
            await pilot.press("ctrl+q")
            await pilot.pause()
        assert app.return_code == 0 and not app.is_running  # it did not wait for the loading thread
    finally:
        a.release.set()


@pytest.mark.asyncio
async def test_plus_and_minus_rate_the_last_answer(home, embedder, lib) -> None:
    a = make(home, embedder, ScriptedGenerator(), lib)
    app = AssistantApp(a, watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await ask(pilot, app, "who built the lighthouse")
        await ask(pilot, app, "when was the lighthouse built")
        await pilot.click("#question")
        for ch in "- wrong year":
            await pilot.press({" ": "space", "-": "minus"}.get(ch, ch))
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        (rated,) = a.feedback()
        assert (rated["rating"], rated["turn"], rated["note"]) == ("down", 2, "wrong year")
        assert rated["question"] == "when was the lighthouse built"
        assert len(app.query(UserMessage)) == 2  # a rating is not a question


@pytest.mark.asyncio
async def test_the_first_screen_shows_the_library_and_asks_an_example(home, embedder, lib) -> None:
    from tui.widgets import Welcome

    app = AssistantApp(make(home, embedder, ScriptedGenerator(), lib), watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        welcome = app.query_one(Welcome)
        state = str(welcome.state.render())
        assert "document(s)" in state and "passages indexed" in state and "Folders" in state
        assert len(welcome.questions) >= 1 and all(q.endswith("?") for q in welcome.questions)
        first = welcome.questions[0]
        await pilot.press("f2")  # one keystroke asks it
        await pilot.pause()
        await app.workers.wait_for_complete()
        await pilot.pause(0.3)
        assert not list(app.query(Welcome))
        assert str(app.query(UserMessage).first().render()) == first
        await pilot.press("ctrl+n")  # a new conversation shows the way again
        await pilot.pause(0.3)
        assert list(app.query(Welcome))


@pytest.mark.asyncio
async def test_closing_a_source_gives_the_keys_back_to_the_question_box(home, embedder, lib) -> None:
    """Tab to the sources, Enter on one, Esc: the next question typed went to the source list and was lost."""
    app = AssistantApp(make(home, embedder, ScriptedGenerator(), lib), watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        view = await ask(pilot, app, "Who built the lighthouse on Skerry Island?")
        view.query_one(SourceList).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SourceScreen)
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SourceScreen)
        assert isinstance(app.focused, Input) and app.focused.id == "question"
        await pilot.press("w", "h", "o")
        assert app.query_one("#question", Input).value == "who"


@pytest.mark.asyncio
async def test_a_newline_in_a_file_name_stays_on_its_source_row(home, embedder, library) -> None:
    (library / "two\nlines.md").write_text(LIGHTHOUSE)
    app = AssistantApp(make(home, embedder, ScriptedGenerator(), library), watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        view = await ask(pilot, app, "Who built the lighthouse on Skerry Island?")
        first = view.query_one(SourceList).get_option_at_index(0).prompt
        assert first.plain.split("\n")[0].startswith("[1]") and "two lines.md" in first.plain.split("\n")[0]


@pytest.mark.asyncio
async def test_the_first_screen_follows_the_library_and_asks_real_questions(home, embedder) -> None:
    """It said "Nothing is indexed yet" after the sample had been indexed, and offered "What assistant is?"."""
    from tui.widgets import Welcome

    a = Assistant(Settings.load(), embedder=embedder, generator=ScriptedGenerator())
    app = AssistantApp(a, watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        welcome = app.query_one(Welcome)
        assert "Nothing is indexed yet" in str(welcome.state.content)
        other = Assistant(Settings.load(), embedder=embedder)
        other.index()  # the sample, indexed beside the app (another terminal, the daemon)
        other.close()
        for _ in range(40):
            await pilot.pause(0.1)
            if "Nothing is indexed yet" not in str(welcome.state.content):
                break
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "document(s)" in str(welcome.state.content) and "only the bundled sample" in str(welcome.state.content)
        assert welcome.questions and "What assistant is?" not in welcome.questions


@pytest.mark.asyncio
async def test_settings_say_what_a_number_must_be_and_the_library_shows_whole_errors(home, embedder, lib) -> None:
    from textual.widgets import DataTable

    from tui.screens import SettingsScreen

    (lib / "broken.docx").write_bytes(b"PK\x03\x04 not really a word document at all")
    app = AssistantApp(make(home, embedder, ScriptedGenerator(), lib), watch=False)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.press("ctrl+s")
        await pilot.pause()
        app.screen.query_one("#k", Input).value = ""  # an emptied field: "invalid literal for int()" before
        await pilot.click("#save")
        await pilot.pause()
        assert isinstance(app.screen, SettingsScreen)
        shown = [str(n.message) for n in app._notifications]
        assert any("Sources per answer must be a whole number from 1 to 50" in m for m in shown), shown
        assert not any("invalid literal" in m for m in shown)
        await pilot.press("escape")
        await pilot.press("ctrl+l")
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one(DataTable)
        error_column = [c for c in table.columns.values() if str(c.label) == "error"][0]
        assert error_column.width >= 30  # it was cut to ~11 characters beside the long paths
        row = [table.get_row_at(i) for i in range(table.row_count) if "broken.docx" in str(table.get_row_at(i)[2])]
        assert row and str(row[0][2]).startswith("library/")  # the path below its folder, the folder's name first
