"""The index: one SQLite file (WAL) holding documents, chunks, an FTS5 index and sqlite-vec vectors.

The only package that writes SQL, split by what it keeps: db (connection, transactions, migrations),
schema, library (roots, documents, chunks, keywords), vector_tables, chats, cache (answers); vectors is
the in-process vector index that follows the stored vectors (vector_scorer scores its int8 codes). The team
index on PostgreSQL: postgres (the library there), pg_schema (its schema and row-level security), pg_admin
(setting it up, people and shares), terms (keyword terms as FTS5 makes them), team (the store a workstation
uses: the server, its own local file, the outbox). Every statement is parameterised.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from assistant.store.cache import CacheTables
from assistant.store.chats import ChatTables
from assistant.store.db import Database, sqlite_driver
from assistant.store.library import LibraryTables, Part, StoredDocument
from assistant.store.vector_tables import VECTOR_IDS_TABLE, VectorTables

__all__ = ["Database", "Part", "Store", "StoredDocument", "sqlite_driver"]


class Store(LibraryTables, VectorTables, ChatTables, CacheTables):
    """One connection to the index file, over every table. Use one Store per thread.

    The team index (store_url; team.TeamStore) answers the same methods, the library's on a PostgreSQL server.
    """

    engine = "sqlite"

    def reopen(self) -> Store:
        """Another connection to the same index (the indexer's embedding thread)."""
        return Store(self.path, readonly=self.readonly)

    def queued(self) -> int:
        """Writes waiting to be sent: none (the team index's store keeps an outbox)."""
        return 0

    def search_vectors(self, shared: Any) -> Any:
        """The vector search over this store: the process's in-process index (`shared`, a vectors.VectorIndex)."""
        return shared

    def reset(self) -> None:
        """Forget every document, chunk and vector and the embedding model binding (roots are kept)."""
        with self.transaction() as c:
            c.execute("DELETE FROM documents")
            c.execute("DROP TRIGGER IF EXISTS chunks_vec_ad")
            c.execute("DROP TABLE IF EXISTS chunk_vectors")
            c.execute("DELETE FROM vector_log")
            c.execute("INSERT INTO vector_log(chunk_id, added) VALUES (0, 0)")  # readers notice, and start over
            c.execute("DELETE FROM meta WHERE key IN ('embedding_model', 'embedding_dim', 'vectors_id', "
                      "'vector_log_pruned')")
        self.dim = None

    def disk(self) -> dict[str, int]:
        """Bytes the index file takes, how many of them are free pages (from deleted documents or an older
        format) that `compact` gives back, and the bytes of the vector file beside it (vectors.py)."""
        q = self.conn.execute
        page = int(q("PRAGMA page_size").fetchone()[0])
        vector_file = Path(self.path).with_suffix(".vectors")
        return {"index_bytes": int(q("PRAGMA page_count").fetchone()[0]) * page,
                "reclaimable_bytes": int(q("PRAGMA freelist_count").fetchone()[0]) * page,
                "vector_file_bytes": vector_file.stat().st_size if vector_file.exists() else 0}

    def compact(self) -> int:
        """Rewrite the index file without its free pages (SQLite's VACUUM); returns the bytes given back.
        Needs free disk space about the size of the index while it runs."""
        before = self.disk()["index_bytes"]
        self.conn.execute("VACUUM")
        self.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        return max(0, before - self.disk()["index_bytes"])

    def check(self) -> list[str]:
        """Consistency problems (empty list when healthy): integrity, orphans, counts that disagree."""
        problems = []
        q = self.conn.execute
        ok = q("PRAGMA integrity_check").fetchone()[0]
        if ok != "ok":
            problems.append(f"integrity_check: {ok}")
        if q("SELECT count(*) FROM chunks WHERE document_id NOT IN (SELECT id FROM documents)").fetchone()[0]:
            problems.append("chunks without a document")
        bad = q("SELECT count(*) FROM documents d WHERE chunk_count != "
                "(SELECT count(*) FROM chunks c WHERE c.document_id = d.id)").fetchone()[0]
        if bad:
            problems.append(f"{bad} documents whose chunk_count disagrees with their chunks")
        astray = q("SELECT count(*) FROM documents a JOIN documents c ON c.id = a.container_id "
                   "WHERE substr(a.path, 1, length(c.path) + 1) != c.path || '/'").fetchone()[0]
        if astray:
            problems.append(f"{astray} attachments whose path is not below their container's")
        if not self.readonly:  # FTS5's integrity check is issued as a (non-modifying) write command
            try:
                q("INSERT INTO chunks_fts(chunks_fts, rank) VALUES ('integrity-check', 1)")
            except Exception as exc:  # the driver's DatabaseError: the keyword index disagrees with the chunks
                problems.append(f"keyword index: {exc}")
            keyed = q("SELECT count(*) FROM chunks_fts").fetchone()[0]
            chunks = q("SELECT count(*) FROM chunks").fetchone()[0]
            if keyed != chunks:
                problems.append(f"the keyword index holds {keyed} passages of {chunks}")
        if self.meta("embedding_model") is not None:
            nchunks = q("SELECT count(*) FROM chunks").fetchone()[0]
            npending = q("SELECT count(*) FROM pending_vectors").fetchone()[0]
            nvec = self.vector_count()
            if nvec != nchunks - npending:
                problems.append(f"{nvec} vectors for {nchunks} chunks ({npending} waiting)")
            missing = q(f"SELECT count(*) FROM chunks WHERE id NOT IN (SELECT rowid FROM {VECTOR_IDS_TABLE}) "
                        "AND id NOT IN (SELECT chunk_id FROM pending_vectors)").fetchone()[0]
            if missing:
                problems.append(f"{missing} chunks without a vector (and not waiting for one)")
            both = q(f"SELECT count(*) FROM pending_vectors WHERE chunk_id IN (SELECT rowid FROM {VECTOR_IDS_TABLE})"
                     ).fetchone()[0]
            if both:
                problems.append(f"{both} chunks both waiting for a vector and holding one")
        return problems
