"""The ``Store`` protocol every cache backend implements, and what it reports.

Contract, whatever the backend:
* Every entry is filed under the key of the index that answered (``index_key``, see
  :mod:`autodocs.index.keys`) next to its name: the per-package methods take it first, and
  never answer with another index's entry. Cross-index operations (stats, listing, pruning,
  clearing, a search without ``index_key``) cover every index and name each entry's index.
* Documents are keyed by (index key, normalized name, exact version) and immutable: a put of
  an existing key replaces it whole (same content), never tears it.
* Release lists are keyed by (index key, name) and carry ``fetched_at``; freshness is the
  caller's call.
* :meth:`Store.cached_state` answers for many names in one round trip what is cached of
  each (its release list, the versions with a document, those with a docs set or the reason
  for none): the cold path asks it once for a whole batch of packages instead of reading, and
  missing, twice per package, and a docs call knows without a read that no docs set is stored.
* Every write is atomic. A backend that finds its storage unreadable recovers (moves it
  aside and starts empty) rather than failing every call.
* Methods raise :class:`~autodocs.errors.CacheError` (retryable) for transient trouble;
  :class:`DatabaseBusy` when every pooled connection stayed in use for the whole wait.
* Eviction (:meth:`Store.prune`) and listing (:meth:`Store.list_entries`) behave the same
  in every backend; the helpers below hold the parts they share (cursor format, page size).
* Full-text search (:meth:`Store.search`) covers what is cached: a document is indexed (its
  summary and sections) and an API reference is indexed (its entries) in the transaction that
  writes it, and removing either removes its index rows. What both backends share about
  search (entries of a document, reading the user's words) lives in :mod:`autodocs.cache.search`.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, Protocol

import structlog
from pydantic import BaseModel, Field

from autodocs.docs.model import DOCUMENT_BUILD, PackageDocument
from autodocs.errors import DatabaseBusy, InvalidArgument
from autodocs.index.models import ReleaseList

if TYPE_CHECKING:  # values only passed through here: no parser is imported with the store
    from autodocs.docset.model import DocSet
    from autodocs.docset.pages import Section

__all__ = [
    "DEFAULT_PAGE_SIZE",
    "MAX_PAGE_SIZE",
    "MAX_SEARCH_LIMIT",
    "TOUCH_INTERVAL_S",
    "CacheEntry",
    "CacheStats",
    "CachedState",
    "DatabaseBusy",
    "DocsetCandidate",
    "DocsetSectionHit",
    "DocumentCounter",
    "EntryPage",
    "SearchEntry",
    "SearchHit",
    "Store",
    "decode_cursor",
    "encode_cursor",
    "page_of",
    "page_size",
]

#: Reading an entry refreshes its last-used time at most this often (saves a write per hit),
#: so "most recently used" in :meth:`Store.prune` is exact to within this interval.
TOUCH_INTERVAL_S = 86400.0
DEFAULT_PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000
#: Most hits one search returns (a larger limit is lowered to this).
MAX_SEARCH_LIMIT = 50
#: Sort key of a release list inside its package: before every document (versions are non-empty).
RELEASE_LIST_SORT_KEY = ""
#: A docs set's listing sort key is its version and this (no version has a space): right after its document.
DOCSET_SORT_SUFFIX = " docs set"


@dataclass(frozen=True, slots=True)
class CachedState:
    """What the cache holds of one package: its release list, the versions with a document, and
    the versions with a docs set or the stored reason they have none (``docsets``)."""

    release_list: ReleaseList | None = None
    versions: frozenset[str] = frozenset()
    docsets: frozenset[str] = frozenset()


#: Names per statement of :meth:`Store.cached_state` (SQLite allows 32766 parameters, but a
#: long ``IN`` list gains nothing).
CACHED_STATE_CHUNK = 500


def name_chunks(names: Sequence[str]) -> Iterator[list[str]]:
    """``names`` without repeats, in statements' worth for :meth:`Store.cached_state`."""
    unique = list(dict.fromkeys(names))
    for start in range(0, len(unique), CACHED_STATE_CHUNK):
        yield unique[start : start + CACHED_STATE_CHUNK]


#: The rows :meth:`Store.cached_state` reads besides release lists, in one statement (``{where}``
#: twice, with its parameters twice): ``(kind, name, version)``, kind ``d`` a document, ``s`` a docs set.
CACHED_VERSIONS_SQL = (
    "SELECT 'd', name, version FROM documents {where} UNION ALL SELECT 's', name, version FROM docsets {where}"
)


def cached_states(bodies: dict[str, str], rows: Iterable[tuple[str, str, str]]) -> dict[str, CachedState]:
    """What :meth:`Store.cached_state` returns, from the rows both stores read (release list
    bodies by name, and :data:`CACHED_VERSIONS_SQL`'s rows)."""
    versions: dict[str, set[str]] = {}
    docsets: dict[str, set[str]] = {}
    for kind, name, version in rows:
        (versions if kind == "d" else docsets).setdefault(name, set()).add(version)
    return {
        name: CachedState(
            decode_release_list(bodies.get(name), name),
            frozenset(versions.get(name, ())),
            frozenset(docsets.get(name, ())),
        )
        for name in bodies.keys() | versions.keys() | docsets.keys()
    }


def decode_release_list(body: str | None, name: str) -> ReleaseList | None:
    """A stored release list; None (with a warning) when the body no longer parses."""
    if body is None:
        return None
    try:
        return ReleaseList.from_json(json.loads(body))
    except (ValueError, KeyError, TypeError, IndexError):
        structlog.get_logger(__name__).warning("cache.unreadable_entry", name=name, kind="release_list")
        return None


class DocumentCounter:
    """Hit and miss counts of a store, and the one way a stored body becomes a document.

    A body that no longer parses (written by another version, damaged) is a miss with a
    warning, never an error: the caller fetches the document again and overwrites it. So is
    a document built by older code (``build`` below ``DOCUMENT_BUILD``).
    """

    hits: int
    misses: int

    def _decode_document(self, body: str | bytes | None, name: str, version: str) -> PackageDocument | None:
        if body is None:
            self.misses += 1
            return None
        try:
            document = PackageDocument.model_validate_json(body)
        except ValueError:
            structlog.get_logger(__name__).warning("cache.unreadable_entry", name=name, version=version)
            self.misses += 1
            return None
        if "build" not in document.model_fields_set or document.build < DOCUMENT_BUILD:  # built by older code
            structlog.get_logger(__name__).info("cache.outdated_document", name=name, version=version)
            self.misses += 1
            return None
        self.hits += 1
        return document

    def record_miss(self) -> None:
        """A document the caller knew was absent (from :meth:`Store.cached_state`) without reading it."""
        self.misses += 1


class CacheStats(BaseModel):
    backend: str
    location: str
    packages: int = Field(description="Distinct packages with anything cached.")
    documents: int = Field(description="Cached (package, exact version) documents.")
    release_lists: int
    api_references: int = Field(default=0, description="Cached API references (one per object path and version).")
    docsets: int = Field(default=0, description="Stored docs sets of releases (one per index, package and version).")
    size_bytes: int = Field(
        description="The store's size: SQLite, its files (the database, its WAL and shared-memory index); "
        "PostgreSQL, its tables with their indexes. Downloaded code is counted apart."
    )
    downloaded_code_bytes: int = Field(
        default=0, description="Code unpacked from releases' archives for API references (CACHE_DIR/code)."
    )
    hits: int = Field(description="Document lookups answered from memory or the store since this process started.")
    misses: int = Field(description="Document lookups neither had, since this process started.")
    indexes: dict[str, int] = Field(
        default_factory=dict,
        description="Cached documents, release lists and API references per index key (its URLs, no credentials).",
    )
    recovered_from_corruption: int = Field(default=0, description="Times a corrupt cache was moved aside.")
    pool_in_use: int | None = Field(default=None, description="Pooled connections checked out now (pooled stores).")
    pool_idle: int | None = Field(default=None, description="Pooled connections open and idle now.")
    pool_waiting: int | None = Field(default=None, description="Callers waiting for a pooled connection now.")
    pool_timeouts: int | None = Field(default=None, description="Checkouts that gave up (DatabaseBusy) so far.")


class CacheEntry(BaseModel):
    index: str = Field(description="The key of the index the entry came from: its URLs, without credentials.")
    name: str
    version: str | None = Field(description="The exact version (a document's or docs set's); None for a release list.")
    kind: Literal["document", "release_list", "docs_set"]
    last_used: float = Field(description="Unix time of the last use (a release list's fetch time).")


class EntryPage(BaseModel):
    """One page of :meth:`Store.list_entries`, ordered by (index, name, version); release list first,
    a version's docs set right after its document."""

    entries: list[CacheEntry]
    next_cursor: str | None = Field(description="Pass back to get the next page; None on the last page.")
    limit_applied: int
    clamped: bool = Field(description="True when the requested limit was above the maximum and was lowered.")


class SearchEntry(BaseModel):
    """One searchable unit of a cached document or API reference."""

    kind: Literal["section", "api"]
    path: str = Field(description="The section's title, or the documented object's dotted path.")
    text: str = Field(description="What is searched: the section's content, or signature and docstring.")


class SearchHit(BaseModel):
    """One match of :meth:`Store.search`, best first."""

    index: str = Field(description="The key of the index the docs came from: its URLs, without credentials.")
    package: str = Field(description="Normalized package name.")
    version: str = Field(description="The exact version whose docs matched.")
    kind: Literal["section", "api", "docs"] = Field(
        description="A section of the index's description, an entry of an API reference, or a section of a "
        "docs page from the release's own docs set."
    )
    path: str = Field(
        description="The section's title ('summary' for the summary), the object's dotted path, or for a docs "
        "hit 'page path: heading path'."
    )
    page_path: str | None = Field(default=None, description="Docs hits: the page's path inside the sdist.")
    heading_path: list[str] | None = Field(
        default=None, description="Docs hits: the section's headings, outermost first."
    )
    snippet: str = Field(description="A short excerpt around the match; matched words in **bold**.")
    score: float = Field(description="Relevance; higher is better. Comparable within one search only.")


@dataclass(frozen=True, slots=True)
class DocsetSectionHit:
    """One section of a docs set that matched a query, best first; ``section`` holds its whole blocks."""

    page_path: str
    page_title: str
    section: Section
    snippet: str
    score: float  # higher is better; comparable within one search only


@dataclass(frozen=True, slots=True)
class DocsetCandidate:
    """A section of one docs set that the full-text index found for a query, with its place:
    the position of its page in the set and its own position on that page."""

    page: int
    position: int
    section: Section


class Store(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def get_document(self, index_key: str, name: str, version: str) -> PackageDocument | None: ...

    async def put_document(self, index_key: str, document: PackageDocument) -> None: ...

    async def get_release_list(self, index_key: str, name: str) -> ReleaseList | None: ...

    async def cached_state(self, index_key: str, names: Sequence[str]) -> dict[str, CachedState]:
        """For each name with anything cached from this index: its release list, the versions
        with a document, and those with a docs set or a stored reason for none."""
        ...

    def record_miss(self) -> None: ...

    async def put_release_list(self, index_key: str, releases: ReleaseList) -> None: ...

    async def cached_versions(self, index_key: str, name: str) -> list[str]: ...

    async def known_names(self) -> list[str]:
        """Every name with anything cached, from any index (sorted, each once)."""
        ...

    async def clear(self, name: str | None = None) -> int:
        """Remove every entry of ``name`` (None: everything), from every index; returns how many."""
        ...

    async def stats(self) -> CacheStats: ...

    async def ping(self) -> None:
        """Raise :class:`~autodocs.errors.CacheError` unless the store answers a trivial query."""
        ...

    def pool_facts(self) -> dict[str, int] | None:
        """Connection-pool numbers (in_use, idle, waiting, timeouts) without a query; None if unpooled."""
        ...

    def size_bytes(self) -> int:
        """The store's size, cheaply (no query): for metrics."""
        ...

    async def prune(self, *, max_versions: int, unused_days: int) -> int:
        """Keep the ``max_versions`` most recently used versions per package of each index and drop every
        entry unused for ``unused_days`` (a release list counts as used when fetched).
        Returns the rows removed."""
        ...

    async def list_entries(self, *, cursor: str | None = None, limit: int = DEFAULT_PAGE_SIZE) -> EntryPage:
        """One page of every cached entry of every index (documents, release lists, stored docs
        sets). Keyset-paged: entries added or removed between pages never make a page repeat or
        skip an entry that stayed."""
        ...

    async def search(
        self,
        query: str,
        *,
        packages: list[tuple[str, str]] | None = None,
        index_key: str | None = None,
        limit: int = 10,
    ) -> list[SearchHit]:
        """The best matches of ``query``'s words, best first: hits having every word, else
        (when none has them all) hits having any. Matches in a title or object path weigh
        more than matches in the text.

        ``packages``: only these exact (normalized name, version) pairs; None: everything cached.
        ``index_key``: only what this index answered; None: every index.
        ``query`` is read as plain words (never as query syntax); raises
        :class:`~autodocs.errors.InvalidArgument` when it has none or when ``limit`` < 1;
        a ``limit`` above :data:`MAX_SEARCH_LIMIT` is lowered to it.
        """
        ...

    async def put_docset(
        self, index_key: str, name: str, version: str, docset: DocSet | None, *, missing_reason: str = ""
    ) -> None:
        """Store a release's docs set, or (``docset`` None) the ``missing_reason`` it has none,
        replacing what was stored. Readers see all of it or nothing: SQLite writes it in one
        transaction; PostgreSQL in batches that each fit the statement timeout, the set
        readable only once complete (a failed write removes its rows). It goes with its
        release when :meth:`prune` drops that document, or when unused for ``unused_days``;
        :meth:`clear` drops it with its package."""
        ...

    async def get_docset(self, index_key: str, name: str, version: str) -> DocSet | None:
        """The stored docs set rebuilt from its rows (frozen); None when none is stored, or the release has none."""
        ...

    async def docset_missing_reason(self, index_key: str, name: str, version: str) -> str | None:
        """The stored reason the release has no docs set; None when nothing is stored or it has one."""
        ...

    async def get_docset_outline(self, index_key: str, name: str, version: str) -> DocSet | None:
        """The stored docs set without its sections (pages with their paths, titles, toctrees and
        warnings; the table of contents; the warnings), read from its one header row: what a
        table of contents needs, at a fraction of :meth:`get_docset`'s cost. None as there."""
        ...

    async def docset_places(self, index_key: str, name: str, version: str) -> list[tuple[int, int]]:
        """(page, position) of every section of the stored docs set that has content, in reading
        order; [] when none is stored."""
        ...

    async def docset_sections_at(
        self, index_key: str, name: str, version: str, places: Sequence[tuple[int, int]]
    ) -> list[DocsetCandidate]:
        """The sections of the stored docs set at these (page, position) places, in no set order
        (a place with no section is left out)."""
        ...

    async def docset_candidates(
        self, index_key: str, name: str, version: str, query: str, limit: int
    ) -> list[DocsetCandidate]:
        """Up to ``limit`` sections of one release's docs set for ranking ``query`` (see
        :meth:`docset_sections`): those having every word, best first, then, while there is
        room, those having any; no snippets. [] when none is stored."""
        ...

    async def docset_sections(
        self, index_key: str, name: str, version: str, query: str, limit: int = 10
    ) -> list[DocsetSectionHit]:
        """The sections of one release's docs set best matching ``query``'s words (as :meth:`search`
        reads them), best first, each with its page and whole blocks; [] when none is stored."""
        ...

    async def search_docsets(
        self,
        query: str,
        *,
        packages: list[tuple[str, str]] | None = None,
        index_key: str | None = None,
        limit: int = 10,
    ) -> list[SearchHit]:
        """:meth:`search` over the sections of the stored docs sets of every index (None) or of
        ``index_key``'s (hits of kind "docs", each naming its index)."""
        ...

    async def get_api_reference(self, index_key: str, name: str, version: str, object_path: str) -> str | None:
        """The stored API reference (JSON text) of one object of one version, or None."""
        ...

    async def api_entries(self, index_key: str, name: str, version: str) -> list[SearchEntry]:
        """The indexed entries of this version's stored API references, in the order they were
        stored; [] when none is stored. Read by (index key, name, version) alone: the cost follows this
        version's references, never the size of the cache."""
        ...

    async def put_api_reference(
        self, index_key: str, name: str, version: str, object_path: str, body: str, entries: list[SearchEntry]
    ) -> None:
        """Store an API reference and index its ``entries`` (as kind "api") in one transaction;
        a put of an existing key replaces the body and all of its entries.

        An API reference goes with its version's document when :meth:`prune` drops that
        document, or on its own when unused for ``unused_days``; :meth:`clear` drops it with
        its package."""
        ...


def page_size(limit: int) -> tuple[int, bool]:
    """The page size to use for a requested ``limit`` and whether it was clamped."""
    if limit < 1:
        raise InvalidArgument(f"limit must be at least 1, not {limit}.")
    return min(limit, MAX_PAGE_SIZE), limit > MAX_PAGE_SIZE


#: A listing's position: (index key, name, sort key).
Position = tuple[str, str, str]
#: Where the first page starts: before every entry (names and versions are never empty).
FIRST_POSITION: Position = ("", "", "")


def encode_cursor(position: Position) -> str:
    """An opaque cursor for the position just after the entry (index key, name, sort_key)."""
    raw = json.dumps(list(position), separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> Position:
    """The (index key, name, sort_key) position a cursor from :func:`encode_cursor` stands for;
    the first page's position for None."""
    if cursor is None:
        return FIRST_POSITION
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        index_key, name, sort_key = json.loads(raw)
    except (binascii.Error, ValueError, TypeError, RecursionError):  # deep nesting: json recurses
        raise InvalidArgument("Not a cursor from a previous listing; start again without one.") from None
    if not all(isinstance(part, str) for part in (index_key, name, sort_key)):
        raise InvalidArgument("Not a cursor from a previous listing; start again without one.")
    return index_key, name, sort_key


def _entry(index_key: str, name: str, sort_key: str, last_used: float) -> CacheEntry:
    """A listing row (index key, name, sort key, last use) as a :class:`CacheEntry`."""
    if sort_key == RELEASE_LIST_SORT_KEY:
        return CacheEntry(index=index_key, name=name, version=None, kind="release_list", last_used=last_used)
    if sort_key.endswith(DOCSET_SORT_SUFFIX):
        version = sort_key.removesuffix(DOCSET_SORT_SUFFIX)
        return CacheEntry(index=index_key, name=name, version=version, kind="docs_set", last_used=last_used)
    return CacheEntry(index=index_key, name=name, version=sort_key, kind="document", last_used=last_used)


def page_of(rows: list[tuple[str, str, str, float]], size: int, clamped: bool) -> EntryPage:
    """Build the page from up to ``size + 1`` ordered rows (the extra one says more follow)."""
    shown = rows[:size]
    more = len(rows) > size
    return EntryPage(
        entries=[_entry(index_key, name, key, used) for index_key, name, key, used in shown],
        next_cursor=encode_cursor(shown[-1][:3]) if more else None,
        limit_applied=size,
        clamped=clamped,
    )
