"""The PostgreSQL store's schema as versioned migrations, applied once however many replicas start.

Each migration is a list of statements under a version number; the versions a database has
are rows of ``autodocs_schema_migrations``. :func:`migrate` takes a transaction-scoped
advisory lock first, so replicas starting together queue up and each migration runs once;
the lock goes with the transaction, so a replica that dies mid-migration cannot leave it
held, and a failed migration leaves no half-built schema behind (PostgreSQL DDL is
transactional). Append new migrations; never edit a released one.

A migration may back-fill data (version 2 indexes the stored documents for search), so the
migrating transaction gets a 10-minute statement limit (:data:`_SET_MIGRATION_TIMEOUT`)
instead of the pool's short one — and so do replicas waiting for its lock meanwhile.

Version 3 puts the index key (:mod:`autodocs.index.keys`) first in every table's key; the rows
already stored become entries of the default configuration's index. The column is added with
that key as a constant default (PostgreSQL then writes no row), which is dropped at once, so
every later write names its index. A replica of an older version still running during a rolling
update finds its writes refused (its ``ON CONFLICT`` names the old key) and serves uncached.
"""

from __future__ import annotations

import psycopg
import structlog
from psycopg import sql
from psycopg.abc import Query
from psycopg.rows import TupleRow

from autodocs.index.keys import DEFAULT_INDEX_KEY

__all__ = ["SCHEMA_VERSION", "migrate"]

log = structlog.get_logger(__name__)

#: Key of the advisory lock that serializes migrations across replicas ("autodocs" in ASCII).
_MIGRATION_LOCK = 0x6175746F646F6373
#: Longest a statement of the migrating transaction (or the wait for its lock) may run.
_SET_MIGRATION_TIMEOUT = "SET LOCAL statement_timeout = '10min'"
_KEYED_TABLES = ("documents", "release_lists", "api_references", "search_entries")
#: (version, statements): append only; a released migration never changes.
_MIGRATIONS: tuple[tuple[int, tuple[Query, ...]], ...] = (
    (
        1,
        (
            """CREATE TABLE IF NOT EXISTS documents (
                name TEXT COLLATE "C" NOT NULL,
                version TEXT COLLATE "C" NOT NULL,
                body JSON NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                last_used DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (name, version)
            )""",
            """CREATE TABLE IF NOT EXISTS release_lists (
                name TEXT COLLATE "C" PRIMARY KEY,
                body JSON NOT NULL,
                fetched_at DOUBLE PRECISION NOT NULL
            )""",
        ),
    ),
    (
        2,
        (
            """CREATE TABLE IF NOT EXISTS api_references (
                name TEXT COLLATE "C" NOT NULL,
                version TEXT COLLATE "C" NOT NULL,
                object_path TEXT COLLATE "C" NOT NULL,
                body TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                last_used DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (name, version, object_path)
            )""",
            # One row per searchable unit. origin: '' for a document's own entries (summary,
            # sections), else the object path of the API reference the entry belongs to;
            # context: the package's name and summary (search.search_context). terms: the path
            # weighted A, the text B, the context C; dots, underscores and slashes split words, so
            # 'requests.Session.mount' is found by 'session' or 'mount'.
            """CREATE TABLE IF NOT EXISTS search_entries (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                name TEXT COLLATE "C" NOT NULL,
                version TEXT COLLATE "C" NOT NULL,
                origin TEXT COLLATE "C" NOT NULL,
                kind TEXT NOT NULL,
                path TEXT NOT NULL,
                text TEXT NOT NULL,
                context TEXT NOT NULL,
                terms TSVECTOR GENERATED ALWAYS AS (
                    setweight(to_tsvector('english'::regconfig, translate(path, '._/', '   ')), 'A')
                    || setweight(to_tsvector('english'::regconfig, translate(text, '._/', '   ')), 'B')
                    || setweight(to_tsvector('english'::regconfig, translate(context, '._/', '   ')), 'C')
                ) STORED
            )""",
            "CREATE INDEX IF NOT EXISTS search_entries_by_owner ON search_entries (name, version, origin)",
            "CREATE INDEX IF NOT EXISTS search_entries_terms ON search_entries USING GIN (terms)",
            # Index the documents already stored, as autodocs.cache.search.document_entries and
            # search_context do: the summary (when there is one), then every section; text cut
            # at 100 000 characters, titles at 1000.
            """INSERT INTO search_entries (name, version, origin, kind, path, text, context)
            SELECT name, version, '', 'section', path, text, context FROM (
                SELECT name, version, 0 AS position, 'summary' AS path, left(body->>'summary', 100000) AS text,
                       name || ' ' || COALESCE(body->>'summary', '') AS context
                FROM documents WHERE COALESCE(body->>'summary', '') <> ''
                UNION ALL
                SELECT d.name, d.version, s.position, left(COALESCE(s.section->>'title', ''), 1000),
                       left(COALESCE(s.section->>'content', ''), 100000),
                       d.name || ' ' || COALESCE(d.body->>'summary', '')
                FROM documents AS d CROSS JOIN LATERAL json_array_elements(
                    CASE WHEN json_typeof(d.body->'sections') = 'array' THEN d.body->'sections' ELSE '[]'::json END
                ) WITH ORDINALITY AS s(section, position)
            ) AS entries ORDER BY name, version, position""",
        ),
    ),
    (
        3,
        (
            *(
                sql.SQL('ALTER TABLE {} ADD COLUMN index_key TEXT COLLATE "C" NOT NULL DEFAULT {}').format(
                    sql.Identifier(table), sql.Literal(DEFAULT_INDEX_KEY)
                )
                for table in _KEYED_TABLES
            ),
            *(f"ALTER TABLE {table} ALTER COLUMN index_key DROP DEFAULT" for table in _KEYED_TABLES),
            "ALTER TABLE documents DROP CONSTRAINT documents_pkey, ADD PRIMARY KEY (index_key, name, version)",
            "ALTER TABLE release_lists DROP CONSTRAINT release_lists_pkey, ADD PRIMARY KEY (index_key, name)",
            "ALTER TABLE api_references DROP CONSTRAINT api_references_pkey,"
            " ADD PRIMARY KEY (index_key, name, version, object_path)",
            "DROP INDEX search_entries_by_owner",
            "CREATE INDEX search_entries_by_owner ON search_entries (index_key, name, version, origin)",
        ),
    ),
    (
        4,  # docs sets (autodocs.cache.pg_docsets); a step of its own, keyed by index from the start
        (
            """CREATE TABLE IF NOT EXISTS docsets (
                index_key TEXT COLLATE "C" NOT NULL,
                name TEXT COLLATE "C" NOT NULL,
                version TEXT COLLATE "C" NOT NULL,
                flavour TEXT NOT NULL,
                pages TEXT NOT NULL,
                toc TEXT NOT NULL,
                warnings TEXT NOT NULL,
                missing_reason TEXT NOT NULL,
                complete BOOLEAN NOT NULL,
                writer TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                last_used DOUBLE PRECISION NOT NULL,
                PRIMARY KEY (index_key, name, version)
            )""",
            # path: the heading path joined (weighted A), text (B), context: package name and page path (C).
            """CREATE TABLE IF NOT EXISTS docset_sections (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                index_key TEXT COLLATE "C" NOT NULL,
                name TEXT COLLATE "C" NOT NULL,
                version TEXT COLLATE "C" NOT NULL,
                page INTEGER NOT NULL,
                page_path TEXT NOT NULL,
                page_title TEXT NOT NULL,
                position INTEGER NOT NULL,
                path TEXT NOT NULL,
                heading_path TEXT NOT NULL,
                blocks TEXT NOT NULL,
                text TEXT NOT NULL,
                context TEXT NOT NULL,
                terms TSVECTOR GENERATED ALWAYS AS (
                    setweight(to_tsvector('english'::regconfig, translate(path, '._/', '   ')), 'A')
                    || setweight(to_tsvector('english'::regconfig, translate(text, '._/', '   ')), 'B')
                    || setweight(to_tsvector('english'::regconfig, translate(context, '._/', '   ')), 'C')
                ) STORED
            )""",
            "CREATE INDEX IF NOT EXISTS docset_sections_by_owner"
            " ON docset_sections (index_key, name, version, page, position)",
            "CREATE INDEX IF NOT EXISTS docset_sections_terms ON docset_sections USING GIN (terms)",
        ),
    ),
)
SCHEMA_VERSION = _MIGRATIONS[-1][0]


async def migrate(db: psycopg.AsyncConnection[TupleRow]) -> None:
    """Apply the migrations this database lacks, in one transaction, one replica at a time."""
    async with db.transaction():
        await db.execute(_SET_MIGRATION_TIMEOUT)
        await db.execute("SELECT pg_advisory_xact_lock(%s)", (_MIGRATION_LOCK,))
        await db.execute(
            "CREATE TABLE IF NOT EXISTS autodocs_schema_migrations ("
            " version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())"
        )
        cursor = await db.execute("SELECT COALESCE(MAX(version), 0) FROM autodocs_schema_migrations")
        row = await cursor.fetchone()
        current = int(row[0]) if row is not None else 0
        for version, statements in _MIGRATIONS:
            if version <= current:
                continue
            for statement in statements:
                await db.execute(statement)
            await db.execute("INSERT INTO autodocs_schema_migrations (version) VALUES (%s)", (version,))
            log.info("cache.migrated", schema_version=version)
    if current > SCHEMA_VERSION:
        log.warning("cache.schema_newer_than_code", database=current, code=SCHEMA_VERSION)
