"""The schema: numbered migrations, applied in order and tracked by PRAGMA user_version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from assistant.text import file_name_key


def create_vector_tables(c: Any, dim: int) -> None:
    """The vectors: exact float vectors in sqlite-vec's vec0 table (cosine), the one stored copy. Every
    change is logged in vector_log (a chunk's vector added, or its chunk gone), so the in-process copy
    (vectors.py) follows it by reading only what changed."""
    dim = int(dim)
    c.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vectors USING vec0(embedding float[{dim}] "
              "distance_metric=cosine)")
    c.execute("DROP TRIGGER IF EXISTS chunks_vec_ad")
    c.execute("CREATE TRIGGER chunks_vec_ad AFTER DELETE ON chunks BEGIN "
              "DELETE FROM chunk_vectors WHERE rowid = old.id; "
              "INSERT INTO vector_log(chunk_id, added) VALUES (old.id, 0); END")


def _migrate_vector_epoch(c: Any) -> None:
    """2: (was: a second copy of every vector as a plain blob; migration 6 took it out again)."""
    c.execute("CREATE TABLE vector_epoch(n INTEGER NOT NULL)")
    c.execute("INSERT INTO vector_epoch(n) VALUES (0)")


def _migrate_one_vector_copy(c: Any) -> None:
    """6: vec0 holds the only stored copy of each vector: the blob copy goes, and a change log replaces
    the epoch counter (the in-process copy reads the changes since it last looked)."""
    c.execute("CREATE TABLE vector_log(seq INTEGER PRIMARY KEY AUTOINCREMENT, chunk_id INTEGER NOT NULL, "
              "added INTEGER NOT NULL)")
    for trigger in ("chunk_embeddings_ai", "chunk_embeddings_ad", "chunks_vec_ad"):
        c.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    c.execute("DROP TABLE IF EXISTS chunk_embeddings")
    c.execute("DROP TABLE IF EXISTS vector_epoch")
    c.execute("INSERT INTO vector_log(chunk_id, added) VALUES (0, 0)")  # starts the sequence readers follow
    row = c.execute("SELECT value FROM meta WHERE key = 'embedding_dim'").fetchone()
    if row is not None:
        create_vector_tables(c, int(row[0]))
        c.execute("INSERT OR REPLACE INTO meta(key, value) VALUES ('vectors_id', lower(hex(randomblob(16))))")


def _migrate_no_text_status(c: Any) -> None:
    """10: a document may be 'no text' (read, nothing readable in it: a photo, a blank scan), a status of its
    own rather than an error. SQLite cannot alter a CHECK constraint; it documents editing the table's stored
    definition for a change that leaves every row as it is on disk (this one only allows one more value)."""
    old = "CHECK (status IN ('ok', 'error'))"
    new = "CHECK (status IN ('ok', 'error', 'no text'))"
    version = int(c.execute("PRAGMA schema_version").fetchone()[0])
    c.execute("PRAGMA writable_schema = ON")
    c.execute("UPDATE sqlite_schema SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'documents'",
              (old, new))
    c.execute(f"PRAGMA schema_version = {version + 1}")
    c.execute("PRAGMA writable_schema = OFF")
    # Files that held no text were errors until now: read again, they become 'no text'.
    c.execute("UPDATE documents SET chunker_version = 0, size = NULL WHERE status = 'error' AND error LIKE 'no text%'")


def _migrate_document_names(c: Any) -> None:
    """11: each document's name as a question would say it ("pep-0008.rst" -> "pep 8"; text.file_name_key),
    indexed, so a question that names a file finds it at once (search/names.py)."""
    c.execute("ALTER TABLE documents ADD COLUMN name_key TEXT")
    c.execute("CREATE INDEX documents_name ON documents(name_key)")
    rows = c.execute("SELECT id, path FROM documents").fetchall()
    c.executemany("UPDATE documents SET name_key = ? WHERE id = ?",
                  [(key, i) for i, p in rows if (key := file_name_key(p)) is not None])


KEYWORD_TRIGGERS = """
    CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, text, heading)
            SELECT new.id, keywords(new.text, l), keywords(coalesce(new.heading, ''), l)
            FROM (SELECT language(new.text) AS l);
        INSERT INTO chunk_languages(lang, chunks) VALUES (language(new.text), 1)
            ON CONFLICT(lang) DO UPDATE SET chunks = chunks + 1;
    END;
    CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
        DELETE FROM chunks_fts WHERE rowid = old.id;
        UPDATE chunk_languages SET chunks = max(chunks - 1, 0) WHERE lang = language(old.text);
    END;
"""


def _migrate_languages(c: Any) -> None:
    """13: keywords in every language (assistant/language.py): the keyword index is fed each passage as its
    language reads it (an English passage as it is; another language's words as their stems; Chinese,
    Japanese, Korean and Thai as character pairs), through the SQL functions language() and keywords() that
    every connection registers (db.py). The index no longer reads its text from `chunks` (what it holds is not
    the passage's text): a contentless FTS5 table whose rows are deleted by rowid. The passages' languages
    are counted (chunk_languages: which stemmers a question is analyzed with, and whether the library would
    be served better by the multilingual embedder)."""
    c.execute("DROP TRIGGER IF EXISTS chunks_ai")
    c.execute("DROP TRIGGER IF EXISTS chunks_ad")
    c.execute("DROP TABLE IF EXISTS chunks_fts")
    c.execute("CREATE VIRTUAL TABLE chunks_fts USING fts5(text, heading, content='', contentless_delete=1, "
              "tokenize='porter unicode61 remove_diacritics 2')")
    c.execute("CREATE TABLE chunk_languages(lang TEXT PRIMARY KEY, chunks INTEGER NOT NULL)")
    c.execute("CREATE TEMP TABLE chunk_lang AS SELECT id, language(text) AS l FROM chunks")
    c.execute("INSERT INTO chunks_fts(rowid, text, heading) SELECT c.id, keywords(c.text, t.l), "
              "keywords(coalesce(c.heading, ''), t.l) FROM chunks c JOIN temp.chunk_lang t ON t.id = c.id")
    c.execute("INSERT INTO chunk_languages(lang, chunks) SELECT l, count(*) FROM temp.chunk_lang GROUP BY l")
    c.execute("DROP TABLE temp.chunk_lang")
    for statement in KEYWORD_TRIGGERS.split("END;")[:-1]:
        c.execute(statement + "END;")


MIGRATIONS: list[str | Callable[[Any], None]] = [
    # 1: documents, chunks, keyword index
    """
    CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE roots(path TEXT PRIMARY KEY, added_at REAL NOT NULL);
    CREATE TABLE documents(
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        size INTEGER,
        mtime_ns INTEGER,
        content_hash TEXT,
        format TEXT,
        status TEXT NOT NULL CHECK (status IN ('ok', 'error')),
        error TEXT,
        chunker_version INTEGER,
        chunk_count INTEGER NOT NULL DEFAULT 0,
        indexed_at REAL NOT NULL
    );
    CREATE INDEX documents_hash ON documents(content_hash);
    CREATE TABLE chunks(
        id INTEGER PRIMARY KEY,
        document_id INTEGER NOT NULL REFERENCES documents(id) ON DELETE CASCADE,
        position INTEGER NOT NULL,
        text TEXT NOT NULL,
        heading TEXT,
        page INTEGER,
        start_line INTEGER,
        end_line INTEGER,
        token_count INTEGER NOT NULL,
        content_hash TEXT NOT NULL,
        UNIQUE (document_id, position)
    );
    CREATE INDEX chunks_hash ON chunks(content_hash);
    CREATE VIRTUAL TABLE chunks_fts USING fts5(
        text, heading, content='chunks', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2'
    );
    CREATE TRIGGER chunks_ai AFTER INSERT ON chunks BEGIN
        INSERT INTO chunks_fts(rowid, text, heading) VALUES (new.id, new.text, coalesce(new.heading, ''));
    END;
    CREATE TRIGGER chunks_ad AFTER DELETE ON chunks BEGIN
        INSERT INTO chunks_fts(chunks_fts, rowid, text, heading)
            VALUES ('delete', old.id, old.text, coalesce(old.heading, ''));
    END;
    """,
    _migrate_vector_epoch,
    # 3: conversations
    """
    CREATE TABLE chats(
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    );
    CREATE TABLE messages(
        id INTEGER PRIMARY KEY,
        chat_id TEXT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
        role TEXT NOT NULL CHECK (role IN ('user', 'assistant')),
        content TEXT NOT NULL,
        grounded INTEGER,
        sources TEXT,
        created_at REAL NOT NULL
    );
    CREATE INDEX messages_chat ON messages(chat_id, id);
    """,
    # 4: chunks written before their vectors exist (searchable by keywords at once; the embedding step
    # fills them in, and a killed run resumes from here)
    """
    CREATE TABLE pending_vectors(chunk_id INTEGER PRIMARY KEY REFERENCES chunks(id) ON DELETE CASCADE);
    """,
    # 5: the answer cache; an entry goes as soon as a document it rests on changes, moves or goes
    """
    CREATE TABLE answer_cache(
        key TEXT PRIMARY KEY,
        question TEXT NOT NULL,
        answer TEXT NOT NULL,
        created_at REAL NOT NULL
    );
    CREATE TABLE answer_cache_documents(
        key TEXT NOT NULL REFERENCES answer_cache(key) ON DELETE CASCADE,
        document_id INTEGER NOT NULL,
        PRIMARY KEY (key, document_id)
    );
    CREATE INDEX answer_cache_documents_document ON answer_cache_documents(document_id);
    CREATE TRIGGER documents_au_cache AFTER UPDATE OF content_hash, path, status ON documents BEGIN
        DELETE FROM answer_cache WHERE key IN (SELECT key FROM answer_cache_documents WHERE document_id = old.id);
    END;
    CREATE TRIGGER documents_ad_cache AFTER DELETE ON documents BEGIN
        DELETE FROM answer_cache WHERE key IN (SELECT key FROM answer_cache_documents WHERE document_id = old.id);
    END;
    """,
    _migrate_one_vector_copy,
    # 7: passages read by OCR (a scanned page, an image) are marked, so a citation can say so
    "ALTER TABLE chunks ADD COLUMN ocr INTEGER NOT NULL DEFAULT 0;",
    # 8: the user's ratings of answers (up or down, with a note), for a personal eval set
    """
    CREATE TABLE feedback(
        message_id INTEGER PRIMARY KEY REFERENCES messages(id) ON DELETE CASCADE,
        rating INTEGER NOT NULL CHECK (rating IN (-1, 1)),
        note TEXT,
        created_at REAL NOT NULL
    );
    """,
    # 9: files inside files (mail attachments) are documents of their own, kept with their container;
    # mail read before held its attachments inline, so it is read again by the next sync
    """
    ALTER TABLE documents ADD COLUMN container_id INTEGER REFERENCES documents(id) ON DELETE CASCADE;
    CREATE INDEX documents_container ON documents(container_id);
    UPDATE documents SET chunker_version = 0 WHERE format IN ('eml', 'mbox');
    """,
    _migrate_no_text_status,
    _migrate_document_names,
    # 12: with a team index (store_url), the writes waiting for its server, and what this workstation wrote there
    # (store/team.py)
    """
    CREATE TABLE outbox(
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        server TEXT NOT NULL,
        op TEXT NOT NULL,
        payload TEXT NOT NULL,
        queued_at REAL NOT NULL
    );
    CREATE TABLE team_documents(
        server TEXT NOT NULL,
        path TEXT NOT NULL,
        size INTEGER,
        mtime_ns INTEGER,
        content_hash TEXT,
        format TEXT,
        status TEXT NOT NULL,
        error TEXT,
        chunker_version INTEGER,
        PRIMARY KEY (server, path)
    );
    """,
    _migrate_languages,
]
