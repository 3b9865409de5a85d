"""Which version a docs call documents, and its document: memory, the store, else the index.

A docs request goes: name check → version constraint → release list (cache when fresh, else
the index) → exact version → document (cache, else built from the index's metadata and
cached). Fast paths keep the cold path to one upstream request where possible:

- an exact pin (``==X``) fetches that version's page directly (a version the index's fresh
  listing lacks is ``VersionNotFound`` with the nearest it lists);
- the project page that carries the release list also carries the latest version's metadata;
- a cached list that allows no version is refreshed once before ``VersionNotFound``;
- what the store holds of a package (its release list, the versions with a document) is read
  once per call through :mod:`autodocs.cache.batch`, which gathers every package asked for in
  the same turn of the event loop into one ``Store.cached_state`` read: a cold 100-package
  context reads the store once, and a version the store does not list is a miss without a read;
- concurrent identical fetches share one upstream call (:mod:`.machinery.flight`);
- an index failure with an expired list in the store serves the stale list, marked ``stale``,
  and with no list at all, the newest cached document the constraint allows.

In-memory memos sit in front of the store. Documents are immutable per version, so they never
serve anything the store would not; a version chosen from a list is remembered per (name,
constraint, list) so a newer list chooses again. Everything kept, in memory or in the store, and
every shared upstream call, is keyed by the index client's ``cache_key`` too
(:mod:`autodocs.index.keys`): one index's ``foo`` is never served as another's.
"""

from __future__ import annotations

import difflib
import functools
import time
from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal, TypeVar

import structlog
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

from autodocs.cache import Store
from autodocs.cache.base import CachedState
from autodocs.cache.batch import CachedStates
from autodocs.config import Settings
from autodocs.docs.model import PackageDocument
from autodocs.docs.pages import count_costs
from autodocs.errors import CacheError, PackageNotFound, UpstreamError, VersionNotFound
from autodocs.index import ReleaseList, VersionMetadata
from autodocs.index.models import DistFile, VersionNotListed
from autodocs.memo import LruMap
from autodocs.resolve import ResolvedVersion, exact_pin, nearest_versions, parse_constraint, resolve_version
from autodocs.usecases.machinery.calls import CallLimits
from autodocs.usecases.machinery.flight import SingleFlight
from autodocs.usecases.machinery.writebehind import WriteBehind

if TYPE_CHECKING:  # its HTTP stack is imported when a service opens, not with this module
    from autodocs.index import IndexClient

__all__ = ["Resolution", "Resolved"]

log = structlog.get_logger(__name__)
T = TypeVar("T")

_MEMORY_DOCUMENTS = 512
_MEMORY_RELEASE_LISTS = 1024


@dataclass(slots=True)
class Resolved:
    document: PackageDocument
    source: Literal["cache", "index"]
    latest: str | None
    stale: bool
    index_key: str  # of the index client that answered (or would have): what memos key it by
    #: What the store held of the package when this call read it (None: memory answered, no
    #: read): the docs call learns from it, without a read of its own, that no docs set is stored.
    state: CachedState | None = None
    #: The release's files as the index listed them, when this call fetched its metadata (empty
    #: otherwise): the docs call sees from the listed sdist size whether a docs-set build is quick.
    files: tuple[DistFile, ...] = ()


class Resolution:
    """The version and document a constraint picks, with the memos and counters behind them."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        index: IndexClient,
        *,
        calls: CallLimits,
        flights: SingleFlight,
        writes: WriteBehind,
    ) -> None:
        self._settings = settings
        self._store = store
        self._index = index
        self._calls = calls
        self._flights = flights
        self._writes = writes
        # Keyed (index key, name, ...): see the module docstring.
        self.documents: LruMap[tuple[str, str, str], PackageDocument] = LruMap(_MEMORY_DOCUMENTS)
        self.release_lists: LruMap[tuple[str, str], ReleaseList] = LruMap(_MEMORY_RELEASE_LISTS)
        self.resolutions: LruMap[tuple[str, str, str, float], ResolvedVersion] = LruMap(_MEMORY_RELEASE_LISTS)
        self.cached_states = CachedStates(store)  # cold calls that start together share one read
        self.project_names: set[str] = set()  # names scanned projects depend on: suggestions
        self.cache_hits = self.cache_misses = 0  # document lookups, from memory or the store

    def forget(self, name: str | None) -> None:
        """Drop what memory holds of ``name`` (None: of every package)."""
        if name is None:
            for memo in (self.documents, self.release_lists, self.resolutions):
                memo.clear()
            return
        for keyed in (self.documents, self.release_lists, self.resolutions):
            keyed.discard_where(lambda key: key[1] == name)

    async def resolve_exact_version(
        self, name: str, constraint: str | None, *, index: IndexClient | None = None
    ) -> str:
        """The exact version a docs call with ``constraint`` would document (caches its docs too)."""
        async with self._calls.deadline(f"resolving {name}"):
            resolved = await self.resolve(name, constraint, index=index)
        return resolved.document.version

    async def resolve(self, name: str, constraint: str | None, *, index: IndexClient | None = None) -> Resolved:
        """The version ``constraint`` picks and its document, from ``index`` (default: the server's
        own indexes; a project's comes from :mod:`autodocs.usecases.project_indexes`). Every memo
        and store read below is made through ``lookup``, which carries that client."""
        specifiers = parse_constraint(constraint)
        pin = exact_pin(specifiers)
        lookup = _Lookup(self.cached_states, index or self._index, name)

        def answer(
            document: PackageDocument,
            source: Literal["cache", "index"],
            latest: str | None,
            stale: bool,
            files: tuple[DistFile, ...] = (),
        ) -> Resolved:
            return Resolved(document, source, latest, stale, lookup.index_key, lookup.known_state, files)

        if pin is not None:
            cached = await self._cached_document(lookup, pin)
            if cached is not None:
                return answer(cached, "cache", None, False)
            try:  # the index client falls down its sources; "not listed" is its own fresh answer
                metadata = await self._fetch_version(lookup, pin)
                document = await self._store_document(lookup.index_key, metadata)
                return answer(document, "index", None, False, metadata.files)
            except VersionNotListed as exc:
                self._remember_release_list(lookup.index_key, exc.releases)
                raise VersionNotFound(
                    exc.message, available_versions=nearest_versions(exc.releases, specifiers)
                ) from None
        started = time.time()
        try:
            releases, latest, stale = await self._release_list(lookup)
            chosen = self._choose(lookup, specifiers, releases)
        except VersionNotFound:  # a list cached before this call may predate the release: ask once more
            if releases.fetched_at >= started or stale:
                raise
            releases, latest, stale = await self._release_list(lookup, refresh=True)
            chosen = self._choose(lookup, specifiers, releases)
        except UpstreamError:
            fallback = await self._newest_cached(lookup, specifiers)
            if fallback is None:
                raise
            log.warning("service.stale_document", package=name, version=fallback.version)
            return answer(fallback, "cache", None, True)
        cached = await self._cached_document(lookup, chosen.version)
        if cached is not None:
            return answer(cached, "cache", releases.latest, stale)
        if latest is not None and latest.version == chosen.version:
            document = await self._store_document(lookup.index_key, latest)
            return answer(document, "index", releases.latest, stale, latest.files)
        try:
            metadata = await self._fetch_version(lookup, chosen.version)
        except VersionNotListed as exc:  # the list named a release the index no longer lists
            self._remember_release_list(lookup.index_key, exc.releases)
            chosen = self._choose(lookup, specifiers, releases := exc.releases)
            metadata = await self._fetch_version(lookup, chosen.version)
        document = await self._store_document(lookup.index_key, metadata)
        return answer(document, "index", releases.latest, stale, metadata.files)

    def _choose(self, lookup: _Lookup, specifiers: SpecifierSet, releases: ReleaseList) -> ResolvedVersion:
        memo_key = (lookup.index_key, lookup.name, str(specifiers), releases.fetched_at)  # a newer list chooses again
        chosen = self.resolutions.get(memo_key)
        if chosen is None:
            chosen = resolve_version(releases, specifiers)
            self.resolutions.put(memo_key, chosen)
        return chosen

    async def _fetch_version(self, lookup: _Lookup, version: str) -> VersionMetadata:
        name = lookup.name
        try:  # the index is part of the key: two indexes' "foo 1.0" are two fetches
            flight = ("version", lookup.index_key, name, version)
            return await self._flights.run(flight, lookup.index.fetch_version, name, version)
        except PackageNotFound as exc:
            raise await self._with_candidates(name, exc) from None

    async def _release_list(
        self, lookup: _Lookup, *, refresh: bool = False
    ) -> tuple[ReleaseList, VersionMetadata | None, bool]:
        """The release list (fresh from cache, else the index) and the latest metadata if fetched."""
        name, memo_key = lookup.name, (lookup.index_key, lookup.name)
        cached = self.release_lists.get(memo_key) or (await lookup.state()).release_list
        if cached is not None and self._fresh(cached) and not refresh:
            self.release_lists.put(memo_key, cached)
            return cached, None, False
        try:
            flight = ("project", lookup.index_key, name)
            releases, latest = await self._flights.run(flight, lookup.index.fetch_project, name)
        except PackageNotFound as exc:
            raise await self._with_candidates(name, exc) from None
        except UpstreamError as exc:
            if cached is None:
                raise
            log.warning("service.stale_release_list", package=name, error=exc.type_name)
            return cached, None, True
        self._remember_release_list(lookup.index_key, releases)
        return releases, latest, False

    def _remember_release_list(self, index_key: str, releases: ReleaseList) -> None:
        self.release_lists.put((index_key, releases.name), releases)
        self._writes.queue(functools.partial(self._store.put_release_list, index_key, releases))

    def _fresh(self, releases: ReleaseList) -> bool:
        """Whether a release list is young enough to choose a version from (RELEASE_LIST_TTL)."""
        return time.time() - releases.fetched_at < self._settings.release_list_ttl

    async def _newest_cached(self, lookup: _Lookup, specifiers: SpecifierSet) -> PackageDocument | None:
        """When the index cannot be asked: the newest cached version the constraint allows."""
        await self._writes.flush()  # what this process has just fetched counts too
        allowed = []
        for version in await self._store.cached_versions(lookup.index_key, lookup.name):
            try:
                parsed = Version(version)
            except InvalidVersion:
                continue
            if specifiers.contains(parsed, prereleases=True):
                allowed.append((parsed, version))
        if not allowed:
            return None
        return await self._cached_document(lookup, max(allowed)[1], read_state=False)

    async def _cached_document(
        self, lookup: _Lookup, version: str, *, read_state: bool = True
    ) -> PackageDocument | None:
        """From memory, else the store; with ``read_state``, the package's cached state tells
        when the store has none (no read then)."""
        memo_key = (lookup.index_key, lookup.name, version)
        document = self.documents.get(memo_key)
        if document is not None:
            self.cache_hits += 1
            return document
        if read_state and version not in (await lookup.state()).versions:
            self._store.record_miss()
            self.cache_misses += 1
            return None
        document = await self._store_read(self._store.get_document(*memo_key))
        if document is None:
            self.cache_misses += 1
            return None
        self.cache_hits += 1
        self.documents.put(memo_key, document)
        return document

    async def _store_read(self, read: Awaitable[T]) -> T | None:
        """A cache read that fails (database down, pool busy) is a miss: the index can still answer."""
        try:
            return await read
        except CacheError as exc:
            log.warning("cache.read_failed", error=exc.type_name, message=exc.message)
            return None

    async def _store_document(self, index_key: str, metadata: VersionMetadata) -> PackageDocument:
        # Imported here: the README parsers (docutils, markdown-it-py) are not needed to answer a
        # stdio ``initialize``; the server's warm-up imports them right after it (service_slot).
        from autodocs.docs.build import build_document

        document = build_document(metadata, max_description_chars=self._settings.max_doc_size)
        self.documents.put((index_key, document.name, document.version), document)
        self._writes.queue(functools.partial(self._put_document, index_key, document))
        return document

    async def _put_document(self, index_key: str, document: PackageDocument) -> None:
        # After the reply: the stored copy carries what pages cut later, here or by another
        # process, need; the document in memory stays as it was handed out.
        await self._store.put_document(index_key, count_costs(document))

    async def _with_candidates(self, name: str, error: PackageNotFound) -> PackageNotFound:
        known = set(await self._store.known_names()) | self.project_names
        known |= {listed for _, listed in self.release_lists.key_list()}
        known |= {document_name for _, document_name, _ in self.documents.key_list()}
        candidates = difflib.get_close_matches(name, sorted(known), n=5, cutoff=0.6)
        suggestions = [f"Did you mean: {', '.join(candidates)}?"] if candidates else []
        suggestions += error.suggestions
        return PackageNotFound(error.message, suggestions=suggestions, candidates=candidates)


class _Lookup:
    """One package of one index for one call: its :class:`CachedState`, read (batched) at most
    once, if needed. ``index``: the client that serves the call; what is read or remembered is
    filed under its ``cache_key``."""

    __slots__ = ("_state", "_states", "index", "index_key", "name")

    def __init__(self, states: CachedStates, index: IndexClient, name: str) -> None:
        self._states = states
        self.index = index
        self.index_key = index.cache_key
        self.name = name
        self._state: CachedState | None = None

    async def state(self) -> CachedState:
        if self._state is None:
            self._state = await self._states.get(self.index_key, self.name)
        return self._state

    @property
    def known_state(self) -> CachedState | None:
        """The state if this call has read it, else None (never a read)."""
        return self._state
