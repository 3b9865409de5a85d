"""Caches made before search existed (schema version 1) open, keep every entry, and get indexed."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from pathlib import Path

import psycopg
import pytest

from autodocs.cache import PostgresStore, SQLiteStore, sqlite_schema
from autodocs.docs.model import DocSection, PackageDocument
from autodocs.errors import CacheError
from autodocs.index.keys import DEFAULT_INDEX_KEY
from tests.cache.builders import release_list
from tests.cache.conftest import TEST_LIMITS

#: The version-1 schemas exactly as that release created them.
SQLITE_V1 = """
CREATE TABLE IF NOT EXISTS documents (
    name TEXT NOT NULL,
    version TEXT NOT NULL,
    body TEXT NOT NULL,
    created_at REAL NOT NULL,
    last_used REAL NOT NULL,
    PRIMARY KEY (name, version)
);
CREATE TABLE IF NOT EXISTS release_lists (
    name TEXT PRIMARY KEY,
    body TEXT NOT NULL,
    fetched_at REAL NOT NULL
);
PRAGMA user_version = 1;
"""
POSTGRES_V1 = (
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
    "CREATE TABLE autodocs_schema_migrations"
    " (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
    "INSERT INTO autodocs_schema_migrations (version) VALUES (1)",
)
RELEASE_LIST = json.dumps(release_list(name="tool").to_json())


def old_documents() -> list[PackageDocument]:
    def section(title: str, content: str) -> DocSection:
        return DocSection(title=title, anchor=title.lower(), level=1, content=content, tokens=5)

    return [
        PackageDocument(
            name="pooler",
            version="1.0",
            summary="Thread-safe connection pooling",
            sections=[section("Retries", "Retry a request with backoff."), section("Usage", "Make a PoolManager.")],
        ),
        PackageDocument(name="pooler", version="0.9", summary="Older pooler"),
        PackageDocument(name="bare", version="2.0", sections=[section("Overview", "No summary, one section.")]),
    ]


def write_sqlite_v1(path: Path) -> None:
    now = time.time()
    with sqlite3.connect(path) as db:
        db.executescript(SQLITE_V1)
        for document in old_documents():
            db.execute(
                "INSERT INTO documents VALUES (?, ?, ?, ?, ?)",
                (document.name, document.version, document.model_dump_json(), now, now),
            )
        db.execute("INSERT INTO documents VALUES ('broken', '1.0', 'not json at all', ?, ?)", (now, now))
        db.execute("INSERT INTO release_lists VALUES ('tool', ?, ?)", (RELEASE_LIST, now))
    db.close()


def sqlite_rows(path: Path) -> list[tuple[str, str, str, str, str]]:
    with sqlite3.connect(path) as db:
        db.execute("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")
        rows = db.execute(
            "SELECT name, version, kind, path, context FROM search_entries ORDER BY name, version, id"
        ).fetchall()
    db.close()
    return [tuple(row) for row in rows]


async def test_a_version_1_sqlite_cache_opens_keeps_its_entries_and_is_indexed(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    write_sqlite_v1(path)
    store = SQLiteStore(path)
    await store.open()
    try:
        for document in old_documents():
            assert await store.get_document(DEFAULT_INDEX_KEY, document.name, document.version) == document
        assert await store.get_release_list(DEFAULT_INDEX_KEY, "tool") is not None
        assert await store.get_document(DEFAULT_INDEX_KEY, "broken", "1.0") is None  # unreadable: a miss, as before
        assert (await store.stats()).documents == 4
        assert [(hit.package, hit.path) for hit in await store.search("retry backoff")] == [("pooler", "Retries")]
        assert [hit.version for hit in await store.search("older")] == ["0.9"]
        assert [hit.package for hit in await store.search("section")] == ["bare"]
    finally:
        await store.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == sqlite_schema.SCHEMA_VERSION
    db.close()
    assert sqlite_rows(path) == [
        ("bare", "2.0", "section", "Overview", "bare "),
        ("pooler", "0.9", "section", "summary", "pooler Older pooler"),
        ("pooler", "1.0", "section", "summary", "pooler Thread-safe connection pooling"),
        ("pooler", "1.0", "section", "Retries", "pooler Thread-safe connection pooling"),
        ("pooler", "1.0", "section", "Usage", "pooler Thread-safe connection pooling"),
    ]


async def test_sqlite_stores_opening_an_old_cache_together_index_it_once(tmp_path: Path) -> None:
    # Lock contention while several stores switch the file to WAL and migrate it used to fail
    # an open now and then ("database is locked"): repeated so that a regression shows.
    for round_ in range(10):
        path = tmp_path / f"cache-{round_}.db"
        write_sqlite_v1(path)
        stores = [SQLiteStore(path) for _ in range(4)]
        await asyncio.gather(*(store.open() for store in stores))
        await asyncio.gather(*(store.close() for store in stores))
        reopened = SQLiteStore(path)
        await reopened.open()
        await reopened.close()
        assert len(sqlite_rows(path)) == 5


async def test_without_fts5_the_sqlite_cache_works_and_search_says_why_it_cannot(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cache.db"
    [document, *_] = old_documents()
    monkeypatch.setattr(sqlite_schema, "fts5_available", lambda: False)
    store = SQLiteStore(path)
    await store.open()
    try:
        await store.put_document(DEFAULT_INDEX_KEY, document)
        assert await store.get_document(DEFAULT_INDEX_KEY, document.name, document.version) == document
        with pytest.raises(CacheError) as caught:
            await store.search("retry")
        assert "FTS5" in caught.value.message and not caught.value.retryable
    finally:
        await store.close()
    monkeypatch.undo()  # the next process has FTS5: what was stored meanwhile becomes searchable
    store = SQLiteStore(path)
    await store.open()
    try:
        assert [hit.path for hit in await store.search("retry")] == ["Retries"]
    finally:
        await store.close()


async def test_a_version_1_postgres_cache_migrates_and_indexes_as_a_fresh_put_would(postgres_url: str) -> None:
    now = time.time()
    async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as db:
        for statement in POSTGRES_V1:
            await db.execute(statement)
        for document in old_documents():
            await db.execute(
                "INSERT INTO documents VALUES (%s, %s, %s::json, %s, %s)",
                (document.name, document.version, document.model_dump_json(), now, now),
            )
        await db.execute(
            "INSERT INTO documents VALUES ('odd', '1.0', %s::json, %s, %s)",
            (json.dumps({"summary": 5, "sections": {"not": "a list"}}), now, now),
        )
        await db.execute("INSERT INTO release_lists VALUES ('tool', %s::json, %s)", (RELEASE_LIST, now))

    store = PostgresStore(postgres_url, TEST_LIMITS)
    await store.open()
    try:
        for document in old_documents():
            assert await store.get_document(DEFAULT_INDEX_KEY, document.name, document.version) == document
        assert await store.get_release_list(DEFAULT_INDEX_KEY, "tool") is not None
        assert [(hit.package, hit.path) for hit in await store.search("retry backoff")] == [("pooler", "Retries")]
        migrated = await postgres_rows(store)
        for document in old_documents():  # a put replaces the back-filled rows with its own
            await store.put_document(DEFAULT_INDEX_KEY, document)
        assert await postgres_rows(store) == migrated
        async with store.connection() as db:
            applied = await (await db.execute("SELECT version FROM autodocs_schema_migrations")).fetchall()
        assert applied == [(1,), (2,), (3,), (4,)]
    finally:
        await store.close()


async def postgres_rows(store: PostgresStore) -> list[tuple[str, ...]]:
    async with store.connection() as db:
        cursor = await db.execute(
            "SELECT name, version, kind, path, text, context FROM search_entries"
            " WHERE name <> 'odd' ORDER BY name, version, id"
        )
        return [tuple(row) for row in await cursor.fetchall()]
