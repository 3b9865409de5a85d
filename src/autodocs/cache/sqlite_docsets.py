"""Docs sets in the SQLite store: their tables, the FTS5 index over their sections, and the methods.

The rows are :mod:`autodocs.cache.docsets`'. A docs set is written in one transaction (its old
rows replaced), so a reader sees all of it or none. ``docset_fts`` is an external-content FTS5
table over ``docset_sections`` kept in step by triggers, as ``search_fts`` is over
``search_entries``; its ``path`` column is the section's heading path, so
:func:`~autodocs.cache.sqlite_schema.fts5_passes` builds its queries.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, TypeVar

from autodocs.cache.base import TOUCH_INTERVAL_S, DocsetCandidate, SearchHit
from autodocs.cache.docsets import (
    HEADING_SEPARATOR,
    DocsetHeader,
    DocsetSectionHit,
    decode_docset,
    encode_docset,
    section_from_row,
)
from autodocs.cache.search import clip_snippet, parse_search
from autodocs.cache.sqlite_schema import fts5_passes, transaction
from autodocs.docset.model import DocSet
from autodocs.errors import CacheError

__all__ = ["SQLiteDocsets"]

T = TypeVar("T")

#: Sections matching :query (see _query), best first; within one release (:key, :name, :version all
#: set) or across every stored docs set (all NULL), optionally only (name, version) pairs in :scope
#: and only of the index :index.
#: The best rows are chosen first and only they get a snippet: a snippet per matching row was
#: most of the time on a large docs set (Django's: 46 ms → 2 ms for a four-word query).
_SEARCH = (
    "WITH best AS (SELECT s.id AS id, bm25(docset_fts, 3.0, 1.0, 0.3) AS relevance"
    " FROM docset_fts JOIN docset_sections AS s ON s.id = docset_fts.rowid"
    " WHERE docset_fts MATCH :query"
    " AND (:key IS NULL OR (s.index_key = :key AND s.name = :name AND s.version = :version))"
    " AND (:index IS NULL OR s.index_key = :index)"
    " AND (:scope IS NULL OR (s.name, s.version) IN"
    " (SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]') FROM json_each(:scope)))"
    " ORDER BY relevance, s.id LIMIT :limit)"
    " SELECT s.index_key, s.name, s.version, s.page_path, s.page_title, s.heading_path, s.blocks,"
    " snippet(docset_fts, 1, '«', '»', '…', 32), best.relevance"
    " FROM best JOIN docset_sections AS s ON s.id = best.id JOIN docset_fts ON docset_fts.rowid = best.id"
    " WHERE docset_fts MATCH :query ORDER BY best.relevance, s.id"
)
_Row = tuple[str, str, str, str, str, str, str, str, float]
#: Sections of one release matching :query, best first, as :data:`_SEARCH` ranks them, without snippets.
_CANDIDATES = (
    "SELECT s.id, s.page, s.position, s.heading_path, s.blocks"
    " FROM docset_fts JOIN docset_sections AS s ON s.id = docset_fts.rowid"
    " WHERE docset_fts MATCH :query AND s.index_key = :key AND s.name = :name AND s.version = :version"
    " ORDER BY bm25(docset_fts, 3.0, 1.0, 0.3), s.id LIMIT :limit"
)


class SQLiteDocsets:
    """The docs-set methods of :class:`~autodocs.cache.sqlite.SQLiteStore` (a mixin: it runs on its threads)."""

    if TYPE_CHECKING:
        _clock: Callable[[], float]

        async def _read(self, function: Callable[[], T]) -> T: ...

        async def _write(self, function: Callable[[], T]) -> T: ...

        def _guarded(self, function: Callable[[sqlite3.Connection], T], on_corruption: T) -> T: ...

        _full_text: bool

    async def put_docset(
        self, index_key: str, name: str, version: str, docset: DocSet | None, *, missing_reason: str = ""
    ) -> None:
        """Store a release's docs set (or, ``docset`` None, why it has none), replacing any stored one."""
        header, sections = encode_docset(name, docset, missing_reason)
        owner = (index_key, name, version)

        def write(db: sqlite3.Connection) -> None:
            now = self._clock()
            with transaction(db):
                db.execute("DELETE FROM docset_sections WHERE index_key = ? AND name = ? AND version = ?", owner)
                db.execute(
                    "INSERT INTO docsets (index_key, name, version, flavour, pages, toc, warnings, missing_reason,"
                    " created_at, last_used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (index_key, name,"
                    " version) DO UPDATE SET flavour = excluded.flavour, pages = excluded.pages, toc = excluded.toc,"
                    " warnings = excluded.warnings, missing_reason = excluded.missing_reason,"
                    " last_used = excluded.last_used",
                    (
                        *owner,
                        header.flavour,
                        header.pages,
                        header.toc,
                        header.warnings,
                        header.missing_reason,
                        now,
                        now,
                    ),
                )
                db.executemany(
                    "INSERT INTO docset_sections (index_key, name, version, page, page_path, page_title, position,"
                    " path, heading_path, blocks, text, context) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [
                        (*owner, s.page, s.page_path, s.page_title, s.position, s.heading, s.heading_path, *s.content)
                        for s in sections
                    ],
                )

        await self._write(lambda: self._guarded(write, None))

    async def get_docset(self, index_key: str, name: str, version: str) -> DocSet | None:
        """The stored docs set, rebuilt from its rows; None when none is stored or the release has none."""
        owner, now = (index_key, name, version), self._clock()
        nothing: tuple[DocsetHeader | None, list[tuple[int, str, str]]] = (None, [])
        header, sections = await self._read(lambda: self._guarded(lambda db: _read_docset(db, owner, now), nothing))
        return None if header is None else decode_docset(header, sections)

    async def docset_missing_reason(self, index_key: str, name: str, version: str) -> str | None:
        """Why the release has no docs set, when that is stored; None when nothing is stored or it has one."""

        def read(db: sqlite3.Connection) -> str | None:
            row = db.execute(
                "SELECT missing_reason FROM docsets WHERE index_key = ? AND name = ? AND version = ?",
                (index_key, name, version),
            )
            found = row.fetchone()
            return str(found[0]) if found is not None and found[0] else None

        return await self._read(lambda: self._guarded(read, None))

    async def get_docset_outline(self, index_key: str, name: str, version: str) -> DocSet | None:
        """The stored docs set without its sections, from its header row alone."""
        owner, now = (index_key, name, version), self._clock()
        nothing: tuple[DocsetHeader | None, list[tuple[int, str, str]]] = (None, [])
        header, _ = await self._read(
            lambda: self._guarded(lambda db: _read_docset(db, owner, now, sections=False), nothing)
        )
        return None if header is None else decode_docset(header, [])

    async def docset_places(self, index_key: str, name: str, version: str) -> list[tuple[int, int]]:
        """(page, position) of every section with content, in reading order."""

        def read(db: sqlite3.Connection) -> list[tuple[int, int]]:
            rows = db.execute(
                "SELECT page, position FROM docset_sections WHERE index_key = ? AND name = ? AND version = ?"
                " AND blocks <> '[]' ORDER BY page, position",
                (index_key, name, version),
            )
            return [(int(page), int(position)) for page, position in rows]

        return await self._read(lambda: self._guarded(read, []))

    async def docset_sections_at(
        self, index_key: str, name: str, version: str, places: Sequence[tuple[int, int]]
    ) -> list[DocsetCandidate]:
        """The sections at these (page, position) places."""
        wanted = json.dumps([list(place) for place in places])

        def read(db: sqlite3.Connection) -> list[DocsetCandidate]:
            rows = db.execute(
                # CROSS JOIN: the places first, each one index look-up (else SQLite scans the release's rows per place)
                "SELECT s.page, s.position, s.heading_path, s.blocks FROM json_each(?) AS p"
                " CROSS JOIN docset_sections AS s ON s.index_key = ? AND s.name = ? AND s.version = ?"
                " AND s.page = json_extract(p.value, '$[0]') AND s.position = json_extract(p.value, '$[1]')",
                (wanted, index_key, name, version),
            )
            return [
                DocsetCandidate(int(page), int(position), section_from_row(heading, blocks))
                for page, position, heading, blocks in rows
            ]

        return await self._read(lambda: self._guarded(read, []))

    async def docset_candidates(
        self, index_key: str, name: str, version: str, query: str, limit: int
    ) -> list[DocsetCandidate]:
        """Sections having every word of ``query``, best first, then those having any, up to ``limit``."""
        request = parse_search(query, max(limit, 1))
        self._need_full_text()

        def read(db: sqlite3.Connection) -> list[DocsetCandidate]:
            found: dict[int, DocsetCandidate] = {}
            for required, ranked in fts5_passes(request.terms):
                parameters: dict[str, str | int] = {"query": f"({required}) AND ({ranked})", "key": index_key}
                parameters |= {"name": name, "version": version, "limit": limit}
                for row_id, page, position, heading, blocks in db.execute(_CANDIDATES, parameters):
                    if row_id not in found and len(found) < limit:
                        found[row_id] = DocsetCandidate(int(page), int(position), section_from_row(heading, blocks))
                if len(found) >= limit:
                    break
            return list(found.values())

        return await self._read(lambda: self._guarded(read, []))

    async def docset_sections(
        self, index_key: str, name: str, version: str, query: str, limit: int = 10
    ) -> list[DocsetSectionHit]:
        """The sections of one release's docs set that best match ``query``, best first."""
        rows = await self._docset_search(query, limit, (index_key, name, version), None, None)
        return [
            DocsetSectionHit(page_path, title, section_from_row(heading, blocks), clip_snippet(snippet), -relevance)
            for _i, _n, _v, page_path, title, heading, blocks, snippet, relevance in rows
        ]

    async def search_docsets(
        self,
        query: str,
        *,
        packages: list[tuple[str, str]] | None = None,
        index_key: str | None = None,
        limit: int = 10,
    ) -> list[SearchHit]:
        """The best sections across every stored docs set (``packages``: only these (name, version) pairs;
        ``index_key``: only this index's)."""
        if packages is not None and not packages:
            return []
        scope = None if packages is None else json.dumps(packages)
        rows = await self._docset_search(query, limit, None, scope, index_key)
        return [
            SearchHit(
                index=index,
                package=name,
                version=version,
                kind="docs",
                path=f"{page_path}: {HEADING_SEPARATOR.join(section_from_row(heading, '[]').heading_path)}",
                page_path=page_path,
                heading_path=list(section_from_row(heading, "[]").heading_path),
                snippet=clip_snippet(snippet),
                score=round(-relevance, 6),
            )
            for index, name, version, page_path, _title, heading, _blocks, snippet, relevance in rows
        ]

    def _need_full_text(self) -> None:
        if not self._full_text:
            raise CacheError(
                f"Search needs SQLite's FTS5, which this Python's SQLite {sqlite3.sqlite_version} lacks.",
                suggestions=["Run AutoDocs with a Python whose sqlite3 has FTS5, or use a PostgreSQL cache."],
                retryable=False,
            )

    async def _docset_search(
        self, query: str, limit: int, owner: tuple[str, str, str] | None, scope: str | None, index: str | None
    ) -> list[_Row]:
        request = parse_search(query, limit)
        self._need_full_text()
        key, name, version = owner if owner is not None else (None, None, None)

        def read(db: sqlite3.Connection) -> list[_Row]:
            for required, ranked in fts5_passes(request.terms):
                # Rows having the words (required) ranked by every word and neighbouring pair (ranked):
                # one expression, so bm25 counts the pairs and no second match is needed.
                parameters: dict[str, str | int | None] = {"query": f"({required}) AND ({ranked})", "key": key}
                parameters |= {"name": name, "version": version, "scope": scope, "index": index}
                parameters["limit"] = request.limit
                rows = db.execute(_SEARCH, parameters).fetchall()
                if rows:
                    return [
                        (str(a), str(b), str(c), str(d), str(e), str(f), str(g), str(h), float(i))
                        for a, b, c, d, e, f, g, h, i in rows
                    ]
            return []

        return await self._read(lambda: self._guarded(read, []))


def _read_docset(
    db: sqlite3.Connection, owner: tuple[str, str, str], now: float, *, sections: bool = True
) -> tuple[DocsetHeader | None, list[tuple[int, str, str]]]:
    row = db.execute(
        "SELECT flavour, pages, toc, warnings, missing_reason, last_used FROM docsets"
        " WHERE index_key = ? AND name = ? AND version = ?",
        owner,
    ).fetchone()
    if row is None:
        return None, []
    if now - float(row[5]) > TOUCH_INTERVAL_S:
        db.execute("UPDATE docsets SET last_used = ? WHERE index_key = ? AND name = ? AND version = ?", (now, *owner))
    header = DocsetHeader(*(str(value) for value in row[:5]))
    if header.missing_reason or not sections:
        return header, []
    rows = db.execute(
        "SELECT page, heading_path, blocks FROM docset_sections"
        " WHERE index_key = ? AND name = ? AND version = ? ORDER BY page, position",
        owner,
    ).fetchall()
    return header, [(int(page), str(heading), str(blocks)) for page, heading, blocks in rows]
