"""The connection to the index file: driver, pragmas, transactions, migrations and the meta table."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any

from assistant import language
from assistant.errors import SqliteDriverError
from assistant.paths import private_dir
from assistant.store.schema import MIGRATIONS


def sqlite_driver() -> tuple[ModuleType, str]:
    """A DB-API module whose connections can load extensions: the standard library's when it can,
    else sqlean.py, else pysqlite3.

    Raises:
        SqliteDriverError: none of them is available.
    """
    import sqlite3

    if hasattr(sqlite3.Connection, "enable_load_extension"):
        return sqlite3, f"sqlite3 (standard library, SQLite {sqlite3.sqlite_version})"
    try:
        import sqlean

        return sqlean, f"sqlean.py (SQLite {sqlean.sqlite_version})"
    except ImportError:
        pass
    try:
        from pysqlite3 import dbapi2

        return dbapi2, f"pysqlite3 (SQLite {dbapi2.sqlite_version})"
    except ImportError:
        pass
    raise SqliteDriverError(
        "this Python's sqlite3 cannot load extensions and neither sqlean.py nor pysqlite3-binary is "
        "installed. Run: .venv/bin/pip install sqlean.py"
    )


class Database:
    """One connection to the index file. Use one per thread."""

    def __init__(self, path: Path, readonly: bool = False) -> None:
        driver, _ = sqlite_driver()
        self.path = Path(path)
        self.readonly = readonly
        if not readonly:
            private_dir(self.path.parent)
            if not self.path.exists():
                # Created private to the user before SQLite opens it; WAL/SHM files inherit the mode.
                os.close(os.open(self.path, os.O_CREAT | os.O_WRONLY, 0o600))
        uri = f"file:{self.path}?mode={'ro' if readonly else 'rwc'}"
        self.driver = driver
        self.conn: Any = driver.connect(uri, uri=True, timeout=30.0, isolation_level=None, check_same_thread=False)
        self.conn.enable_load_extension(True)
        import sqlite_vec

        sqlite_vec.load(self.conn)
        self.conn.enable_load_extension(False)
        language.register(self.conn)  # the keyword index's triggers call language() and keywords()
        self.conn.execute("PRAGMA busy_timeout = 30000")
        self.conn.execute("PRAGMA foreign_keys = ON")
        if not readonly:
            self._set_wal()
            self.conn.execute("PRAGMA synchronous = NORMAL")
            self._migrate()
        self.dim: int | None = None

    def _set_wal(self) -> None:
        """WAL mode. SQLite answers "database is locked" at once, without its busy handler, when another
        connection is creating or migrating a new index at that moment: wait for it as the busy timeout would."""
        deadline = time.monotonic() + 30.0
        while True:
            try:
                self.conn.execute("PRAGMA journal_mode = WAL")
                return
            except self.driver.OperationalError as exc:
                if "locked" not in str(exc) or time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    def close(self) -> None:
        self.conn.close()

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any exception (including KeyboardInterrupt)."""
        self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.conn
        except BaseException:
            self.conn.execute("ROLLBACK")
            raise
        self.conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return int(self.conn.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        with self.transaction() as c:
            version = int(c.execute("PRAGMA user_version").fetchone()[0])
            for number, script in enumerate(MIGRATIONS[version:], start=version + 1):
                if callable(script):
                    script(c)
                    c.execute(f"PRAGMA user_version = {number}")
                    continue
                for statement in _statements(script, self.driver.complete_statement):
                    c.execute(statement)
                c.execute(f"PRAGMA user_version = {number}")

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        self.conn.execute("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", (key, value))


def _statements(script: str, complete: Any) -> list[str]:
    """Split a migration script into statements, using SQLite's own notion of a complete statement
    (so trigger bodies keep their inner semicolons)."""
    out, buf = [], ""
    for part in script.split(";"):
        buf += part + ";"
        if complete(buf):
            if buf.strip(" \n\t;"):
                out.append(buf.strip())
            buf = ""
    return out
