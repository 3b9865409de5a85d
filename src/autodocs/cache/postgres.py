"""The shared store: PostgreSQL through a bounded ``psycopg_pool.AsyncConnectionPool``.

Several server replicas (and the CLI) can use one database: every write is one
``INSERT … ON CONFLICT DO UPDATE`` (atomic on its own, so concurrent writers of one entry
leave one whole row) or one transaction; readers never block writers.

What callers can rely on:
* Every connection is borrowed through :meth:`PostgresStore.connection` (``async with``), so
  none leaks on any error path, and every failure comes out as a
  :class:`~autodocs.errors.CacheError`: :class:`~autodocs.cache.base.DatabaseBusy` when the
  pool stayed exhausted for the whole checkout wait, a retryable ``CacheError`` when a query
  ran past the statement timeout (the connection goes back to the pool healthy) or the
  database cannot be reached. The pool checks a connection before lending it and reconnects
  on its own, so the store recovers when the database comes back without being reopened.
* :meth:`PostgresStore.open` pings the database and applies the schema's versioned migrations
  under an advisory lock (replicas starting together apply each migration once), and fails
  within the connect timeout with the URL (password masked) and the cause.
* Tables are named as in the SQLite store (``documents``, ``release_lists``); to keep them
  apart from other tables, point ``search_path`` at a schema of their own in the URL
  (``?options=-csearch_path%3Dautodocs``). Times are Unix seconds from the app's clock, as in
  SQLite, so eviction behaves identically in both stores.
* Search reads ``search_entries`` (a generated, weighted ``tsvector`` with a GIN index); a
  document's or API reference's rows are replaced in the transaction that writes it, after
  its own row is upserted — that row's lock makes concurrent writers of one key take turns,
  so they never leave duplicate rows. Removals delete the entries after their owners, and
  :meth:`PostgresStore.prune` also sweeps rows whose owner a concurrent replica removed and
  indexes documents that an older replica stored without index rows (a rolling update).
"""

from __future__ import annotations

import asyncio
import json
import math
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import psycopg
import psycopg.errors
import structlog
from psycopg.conninfo import conninfo_to_dict
from psycopg.rows import TupleRow
from psycopg_pool import AsyncConnectionPool, PoolClosed, PoolTimeout

from autodocs.cache import pg_statements as sql
from autodocs.cache.base import (
    CACHED_VERSIONS_SQL,
    TOUCH_INTERVAL_S,
    CachedState,
    CacheStats,
    DatabaseBusy,
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
from autodocs.cache.pg_docsets import PRUNE_DOCSETS, PostgresDocsets
from autodocs.cache.pg_migrations import SCHEMA_VERSION, migrate
from autodocs.cache.search import (
    check_object_path,
    clip_snippet,
    document_entries,
    indexed_rows,
    parse_search,
    search_context,
)
from autodocs.config import mask_url
from autodocs.docs.model import PackageDocument
from autodocs.errors import CacheError
from autodocs.index.models import ReleaseList

if TYPE_CHECKING:
    from autodocs.config import Settings

__all__ = ["SCHEMA_VERSION", "PoolLimits", "PostgresStore"]

log = structlog.get_logger(__name__)

Connection = psycopg.AsyncConnection[TupleRow]

_UNREACHABLE_SUGGESTIONS = [
    "Check that the database in AUTODOCS_CACHE_URL is running and reachable from here.",
    "Retry in a moment: the store reconnects on its own when the database is back.",
]


@dataclass(frozen=True)
class PoolLimits:
    """Every bound the store puts on its database use, in seconds and connections."""

    min_size: int = 1
    max_size: int = 5
    checkout_timeout_s: float = 10.0
    max_idle_s: float = 600.0
    max_lifetime_s: float = 3600.0
    statement_timeout_s: float = 5.0
    connect_timeout_s: float = 5.0

    @classmethod
    def from_settings(cls, settings: Settings) -> PoolLimits:
        return cls(
            min_size=settings.db_pool_min,
            max_size=settings.db_pool_max,
            checkout_timeout_s=settings.db_pool_timeout,
            max_idle_s=settings.db_pool_max_idle,
            max_lifetime_s=settings.db_pool_max_lifetime,
            statement_timeout_s=settings.db_statement_timeout,
            connect_timeout_s=settings.db_connect_timeout,
        )


class PostgresStore(DocumentCounter, PostgresDocsets):
    def __init__(self, url: str, limits: PoolLimits | None = None, *, clock: Callable[[], float] = time.time) -> None:
        self.url = url
        self.location = mask_url(url)
        self.limits = limits or PoolLimits()
        self._clock = clock  # Unix time of created_at/last_used; tests pass a fake one
        self._connect_kwargs = _connect_kwargs(url, self.limits)
        self._pool: AsyncConnectionPool[Connection] | None = None
        self._size_bytes = 0
        self.hits = 0
        self.misses = 0
        self.checkout_timeouts = 0
        # Lent out right now. Not the pool's size minus its idle connections: that also counts
        # connections still being made, which would make "cannot connect" look like "busy".
        self._in_use = 0

    # -- lifecycle -------------------------------------------------------------------

    async def open(self) -> None:
        """Ping, migrate, then start the pool; fail within the connect timeout if unreachable."""
        try:
            async with asyncio.timeout(self.limits.connect_timeout_s):
                connection = await psycopg.AsyncConnection.connect(self.url, **self._connect_kwargs)
        except TimeoutError:
            raise self._unreachable(f"no answer within {self.limits.connect_timeout_s:g} s") from None
        except psycopg.Error as exc:
            raise self._unreachable(_cause(exc)) from exc
        try:
            async with connection:
                await migrate(connection)
                await self._refresh_size(connection)
        except psycopg.Error as exc:
            raise CacheError(
                f"Cannot prepare the PostgreSQL cache at {self.location}: {_cause(exc)}.",
                suggestions=["Check that the AUTODOCS_CACHE_URL user may create tables in its database."],
            ) from exc
        pool: AsyncConnectionPool[Connection] = AsyncConnectionPool(
            self.url,
            kwargs=self._connect_kwargs,
            min_size=self.limits.min_size,
            max_size=self.limits.max_size,
            timeout=self.limits.checkout_timeout_s,
            max_idle=self.limits.max_idle_s,
            max_lifetime=self.limits.max_lifetime_s,
            check=AsyncConnectionPool.check_connection,  # a dead idle connection is replaced, not lent
            name="autodocs-cache",
            open=False,
        )
        try:
            await pool.open(wait=True, timeout=self.limits.connect_timeout_s)
        except PoolTimeout:
            await pool.close()
            raise self._unreachable("the connection pool could not fill in time") from None
        self._pool = pool
        log.info("cache.postgres_open", location=self.location, schema_version=SCHEMA_VERSION)

    async def close(self) -> None:
        pool, self._pool = self._pool, None
        if pool is not None:
            await pool.close()

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[Connection]:
        """Borrow a pooled connection (autocommit); every query of this store runs in one.

        It goes back to the pool however the block ends; database and pool failures come
        out as :class:`CacheError` / :class:`DatabaseBusy`.
        """
        pool = self._pool
        if pool is None:
            raise CacheError("The cache store is closed.", retryable=False)
        started = time.monotonic()
        try:
            async with pool.connection() as connection:
                self._in_use += 1
                try:
                    yield connection
                finally:
                    self._in_use -= 1
        except PoolTimeout:
            raise self._checkout_failed(pool, time.monotonic() - started) from None
        except PoolClosed:
            raise CacheError("The cache store is closed.", retryable=False) from None
        except psycopg.errors.QueryCanceled as exc:
            limit = self.limits.statement_timeout_s
            raise CacheError(
                f"A PostgreSQL cache query ran past AUTODOCS_DB_STATEMENT_TIMEOUT={limit:g} s and was stopped.",
                suggestions=[
                    "Retry in a moment; if it keeps happening, check the database's load "
                    "or raise AUTODOCS_DB_STATEMENT_TIMEOUT."
                ],
                retryable=True,
            ) from exc
        except psycopg.OperationalError as exc:
            raise self._unreachable(_cause(exc)) from exc
        except psycopg.Error as exc:
            raise CacheError(
                f"The PostgreSQL cache at {self.location} refused a query: {_cause(exc)}.",
                suggestions=["Check the database's log; the schema may have been changed by hand."],
                retryable=False,
            ) from exc

    def _unreachable(self, cause: str) -> CacheError:
        return CacheError(
            f"Cannot reach the PostgreSQL cache at {self.location}: {cause}.",
            suggestions=list(_UNREACHABLE_SUGGESTIONS),
            retryable=True,
        )

    def _checkout_failed(self, pool: AsyncConnectionPool[Connection], waited_s: float) -> CacheError:
        self.checkout_timeouts += 1
        in_use = self._in_use
        waiting = pool.get_stats().get("requests_waiting", 0)
        if in_use < pool.max_size:  # room to grow, yet no connection: new ones are failing
            return self._unreachable(
                f"no connection could be made within {waited_s:.1f} s ({in_use} of {pool.max_size} in use)"
            )
        log.warning("cache.pool_exhausted", in_use=in_use, waited_s=round(waited_s, 3), waiting=waiting)
        return DatabaseBusy(
            f"All {in_use} of {pool.max_size} PostgreSQL cache connections stayed in use for "
            f"{waited_s:.1f} s (AUTODOCS_DB_POOL_TIMEOUT); {waiting} other callers are still waiting.",
            in_use=in_use,
            pool_max=pool.max_size,
            waited_s=round(waited_s, 3),
        )

    # -- the Store protocol ------------------------------------------------------------

    async def get_document(self, index_key: str, name: str, version: str) -> PackageDocument | None:
        key = (index_key, name, version)
        where = "WHERE index_key = %s AND name = %s AND version = %s"
        async with self.connection() as db:
            cursor = await db.execute(f"SELECT body::text, last_used FROM documents {where}", key)  # noqa: S608
            row = await cursor.fetchone()
            now = self._clock()
            if row is not None and now - row[1] > TOUCH_INTERVAL_S:
                await db.execute(f"UPDATE documents SET last_used = %s {where}", (now, *key))  # noqa: S608
        return self._decode_document(row[0] if row is not None else None, name, version)

    async def put_document(self, index_key: str, document: PackageDocument) -> None:
        body = document.model_dump_json()
        rows = indexed_rows(document_entries(document))
        owner = (index_key, document.name, document.version)
        now = self._clock()
        async with self.connection() as db, db.transaction():
            await db.execute(
                "INSERT INTO documents (index_key, name, version, body, created_at, last_used)"
                " VALUES (%s, %s, %s, %s::json, %s, %s) ON CONFLICT (index_key, name, version)"
                " DO UPDATE SET body = excluded.body, last_used = excluded.last_used",
                (*owner, body, now, now),
            )
            context = search_context(document.name, document.summary)
            await sql.replace_entries(db, owner, "", context, rows)

    async def get_release_list(self, index_key: str, name: str) -> ReleaseList | None:
        async with self.connection() as db:
            cursor = await db.execute(
                "SELECT body::text FROM release_lists WHERE index_key = %s AND name = %s", (index_key, name)
            )
            row = await cursor.fetchone()
        return decode_release_list(None if row is None else row[0], name)

    async def cached_state(self, index_key: str, names: Sequence[str]) -> dict[str, CachedState]:
        bodies: dict[str, str] = {}
        rows: list[tuple[str, str, str]] = []
        where = "WHERE index_key = %s AND name = ANY(%s)"
        async with self.connection() as db:
            for chunk in name_chunks(names):
                cursor = await db.execute(f"SELECT name, body::text FROM release_lists {where}", (index_key, chunk))  # noqa: S608
                for name, body in await cursor.fetchall():
                    bodies[str(name)] = str(body)
                cursor = await db.execute(CACHED_VERSIONS_SQL.format(where=where), (index_key, chunk) * 2)
                rows.extend((str(kind), str(name), str(version)) for kind, name, version in await cursor.fetchall())
        return cached_states(bodies, rows)

    async def put_release_list(self, index_key: str, releases: ReleaseList) -> None:
        body = json.dumps(releases.to_json(), separators=(",", ":"))
        async with self.connection() as db:
            await db.execute(
                "INSERT INTO release_lists (index_key, name, body, fetched_at) VALUES (%s, %s, %s::json, %s)"
                " ON CONFLICT (index_key, name) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at",
                (index_key, releases.name, body, releases.fetched_at),
            )

    async def get_api_reference(self, index_key: str, name: str, version: str, object_path: str) -> str | None:
        key = (index_key, name, version, object_path)
        where = "WHERE index_key = %s AND name = %s AND version = %s AND object_path = %s"
        async with self.connection() as db:
            cursor = await db.execute(f"SELECT body, last_used FROM api_references {where}", key)  # noqa: S608
            row = await cursor.fetchone()
            now = self._clock()
            if row is not None and now - row[1] > TOUCH_INTERVAL_S:
                await db.execute(f"UPDATE api_references SET last_used = %s {where}", (now, *key))  # noqa: S608
        return None if row is None else str(row[0])

    async def put_api_reference(
        self, index_key: str, name: str, version: str, object_path: str, body: str, entries: list[SearchEntry]
    ) -> None:
        check_object_path(object_path)
        rows = indexed_rows(entries, kind="api")
        owner = (index_key, name, version)
        now = self._clock()
        async with self.connection() as db, db.transaction():
            await db.execute(
                "INSERT INTO api_references (index_key, name, version, object_path, body, created_at, last_used)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (index_key, name, version, object_path)"
                " DO UPDATE SET body = excluded.body, last_used = excluded.last_used",
                (*owner, object_path, body, now, now),
            )
            cursor = await db.execute(
                "SELECT body->>'summary' FROM documents WHERE index_key = %s AND name = %s AND version = %s", owner
            )
            row = await cursor.fetchone()
            context = search_context(name, None if row is None else row[0])
            await sql.replace_entries(db, owner, object_path, context, rows)

    async def search(
        self,
        query: str,
        *,
        packages: list[tuple[str, str]] | None = None,
        index_key: str | None = None,
        limit: int = 10,
    ) -> list[SearchHit]:
        request = parse_search(query, limit)
        if packages is not None and not packages:
            return []
        names = None if packages is None else [name for name, _ in packages]
        versions = None if packages is None else [version for _, version in packages]
        rows: list[Any] = []
        async with self.connection() as db:
            for required, ranked, pairs in sql.tsquery_passes(request.terms):
                parameters = {
                    "required": required,
                    "ranked": ranked,
                    "pairs": pairs,
                    "names": names,
                    "versions": versions,
                    "index": index_key,
                    "limit": request.limit,
                }
                rows = await (await db.execute(sql.SEARCH, parameters)).fetchall()
                if rows:
                    break
        return [
            SearchHit(
                index=index,
                package=name,
                version=version,
                kind="api" if kind == "api" else "section",
                path=path,
                snippet=clip_snippet(snippet),
                score=round(float(score), 6),
            )
            for index, name, version, kind, path, snippet, score in rows
        ]

    async def api_entries(self, index_key: str, name: str, version: str) -> list[SearchEntry]:
        async with self.connection() as db:
            cursor = await db.execute(
                "SELECT path, text FROM search_entries WHERE index_key = %s AND name = %s AND version = %s"
                " AND origin <> '' AND kind = 'api' ORDER BY id",
                (index_key, name, version),
            )
            return [SearchEntry(kind="api", path=str(path), text=str(text)) for path, text in await cursor.fetchall()]

    async def cached_versions(self, index_key: str, name: str) -> list[str]:
        async with self.connection() as db:
            cursor = await db.execute(
                "SELECT version FROM documents WHERE index_key = %s AND name = %s ORDER BY created_at, version",
                (index_key, name),
            )
            return [str(row[0]) for row in await cursor.fetchall()]

    async def known_names(self) -> list[str]:
        async with self.connection() as db:
            cursor = await db.execute(
                "SELECT name FROM documents UNION SELECT name FROM release_lists"
                " UNION SELECT name FROM api_references ORDER BY 1"
            )
            return [str(row[0]) for row in await cursor.fetchall()]

    async def clear(self, name: str | None = None) -> int:
        statements, parameters = (sql.CLEAR_ALL, ()) if name is None else (sql.CLEAR_ONE, (name,))
        async with self.connection() as db, db.transaction():
            counts = [max((await db.execute(statement, parameters)).rowcount, 0) for statement in statements]
        return sum(counts[: -sql.CLEAR_INDEX_STATEMENTS])  # entries, not index rows

    async def prune(self, *, max_versions: int, unused_days: int) -> int:
        cutoff = self._clock() - unused_days * 86400.0
        async with self.connection() as db, db.transaction():
            cursor = await db.execute(sql.PRUNE_DOCUMENTS, {"cutoff": cutoff, "keep": max_versions})
            row = await cursor.fetchone()
            lists = await db.execute("DELETE FROM release_lists WHERE fetched_at < %s", (cutoff,))
            docsets = max((await db.execute(PRUNE_DOCSETS[0], {"cutoff": cutoff})).rowcount, 0)
            await db.execute(PRUNE_DOCSETS[1])
            for statement in sql.ORPHANED_ENTRIES:
                await db.execute(statement)
            await sql.index_unindexed_documents(db)
        documents, references = row if row is not None else (0, 0)
        return int(documents) + int(references) + max(lists.rowcount, 0) + docsets

    async def list_entries(self, *, cursor: str | None = None, limit: int = 100) -> EntryPage:
        size, clamped = page_size(limit)
        index, name, key = decode_cursor(cursor)
        after = {"index": index, "name": name, "key": key, "limit": size + 1}
        async with self.connection() as db:
            rows = await (await db.execute(sql.LIST_PAGE, after)).fetchall()
        return page_of([(str(i), str(n), str(k), float(used)) for i, n, k, used in rows], size, clamped)

    async def ping(self) -> None:
        async with self.connection() as db:
            await db.execute("SELECT 1")

    def size_bytes(self) -> int:
        """The total size of the cache tables as of the last :meth:`stats` (or :meth:`open`)."""
        return self._size_bytes

    def pool_facts(self) -> dict[str, int] | None:
        facts = self._pool.get_stats() if self._pool is not None else {}
        return {
            "in_use": self._in_use,
            "idle": int(facts.get("pool_available", 0)),
            "waiting": int(facts.get("requests_waiting", 0)),
            "timeouts": self.checkout_timeouts,
            "max": self.limits.max_size,
        }

    async def stats(self) -> CacheStats:
        async with self.connection() as db:
            row = await (await db.execute(sql.COUNTS)).fetchone()
            await self._refresh_size(db)
        documents, lists, references, packages, indexes, docsets = row if row is not None else (0, 0, 0, 0, "{}", 0)
        pool = self.pool_facts() or {}
        return CacheStats(
            backend="postgresql",
            location=self.location,
            packages=packages,
            documents=documents,
            release_lists=lists,
            api_references=references,
            docsets=docsets,
            indexes={str(key): int(count) for key, count in json.loads(indexes).items()},
            size_bytes=self._size_bytes,
            hits=self.hits,
            misses=self.misses,
            pool_in_use=pool.get("in_use"),
            pool_idle=pool.get("idle"),
            pool_waiting=pool.get("waiting"),
            pool_timeouts=pool.get("timeouts"),
        )

    async def _refresh_size(self, db: Connection) -> None:
        cursor = await db.execute(
            "SELECT pg_total_relation_size('documents') + pg_total_relation_size('release_lists')"
            " + pg_total_relation_size('api_references') + pg_total_relation_size('search_entries')"
            " + pg_total_relation_size('docsets') + pg_total_relation_size('docset_sections')"
        )
        row = await cursor.fetchone()
        self._size_bytes = int(row[0]) if row is not None else 0


def _connect_kwargs(url: str, limits: PoolLimits) -> dict[str, Any]:
    """Connection parameters added to the URL's: timeouts, autocommit, a recognizable name."""
    given = conninfo_to_dict(url)
    statement_ms = max(1, round(limits.statement_timeout_s * 1000))
    options = f"{given.get('options') or ''} -c statement_timeout={statement_ms}".strip()
    return {
        "autocommit": True,
        # libpq counts whole seconds and waits at least 2; open() also enforces the exact limit.
        "connect_timeout": max(2, math.ceil(limits.connect_timeout_s)),
        "options": options,
        "application_name": given.get("application_name") or "autodocs",
    }


def _cause(exc: psycopg.Error) -> str:
    """The driver's message on one line (libpq's spans several)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    return "; ".join(lines).rstrip(".") or type(exc).__name__
