"""The answer cache, with the real models: a question asked again is answered from the index at once, until
a document it rests on changes."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import run_cli_json

from assistant import Assistant, Settings

PUMP = """# Zephyr-9 pump maintenance

## Inlet valve

Tighten the Zephyr-9 inlet valve to exactly 42 newton-metres with a calibrated torque wrench.
Over-tightening cracks the ceramic seat.
"""
OTHER = "# Garden\n\nWater the tomatoes every morning in July, and the roses twice a week.\n"


class CountingGenerator:
    """The real model, counted: the cache must answer without calling it."""

    def __init__(self, generator) -> None:
        self.inner, self.calls = generator, 0
        self.model_id, self.n_ctx = generator.model_id, generator.n_ctx
        self.count_tokens, self.render = generator.count_tokens, generator.render

    def stream(self, request, stats):
        self.calls += 1
        return self.inner.stream(request, stats)


def test_a_question_asked_again_comes_from_the_cache_until_its_document_changes(
        home: Path, embedder, generator, library: Path) -> None:
    (library / "pump.md").write_text(PUMP)
    (library / "garden.md").write_text(OTHER)
    counted = CountingGenerator(generator)
    a = Assistant(Settings.load({"answer_tokens": 48}), embedder=embedder, generator=counted)
    a.index([library])
    first = a.ask("What torque should the Zephyr-9 inlet valve be tightened to?")
    assert "42 newton-metres" in first.answer and not first.stats.get("cached") and counted.calls == 1
    streamed: list[str] = []
    again = a.ask("  what TORQUE should the Zephyr-9 inlet valve be tightened to  ", on_token=streamed.append)
    assert again.stats["cached"] is True and counted.calls == 1
    assert again.answer == first.answer == "".join(streamed) and again.grounded
    assert [h.chunk_id for h in again.sources] == [h.chunk_id for h in first.sources]
    assert again.chat_id != first.chat_id and a.chat_turns(again.chat_id)[0].answer.answer == first.answer
    # Another setting, another entry.
    a.settings.answer.sources = 1
    assert not a.ask("What torque should the Zephyr-9 inlet valve be tightened to?").stats.get("cached")
    a.settings.answer.sources = 2
    # A follow-up depends on its conversation: never cached.
    follow = a.ask("What torque should the Zephyr-9 inlet valve be tightened to?", chat_id=first.chat_id)
    assert not follow.stats.get("cached")
    # A new document elsewhere leaves it; the cited one changing drops it.
    (library / "kitchen.md").write_text("# Kitchen\n\nDescale the kettle once a month.\n")
    a.index([library])
    assert a.ask("What torque should the Zephyr-9 inlet valve be tightened to?").stats["cached"]
    (library / "pump.md").write_text(PUMP.replace("42", "44"))
    st = (library / "pump.md").stat()
    os.utime(library / "pump.md", ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    a.index([library])
    fresh = a.ask("What torque should the Zephyr-9 inlet valve be tightened to?")
    assert not fresh.stats.get("cached") and "44 newton-metres" in fresh.answer
    # Removing the document drops it too.
    assert a.ask("What torque should the Zephyr-9 inlet valve be tightened to?").stats["cached"]
    a.forget(library / "pump.md")
    assert not a.ask("What torque should the Zephyr-9 inlet valve be tightened to?").stats.get("cached")
    a.close()


def test_refusals_are_not_cached_and_the_cache_can_be_cleared_or_turned_off(home: Path, library: Path, capsys,
                                                                             monkeypatch) -> None:
    (library / "pump.md").write_text(PUMP)
    run_cli_json("index", str(library), capsys=capsys)
    q = "What torque should the Zephyr-9 inlet valve be tightened to?"
    first = run_cli_json("ask", q, "--style", "quote", capsys=capsys)
    assert "42 newton-metres" in first["answer"] and not first["stats"].get("cached")
    assert run_cli_json("ask", q, "--style", "quote", capsys=capsys)["stats"]["cached"] is True
    off = run_cli_json("ask", "How many moons does Jupiter have?", "--style", "quote", capsys=capsys)
    assert not off["grounded"]
    again = run_cli_json("ask", "How many moons does Jupiter have?", "--style", "quote", capsys=capsys)
    assert not again["stats"].get("cached")
    assert run_cli_json("cache", "clear", capsys=capsys) == {"removed": 1}
    assert not run_cli_json("ask", q, "--style", "quote", capsys=capsys)["stats"].get("cached")
    monkeypatch.setenv("ASSISTANT_ANSWER_CACHE", "false")
    assert not run_cli_json("ask", q, "--style", "quote", capsys=capsys)["stats"].get("cached")
