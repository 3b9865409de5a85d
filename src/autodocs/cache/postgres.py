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
import itertools
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

from autodocs.cache.base import (
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


class PostgresStore(DocumentCounter):
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

    async def get_document(self, name: str, version: str) -> PackageDocument | None:
        async with self.connection() as db:
            cursor = await db.execute(
                "SELECT body::text, last_used FROM documents WHERE name = %s AND version = %s", (name, version)
            )
            row = await cursor.fetchone()
            now = self._clock()
            if row is not None and now - row[1] > TOUCH_INTERVAL_S:
                await db.execute(
                    "UPDATE documents SET last_used = %s WHERE name = %s AND version = %s", (now, name, version)
                )
        return self._decode_document(row[0] if row is not None else None, name, version)

    async def put_document(self, document: PackageDocument) -> None:
        body = document.model_dump_json()
        rows = indexed_rows(document_entries(document))
        now = self._clock()
        async with self.connection() as db, db.transaction():
            await db.execute(
                "INSERT INTO documents (name, version, body, created_at, last_used) VALUES (%s, %s, %s::json, %s, %s) "
                "ON CONFLICT (name, version) DO UPDATE SET body = excluded.body, last_used = excluded.last_used",
                (document.name, document.version, body, now, now),
            )
            context = search_context(document.name, document.summary)
            await _replace_entries(db, document.name, document.version, "", context, rows)

    async def get_release_list(self, name: str) -> ReleaseList | None:
        async with self.connection() as db:
            cursor = await db.execute("SELECT body::text FROM release_lists WHERE name = %s", (name,))
            row = await cursor.fetchone()
        return decode_release_list(None if row is None else row[0], name)

    async def cached_state(self, names: Sequence[str]) -> dict[str, CachedState]:
        bodies: dict[str, str] = {}
        versions: dict[str, set[str]] = {}
        async with self.connection() as db:
            for chunk in name_chunks(names):
                cursor = await db.execute("SELECT name, body::text FROM release_lists WHERE name = ANY(%s)", (chunk,))
                for name, body in await cursor.fetchall():
                    bodies[str(name)] = str(body)
                cursor = await db.execute("SELECT name, version FROM documents WHERE name = ANY(%s)", (chunk,))
                for name, version in await cursor.fetchall():
                    versions.setdefault(str(name), set()).add(str(version))
        return cached_states(bodies, versions)

    async def put_release_list(self, releases: ReleaseList) -> None:
        body = json.dumps(releases.to_json(), separators=(",", ":"))
        async with self.connection() as db:
            await db.execute(
                "INSERT INTO release_lists (name, body, fetched_at) VALUES (%s, %s::json, %s) "
                "ON CONFLICT (name) DO UPDATE SET body = excluded.body, fetched_at = excluded.fetched_at",
                (releases.name, body, releases.fetched_at),
            )

    async def get_api_reference(self, name: str, version: str, object_path: str) -> str | None:
        key = (name, version, object_path)
        async with self.connection() as db:
            cursor = await db.execute(
                "SELECT body, last_used FROM api_references WHERE name = %s AND version = %s AND object_path = %s", key
            )
            row = await cursor.fetchone()
            now = self._clock()
            if row is not None and now - row[1] > TOUCH_INTERVAL_S:
                await db.execute(
                    "UPDATE api_references SET last_used = %s WHERE name = %s AND version = %s AND object_path = %s",
                    (now, *key),
                )
        return None if row is None else str(row[0])

    async def put_api_reference(
        self, name: str, version: str, object_path: str, body: str, entries: list[SearchEntry]
    ) -> None:
        check_object_path(object_path)
        rows = indexed_rows(entries, kind="api")
        now = self._clock()
        async with self.connection() as db, db.transaction():
            await db.execute(
                "INSERT INTO api_references (name, version, object_path, body, created_at, last_used)"
                " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (name, version, object_path)"
                " DO UPDATE SET body = excluded.body, last_used = excluded.last_used",
                (name, version, object_path, body, now, now),
            )
            cursor = await db.execute(
                "SELECT body->>'summary' FROM documents WHERE name = %s AND version = %s", (name, version)
            )
            row = await cursor.fetchone()
            context = search_context(name, None if row is None else row[0])
            await _replace_entries(db, name, version, object_path, context, rows)

    async def search(
        self, query: str, *, packages: list[tuple[str, str]] | None = None, limit: int = 10
    ) -> list[SearchHit]:
        request = parse_search(query, limit)
        if packages is not None and not packages:
            return []
        names = None if packages is None else [name for name, _ in packages]
        versions = None if packages is None else [version for _, version in packages]
        rows: list[Any] = []
        async with self.connection() as db:
            for required, ranked, pairs in _tsquery_passes(request.terms):
                parameters = {
                    "required": required,
                    "ranked": ranked,
                    "pairs": pairs,
                    "names": names,
                    "versions": versions,
                    "limit": request.limit,
                }
                rows = await (await db.execute(_SEARCH, parameters)).fetchall()
                if rows:
                    break
        return [
            SearchHit(
                package=name,
                version=version,
                kind="api" if kind == "api" else "section",
                path=path,
                snippet=clip_snippet(snippet),
                score=round(float(score), 6),
            )
            for name, version, kind, path, snippet, score in rows
        ]

    async def api_entries(self, name: str, version: str) -> list[SearchEntry]:
        async with self.connection() as db:
            cursor = await db.execute(
                "SELECT path, text FROM search_entries WHERE name = %s AND version = %s AND origin <> ''"
                " AND kind = 'api' ORDER BY id",
                (name, version),
            )
            return [SearchEntry(kind="api", path=str(path), text=str(text)) for path, text in await cursor.fetchall()]

    async def cached_versions(self, name: str) -> list[str]:
        async with self.connection() as db:
            cursor = await db.execute(
                "SELECT version FROM documents WHERE name = %s ORDER BY created_at, version", (name,)
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
        statements, parameters = (_CLEAR_ALL, ()) if name is None else (_CLEAR_ONE, (name,))
        async with self.connection() as db, db.transaction():
            counts = [max((await db.execute(statement, parameters)).rowcount, 0) for statement in statements]
        return sum(counts[:-1])  # entries, not index rows

    async def prune(self, *, max_versions: int, unused_days: int) -> int:
        cutoff = self._clock() - unused_days * 86400.0
        async with self.connection() as db, db.transaction():
            cursor = await db.execute(_PRUNE_DOCUMENTS, {"cutoff": cutoff, "keep": max_versions})
            row = await cursor.fetchone()
            lists = await db.execute("DELETE FROM release_lists WHERE fetched_at < %s", (cutoff,))
            for statement in _ORPHANED_ENTRIES:
                await db.execute(statement)
            await _index_unindexed_documents(db)
        documents, references = row if row is not None else (0, 0)
        return int(documents) + int(references) + max(lists.rowcount, 0)

    async def list_entries(self, *, cursor: str | None = None, limit: int = 100) -> EntryPage:
        size, clamped = page_size(limit)
        after_name, after_key = decode_cursor(cursor) if cursor is not None else ("", "")
        params = (after_name, after_key, size + 1, after_name, size + 1, size + 1)
        async with self.connection() as db:
            rows = await (await db.execute(_LIST_PAGE, params)).fetchall()
        return page_of([(str(name), str(key), float(used)) for name, key, used in rows], size, clamped)

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
            cursor = await db.execute(
                "SELECT (SELECT COUNT(*) FROM documents), (SELECT COUNT(*) FROM release_lists),"
                " (SELECT COUNT(*) FROM api_references),"
                " (SELECT COUNT(*) FROM (SELECT name FROM documents UNION SELECT name FROM release_lists"
                " UNION SELECT name FROM api_references) AS names)"
            )
            row = await cursor.fetchone()
            await self._refresh_size(db)
        documents, lists, references, packages = row if row is not None else (0, 0, 0, 0)
        pool = self.pool_facts() or {}
        return CacheStats(
            backend="postgresql",
            location=self.location,
            packages=packages,
            documents=documents,
            release_lists=lists,
            api_references=references,
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
        )
        row = await cursor.fetchone()
        self._size_bytes = int(row[0]) if row is not None else 0


#: One page of entries after a (name, sort key) position; a release list's sort key is '', before
#: every version. Each branch pages its own table along its primary key; the outer query merges.
#: The first page starts after ('', ''): names and versions are never empty.
_LIST_PAGE = (
    "SELECT name, sort_key, last_used FROM ("
    " SELECT name, version AS sort_key, last_used FROM documents WHERE (name, version) > (%s, %s)"
    " ORDER BY name, version LIMIT %s) AS page_documents"
    " UNION ALL SELECT name, sort_key, last_used FROM ("
    " SELECT name, '' AS sort_key, fetched_at AS last_used FROM release_lists WHERE name > %s"
    " ORDER BY name LIMIT %s) AS page_lists"
    " ORDER BY name, sort_key LIMIT %s"
)


#: The rows matching the tsquery :required, best first (see _tsquery_passes), optionally only in
#: the (name, version) pairs of two parallel arrays. ts_rank weighs the labels {D, C, B, A}: the
#: path (A) counts three times the text (B) and the context (C); normalization 1 divides by
#: 1 + log(length), so a long section does not win by size alone. Each pair of neighbouring
#: words found side by side adds the rank once more. The headline (snippet) is made for the
#: chosen rows only: it is the costly part.
_SEARCH = (
    "SELECT name, version, kind, path,"
    " ts_headline('english', text, ranked, 'StartSel=«, StopSel=», MaxWords=35, MinWords=15,"
    ' MaxFragments=1, FragmentDelimiter=" … "\'), score FROM ('
    " SELECT e.id, e.name, e.version, e.kind, e.path, e.text, q.ranked,"
    " ts_rank('{0.1, 0.33, 0.33, 1.0}', e.terms, q.ranked, 1) * (1 + ("
    "  SELECT COUNT(*) FROM unnest(%(pairs)s::text[]) AS p(pair) WHERE e.terms @@ to_tsquery('english', p.pair)"
    " )) AS score"
    " FROM search_entries AS e,"
    " to_tsquery('english', %(required)s) AS r(required), to_tsquery('english', %(ranked)s) AS q(ranked)"
    " WHERE e.terms @@ r.required AND (%(names)s::text[] IS NULL OR (e.name, e.version) IN (SELECT"
    ' n COLLATE "C", v COLLATE "C" FROM unnest(%(names)s::text[], %(versions)s::text[]) AS s(n, v)))'
    " ORDER BY score DESC, e.id LIMIT %(limit)s"
    ") AS best ORDER BY score DESC, id"
)
#: What clear removes: every table's rows (of one name); the index after its owners, so a
#: document written meanwhile by another replica can lose its rows but never leave orphans.
_CLEAR_ALL = (
    "DELETE FROM documents",
    "DELETE FROM release_lists",
    "DELETE FROM api_references",
    "DELETE FROM search_entries",
)
_CLEAR_ONE = (
    "DELETE FROM documents WHERE name = %s",
    "DELETE FROM release_lists WHERE name = %s",
    "DELETE FROM api_references WHERE name = %s",
    "DELETE FROM search_entries WHERE name = %s",
)
#: Drop the documents unused since the cutoff or beyond the versions kept per package, and the
#: API references of those versions or unused since the cutoff; count each.
_PRUNE_DOCUMENTS = (
    "WITH doomed AS ("
    " DELETE FROM documents WHERE last_used < %(cutoff)s OR (name, version) IN ("
    "  SELECT name, version FROM ("
    "   SELECT name, version, ROW_NUMBER() OVER (PARTITION BY name"
    "   ORDER BY last_used DESC, created_at DESC, version DESC) AS rank FROM documents"
    "  ) AS ranked WHERE rank > %(keep)s)"
    " RETURNING name, version"
    "), references_gone AS ("
    " DELETE FROM api_references WHERE last_used < %(cutoff)s"
    " OR (name, version) IN (SELECT name, version FROM doomed) RETURNING 1"
    ") SELECT (SELECT COUNT(*) FROM doomed), (SELECT COUNT(*) FROM references_gone)"
)
#: Documents without index rows that would have some (a summary or a section), a batch at a
#: time (see _index_unindexed_documents).
_UNINDEXED_DOCUMENTS = (
    "SELECT name, version, body::text FROM documents AS d WHERE NOT EXISTS (SELECT 1 FROM search_entries AS e"
    " WHERE e.name = d.name AND e.version = d.version AND e.origin = '')"
    " AND (COALESCE(d.body->>'summary', '') <> '' OR json_array_length(CASE"
    " WHEN json_typeof(d.body->'sections') = 'array' THEN d.body->'sections' ELSE '[]'::json END) > 0)"
    " ORDER BY name, version LIMIT %s"
)
_INDEX_BATCH = 200
#: Index rows whose document or API reference is gone (pruned now, or removed by another
#: replica while this one was writing them).
_ORPHANED_ENTRIES = (
    "DELETE FROM search_entries AS e WHERE e.origin = '' AND NOT EXISTS (SELECT 1 FROM documents AS d"
    " WHERE d.name = e.name AND d.version = e.version)",
    "DELETE FROM search_entries AS e WHERE e.origin <> '' AND NOT EXISTS (SELECT 1 FROM api_references AS a"
    " WHERE a.name = e.name AND a.version = e.version AND a.object_path = e.origin)",
)


async def _replace_entries(
    db: Connection, name: str, version: str, origin: str, context: str, rows: list[tuple[str, str, str]]
) -> None:
    """Replace the index rows of one document (origin '') or one API reference."""
    await db.execute(
        "DELETE FROM search_entries WHERE name = %s AND version = %s AND origin = %s", (name, version, origin)
    )
    if rows:
        kinds, paths, texts = (list(column) for column in zip(*rows, strict=True))
        await db.execute(
            "INSERT INTO search_entries (name, version, origin, kind, path, text, context)"
            " SELECT %s, %s, %s, kind, path, text, %s FROM unnest(%s::text[], %s::text[], %s::text[])"
            " WITH ORDINALITY AS entries(kind, path, text, position) ORDER BY position",
            (name, version, origin, context, kinds, paths, texts),
        )


async def _index_unindexed_documents(db: Connection) -> None:
    """Index up to :data:`_INDEX_BATCH` documents that have no index rows: ones an older AutoDocs
    replica stored after the migration (during a rolling update). The rest wait for the next
    prune. A body that no longer parses stays unindexed (reading it is a miss, and the document
    fetched in its place is indexed when stored)."""
    cursor = await db.execute(_UNINDEXED_DOCUMENTS, (_INDEX_BATCH,))
    for name, version, body in await cursor.fetchall():
        try:
            document = PackageDocument.model_validate_json(body)
        except ValueError:
            log.warning("cache.unreadable_entry", name=name, version=version)
            continue
        rows = indexed_rows(document_entries(document))
        await _replace_entries(db, name, version, "", search_context(name, document.summary), rows)


def _tsquery_passes(terms: tuple[str, ...]) -> list[tuple[str, str, list[str]]]:
    """(required, ranked, pairs) to_tsquery texts: first rows whose title or text (labels A, B)
    has every word, then (if none has them all) rows whose title or text has any.

    Ranking counts every word in all three labels (the context only ranks; a row is found by
    its own title or text), and each pair of neighbouring words found side by side. Each word
    is quoted, so nothing in it is read as tsquery syntax; words hold only letters and digits,
    and a quote would be doubled all the same. Stop words drop out in PostgreSQL.
    """
    quoted = ["'" + term.replace("'", "''") + "'" for term in terms]
    ranked = " | ".join(quoted)
    pairs = [f"{first} <-> {second}" for first, second in itertools.pairwise(quoted)]
    every = (" & ".join(f"{word}:AB" for word in quoted), ranked, pairs)
    either = (" | ".join(f"{word}:AB" for word in quoted), ranked, pairs)
    return [every, either] if len(quoted) > 1 else [every]


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
