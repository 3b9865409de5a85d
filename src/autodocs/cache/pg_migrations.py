"""The PostgreSQL store's schema as versioned migrations, applied once however many replicas start.

Each migration is a list of statements under a version number; the versions a database has
are rows of ``autodocs_schema_migrations``. :func:`migrate` takes a transaction-scoped
advisory lock first, so replicas starting together queue up and each migration runs once;
the lock goes with the transaction, so a replica that dies mid-migration cannot leave it
held, and a failed migration leaves no half-built schema behind (PostgreSQL DDL is
transactional). Append new migrations; never edit a released one.
"""

from __future__ import annotations

import psycopg
import structlog
from psycopg.rows import TupleRow

__all__ = ["SCHEMA_VERSION", "migrate"]

log = structlog.get_logger(__name__)

#: Key of the advisory lock that serializes migrations across replicas ("autodocs" in ASCII).
_MIGRATION_LOCK = 0x6175746F646F6373
#: (version, statements): append only; a released migration never changes.
_MIGRATIONS: tuple[tuple[int, tuple[str, ...]], ...] = (
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
)
SCHEMA_VERSION = _MIGRATIONS[-1][0]


async def migrate(db: psycopg.AsyncConnection[TupleRow]) -> None:
    """Apply the migrations this database lacks, in one transaction, one replica at a time."""
    async with db.transaction():
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
