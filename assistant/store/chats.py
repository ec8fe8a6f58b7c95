"""Conversations: chats and their messages (each answer with its sources as JSON)."""

from __future__ import annotations

import time
from typing import Any

from assistant.store.db import Database


class ChatTables(Database):
    """Conversations."""

    def create_chat(self, title: str) -> str:
        import uuid

        chat_id = uuid.uuid4().hex[:8]
        now = time.time()
        self.conn.execute("INSERT INTO chats(id, title, created_at, updated_at) VALUES (?, ?, ?, ?)",
                          (chat_id, title, now, now))
        return chat_id

    def chat(self, chat_id: str) -> dict[str, Any] | None:
        row = self.conn.execute("SELECT id, title, created_at, updated_at FROM chats WHERE id = ?",
                                (chat_id,)).fetchone()
        return dict(zip(("id", "title", "created_at", "updated_at"), row, strict=True)) if row else None

    def add_question(self, chat_id: str, question: str) -> None:
        """Store a question as soon as it is asked: if the process ends before the answer, the question
        is still in the conversation (with no answer)."""
        now = time.time()
        with self.transaction() as c:
            c.execute("INSERT INTO messages(chat_id, role, content, created_at) VALUES (?, 'user', ?, ?)",
                      (chat_id, question, now))
            c.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))

    def add_answer(self, chat_id: str, answer: str, grounded: bool, sources_json: str) -> None:
        """Store the answer to the conversation's last question (a cancelled one as far as it got)."""
        now = time.time()
        with self.transaction() as c:
            c.execute("INSERT INTO messages(chat_id, role, content, grounded, sources, created_at) "
                      "VALUES (?, 'assistant', ?, ?, ?, ?)", (chat_id, answer, int(grounded), sources_json, now))
            c.execute("UPDATE chats SET updated_at = ? WHERE id = ?", (now, chat_id))

    def chat_messages(self, chat_id: str) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT role, content, grounded, sources, created_at FROM messages WHERE chat_id = ? ORDER BY id",
            (chat_id,))
        keys = ("role", "content", "grounded", "sources", "created_at")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def list_chats(self) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT c.id, c.title, c.created_at, c.updated_at, "
            "(SELECT count(*) FROM messages m WHERE m.chat_id = c.id AND m.role = 'user') "
            "FROM chats c ORDER BY c.updated_at DESC")
        keys = ("id", "title", "created_at", "updated_at", "turns")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def rename_chat(self, chat_id: str, title: str) -> bool:
        return self.conn.execute("UPDATE chats SET title = ? WHERE id = ?", (title, chat_id)).rowcount > 0

    def delete_chat(self, chat_id: str) -> bool:
        return self.conn.execute("DELETE FROM chats WHERE id = ?", (chat_id,)).rowcount > 0
