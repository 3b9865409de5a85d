"""A cache of schema 3 (index keys, no docs sets) opens at schema 4: its entries kept, the
docs-set tables added, keyed by index; a store of schema 2 goes through 3, then 4
(tests/cache/test_index_key_migration.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import psycopg

from autodocs.cache import PostgresStore, SQLiteStore, sqlite_schema
from autodocs.index.keys import DEFAULT_INDEX_KEY
from tests.cache.builders import document
from tests.cache.conftest import TEST_LIMITS
from tests.cache.test_index_key_migration import assert_docsets_usable

#: What schema 4 added; removed from a fresh store, what is left is exactly schema 3's.
SQLITE_DOCSET_OBJECTS = ("docset_sections_indexed", "docset_sections_unindexed", "docset_fts", "docset_sections")


async def test_a_sqlite_cache_of_schema_3_gets_the_docs_set_tables_and_keeps_its_entries(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    store = SQLiteStore(path)
    await store.open()
    await store.put_document(DEFAULT_INDEX_KEY, document("pooler", "1.0"))
    await store.close()
    with sqlite3.connect(path) as db:  # back to schema 3
        for trigger in SQLITE_DOCSET_OBJECTS[:2]:
            db.execute(f"DROP TRIGGER {trigger}")
        for table in (*SQLITE_DOCSET_OBJECTS[2:], "docsets"):
            db.execute(f"DROP TABLE {table}")
        db.execute("PRAGMA user_version = 3")
    db.close()
    store = SQLiteStore(path)
    await store.open()
    try:
        assert await store.get_document(DEFAULT_INDEX_KEY, "pooler", "1.0") == document("pooler", "1.0")
        await assert_docsets_usable(store, kept=1)
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == sqlite_schema.SCHEMA_VERSION == 4
        db.execute("INSERT INTO docset_fts (docset_fts) VALUES ('integrity-check')")
    db.close()


async def test_a_postgres_cache_of_schema_3_applies_migration_4_alone(postgres_url: str) -> None:
    store = PostgresStore(postgres_url, TEST_LIMITS)
    await store.open()
    await store.put_document(DEFAULT_INDEX_KEY, document("pooler", "1.0"))
    await store.close()
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as db:  # back to migration 3
        await db.execute("DROP TABLE docset_sections, docsets")
        await db.execute("DELETE FROM autodocs_schema_migrations WHERE version = 4")
    store = PostgresStore(postgres_url, TEST_LIMITS)
    await store.open()
    try:
        assert await store.get_document(DEFAULT_INDEX_KEY, "pooler", "1.0") == document("pooler", "1.0")
        await assert_docsets_usable(store, kept=1)
        async with store.connection() as db:
            applied = await (await db.execute("SELECT version FROM autodocs_schema_migrations")).fetchall()
        assert applied == [(1,), (2,), (3,), (4,)]
    finally:
        await store.close()
