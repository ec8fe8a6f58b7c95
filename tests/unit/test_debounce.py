"""The watcher's debounce: events wait until the folder is quiet, but never longer than max_delay."""

from __future__ import annotations

import time

import pytest

from assistant import Settings
from assistant.sync.watcher import Watcher, _Pending, coalesce


def test_events_wait_for_quiet_then_come_out_together(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [100.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    p = _Pending()
    p.add("/a/x.md")
    now[0] += 0.2
    p.add("/a/y.md", "/a/x.md")
    assert p.take(debounce=0.4, max_delay=2.0) == []  # still busy: the last event was just now
    now[0] += 0.3
    assert p.take(debounce=0.4, max_delay=2.0) == []  # 0.3 s of quiet < 0.4
    now[0] += 0.2
    assert sorted(p.take(debounce=0.4, max_delay=2.0)) == ["/a/x.md", "/a/y.md"]  # quiet: one batch, no repeats
    assert p.take(debounce=0.4, max_delay=2.0) == [] and len(p) == 0


def test_a_file_that_never_stops_changing_is_synced_after_max_delay(monkeypatch: pytest.MonkeyPatch) -> None:
    now = [0.0]
    monkeypatch.setattr(time, "monotonic", lambda: now[0])
    p = _Pending()
    taken = []
    for _ in range(30):  # a log written every 0.1 s
        p.add("/a/app.log")
        taken.append(p.take(debounce=0.4, max_delay=2.0))
        now[0] += 0.1
    batches = [t for t in taken if t]
    assert batches and batches[0] == ["/a/app.log"]
    assert taken.index(batches[0]) == 20  # exactly when 2.0 s had passed since the first event


def test_very_many_paths_become_their_folders() -> None:
    paths = [f"/r/big/{i}.md" for i in range(500)] + ["/r/other/a.md"]
    assert [str(p) for p in coalesce(paths)] == ["/r/big", "/r/other"]
    assert [str(p) for p in coalesce(["/r/b.md", "/r/a.md", "/r/a.md"])] == ["/r/a.md", "/r/b.md"]


def test_the_watcher_takes_its_timings_from_the_settings(home) -> None:
    class Lib:
        settings = Settings.load({"watch_debounce_s": "1.5", "watch_max_delay_s": 9, "watch_poll_s": 60,
                                  "watch_reconcile_s": 600})

    w = Watcher(Lib())
    assert (w.debounce, w.max_delay, w.poll_interval, w.reconcile_interval) == (1.5, 9.0, 60.0, 600.0)
    assert Watcher(Lib(), debounce=0.1).debounce == 0.1  # an explicit value still wins
