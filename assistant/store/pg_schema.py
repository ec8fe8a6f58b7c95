"""The team index's schema on PostgreSQL: numbered migrations (like the local store's), applied by
`assistant team setup ADMIN_URL` as the administrator, and the row-level security that decides who reads what.

- A person is a login role that is a member of the group role `assistant_users`.
- A folder (`folders`) belongs to the role that indexed it (`owner`); it is readable by its owner and by every
  role that is, or is a member of, a role it is shared with (`shares`; `assistant team share`). Only its owner
  writes to it or shares it.
- The schema belongs to the administrator's role, which (as the owner of the tables) is not held by the
  policies: people use their own roles.
- Every row of a folder (documents, chunks, postings, term statistics) carries its folder's id and is
  filtered by the policies below, whatever the query: a search cannot return, score with or count a passage of
  a folder its user may not read. BM25's statistics are kept per folder and summed over the readable ones, so
  a person's scores are those of a local index of the folders they may read.
- Terms are 64-bit hashes (store/terms.py); a chunk keeps its terms and their weighted frequencies as arrays,
  from which triggers keep `postings` (the inverted index) and the statistics in step: the workstation
  computes, the server stores and counts.
- Vectors are `vector(D)` in the chunks (NULL while waiting for one), searched through an HNSW index on their
  `halfvec` copy (half the size; the exact float cosine re-ranks).
"""

from __future__ import annotations

SCHEMA = "assistant"
USERS_ROLE = "assistant_users"


def migrations(dim: int) -> list[str]:
    """The migrations, in order; the first creates everything for vectors of `dim` dimensions."""
    d = int(dim)
    return [f"""
    CREATE TABLE assistant.meta (key text PRIMARY KEY, value text NOT NULL);
    CREATE TABLE assistant.folders (
        id serial PRIMARY KEY,
        path text NOT NULL UNIQUE,
        owner name NOT NULL DEFAULT current_user,
        added_at double precision NOT NULL DEFAULT extract(epoch FROM now()),
        chunks bigint NOT NULL DEFAULT 0,
        tokens bigint NOT NULL DEFAULT 0,
        generation bigint NOT NULL DEFAULT 0
    );
    CREATE TABLE assistant.shares (
        folder_id int NOT NULL REFERENCES assistant.folders ON DELETE CASCADE,
        grantee name NOT NULL,
        granted_at double precision NOT NULL DEFAULT extract(epoch FROM now()),
        PRIMARY KEY (folder_id, grantee)
    );
    CREATE TABLE assistant.documents (
        id bigserial PRIMARY KEY,
        folder_id int NOT NULL REFERENCES assistant.folders ON DELETE CASCADE,
        path text NOT NULL UNIQUE,
        size bigint,
        mtime_ns bigint,
        content_hash text,
        format text,
        status text NOT NULL CHECK (status IN ('ok', 'error', 'no text')),
        error text,
        chunker_version int,
        chunk_count int NOT NULL DEFAULT 0,
        indexed_at double precision NOT NULL,
        container_id bigint REFERENCES assistant.documents ON DELETE CASCADE,
        name_key text
    );
    CREATE INDEX documents_path_prefix ON assistant.documents (path text_pattern_ops);
    CREATE INDEX documents_folder ON assistant.documents (folder_id);
    CREATE INDEX documents_hash ON assistant.documents (content_hash);
    CREATE INDEX documents_container ON assistant.documents (container_id);
    CREATE INDEX documents_name ON assistant.documents (name_key);
    CREATE TABLE assistant.chunks (
        id bigserial PRIMARY KEY,
        folder_id int NOT NULL,
        document_id bigint NOT NULL REFERENCES assistant.documents ON DELETE CASCADE,
        position int NOT NULL,
        text text NOT NULL,
        heading text,
        page int,
        start_line int,
        end_line int,
        token_count int NOT NULL,
        content_hash text NOT NULL,
        ocr boolean NOT NULL DEFAULT false,
        length int NOT NULL,
        terms bigint[] NOT NULL,
        tfs real[] NOT NULL,
        embedding vector({d}),
        UNIQUE (document_id, position)
    );
    CREATE INDEX chunks_hash ON assistant.chunks (content_hash);
    CREATE INDEX chunks_waiting ON assistant.chunks (folder_id, id) WHERE embedding IS NULL;
    CREATE INDEX chunks_vectors ON assistant.chunks USING hnsw ((embedding::halfvec({d})) halfvec_cosine_ops);
    CREATE TABLE assistant.postings (
        term bigint NOT NULL,
        chunk_id bigint NOT NULL,
        folder_id int NOT NULL,
        tf real NOT NULL,
        PRIMARY KEY (term, chunk_id)
    );
    CREATE TABLE assistant.term_stats (
        term bigint NOT NULL,
        folder_id int NOT NULL REFERENCES assistant.folders ON DELETE CASCADE,
        df int NOT NULL,
        PRIMARY KEY (term, folder_id)
    );

    CREATE FUNCTION assistant.visible_folders() RETURNS int[] LANGUAGE sql STABLE AS $$
        SELECT coalesce(array_agg(f.id), '{{}}') FROM assistant.folders f
        WHERE f.owner = current_user OR EXISTS (
            SELECT 1 FROM assistant.shares s JOIN pg_roles r ON r.rolname = s.grantee
            WHERE s.folder_id = f.id AND pg_has_role(current_user, r.oid, 'MEMBER'))
    $$;
    CREATE FUNCTION assistant.owned_folders() RETURNS int[] LANGUAGE sql STABLE AS $$
        SELECT coalesce(array_agg(id), '{{}}') FROM assistant.folders WHERE owner = current_user
    $$;

    -- The inverted index and the statistics follow the chunks (statement triggers: one pass per write).
    -- They run as the schema's owner (SECURITY DEFINER): a document deleted by a cascade is deleted as the owner,
    -- and its postings and statistics must go with it whoever started it (policies still checked the write).
    CREATE FUNCTION assistant.chunks_added() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
        INSERT INTO assistant.postings (term, chunk_id, folder_id, tf)
            SELECT t.term, n.id, n.folder_id, t.tf FROM added n, unnest(n.terms, n.tfs) AS t(term, tf);
        INSERT INTO assistant.term_stats (term, folder_id, df)
            SELECT t, n.folder_id, count(*) FROM added n, unnest(n.terms) AS t GROUP BY 2, 1 ORDER BY 2, 1
            ON CONFLICT (term, folder_id) DO UPDATE SET df = assistant.term_stats.df + excluded.df;
        UPDATE assistant.folders f SET chunks = f.chunks + a.n, tokens = f.tokens + a.len,
            generation = f.generation + 1
            FROM (SELECT folder_id, count(*) AS n, sum(length) AS len FROM added GROUP BY 1) a
            WHERE f.id = a.folder_id;
        RETURN NULL;
    END $$;
    CREATE FUNCTION assistant.chunks_removed() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER
        SET search_path = pg_catalog, pg_temp AS $$
    BEGIN
        DELETE FROM assistant.postings p USING (SELECT o.id, t FROM removed o, unnest(o.terms) AS t) g
            WHERE p.term = g.t AND p.chunk_id = g.id;
        UPDATE assistant.term_stats s SET df = s.df - g.n
            FROM (SELECT o.folder_id, t, count(*) AS n FROM removed o, unnest(o.terms) AS t GROUP BY 1, 2) g
            WHERE s.folder_id = g.folder_id AND s.term = g.t;
        UPDATE assistant.folders f SET chunks = f.chunks - a.n, tokens = f.tokens - a.len,
            generation = f.generation + 1
            FROM (SELECT folder_id, count(*) AS n, sum(length) AS len FROM removed GROUP BY 1) a
            WHERE f.id = a.folder_id;
        RETURN NULL;
    END $$;
    CREATE TRIGGER chunks_added AFTER INSERT ON assistant.chunks REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION assistant.chunks_added();
    CREATE TRIGGER chunks_removed AFTER DELETE ON assistant.chunks REFERENCING OLD TABLE AS removed
        FOR EACH STATEMENT EXECUTE FUNCTION assistant.chunks_removed();

    -- Who reads what.
    ALTER TABLE assistant.folders ENABLE ROW LEVEL SECURITY;
    CREATE POLICY folders_listed ON assistant.folders FOR SELECT USING (true);
    CREATE POLICY folders_added ON assistant.folders FOR INSERT WITH CHECK (owner = current_user);
    CREATE POLICY folders_kept ON assistant.folders FOR UPDATE USING (owner = current_user)
        WITH CHECK (owner = current_user);
    CREATE POLICY folders_removed ON assistant.folders FOR DELETE USING (owner = current_user);
    ALTER TABLE assistant.shares ENABLE ROW LEVEL SECURITY;
    CREATE POLICY shares_listed ON assistant.shares FOR SELECT USING (true);
    CREATE POLICY shares_given ON assistant.shares FOR ALL
        USING (folder_id = ANY((SELECT assistant.owned_folders())::int[]))
        WITH CHECK (folder_id = ANY((SELECT assistant.owned_folders())::int[]));
    ALTER TABLE assistant.meta ENABLE ROW LEVEL SECURITY;
    CREATE POLICY meta_read ON assistant.meta FOR SELECT USING (true);
    """ + "".join(f"""
    ALTER TABLE assistant.{table} ENABLE ROW LEVEL SECURITY;
    CREATE POLICY {table}_read ON assistant.{table} FOR SELECT
        USING (folder_id = ANY((SELECT assistant.visible_folders())::int[]));
    CREATE POLICY {table}_write ON assistant.{table} FOR ALL
        USING (folder_id = ANY((SELECT assistant.owned_folders())::int[]))
        WITH CHECK (folder_id = ANY((SELECT assistant.owned_folders())::int[]));
    """ for table in ("documents", "chunks", "postings", "term_stats")) + f"""
    GRANT USAGE ON SCHEMA assistant TO {USERS_ROLE};
    GRANT SELECT ON assistant.meta TO {USERS_ROLE};
    GRANT SELECT, INSERT, UPDATE, DELETE ON assistant.folders, assistant.shares, assistant.documents,
        assistant.chunks, assistant.postings, assistant.term_stats TO {USERS_ROLE};
    GRANT USAGE ON ALL SEQUENCES IN SCHEMA assistant TO {USERS_ROLE};
    GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA assistant TO {USERS_ROLE};
    """]
