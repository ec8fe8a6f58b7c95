"""The answer cache: an answer kept under a key of the normalised question and every setting that shapes
it, with the documents it rests on. Triggers on documents (schema 5) drop an entry as soon as one of
them changes, moves or is removed."""

from __future__ import annotations

import json
import time
from typing import Any

from assistant.store.db import Database


class CacheTables(Database):
    """Cached answers."""

    def cached_answer(self, key: str) -> dict[str, Any] | None:
        try:
            row = self.conn.execute("SELECT answer FROM answer_cache WHERE key = ?", (key,)).fetchone()
        except self.driver.OperationalError:  # a read-only look at an index no writer has upgraded yet
            return None
        return json.loads(row[0]) if row else None

    def cache_answer(self, key: str, question: str, answer: dict[str, Any], chunk_ids: list[int]) -> None:
        """Keep an answer with the documents of these chunks (the ones it cited and the search returned)."""
        with self.transaction() as c:
            c.execute("INSERT OR REPLACE INTO answer_cache(key, question, answer, created_at) VALUES (?, ?, ?, ?)",
                      (key, question, json.dumps(answer), time.time()))
            c.execute("DELETE FROM answer_cache_documents WHERE key = ?", (key,))
            marks = ",".join("?" * len(chunk_ids))
            c.execute(f"INSERT OR IGNORE INTO answer_cache_documents(key, document_id) "
                      f"SELECT DISTINCT ?, document_id FROM chunks WHERE id IN ({marks})", (key, *chunk_ids))

    def clear_answer_cache(self) -> int:
        """Forget every cached answer; returns how many there were."""
        return int(self.conn.execute("DELETE FROM answer_cache").rowcount)
