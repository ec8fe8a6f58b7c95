"""Schema migrations and the store's consistency checks."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.store import Store
from assistant.store import db as store_mod  # the migrations the connection applies


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


def test_v1_index_with_vectors_upgrades_to_in_process_search(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A database written by schema 1 (vectors only in vec0) gains the plain vector table and epoch."""
    import numpy as np

    from assistant.store.vectors import VectorIndex

    db = tmp_path / "v1.sqlite"
    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:1])
    old = Store(db)
    assert old.schema_version == 1
    old.set_meta("embedding_model", "m")
    old.set_meta("embedding_dim", "4")
    old.conn.execute("CREATE VIRTUAL TABLE chunk_vectors USING vec0(embedding float[4] distance_metric=cosine)")
    old.conn.execute("INSERT INTO documents(id, path, status, chunk_count, indexed_at) "
                     "VALUES (1, '/a.txt', 'ok', 2, 0)")
    for cid, vec in ((1, [1, 0, 0, 0]), (2, [0, 1, 0, 0])):
        old.conn.execute("INSERT INTO chunks(id, document_id, position, text, token_count, content_hash) "
                         "VALUES (?, 1, ?, ?, 1, ?)", (cid, cid, f"text {cid}", f"h{cid}"))
        old.conn.execute("INSERT INTO chunk_vectors(rowid, embedding) VALUES (?, ?)",
                         (cid, np.array(vec, dtype=np.float32).tobytes()))
    old.close()
    monkeypatch.undo()

    new = Store(db)
    new.bind_embedding("m", 4)
    assert new.schema_version == len(store_mod.MIGRATIONS)
    assert new.check() == []
    index = VectorIndex()
    index.sync(new)
    assert [cid for cid, _ in index.search(np.array([0, 1, 0, 0], dtype=np.float32), 1)] == [2]
    # Deleting the document removes its vectors everywhere, and the in-process index follows.
    new.delete_documents(["/a.txt"])
    index.sync(new)
    assert len(index) == 0 and new.check() == []


def test_mail_indexed_before_attachments_were_documents_is_read_again(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "i.sqlite"
    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:8])
    old = Store(db)
    for path, fmt in (("/m/inbox.mbox", "mbox"), ("/m/a.eml", "eml"), ("/m/b.txt", "text")):
        old.conn.execute("INSERT INTO documents(path, format, status, chunker_version, chunk_count, indexed_at) "
                         "VALUES (?, ?, 'ok', 5, 0, 0)", (path, fmt))
    old.close()
    monkeypatch.undo()
    new = Store(db)
    versions = dict(new.conn.execute("SELECT path, chunker_version FROM documents"))
    assert versions == {"/m/inbox.mbox": 0, "/m/a.eml": 0, "/m/b.txt": 5}  # mail only: the rest stays as it is
    assert "container_id" in [r[1] for r in new.conn.execute("PRAGMA table_info(documents)")]
    assert new.check() == []


def test_documents_indexed_before_names_were_kept_can_be_named(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "i.sqlite"
    monkeypatch.setattr(store_mod, "MIGRATIONS", store_mod.MIGRATIONS[:10])
    old = Store(db)
    for path, status in (("/p/pep-0008.rst", "ok"), ("/p/notes.txt", "ok"), ("/p/Q3-budget.xlsx", "error")):
        old.conn.execute("INSERT INTO documents(path, status, chunk_count, indexed_at) VALUES (?, ?, 0, 0)",
                         (path, status))
    old.close()
    monkeypatch.undo()
    new = Store(db)
    assert new.documents_named(["pep 8", "q 3 budget", "notes"]) == [("pep 8", "/p/pep-0008.rst")]  # text only
    assert new.check() == []
    with new.transaction() as c:  # a file written from now on is named at once, and by its new name when moved
        new._upsert(c, "/p/Q3-budget.xlsx", 1, 1, "h", "xlsx", "ok", None, 1, 0)
    doc = new.conn.execute("SELECT id FROM documents WHERE path = '/p/pep-0008.rst'").fetchone()[0]
    new.move_document(doc, "/p/style-guide.rst", 1, 1)
    assert sorted(new.documents_named(["pep 8", "q 3 budget", "style guide"])) == [
        ("q 3 budget", "/p/Q3-budget.xlsx"), ("style guide", "/p/style-guide.rst")]


def test_a_long_question_looks_up_its_thousands_of_word_runs(tmp_path: Path) -> None:
    from assistant.search.names import find

    s = Store(tmp_path / "i.sqlite")
    with s.transaction() as c:
        s._upsert(c, "/p/pep-0008.rst", 1, 1, "h", "rst", "ok", None, 1, 0)
    question = " ".join(f"word{i}" for i in range(3000)) + " and PEP 8 and " + "9" * 5000
    assert find(question, s.documents_named)[0] == ["/p/pep-0008.rst"]  # 21,000 runs, SQLite takes 32,766 at most
