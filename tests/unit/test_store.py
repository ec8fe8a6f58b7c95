"""Schema migrations and the store's consistency checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant import store as store_mod
from assistant.store import Store


def test_fresh_database_is_at_the_latest_version(tmp_path: Path) -> None:
    s = Store(tmp_path / "i.sqlite")
    assert s.schema_version == len(store_mod.MIGRATIONS)
    assert s.check() == []


def test_old_database_is_upgraded_and_keeps_its_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "i.sqlite"
    old = Store(db)
    old.add_root("/data")
    old.record_error("/data/x.txt", "boom")
    old.close()
    monkeypatch.setattr(store_mod, "MIGRATIONS", [*store_mod.MIGRATIONS, "ALTER TABLE roots ADD COLUMN note TEXT;"])
    new = Store(db)
    assert new.schema_version == len(store_mod.MIGRATIONS)
    assert new.roots() == ["/data"]
    assert new.list_documents()[0].error == "boom"
    assert "note" in [r[1] for r in new.conn.execute("PRAGMA table_info(roots)")]


def test_failed_migration_rolls_back_entirely(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "i.sqlite"
    Store(db).close()
    version = len(store_mod.MIGRATIONS)
    monkeypatch.setattr(store_mod, "MIGRATIONS",
                        [*store_mod.MIGRATIONS, "CREATE TABLE half(a); SELECT * FROM no_such_table;"])
    with pytest.raises(Exception, match="no_such_table"):
        Store(db)
    monkeypatch.undo()
    s = Store(db)
    assert s.schema_version == version
    assert s.conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'half'").fetchone()[0] == 0
