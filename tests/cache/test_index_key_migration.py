"""Caches made before index keys (schema 2) open with every entry kept, filed under the default
configuration's index, and get the docs-set tables after (schema 4); a migration killed halfway
leaves a cache the next open migrates."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from autodocs.cache import PostgresStore, SQLiteStore, Store, sqlite_schema
from autodocs.cache.search import document_entries, indexed_rows, search_context
from autodocs.docs.model import DocSection, PackageDocument
from autodocs.index.keys import DEFAULT_INDEX_KEY
from autodocs.index.models import ReleaseList
from tests.cache.builders import release_list
from tests.cache.conftest import TEST_LIMITS
from tests.cache.test_docsets_store import big_docset

OTHER_INDEX = "https://private.test/simple"

#: The schema-2 tables exactly as that release created them (SQLite), then (PostgreSQL).
SQLITE_V2 = """
CREATE TABLE documents (
    name TEXT NOT NULL, version TEXT NOT NULL, body TEXT NOT NULL,
    created_at REAL NOT NULL, last_used REAL NOT NULL, PRIMARY KEY (name, version)
);
CREATE TABLE release_lists (name TEXT PRIMARY KEY, body TEXT NOT NULL, fetched_at REAL NOT NULL);
CREATE TABLE api_references (
    name TEXT NOT NULL, version TEXT NOT NULL, object_path TEXT NOT NULL, body TEXT NOT NULL,
    created_at REAL NOT NULL, last_used REAL NOT NULL, PRIMARY KEY (name, version, object_path)
);
CREATE TABLE search_entries (
    id INTEGER PRIMARY KEY, name TEXT NOT NULL, version TEXT NOT NULL, origin TEXT NOT NULL,
    kind TEXT NOT NULL, path TEXT NOT NULL, text TEXT NOT NULL, context TEXT NOT NULL
);
CREATE INDEX search_entries_by_owner ON search_entries (name, version, origin);
CREATE VIRTUAL TABLE search_fts USING fts5(
    path, text, context, content = 'search_entries', content_rowid = 'id',
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER search_entries_indexed AFTER INSERT ON search_entries BEGIN
    INSERT INTO search_fts (rowid, path, text, context) VALUES (new.id, new.path, new.text, new.context);
END;
CREATE TRIGGER search_entries_unindexed AFTER DELETE ON search_entries BEGIN
    INSERT INTO search_fts (search_fts, rowid, path, text, context)
    VALUES ('delete', old.id, old.path, old.text, old.context);
END;
PRAGMA user_version = 2;
"""
POSTGRES_V2 = (
    """CREATE TABLE documents (name TEXT COLLATE "C" NOT NULL, version TEXT COLLATE "C" NOT NULL,
        body JSON NOT NULL, created_at DOUBLE PRECISION NOT NULL, last_used DOUBLE PRECISION NOT NULL,
        PRIMARY KEY (name, version))""",
    """CREATE TABLE release_lists (name TEXT COLLATE "C" PRIMARY KEY, body JSON NOT NULL,
        fetched_at DOUBLE PRECISION NOT NULL)""",
    """CREATE TABLE api_references (name TEXT COLLATE "C" NOT NULL, version TEXT COLLATE "C" NOT NULL,
        object_path TEXT COLLATE "C" NOT NULL, body TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
        last_used DOUBLE PRECISION NOT NULL, PRIMARY KEY (name, version, object_path))""",
    """CREATE TABLE search_entries (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name TEXT COLLATE "C" NOT NULL, version TEXT COLLATE "C" NOT NULL, origin TEXT COLLATE "C" NOT NULL,
        kind TEXT NOT NULL, path TEXT NOT NULL, text TEXT NOT NULL, context TEXT NOT NULL,
        terms TSVECTOR GENERATED ALWAYS AS (
            setweight(to_tsvector('english'::regconfig, translate(path, '._/', '   ')), 'A')
            || setweight(to_tsvector('english'::regconfig, translate(text, '._/', '   ')), 'B')
            || setweight(to_tsvector('english'::regconfig, translate(context, '._/', '   ')), 'C')
        ) STORED)""",
    "CREATE INDEX search_entries_by_owner ON search_entries (name, version, origin)",
    "CREATE INDEX search_entries_terms ON search_entries USING GIN (terms)",
    "CREATE TABLE autodocs_schema_migrations"
    " (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    "INSERT INTO autodocs_schema_migrations (version) VALUES (1), (2)",
)

POOLER = PackageDocument(
    name="pooler",
    version="1.0",
    summary="Thread-safe connection pooling",
    sections=[DocSection(title="Retries", anchor="retries", level=1, content="Retry with backoff.", tokens=5)],
)
REFERENCE = json.dumps({"fingerprint": "f", "reference": {"kept": True}})
API_ROWS = [("api", "pooler.PoolManager", "PoolManager(num_pools: int) hands out lanterns")]
RELEASES = json.dumps(release_list(name="pooler").to_json())


def old_rows() -> list[tuple[str, tuple[object, ...]]]:
    """(table, row) of what a schema-2 AutoDocs stored for pooler 1.0; search rows without their id."""
    now = time.time()
    context = search_context("pooler", POOLER.summary)
    rows: list[tuple[str, tuple[object, ...]]] = [
        ("documents", ("pooler", "1.0", POOLER.model_dump_json(), now, now)),
        ("release_lists", ("pooler", RELEASES, now)),
        ("api_references", ("pooler", "1.0", "pooler", REFERENCE, now, now)),
    ]
    entries = [("", row) for row in indexed_rows(document_entries(POOLER))] + [("pooler", row) for row in API_ROWS]
    rows += [("search_entries", ("pooler", "1.0", origin, *row, context)) for origin, row in entries]
    return rows


#: Each table's insert, SQLite placeholders; PostgreSQL's differ only in their marks and JSON casts.
INSERTS = {
    "documents": "INSERT INTO documents VALUES (?, ?, ?::json, ?, ?)",
    "release_lists": "INSERT INTO release_lists VALUES (?, ?::json, ?)",
    "api_references": "INSERT INTO api_references VALUES (?, ?, ?, ?, ?, ?)",
    "search_entries": "INSERT INTO search_entries (name, version, origin, kind, path, text, context)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)",
}


def write_sqlite_v2(path: Path) -> None:
    with sqlite3.connect(path) as db:
        db.executescript(SQLITE_V2)
        for table, row in old_rows():
            db.execute(INSERTS[table].replace("::json", ""), row)
    db.close()


async def write_postgres_v2(url: str) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as db:
        for ddl in POSTGRES_V2:
            await db.execute(ddl)
        for table, row in old_rows():
            await db.execute(INSERTS[table].replace("?", "%s"), row)


async def assert_kept_under_the_default_index(store: Store) -> None:
    assert await store.get_document(DEFAULT_INDEX_KEY, "pooler", "1.0") == POOLER
    assert await store.get_release_list(DEFAULT_INDEX_KEY, "pooler") == ReleaseList.from_json(json.loads(RELEASES))
    assert await store.get_api_reference(DEFAULT_INDEX_KEY, "pooler", "1.0", "pooler") == REFERENCE
    assert [entry.path for entry in await store.api_entries(DEFAULT_INDEX_KEY, "pooler", "1.0")] == [
        "pooler.PoolManager"
    ]
    assert {(hit.index, hit.path) for hit in await store.search("lanterns")} == {
        (DEFAULT_INDEX_KEY, "pooler.PoolManager")
    }
    assert [hit.path for hit in await store.search("backoff", index_key=DEFAULT_INDEX_KEY)] == ["Retries"]
    assert await store.get_document(OTHER_INDEX, "pooler", "1.0") is None, "never another index's entry"
    assert await store.cached_state(OTHER_INDEX, ["pooler"]) == {}
    stats = await store.stats()
    assert (stats.documents, stats.release_lists, stats.api_references) == (1, 1, 1)
    assert stats.indexes == {DEFAULT_INDEX_KEY: 3}
    page = await store.list_entries()
    assert {entry.index for entry in page.entries} == {DEFAULT_INDEX_KEY} and len(page.entries) == 2


async def assert_docsets_usable(store: Store, *, kept: int = 3) -> None:
    """Schema 4's docs-set tables exist, keyed by index, and are searched with their index named."""
    docset = big_docset(1, 2, 50)
    await store.put_docset(OTHER_INDEX, "pooler", "1.0", docset)
    assert await store.get_docset(OTHER_INDEX, "pooler", "1.0") == docset
    assert await store.get_docset(DEFAULT_INDEX_KEY, "pooler", "1.0") is None, "never another index's docs set"
    hits = await store.search_docsets("word0x1")
    assert [(hit.index, hit.kind) for hit in hits] == [(OTHER_INDEX, "docs")]
    assert await store.search_docsets("word0x1", index_key=DEFAULT_INDEX_KEY) == []
    stats = await store.stats()
    assert stats.docsets == 1 and stats.indexes == {DEFAULT_INDEX_KEY: kept, OTHER_INDEX: 1}


def search_ids(path: Path) -> list[tuple[int, str]]:
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")  # raises when out of step
        rows = db.execute("SELECT id, path FROM search_entries ORDER BY id").fetchall()
    db.close()
    return [(int(row[0]), str(row[1])) for row in rows]


async def test_a_sqlite_cache_of_schema_2_keeps_every_entry_under_the_default_index(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    write_sqlite_v2(path)
    before = search_ids(path)
    store = SQLiteStore(path)
    await store.open()
    try:
        await assert_kept_under_the_default_index(store)
        await assert_docsets_usable(store)
    finally:
        await store.close()
    assert search_ids(path) == before, "search rows keep their ids, so the full-text index stays valid"
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == sqlite_schema.SCHEMA_VERSION == 4
        assert not db.execute("SELECT name FROM sqlite_master WHERE name LIKE '%_keyed'").fetchall()
    db.close()


async def test_a_postgres_cache_of_schema_2_keeps_every_entry_under_the_default_index(postgres_url: str) -> None:
    await write_postgres_v2(postgres_url)
    store = PostgresStore(postgres_url, TEST_LIMITS)
    await store.open()
    try:
        await assert_kept_under_the_default_index(store)
        async with store.connection() as db:
            cursor = await db.execute(
                "SELECT column_default FROM information_schema.columns WHERE column_name = 'index_key'"
            )
            assert [row[0] for row in await cursor.fetchall()] == [None] * 6, "every later write names its index"
            applied = await (await db.execute("SELECT version FROM autodocs_schema_migrations")).fetchall()
        assert applied == [(1,), (2,), (3,), (4,)]
        await assert_docsets_usable(store)
    finally:
        await store.close()


#: Opens the store at argv[1] with the migration halted (until killed) after two of its tables
#: were rebuilt, inside the migrating transaction.
HALTED_SQLITE_MIGRATION = r"""
import asyncio, sys, time
from pathlib import Path
from autodocs.cache import SQLiteStore, sqlite_schema

class Halting:
    def __init__(self, db):
        self.db, self.dropped = db, 0
    def execute(self, statement, *args):
        result = self.db.execute(statement, *args)
        if statement.startswith("DROP TABLE"):
            self.dropped += 1
            if self.dropped == 2:
                print("HALFWAY", flush=True)
                time.sleep(120)
        return result

original = sqlite_schema.key_entries
sqlite_schema.key_entries = lambda db: original(Halting(db))
asyncio.run(SQLiteStore(Path(sys.argv[1])).open())
"""


async def test_a_sqlite_migration_killed_halfway_leaves_a_cache_the_next_open_migrates(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    write_sqlite_v2(path)
    process = subprocess.Popen(
        [sys.executable, "-c", HALTED_SQLITE_MIGRATION, str(path)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        assert process.stdout.readline().strip() == "HALFWAY"
    finally:
        process.kill()
        process.wait(timeout=10)
    with sqlite3.connect(path) as db:  # the interrupted transaction left nothing behind
        assert db.execute("PRAGMA user_version").fetchone()[0] == 2
        assert "index_key" not in [row[1] for row in db.execute("PRAGMA table_info(documents)")]
    db.close()
    store = SQLiteStore(path)
    await store.open()
    try:
        await assert_kept_under_the_default_index(store)
    finally:
        await store.close()


POSTGRES_OPENER = (
    "import asyncio, sys; from autodocs.cache import PostgresStore; asyncio.run(PostgresStore(sys.argv[1]).open())"
)


async def test_a_postgres_migration_killed_halfway_leaves_a_cache_the_next_open_migrates(postgres_url: str) -> None:
    await write_postgres_v2(postgres_url)
    async with await psycopg.AsyncConnection.connect(postgres_url) as holder:  # a transaction: the lock stays
        await holder.execute("LOCK TABLE search_entries IN ACCESS EXCLUSIVE MODE")
        process = subprocess.Popen([sys.executable, "-c", POSTGRES_OPENER, postgres_url])
        try:
            migrating = await _wait_for_blocked_migration(postgres_url)  # three tables altered, the fourth waits
        finally:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        await holder.rollback()  # the migrating backend goes on, then finds its client gone
    await _wait_until_gone(postgres_url, migrating)
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as db:
        columns = await db.execute("SELECT column_name FROM information_schema.columns WHERE table_name = 'documents'")
        assert "index_key" not in [row[0] for row in await columns.fetchall()], "the migration was rolled back whole"
    store = PostgresStore(postgres_url, TEST_LIMITS)
    await store.open()
    try:
        await assert_kept_under_the_default_index(store)
    finally:
        await store.close()


async def _wait_for_blocked_migration(url: str) -> int:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as db:
        for _ in range(200):
            cursor = await db.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock'"
                " AND query LIKE 'ALTER TABLE%%search_entries%%'"
            )
            row = await cursor.fetchone()
            if row is not None:
                return int(row[0])
            await asyncio.sleep(0.05)
    raise AssertionError("the migration never reached the locked table")


async def _wait_until_gone(url: str, pid: int) -> None:
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as db:
        for _ in range(200):
            cursor = await db.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", (pid,))
            if await cursor.fetchone() is None:
                return
            await asyncio.sleep(0.05)
    raise AssertionError("the killed migration's backend never ended")
