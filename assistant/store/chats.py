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

    def rate_answer(self, chat_id: str, turn: int | None, rating: int, note: str | None) -> dict[str, Any] | None:
        """Rate the answer of a conversation's `turn` (1-based; None: the last answer); replaces an earlier
        rating of it. Returns the rated answer's (message id, turn), or None when there is no such answer."""
        ids = [int(r) for (r,) in self.conn.execute(
            "SELECT id FROM messages WHERE chat_id = ? AND role = 'assistant' ORDER BY id", (chat_id,))]
        if not ids or (turn is not None and not 1 <= turn <= len(ids)):
            return None
        index = len(ids) if turn is None else turn
        self.conn.execute("INSERT OR REPLACE INTO feedback(message_id, rating, note, created_at) VALUES (?, ?, ?, ?)",
                          (ids[index - 1], rating, note, time.time()))
        return {"message_id": ids[index - 1], "turn": index}

    def feedback(self) -> list[dict[str, Any]]:
        """Every rating, newest first, with the question, the answer and the answer's stored sources."""
        rows = self.conn.execute(
            "SELECT f.message_id, f.rating, f.note, f.created_at, a.chat_id, a.content, a.sources, "
            "(SELECT q.content FROM messages q WHERE q.chat_id = a.chat_id AND q.role = 'user' AND q.id < a.id "
            " ORDER BY q.id DESC LIMIT 1), "
            "(SELECT count(*) FROM messages t WHERE t.chat_id = a.chat_id AND t.role = 'assistant' AND t.id <= a.id) "
            "FROM feedback f JOIN messages a ON a.id = f.message_id ORDER BY f.created_at DESC, f.message_id DESC")
        keys = ("message_id", "rating", "note", "created_at", "chat_id", "answer", "sources", "question", "turn")
        return [dict(zip(keys, r, strict=True)) for r in rows]

    def delete_chat(self, chat_id: str) -> bool:
        return self.conn.execute("DELETE FROM chats WHERE id = ?", (chat_id,)).rowcount > 0
