"""The embedded default store: one SQLite file in WAL mode.

SQLite work runs on two dedicated threads, each with its own connection: a writer thread
(writes are serialized, and a WAL checkpoint's fsync lands there) and a reader thread, so
a read never waits behind a write and the event loop never blocks. WAL lets the reader,
the writer and other processes (a CLI next to a running server) share the file safely.

A file that is not a database, or fails ``PRAGMA quick_check``, is renamed to
``<file>.corrupt-<timestamp>`` with a warning and a fresh cache is built in its place;
corruption found later, mid-request, is handled the same way and the call reports a miss.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import structlog

from autodocs.cache.base import (
    TOUCH_INTERVAL_S,
    CacheStats,
    DocumentCounter,
    EntryPage,
    decode_cursor,
    page_of,
    page_size,
)
from autodocs.docs.model import PackageDocument
from autodocs.errors import CacheError
from autodocs.index.models import ReleaseList

__all__ = ["SQLiteStore"]

log = structlog.get_logger(__name__)

T = TypeVar("T")

SCHEMA_VERSION = 1
_SCHEMA = """
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
"""
_CORRUPTION = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}
#: One page of entries after a (name, sort key) position; a release list's sort key is '', before
#: every version. Each branch pages its own table along its primary key; the outer query merges.
#: The first page starts after ('', ''): names and versions are never empty.
_LIST_PAGE = (
    "SELECT name, sort_key, last_used FROM ("
    " SELECT name, version AS sort_key, last_used FROM documents WHERE (name, version) > (?, ?)"
    " ORDER BY name, version LIMIT ?)"
    " UNION ALL SELECT name, sort_key, last_used FROM ("
    " SELECT name, '' AS sort_key, fetched_at AS last_used FROM release_lists WHERE name > ?"
    " ORDER BY name LIMIT ?)"
    " ORDER BY name, sort_key LIMIT ?"
)


class SQLiteStore(DocumentCounter):
    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock  # Unix time of created_at/last_used; tests pass a fake one
        self._reader: ThreadPoolExecutor | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._local = threading.local()  # each worker thread's own connection
        self._generation = 0  # bumped when the file is replaced; threads then reconnect
        self._recovery = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.recovered = 0

    # -- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autodocs-sqlite-write")
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autodocs-sqlite-read")
        await self._write(self._open_sync)

    async def close(self) -> None:
        for executor in (self._reader, self._writer):
            if executor is not None:
                await asyncio.get_running_loop().run_in_executor(executor, self._close_local)
                executor.shutdown(wait=True)
        self._reader = self._writer = None

    def _open_sync(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(f"Cannot create the cache folder {self.path.parent}: {exc.strerror}.") from None
        try:
            self._check(self._db())
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                raise CacheError(f"Cannot open the cache {self.path}: {exc}.") from None
            self._move_aside(self._generation, str(exc))
            self._check(self._db())

    def _connect(self) -> sqlite3.Connection:
        connection = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout = 5000")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
        except BaseException:
            connection.close()
            raise
        return connection

    def _check(self, connection: sqlite3.Connection) -> None:
        verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
        if verdict != "ok":
            raise sqlite3.DatabaseError(f"quick_check: {verdict}")
        with connection:
            connection.executescript(_SCHEMA)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _db(self) -> sqlite3.Connection:
        """This thread's connection, reopened when the file was replaced since it was made."""
        connection: sqlite3.Connection | None = getattr(self._local, "connection", None)
        if connection is not None and self._local.generation == self._generation:
            return connection
        self._close_local()
        generation = self._generation
        connection = self._connect()
        self._local.connection, self._local.generation = connection, generation
        return connection

    def _close_local(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def _move_aside(self, seen_generation: int, reason: str) -> None:
        """Rename the broken file (once, whichever thread saw it first) and start a fresh one."""
        with self._recovery:
            self._close_local()
            if seen_generation != self._generation:
                return  # the other thread already replaced it
            stamp = time.strftime("%Y%m%d-%H%M%S")
            target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
            for suffix in ("", "-wal", "-shm"):
                source = Path(f"{self.path}{suffix}")
                if source.exists():
                    source.replace(Path(f"{target}{suffix}"))
            self._generation += 1
            self.recovered += 1
        log.warning("cache.corrupt_moved_aside", path=str(self.path), moved_to=str(target), reason=reason)

    # -- running statements on the worker threads --------------------------------------

    async def _read(self, function: Callable[[], T]) -> T:
        return await self._run(self._reader, function)

    async def _write(self, function: Callable[[], T]) -> T:
        return await self._run(self._writer, function)

    @staticmethod
    async def _run(executor: ThreadPoolExecutor | None, function: Callable[[], T]) -> T:
        if executor is None:
            raise CacheError("The cache store is closed.", retryable=False)
        return await asyncio.get_running_loop().run_in_executor(executor, function)

    def _guarded(self, function: Callable[[sqlite3.Connection], T], on_corruption: T) -> T:
        """Run ``function``; corruption → move aside, rebuild, return ``on_corruption``."""
        generation = self._generation
        try:
            return function(self._db())
        except sqlite3.DatabaseError as exc:
            if _is_corruption(exc):
                self._move_aside(generation, str(exc))
                self._check(self._db())
                return on_corruption
            raise CacheError(f"Cache {self.path} failed: {exc}.") from None

    # -- the Store protocol ------------------------------------------------------------

    async def get_document(self, name: str, version: str) -> PackageDocument | None:
        def read(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "SELECT body, last_used FROM documents WHERE name = ? AND version = ?", (name, version)
            ).fetchone()
            if row is None:
                return None
            now = self._clock()
            if now - row[1] > TOUCH_INTERVAL_S:
                db.execute("UPDATE documents SET last_used = ? WHERE name = ? AND version = ?", (now, name, version))
            return str(row[0])

        body = await self._read(lambda: self._guarded(read, None))
        return self._decode_document(body, name, version)

    async def put_document(self, document: PackageDocument) -> None:
        body = document.model_dump_json()

        def write(db: sqlite3.Connection) -> None:
            now = self._clock()
            with db:
                db.execute(
                    "INSERT INTO documents (name, version, body, created_at, last_used) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (name, version) DO UPDATE SET body = excluded.body, last_used = excluded.last_used",
                    (document.name, document.version, body, now, now),
                )

        await self._write(lambda: self._guarded(write, None))

    async def get_release_list(self, name: str) -> ReleaseList | None:
        def read(db: sqlite3.Connection) -> str | None:
            row = db.execute("SELECT body FROM release_lists WHERE name = ?", (name,)).fetchone()
            return None if row is None else str(row[0])

        body = await self._read(lambda: self._guarded(read, None))
        if body is None:
            return None
        try:
            return ReleaseList.from_json(json.loads(body))
        except (ValueError, KeyError, TypeError, IndexError):
            log.warning("cache.unreadable_entry", name=name, kind="release_list")
            return None

    async def put_release_list(self, releases: ReleaseList) -> None:
        body = json.dumps(releases.to_json(), separators=(",", ":"))

        def write(db: sqlite3.Connection) -> None:
            with db:
                db.execute(
                    "INSERT INTO release_lists (name, body, fetched_at) VALUES (?, ?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at",
                    (releases.name, body, releases.fetched_at),
                )

        await self._write(lambda: self._guarded(write, None))

    async def cached_versions(self, name: str) -> list[str]:
        def read(db: sqlite3.Connection) -> list[str]:
            rows = db.execute("SELECT version FROM documents WHERE name = ? ORDER BY created_at", (name,))
            return [str(row[0]) for row in rows]

        return await self._read(lambda: self._guarded(read, []))

    async def known_names(self) -> list[str]:
        def read(db: sqlite3.Connection) -> list[str]:
            rows = db.execute("SELECT name FROM documents UNION SELECT name FROM release_lists")
            return sorted(str(row[0]) for row in rows)

        return await self._read(lambda: self._guarded(read, []))

    async def clear(self, name: str | None = None) -> int:
        def delete(db: sqlite3.Connection) -> int:
            with db:
                if name is None:
                    removed = db.execute("DELETE FROM documents").rowcount
                    removed += db.execute("DELETE FROM release_lists").rowcount
                else:
                    removed = db.execute("DELETE FROM documents WHERE name = ?", (name,)).rowcount
                    removed += db.execute("DELETE FROM release_lists WHERE name = ?", (name,)).rowcount
            return int(removed)

        return await self._write(lambda: self._guarded(delete, 0))

    async def prune(self, *, max_versions: int, unused_days: int) -> int:
        cutoff = self._clock() - unused_days * 86400.0

        def delete(db: sqlite3.Connection) -> int:
            with db:
                removed = db.execute(
                    "DELETE FROM documents WHERE last_used < ? OR rowid IN (SELECT rowid FROM ("
                    " SELECT rowid, ROW_NUMBER() OVER (PARTITION BY name"
                    " ORDER BY last_used DESC, created_at DESC, version DESC) AS rank FROM documents"
                    ") WHERE rank > ?)",
                    (cutoff, max_versions),
                ).rowcount
                removed += db.execute("DELETE FROM release_lists WHERE fetched_at < ?", (cutoff,)).rowcount
            return int(removed)

        return await self._write(lambda: self._guarded(delete, 0))

    async def list_entries(self, *, cursor: str | None = None, limit: int = 100) -> EntryPage:
        size, clamped = page_size(limit)
        after_name, after_key = decode_cursor(cursor) if cursor is not None else ("", "")

        def read(db: sqlite3.Connection) -> list[tuple[str, str, float]]:
            rows = db.execute(_LIST_PAGE, (after_name, after_key, size + 1, after_name, size + 1, size + 1))
            return [(str(name), str(key), float(used)) for name, key, used in rows]

        return page_of(await self._read(lambda: self._guarded(read, [])), size, clamped)

    async def ping(self) -> None:
        def probe(db: sqlite3.Connection) -> None:
            db.execute("SELECT 1").fetchone()

        await self._read(lambda: self._guarded(probe, None))

    def pool_facts(self) -> dict[str, int] | None:
        return None  # two dedicated threads, no pool

    def size_bytes(self) -> int:
        return sum(_file_size(Path(f"{self.path}{suffix}")) for suffix in ("", "-wal"))

    async def stats(self) -> CacheStats:
        def read(db: sqlite3.Connection) -> tuple[int, int, int, int]:
            documents = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            lists = db.execute("SELECT COUNT(*) FROM release_lists").fetchone()[0]
            packages = db.execute(
                "SELECT COUNT(*) FROM (SELECT name FROM documents UNION SELECT name FROM release_lists)"
            ).fetchone()[0]
            pages = db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
            return int(packages), int(documents), int(lists), int(pages)

        packages, documents, lists, size = await self._read(lambda: self._guarded(read, (0, 0, 0, 0)))
        return CacheStats(
            backend="sqlite",
            location=str(self.path),
            packages=packages,
            documents=documents,
            release_lists=lists,
            size_bytes=size,
            hits=self.hits,
            misses=self.misses,
            recovered_from_corruption=self.recovered,
        )


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    text = str(exc).lower()
    return name in _CORRUPTION or "malformed" in text or "not a database" in text or "quick_check" in text
