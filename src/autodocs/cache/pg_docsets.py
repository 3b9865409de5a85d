"""Docs sets in the PostgreSQL store: written in batches, readable only once complete.

A large docs set (Django's: about 6,000 sections, 6 MB of text) does not fit one statement
within ``AUTODOCS_DB_STATEMENT_TIMEOUT`` — the ``tsvector`` of every section is computed as it
is inserted — so :meth:`PostgresDocsets.put_docset` writes it in steps, each a statement of its
own well within the limit: the ``docsets`` row first (old sections removed, ``complete`` false,
a fresh ``writer`` token), then the sections in batches of at most :data:`BATCH_CHARS` of text,
then ``complete`` set. Readers only see complete docs sets. A batch is inserted only while
its writer's token is still the row's (``FOR SHARE``: a concurrent replica that took the row
over makes the batch insert nothing); a write that fails or is cancelled deletes its own rows
(shielded), so no half-written docs set stays behind; one that dies with its process is
invisible to readers and replaced by the next write or removed by ``prune``.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

import psycopg
from psycopg.rows import TupleRow

from autodocs.cache.base import TOUCH_INTERVAL_S, DocsetCandidate, DocsetSectionHit, SearchHit
from autodocs.cache.docsets import (
    HEADING_SEPARATOR,
    DocsetHeader,
    SectionRow,
    decode_docset,
    encode_docset,
    section_from_row,
)
from autodocs.cache.pg_statements import tsquery_passes
from autodocs.cache.search import clip_snippet, parse_search
from autodocs.docset.model import DocSet

__all__ = ["BATCH_CHARS", "PRUNE_DOCSETS", "PostgresDocsets"]

Connection = psycopg.AsyncConnection[TupleRow]

#: Text per batch insert (its tsvectors are computed in the statement) and rows per batch.
BATCH_CHARS = 1_000_000
BATCH_ROWS = 1_000
_INSERT_SECTIONS = (
    "INSERT INTO docset_sections (index_key, name, version, page, page_path, page_title, position, path,"
    " heading_path, blocks, text, context)"
    " SELECT %s, %s, %s, page, page_path, page_title, position, path, heading_path, blocks, text, context"
    " FROM unnest(%s::int[], %s::text[], %s::text[], %s::int[], %s::text[], %s::text[], %s::text[], %s::text[],"
    " %s::text[]) AS s(page, page_path, page_title, position, path, heading_path, blocks, text, context)"
    " WHERE EXISTS (SELECT 1 FROM docsets WHERE index_key = %s AND name = %s AND version = %s AND writer = %s"
    " FOR SHARE)"
)
#: Sections matching :required, best first, of complete docs sets: one release's (key set) or
#: all, optionally only the (name, version) pairs of two parallel arrays and only of the index
#: %(index)s. Weights as in search.
_SEARCH = (
    "SELECT index_key, name, version, page_path, page_title, heading_path, blocks,"
    " ts_headline('english', text, ranked, 'StartSel=«, StopSel=», MaxWords=35, MinWords=15,"
    ' MaxFragments=1, FragmentDelimiter=" … "\'), score FROM ('
    " SELECT e.id, e.index_key, e.name, e.version, e.page_path, e.page_title, e.heading_path, e.blocks,"
    " e.text, q.ranked,"
    " ts_rank('{0.1, 0.1, 0.33, 1.0}', e.terms, q.ranked, 1) * (1 + ("
    "  SELECT COUNT(*) FROM unnest(%(pairs)s::text[]) AS p(pair) WHERE e.terms @@ to_tsquery('english', p.pair)"
    " )) AS score"
    " FROM docset_sections AS e JOIN docsets AS d ON d.index_key = e.index_key AND d.name = e.name"
    " AND d.version = e.version AND d.complete,"
    " to_tsquery('english', %(required)s) AS r(required), to_tsquery('english', %(ranked)s) AS q(ranked)"
    " WHERE e.terms @@ r.required"
    " AND (%(key)s::text IS NULL OR (e.index_key = %(key)s AND e.name = %(name)s AND e.version = %(version)s))"
    " AND (%(index)s::text IS NULL OR e.index_key = %(index)s)"
    " AND (%(names)s::text[] IS NULL OR (e.name, e.version) IN (SELECT"
    ' n COLLATE "C", v COLLATE "C" FROM unnest(%(names)s::text[], %(versions)s::text[]) AS s(n, v)))'
    " ORDER BY score DESC, e.id LIMIT %(limit)s"
    ") AS best ORDER BY score DESC, id"
)
#: Sections of one complete docs set matching %(required)s, best first, ranked as in _SEARCH, without headlines.
_CANDIDATES = (
    "SELECT e.id, e.page, e.position, e.heading_path, e.blocks"
    " FROM docset_sections AS e JOIN docsets AS d ON d.index_key = e.index_key AND d.name = e.name"
    " AND d.version = e.version AND d.complete,"
    " to_tsquery('english', %(required)s) AS r(required), to_tsquery('english', %(ranked)s) AS q(ranked)"
    " WHERE e.terms @@ r.required AND e.index_key = %(key)s AND e.name = %(name)s AND e.version = %(version)s"
    " ORDER BY ts_rank('{0.1, 0.1, 0.33, 1.0}', e.terms, q.ranked, 1) * (1 + ("
    "  SELECT COUNT(*) FROM unnest(%(pairs)s::text[]) AS p(pair) WHERE e.terms @@ to_tsquery('english', p.pair)"
    " )) DESC, e.id LIMIT %(limit)s"
)
#: Prune (after the documents): the docs sets whose release's document is gone, those unused
#: since the cutoff (incomplete ones left by a dead writer among them); then sections left alone.
PRUNE_DOCSETS = (
    "DELETE FROM docsets AS d WHERE last_used < %(cutoff)s OR NOT EXISTS (SELECT 1 FROM documents AS o"
    " WHERE o.index_key = d.index_key AND o.name = d.name AND o.version = d.version)",
    "DELETE FROM docset_sections AS e WHERE NOT EXISTS (SELECT 1 FROM docsets AS d"
    " WHERE d.index_key = e.index_key AND d.name = e.name AND d.version = e.version)",
)
_Row = tuple[str, str, str, str, str, str, str, str, float]


def _header_values(header: DocsetHeader) -> tuple[str, str, str, str, str]:
    return header.flavour, header.pages, header.toc, header.warnings, header.missing_reason


def _batches(sections: list[SectionRow]) -> Iterator[list[SectionRow]]:
    batch: list[SectionRow] = []
    chars = 0
    for section in sections:
        size = len(section.text) + len(section.blocks)
        if batch and (chars + size > BATCH_CHARS or len(batch) >= BATCH_ROWS):
            yield batch
            batch, chars = [], 0
        batch.append(section)
        chars += size
    if batch:
        yield batch


class PostgresDocsets:
    """The docs-set methods of :class:`~autodocs.cache.postgres.PostgresStore` (a mixin over its pool)."""

    if TYPE_CHECKING:
        _clock: Callable[[], float]

        def connection(self) -> AbstractAsyncContextManager[Connection]: ...

    async def put_docset(
        self, index_key: str, name: str, version: str, docset: DocSet | None, *, missing_reason: str = ""
    ) -> None:
        header, sections = encode_docset(name, docset, missing_reason)
        owner, writer, now = (index_key, name, version), uuid.uuid4().hex, self._clock()
        try:
            async with self.connection() as db, db.transaction():
                await db.execute(
                    "DELETE FROM docset_sections WHERE index_key = %s AND name = %s AND version = %s", owner
                )
                await db.execute(
                    "INSERT INTO docsets (index_key, name, version, flavour, pages, toc, warnings, missing_reason,"
                    " complete, writer, created_at, last_used) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (index_key, name, version) DO UPDATE SET flavour = excluded.flavour,"
                    " pages = excluded.pages, toc = excluded.toc, warnings = excluded.warnings,"
                    " missing_reason = excluded.missing_reason, complete = excluded.complete,"
                    " writer = excluded.writer, last_used = excluded.last_used",
                    (*owner, *_header_values(header), not sections, writer, now, now),
                )
            for batch in _batches(sections):
                columns: list[list[Any]] = [[] for _ in range(9)]
                for row in batch:
                    values = (row.page, row.page_path, row.page_title, row.position, row.heading, row.heading_path)
                    for column, value in zip(columns, (*values, row.blocks, row.text, row.context), strict=True):
                        column.append(value)
                async with self.connection() as db:
                    await db.execute(_INSERT_SECTIONS, (*owner, *columns, *owner, writer))
            if sections:
                async with self.connection() as db:
                    await db.execute(
                        "UPDATE docsets SET complete = true"
                        " WHERE index_key = %s AND name = %s AND version = %s AND writer = %s",
                        (*owner, writer),
                    )
        except BaseException:
            await asyncio.shield(self._remove_unfinished(owner, writer))
            raise

    async def _remove_unfinished(self, owner: tuple[str, str, str], writer: str) -> None:
        """Delete what a failed write of ``writer`` left (nothing when another writer took over)."""
        try:
            async with self.connection() as db, db.transaction():
                cursor = await db.execute(
                    "DELETE FROM docsets"
                    " WHERE index_key = %s AND name = %s AND version = %s AND writer = %s RETURNING 1",
                    (*owner, writer),
                )
                if await cursor.fetchone() is not None:
                    await db.execute(
                        "DELETE FROM docset_sections WHERE index_key = %s AND name = %s AND version = %s", owner
                    )
        except Exception:  # the write's own error is the one to report; prune sweeps the rest
            return

    async def get_docset(self, index_key: str, name: str, version: str) -> DocSet | None:
        return await self._read_docset((index_key, name, version), sections=True)

    async def docset_missing_reason(self, index_key: str, name: str, version: str) -> str | None:
        async with self.connection() as db:
            cursor = await db.execute(
                "SELECT missing_reason FROM docsets WHERE index_key = %s AND name = %s AND version = %s AND complete",
                (index_key, name, version),
            )
            row = await cursor.fetchone()
        return str(row[0]) if row is not None and row[0] else None

    async def get_docset_outline(self, index_key: str, name: str, version: str) -> DocSet | None:
        return await self._read_docset((index_key, name, version), sections=False)

    async def _read_docset(self, owner: tuple[str, str, str], *, sections: bool) -> DocSet | None:
        """The stored docs set (its header row touched), with its sections or (an outline) without."""
        async with self.connection() as db:
            cursor = await db.execute(
                "SELECT flavour, pages, toc, warnings, missing_reason, last_used FROM docsets"
                " WHERE index_key = %s AND name = %s AND version = %s AND complete",
                owner,
            )
            row = await cursor.fetchone()
            if row is None or row[4]:
                return None
            await self._touch(db, owner, float(row[5]))
            found: list[tuple[int, str, str]] = []
            if sections:
                cursor = await db.execute(
                    "SELECT page, heading_path, blocks FROM docset_sections"
                    " WHERE index_key = %s AND name = %s AND version = %s"
                    " ORDER BY page, position",
                    owner,
                )
                found = [(int(page), str(heading), str(blocks)) for page, heading, blocks in await cursor.fetchall()]
        return decode_docset(DocsetHeader(*(str(value) for value in row[:5])), found)

    async def _touch(self, db: Connection, owner: tuple[str, str, str], last_used: float) -> None:
        now = self._clock()
        if now - last_used > TOUCH_INTERVAL_S:
            await db.execute(
                "UPDATE docsets SET last_used = %s WHERE index_key = %s AND name = %s AND version = %s", (now, *owner)
            )

    async def docset_places(self, index_key: str, name: str, version: str) -> list[tuple[int, int]]:
        async with self.connection() as db:
            cursor = await db.execute(
                "SELECT e.page, e.position FROM docset_sections AS e JOIN docsets AS d ON d.index_key = e.index_key"
                " AND d.name = e.name AND d.version = e.version AND d.complete"
                " WHERE e.index_key = %s AND e.name = %s AND e.version = %s AND e.blocks <> '[]'"
                " ORDER BY e.page, e.position",
                (index_key, name, version),
            )
            return [(int(page), int(position)) for page, position in await cursor.fetchall()]

    async def docset_sections_at(
        self, index_key: str, name: str, version: str, places: Sequence[tuple[int, int]]
    ) -> list[DocsetCandidate]:
        async with self.connection() as db:
            cursor = await db.execute(
                "SELECT e.page, e.position, e.heading_path, e.blocks"
                " FROM unnest(%s::int[], %s::int[]) AS p(page, position)"
                " JOIN docset_sections AS e ON e.index_key = %s AND e.name = %s AND e.version = %s"
                " AND e.page = p.page AND e.position = p.position"
                " JOIN docsets AS d ON d.index_key = e.index_key AND d.name = e.name AND d.version = e.version"
                " AND d.complete",
                ([page for page, _ in places], [position for _, position in places], index_key, name, version),
            )
            rows = await cursor.fetchall()
        return [
            DocsetCandidate(int(page), int(position), section_from_row(heading, blocks))
            for page, position, heading, blocks in rows
        ]

    async def docset_candidates(
        self, index_key: str, name: str, version: str, query: str, limit: int
    ) -> list[DocsetCandidate]:
        request = parse_search(query, max(limit, 1))
        parameters: dict[str, Any] = {"key": index_key, "name": name, "version": version, "limit": limit}
        found: dict[int, DocsetCandidate] = {}
        async with self.connection() as db:
            for required, ranked, pairs in tsquery_passes(request.terms):
                parameters |= {"required": required, "ranked": ranked, "pairs": pairs}
                for row_id, page, position, heading, blocks in await (
                    await db.execute(_CANDIDATES, parameters)
                ).fetchall():
                    if row_id not in found and len(found) < limit:
                        found[row_id] = DocsetCandidate(int(page), int(position), section_from_row(heading, blocks))
                if len(found) >= limit:
                    break
        return list(found.values())

    async def docset_sections(
        self, index_key: str, name: str, version: str, query: str, limit: int = 10
    ) -> list[DocsetSectionHit]:
        rows = await self._docset_search(query, limit, (index_key, name, version), None, None)
        return [
            DocsetSectionHit(page_path, title, section_from_row(heading, blocks), clip_snippet(snippet), score)
            for _i, _n, _v, page_path, title, heading, blocks, snippet, score in rows
        ]

    async def search_docsets(
        self,
        query: str,
        *,
        packages: list[tuple[str, str]] | None = None,
        index_key: str | None = None,
        limit: int = 10,
    ) -> list[SearchHit]:
        if packages is not None and not packages:
            return []
        rows = await self._docset_search(query, limit, None, packages, index_key)
        hits = []
        for index, name, version, page_path, _title, heading, _blocks, snippet, score in rows:
            headings = list(section_from_row(heading, "[]").heading_path)
            hits.append(
                SearchHit(
                    index=index,
                    package=name,
                    version=version,
                    kind="docs",
                    path=f"{page_path}: {HEADING_SEPARATOR.join(headings)}",
                    page_path=page_path,
                    heading_path=headings,
                    snippet=clip_snippet(snippet),
                    score=round(score, 6),
                )
            )
        return hits

    async def _docset_search(
        self,
        query: str,
        limit: int,
        owner: tuple[str, str, str] | None,
        packages: list[tuple[str, str]] | None,
        index: str | None,
    ) -> list[_Row]:
        request = parse_search(query, limit)
        key, name, version = owner if owner is not None else (None, None, None)
        parameters: dict[str, Any] = {"key": key, "name": name, "version": version, "limit": request.limit}
        parameters["index"] = index
        parameters["names"] = None if packages is None else [n for n, _ in packages]
        parameters["versions"] = None if packages is None else [v for _, v in packages]
        async with self.connection() as db:
            for required, ranked, pairs in tsquery_passes(request.terms):
                parameters |= {"required": required, "ranked": ranked, "pairs": pairs}
                rows = await (await db.execute(_SEARCH, parameters)).fetchall()
                if rows:
                    return [
                        (str(a), str(b), str(c), str(d), str(e), str(f), str(g), str(h), float(i))
                        for a, b, c, d, e, f, g, h, i in rows
                    ]
        return []
