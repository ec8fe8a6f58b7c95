"""Snapshots of the main screens at 80x24 and 120x40 (scripted generator, fixed paths: deterministic)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from scripted import ScriptedGenerator

from assistant import Assistant, Settings
from tui.app import AssistantApp

BASE = Path("/tmp/assistant-snapshot-fixture")
SIZES = [(80, 24), (120, 40)]


@pytest.fixture
def app(embedder, monkeypatch) -> AssistantApp:
    shutil.rmtree(BASE, ignore_errors=True)
    lib = BASE / "library"
    lib.mkdir(parents=True)
    (lib / "lighthouse.md").write_text("# Skerry Island lighthouse\n\nThe lighthouse on Skerry Island was built "
                                       "in 1874 by the engineer Margaret Hale.\n")
    (lib / "bakery.md").write_text("# Bakery\n\nThe village bakery opens at six and sells rye bread.\n")
    monkeypatch.setenv("ASSISTANT_HOME", str(BASE / "home"))
    a = Assistant(Settings.load({"llm_model": "scripted"}), embedder=embedder, generator=ScriptedGenerator())
    a.index([lib])
    return AssistantApp(a, watch=False)


async def _settle(pilot) -> None:
    """The snapshot runner calls run_before before mounting has finished: wait for it, and stop the
    cursor blinking so the captured frame does not depend on the blink phase."""
    await pilot.pause(0.3)
    pilot.app.query_one("#question").cursor_blink = False


async def _type(pilot, text: str) -> None:
    await _settle(pilot)
    pilot.app.query_one("#question").focus()
    await pilot.pause()
    for ch in text:
        await pilot.press(ch if ch != " " else "space")
    await pilot.press("enter")
    await pilot.app.workers.wait_for_complete()
    await pilot.pause(0.5)


async def _ask(pilot) -> None:
    await _type(pilot, "Who built the lighthouse?")


@pytest.mark.parametrize("size", SIZES)
def test_chat_with_an_answer(snap_compare, app, size) -> None:
    assert snap_compare(app, terminal_size=size, run_before=_ask)


@pytest.mark.parametrize("size", SIZES)
def test_not_covered_answer(snap_compare, app, size) -> None:
    async def off_topic(pilot) -> None:
        await _type(pilot, "Jupiter moons")

    assert snap_compare(app, terminal_size=size, run_before=off_topic)


@pytest.mark.parametrize("size", SIZES)
def test_library_screen(snap_compare, app, size) -> None:
    async def library(pilot) -> None:
        await _settle(pilot)
        await pilot.press("ctrl+l")
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.5)

    assert snap_compare(app, terminal_size=size, run_before=library)


@pytest.mark.parametrize("size", SIZES)
def test_help_screen(snap_compare, app, size) -> None:
    async def helpscreen(pilot) -> None:
        await _settle(pilot)
        await pilot.press("f1")
        await pilot.pause(0.3)

    assert snap_compare(app, terminal_size=size, run_before=helpscreen)


@pytest.mark.parametrize("size", SIZES)
def test_first_screen(snap_compare, app, size) -> None:
    async def first(pilot) -> None:
        await _settle(pilot)
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.5)

    assert snap_compare(app, terminal_size=size, run_before=first)
