"""The embedded default store: one SQLite file in WAL mode.

All SQLite work runs on one dedicated worker thread (one connection, used only there), so
the event loop never blocks and statements never interleave. WAL lets other processes
(a CLI next to a running server) read and write the same file safely.

A file that is not a database, or fails ``PRAGMA quick_check``, is renamed to
``<file>.corrupt-<timestamp>`` with a warning and a fresh cache is built in its place;
corruption found later, mid-request, is handled the same way and the call reports a miss.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import structlog

from autodocs.cache.base import CacheStats
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
#: Reading an entry refreshes its last-used time at most this often (saves a write per hit).
_TOUCH_INTERVAL_S = 86400.0
_CORRUPTION = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


class SQLiteStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._executor: ThreadPoolExecutor | None = None
        self._connection: sqlite3.Connection | None = None
        self.hits = 0
        self.misses = 0
        self.recovered = 0

    # -- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autodocs-sqlite")
        await self._call(self._open_sync)

    async def close(self) -> None:
        if self._executor is None:
            return
        await self._call(self._close_sync)
        self._executor.shutdown(wait=True)
        self._executor = None

    def _open_sync(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise CacheError(f"Cannot create the cache folder {self.path.parent}: {exc.strerror}.") from None
        try:
            self._connect_and_check()
        except sqlite3.DatabaseError as exc:
            if not _is_corruption(exc):
                raise CacheError(f"Cannot open the cache {self.path}: {exc}.") from None
            self._move_aside(str(exc))
            self._connect_and_check()

    def _connect_and_check(self) -> None:
        connection = sqlite3.connect(self.path, timeout=5.0, isolation_level=None, check_same_thread=False)
        try:
            connection.execute("PRAGMA busy_timeout = 5000")
            connection.execute("PRAGMA journal_mode = WAL")
            connection.execute("PRAGMA synchronous = NORMAL")
            verdict = connection.execute("PRAGMA quick_check").fetchone()[0]
            if verdict != "ok":
                raise _corrupt(f"quick_check: {verdict}")
            with connection:
                connection.executescript(_SCHEMA)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            connection.close()
            raise
        self._connection = connection

    def _close_sync(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def _move_aside(self, reason: str) -> None:
        self._close_sync()
        stamp = time.strftime("%Y%m%d-%H%M%S")
        target = self.path.with_name(f"{self.path.name}.corrupt-{stamp}")
        for suffix in ("", "-wal", "-shm"):
            source = Path(f"{self.path}{suffix}")
            if source.exists():
                source.replace(Path(f"{target}{suffix}"))
        self.recovered += 1
        log.warning("cache.corrupt_moved_aside", path=str(self.path), moved_to=str(target), reason=reason)

    # -- running statements on the worker thread ----------------------------------------

    async def _call(self, function: Callable[[], T]) -> T:
        if self._executor is None:
            raise CacheError("The cache store is closed.", retryable=False)
        return await asyncio.get_running_loop().run_in_executor(self._executor, function)

    def _db(self) -> sqlite3.Connection:
        if self._connection is None:
            self._connect_and_check()
        assert self._connection is not None
        return self._connection

    def _guarded(self, function: Callable[[sqlite3.Connection], T], on_corruption: T) -> T:
        """Run ``function``; corruption → move aside, rebuild, return ``on_corruption``."""
        try:
            return function(self._db())
        except sqlite3.DatabaseError as exc:
            if _is_corruption(exc):
                self._move_aside(str(exc))
                self._connect_and_check()
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
            now = time.time()
            if now - row[1] > _TOUCH_INTERVAL_S:
                db.execute("UPDATE documents SET last_used = ? WHERE name = ? AND version = ?", (now, name, version))
            return str(row[0])

        body = await self._call(lambda: self._guarded(read, None))
        if body is None:
            self.misses += 1
            return None
        try:
            document = PackageDocument.model_validate_json(body)
        except ValueError:
            log.warning("cache.unreadable_entry", name=name, version=version)
            self.misses += 1
            return None
        self.hits += 1
        return document

    async def put_document(self, document: PackageDocument) -> None:
        body = document.model_dump_json()

        def write(db: sqlite3.Connection) -> None:
            now = time.time()
            with db:
                db.execute(
                    "INSERT INTO documents (name, version, body, created_at, last_used) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (name, version) DO UPDATE SET body = excluded.body, last_used = excluded.last_used",
                    (document.name, document.version, body, now, now),
                )

        await self._call(lambda: self._guarded(write, None))

    async def get_release_list(self, name: str) -> ReleaseList | None:
        def read(db: sqlite3.Connection) -> str | None:
            row = db.execute("SELECT body FROM release_lists WHERE name = ?", (name,)).fetchone()
            return None if row is None else str(row[0])

        body = await self._call(lambda: self._guarded(read, None))
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

        await self._call(lambda: self._guarded(write, None))

    async def cached_versions(self, name: str) -> list[str]:
        def read(db: sqlite3.Connection) -> list[str]:
            rows = db.execute("SELECT version FROM documents WHERE name = ? ORDER BY created_at", (name,))
            return [str(row[0]) for row in rows]

        return await self._call(lambda: self._guarded(read, []))

    async def known_names(self) -> list[str]:
        def read(db: sqlite3.Connection) -> list[str]:
            rows = db.execute("SELECT name FROM documents UNION SELECT name FROM release_lists")
            return sorted(str(row[0]) for row in rows)

        return await self._call(lambda: self._guarded(read, []))

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

        return await self._call(lambda: self._guarded(delete, 0))

    async def stats(self) -> CacheStats:
        def read(db: sqlite3.Connection) -> tuple[int, int, int, int]:
            documents = db.execute("SELECT COUNT(*) FROM documents").fetchone()[0]
            lists = db.execute("SELECT COUNT(*) FROM release_lists").fetchone()[0]
            packages = db.execute(
                "SELECT COUNT(*) FROM (SELECT name FROM documents UNION SELECT name FROM release_lists)"
            ).fetchone()[0]
            pages = db.execute("PRAGMA page_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
            return int(packages), int(documents), int(lists), int(pages)

        packages, documents, lists, size = await self._call(lambda: self._guarded(read, (0, 0, 0, 0)))
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


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    text = str(exc).lower()
    return name in _CORRUPTION or "malformed" in text or "not a database" in text or "quick_check" in text


def _corrupt(message: str) -> sqlite3.DatabaseError:
    return sqlite3.DatabaseError(message)
