"""The schema: numbered migrations, applied in order and tracked by PRAGMA user_version."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def create_vector_tables(c: Any, dim: int) -> None:
    """The vector tables: exact float vectors in vec0 (cosine), and the same vectors as plain blobs
    keyed by chunk id, which the in-process vector index loads and follows through vector_epoch."""
    dim = int(dim)
    c.execute(f"CREATE VIRTUAL TABLE IF NOT EXISTS chunk_vectors USING vec0(embedding float[{dim}] "
              "distance_metric=cosine)")
    c.execute("CREATE TABLE IF NOT EXISTS chunk_embeddings(id INTEGER PRIMARY KEY "
              "REFERENCES chunks(id) ON DELETE CASCADE, embedding BLOB NOT NULL)")
    c.execute("CREATE TRIGGER IF NOT EXISTS chunks_vec_ad AFTER DELETE ON chunks BEGIN "
              "DELETE FROM chunk_vectors WHERE rowid = old.id; END")
    c.execute("CREATE TRIGGER IF NOT EXISTS chunk_embeddings_ai AFTER INSERT ON chunk_embeddings BEGIN "
              "UPDATE vector_epoch SET n = n + 1; END")
    c.execute("CREATE TRIGGER IF NOT EXISTS chunk_embeddings_ad AFTER DELETE ON chunk_embeddings BEGIN "
              "UPDATE vector_epoch SET n = n + 1; END")


def _migrate_plain_vectors(c: Any) -> None:
    """2: float vectors also as plain blobs keyed by chunk id, for the in-process exact vector index
    (vec0 reads by id are slow), plus a counter that tells readers when vectors changed."""
    c.execute("CREATE TABLE vector_epoch(n INTEGER NOT NULL)")
    c.execute("INSERT INTO vector_epoch(n) VALUES (0)")
    row = c.execute("SELECT value FROM meta WHERE key = 'embedding_dim'").fetchone()
    if row is None:
        return  # no vectors yet: bind_embedding creates every vector table
    create_vector_tables(c, int(row[0]))
    c.execute("INSERT INTO chunk_embeddings(id, embedding) SELECT rowid, embedding FROM chunk_vectors")


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
    _migrate_plain_vectors,
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
]
