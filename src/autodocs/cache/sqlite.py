"""The embedded default store: one SQLite file in WAL mode.

SQLite work runs on two dedicated threads, each with its own connection: a writer thread
(writes are serialized, and a WAL checkpoint's fsync lands there) and a reader thread, so
a read never waits behind a write and the event loop never blocks. WAL lets the reader,
the writer and other processes (a CLI next to a running server) share the file safely.

One read skips the thread: what the cache holds of a few packages (:meth:`cached_state`, asked
before every cold fetch) is two indexed lookups of tens of microseconds, and the hand-off to
the reader thread and back cost about ten times that (0.4 ms of a cold call, measured in
``bench/stdio_latency.py``). It runs on the event loop's thread with a third connection whose
busy timeout is zero, so it can never wait for a lock: if SQLite answers "busy", or anything
else goes wrong, the read is done again on the reader thread, where the usual handling
(corruption moved aside, errors as :class:`~autodocs.errors.CacheError`) applies.

A file that is not a database, or fails ``PRAGMA quick_check``, is renamed to
``<file>.corrupt-<timestamp>`` with a warning and a fresh cache is built in its place;
corruption found later, mid-request, is handled the same way and the call reports a miss.

The schema, its migrations and the full-text index (FTS5) are :mod:`autodocs.cache.sqlite_schema`'s.
"""

from __future__ import annotations

import asyncio
import json
import random
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import structlog

from autodocs.cache import sqlite_schema as schema
from autodocs.cache.base import (
    CACHED_VERSIONS_SQL,
    TOUCH_INTERVAL_S,
    CachedState,
    CacheStats,
    DocumentCounter,
    EntryPage,
    SearchEntry,
    SearchHit,
    cached_states,
    decode_cursor,
    decode_release_list,
    name_chunks,
    page_of,
    page_size,
)
from autodocs.cache.search import (
    check_object_path,
    clip_snippet,
    document_entries,
    indexed_rows,
    parse_search,
    search_context,
)
from autodocs.cache.sqlite_docsets import SQLiteDocsets
from autodocs.docs.model import PackageDocument
from autodocs.errors import CacheError
from autodocs.index.models import ReleaseList

__all__ = ["SQLiteStore"]

#: Opening retries lock contention (other processes opening or migrating the same file).
_OPEN_ATTEMPTS = 10
#: At most this many names are looked up on the event loop's thread (see the module docstring).
_INLINE_NAMES = 8

log = structlog.get_logger(__name__)

T = TypeVar("T")

_CORRUPTION = {"SQLITE_CORRUPT", "SQLITE_NOTADB"}


class SQLiteStore(DocumentCounter, SQLiteDocsets):
    def __init__(self, path: Path, *, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock  # Unix time of created_at/last_used; tests pass a fake one
        self._reader: ThreadPoolExecutor | None = None
        self._writer: ThreadPoolExecutor | None = None
        self._local = threading.local()  # each worker thread's own connection
        self._inline_db: sqlite3.Connection | None = None  # the event loop thread's (module docstring)
        self._inline_generation = -1
        self._generation = 0  # bumped when the file is replaced; threads then reconnect
        self._recovery = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.recovered = 0
        self._full_text = True  # False when this Python's SQLite has no FTS5 (set when opened)

    # -- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autodocs-sqlite-write")
        self._reader = ThreadPoolExecutor(max_workers=1, thread_name_prefix="autodocs-sqlite-read")
        await self._write(self._open_sync)

    async def close(self) -> None:
        if self._inline_db is not None:
            self._inline_db.close()
            self._inline_db = None
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
        for attempt in range(_OPEN_ATTEMPTS):
            try:
                self._check(self._db())
                return
            except sqlite3.DatabaseError as exc:
                # Several processes opening one file at once: switching it to WAL or upgrading a
                # read lock can fail with "locked" at once, without the busy handler. Try again.
                if isinstance(exc, sqlite3.OperationalError) and _is_lock_contention(exc):
                    if attempt == _OPEN_ATTEMPTS - 1:
                        raise CacheError(f"Cannot open the cache {self.path}: {exc}.") from None
                    self._close_local()
                    time.sleep(min(0.05 * 2**attempt, 1.0) * random.uniform(0.5, 1.5))
                    continue
                if not _is_corruption(exc):
                    raise CacheError(f"Cannot open the cache {self.path}: {exc}.") from None
                self._move_aside(self._generation, str(exc))
                self._check(self._db())
                return

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
        self._migrate(connection)

    def _migrate(self, db: sqlite3.Connection) -> None:
        self._full_text = schema.migrate(db, self.path)

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

    def _inline(self, function: Callable[[sqlite3.Connection], T]) -> T | None:
        """``function`` run here, on the event loop's thread, without ever waiting for a lock;
        None when it could not run (the caller then reads on the reader thread)."""
        if self._reader is None:
            return None
        try:
            if self._inline_db is None or self._inline_generation != self._generation:
                if self._inline_db is not None:
                    self._inline_db.close()
                    self._inline_db = None
                generation = self._generation
                self._inline_db = sqlite3.connect(self.path, timeout=0, isolation_level=None, check_same_thread=False)
                self._inline_generation = generation
            return function(self._inline_db)
        except sqlite3.Error as exc:
            log.debug("cache.inline_read_deferred", error=str(exc))
            return None

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

    async def get_document(self, index_key: str, name: str, version: str) -> PackageDocument | None:
        key = (index_key, name, version)

        def read(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "SELECT body, last_used FROM documents WHERE index_key = ? AND name = ? AND version = ?", key
            ).fetchone()
            if row is None:
                return None
            now = self._clock()
            if now - row[1] > TOUCH_INTERVAL_S:
                db.execute(
                    "UPDATE documents SET last_used = ? WHERE index_key = ? AND name = ? AND version = ?", (now, *key)
                )
            return str(row[0])

        body = await self._read(lambda: self._guarded(read, None))
        return self._decode_document(body, name, version)

    async def put_document(self, index_key: str, document: PackageDocument) -> None:
        body = document.model_dump_json()
        rows = indexed_rows(document_entries(document))
        owner = (index_key, document.name, document.version)

        def write(db: sqlite3.Connection) -> None:
            now = self._clock()
            with schema.transaction(db):
                db.execute(
                    "INSERT INTO documents (index_key, name, version, body, created_at, last_used)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (index_key, name, version)"
                    " DO UPDATE SET body = excluded.body, last_used = excluded.last_used",
                    (*owner, body, now, now),
                )
                context = search_context(document.name, document.summary)
                schema.replace_entries(db, owner, "", context, rows)

        await self._write(lambda: self._guarded(write, None))

    async def get_release_list(self, index_key: str, name: str) -> ReleaseList | None:
        def read(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "SELECT body FROM release_lists WHERE index_key = ? AND name = ?", (index_key, name)
            ).fetchone()
            return None if row is None else str(row[0])

        return decode_release_list(await self._read(lambda: self._guarded(read, None)), name)

    async def cached_state(self, index_key: str, names: Sequence[str]) -> dict[str, CachedState]:
        def read(db: sqlite3.Connection) -> tuple[dict[str, str], list[tuple[str, str, str]]]:
            bodies: dict[str, str] = {}
            rows: list[tuple[str, str, str]] = []
            for chunk in name_chunks(names):
                marks = ",".join("?" * len(chunk))  # only placeholders enter the statement's text
                where = f"WHERE index_key = ? AND name IN ({marks})"
                for name, body in db.execute(f"SELECT name, body FROM release_lists {where}", (index_key, *chunk)):  # noqa: S608
                    bodies[str(name)] = str(body)
                versions = db.execute(CACHED_VERSIONS_SQL.format(where=where), (index_key, *chunk) * 2)
                rows.extend((str(kind), str(name), str(version)) for kind, name, version in versions)
            return bodies, rows

        if len(names) <= _INLINE_NAMES and (found := self._inline(read)) is not None:
            return cached_states(*found)
        nothing: tuple[dict[str, str], list[tuple[str, str, str]]] = ({}, [])
        return cached_states(*await self._read(lambda: self._guarded(read, nothing)))

    async def put_release_list(self, index_key: str, releases: ReleaseList) -> None:
        body = json.dumps(releases.to_json(), separators=(",", ":"))

        def write(db: sqlite3.Connection) -> None:
            with db:
                db.execute(schema.PUT_RELEASE_LIST, (index_key, releases.name, body, releases.fetched_at))

        await self._write(lambda: self._guarded(write, None))

    async def get_api_reference(self, index_key: str, name: str, version: str, object_path: str) -> str | None:
        key = (index_key, name, version, object_path)
        where = "WHERE index_key = ? AND name = ? AND version = ? AND object_path = ?"

        def read(db: sqlite3.Connection) -> str | None:
            row = db.execute(f"SELECT body, last_used FROM api_references {where}", key).fetchone()  # noqa: S608
            if row is None:
                return None
            now = self._clock()
            if now - row[1] > TOUCH_INTERVAL_S:
                db.execute(f"UPDATE api_references SET last_used = ? {where}", (now, *key))  # noqa: S608
            return str(row[0])

        return await self._read(lambda: self._guarded(read, None))

    async def put_api_reference(
        self, index_key: str, name: str, version: str, object_path: str, body: str, entries: list[SearchEntry]
    ) -> None:
        check_object_path(object_path)
        rows = indexed_rows(entries, kind="api")
        owner = (index_key, name, version)

        def write(db: sqlite3.Connection) -> None:
            now = self._clock()
            with schema.transaction(db):
                db.execute(
                    "INSERT INTO api_references (index_key, name, version, object_path, body, created_at, last_used)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (index_key, name, version, object_path)"
                    " DO UPDATE SET body = excluded.body, last_used = excluded.last_used",
                    (*owner, object_path, body, now, now),
                )
                row = db.execute(
                    "SELECT json_extract(body, '$.summary') FROM documents"
                    " WHERE index_key = ? AND name = ? AND version = ?",
                    owner,
                ).fetchone()
                context = search_context(name, None if row is None else row[0])
                schema.replace_entries(db, owner, object_path, context, rows)

        await self._write(lambda: self._guarded(write, None))

    async def search(
        self,
        query: str,
        *,
        packages: list[tuple[str, str]] | None = None,
        index_key: str | None = None,
        limit: int = 10,
    ) -> list[SearchHit]:
        request = parse_search(query, limit)
        if not self._full_text:
            raise CacheError(
                f"Search needs SQLite's FTS5, which this Python's SQLite {sqlite3.sqlite_version} lacks.",
                suggestions=["Run AutoDocs with a Python whose sqlite3 has FTS5, or use a PostgreSQL cache."],
                retryable=False,
            )
        if packages is not None and not packages:
            return []
        scope = None if packages is None else json.dumps(packages)
        nothing: list[tuple[str, str, str, str, str, str, float]] = []

        def read(db: sqlite3.Connection) -> list[tuple[str, str, str, str, str, str, float]]:
            for required, ranked in schema.fts5_passes(request.terms):
                parameters = {
                    "required": required,
                    "ranked": ranked,
                    "scope": scope,
                    "index": index_key,
                    "limit": request.limit,
                }
                rows = db.execute(schema.SEARCH, parameters).fetchall()
                if rows:
                    return [(str(i), str(n), str(v), str(k), str(p), str(s), float(r)) for i, n, v, k, p, s, r in rows]
            return nothing

        rows = await self._read(lambda: self._guarded(read, nothing))
        return [
            SearchHit(
                index=index,
                package=name,
                version=version,
                kind="api" if kind == "api" else "section",
                path=path,
                snippet=clip_snippet(snippet),
                score=round(-relevance, 6),  # bm25() is lower for better matches
            )
            for index, name, version, kind, path, snippet, relevance in rows
        ]

    async def api_entries(self, index_key: str, name: str, version: str) -> list[SearchEntry]:
        def read(db: sqlite3.Connection) -> list[SearchEntry]:
            rows = db.execute(schema.API_ENTRIES, (index_key, name, version)).fetchall()
            return [SearchEntry(kind="api", path=str(path), text=str(text)) for path, text in rows]

        return await self._read(lambda: self._guarded(read, []))

    async def cached_versions(self, index_key: str, name: str) -> list[str]:
        def read(db: sqlite3.Connection) -> list[str]:
            rows = db.execute(
                "SELECT version FROM documents WHERE index_key = ? AND name = ? ORDER BY created_at", (index_key, name)
            )
            return [str(row[0]) for row in rows]

        return await self._read(lambda: self._guarded(read, []))

    async def known_names(self) -> list[str]:
        def read(db: sqlite3.Connection) -> list[str]:
            rows = db.execute(
                "SELECT name FROM documents UNION SELECT name FROM release_lists UNION SELECT name FROM api_references"
            )
            return sorted(str(row[0]) for row in rows)

        return await self._read(lambda: self._guarded(read, []))

    async def clear(self, name: str | None = None) -> int:
        statements, parameters = (schema.CLEAR_ALL, ()) if name is None else (schema.CLEAR_ONE, (name,))

        def delete(db: sqlite3.Connection) -> int:
            with schema.transaction(db):
                counts = [db.execute(statement, parameters).rowcount for statement in statements]
            return sum(counts[: -schema.CLEAR_INDEX_STATEMENTS])  # entries, not index rows

        return await self._write(lambda: self._guarded(delete, 0))

    async def prune(self, *, max_versions: int, unused_days: int) -> int:
        cutoff = self._clock() - unused_days * 86400.0

        return await self._write(lambda: self._guarded(lambda db: schema.prune(db, cutoff, max_versions), 0))

    async def list_entries(self, *, cursor: str | None = None, limit: int = 100) -> EntryPage:
        size, clamped = page_size(limit)
        index, name, key = decode_cursor(cursor)
        after = {"index": index, "name": name, "key": key, "limit": size + 1}

        def read(db: sqlite3.Connection) -> list[tuple[str, str, str, float]]:
            rows = db.execute(schema.LIST_PAGE, after)
            return [(str(index), str(name), str(key), float(used)) for index, name, key, used in rows]

        return page_of(await self._read(lambda: self._guarded(read, [])), size, clamped)

    async def ping(self) -> None:
        def probe(db: sqlite3.Connection) -> None:
            db.execute("SELECT 1").fetchone()

        await self._read(lambda: self._guarded(probe, None))

    def pool_facts(self) -> dict[str, int] | None:
        return None  # two dedicated threads, no pool

    def size_bytes(self) -> int:
        return sum(_file_size(Path(f"{self.path}{suffix}")) for suffix in ("", "-wal", "-shm"))

    async def stats(self) -> CacheStats:
        counts = await self._read(lambda: self._guarded(schema.count_entries, schema.EntryCounts()))
        return CacheStats(
            backend="sqlite",
            location=str(self.path),
            packages=counts.packages,
            documents=counts.documents,
            release_lists=counts.release_lists,
            api_references=counts.api_references,
            docsets=counts.docsets,
            indexes=counts.indexes,
            size_bytes=self.size_bytes(),  # the same figure as the metrics: the files, WAL included
            hits=self.hits,
            misses=self.misses,
            recovered_from_corruption=self.recovered,
        )


def _file_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


def _is_lock_contention(exc: sqlite3.OperationalError) -> bool:
    text = str(exc).lower()
    return "locked" in text or "busy" in text


def _is_corruption(exc: sqlite3.DatabaseError) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    text = str(exc).lower()
    return name in _CORRUPTION or "malformed" in text or "not a database" in text or "quick_check" in text
