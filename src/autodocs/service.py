"""The use cases that the MCP tools and the CLI call. No transport code lives here.

A docs request goes: name check → version constraint → release list (cache when fresh,
else the index) → exact version → document (cache, else built from the index's
metadata and cached) → one budgeted page. Fast paths keep the cold path to one upstream
request where possible: an exact pin fetches that version's page directly, and the
project page that carries the release list also carries the latest version's metadata.

Every public method runs under the ``REQUEST_TIMEOUT`` deadline (per package for
multi-package calls) and raises only :mod:`autodocs.errors` classes.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import difflib
import functools
import json
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

import anyio
import structlog
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, Field

from autodocs import underway
from autodocs.api_reference import ApiReferences
from autodocs.cache import CacheStats, Store, open_store
from autodocs.cache.base import CachedState, EntryPage
from autodocs.cache.batch import CachedStates
from autodocs.cache.search import clip_snippet
from autodocs.config import Settings
from autodocs.deadline import deadline_scope
from autodocs.doc_search import SearchResult, search_cached_docs
from autodocs.docs.budget import decode_cursor
from autodocs.docs.build import build_document
from autodocs.docs.model import ApiMatch, DocsPage, PackageDocument
from autodocs.docs.pages import MIN_TOKENS, PageRequest, count_costs, make_page
from autodocs.docs.ranking import best_matches
from autodocs.docs.tokens import count_tokens
from autodocs.errors import (
    AutoDocsError,
    CacheError,
    InvalidArgument,
    PackageNotFound,
    PathNotAllowed,
    UpstreamError,
    UpstreamTimeout,
    VersionNotFound,
    to_error_payload,
)
from autodocs.index import ReleaseList, VersionMetadata, normalize_package_name
from autodocs.index.models import VersionNotListed
from autodocs.manifests import ScanResult, SkippedDependency, docs_requests, scan_project
from autodocs.memo import LruMap
from autodocs.resolve import ResolvedVersion, exact_pin, nearest_versions, parse_constraint, resolve_version
from autodocs.sources.archives import downloaded_code_bytes

if TYPE_CHECKING:  # its HTTP stack is imported when a service opens, not with this module
    from autodocs.index import IndexClient

__all__ = [
    "AutoDocsService",
    "ContextResult",
    "FailedPackage",
    "ProjectContextResult",
    "PruneResult",
    "RefreshResult",
    "SearchResult",
]

log = structlog.get_logger(__name__)
T = TypeVar("T")
#: Called as each package of a multi-package call finishes: (name, succeeded, total).
ProgressHook = Callable[[str, bool, int], Awaitable[None]]

#: In-memory speed-ups in front of the store. Documents are immutable per version and pages
#: are pure functions of (document, request), so these never serve anything the store would not.
_MEMORY_DOCUMENTS = 512
_MEMORY_PAGES = 256
_MEMORY_RELEASE_LISTS = 1024
#: Cache writes wait this long so that the reply which caused them is sent first.
_WRITE_DELAY_S = 0.005
#: While calls are running, queued cache writes wait (up to this long) so that serializing and
#: indexing documents does not compete with the calls for the CPU; they run once it is quiet.
_MAX_WRITE_DEFER_S = 2.0
_WRITE_DEFER_POLL_S = 0.02
#: Read-ahead (:meth:`AutoDocsService.read_ahead`): at most this many resolutions started before
#: their call was dispatched, each kept this long after it ends for its call to take over.
_MAX_READ_AHEAD = 16
_READ_AHEAD_KEEP_S = 5.0
#: A dependency shown with context gets at least this many tokens.
_MIN_TOKENS_PER_PACKAGE = MIN_TOKENS
#: API entries a docs page with a query lists next to the sections.
_MAX_API_MATCHES = 3


class FailedPackage(BaseModel):
    name: str
    error_type: str
    message: str
    retryable: bool
    suggestions: list[str] = Field(default_factory=list)


class ContextResult(BaseModel):
    """A package's docs plus a shorter page for each of its runtime dependencies."""

    package: DocsPage
    succeeded: list[DocsPage] = Field(default_factory=list, description="Dependencies whose docs were fetched.")
    failed: list[FailedPackage] = Field(default_factory=list, description="Dependencies that failed, and why.")
    skipped_dependencies: list[str] = Field(
        default_factory=list, description="Runtime dependencies beyond max_dependencies."
    )
    skipped: list[SkippedDependency] = Field(
        default_factory=list, description="Runtime dependencies not documented here, each with the reason."
    )
    partial: bool = False
    completion_rate: float = 1.0
    tokens: int = 0


class ProjectContextResult(BaseModel):
    project_path: str
    scan: ScanResult
    succeeded: list[DocsPage] = Field(default_factory=list)
    failed: list[FailedPackage] = Field(default_factory=list)
    skipped: list[SkippedDependency] = Field(default_factory=list, description="Not documented, and why.")
    partial: bool = False
    completion_rate: float = 1.0


class PruneResult(BaseModel):
    removed_entries: int
    max_versions: int
    cleanup_days: int


class RefreshResult(BaseModel):
    scope: str
    removed_entries: int
    message: str


@dataclass(slots=True)
class _Resolved:
    document: PackageDocument
    source: Literal["cache", "index"]
    latest: str | None
    stale: bool


class AutoDocsService:
    def __init__(
        self, settings: Settings, store: Store, index: IndexClient, *, allowed_roots: list[Path] | None = None
    ) -> None:
        self.settings = settings
        self.allowed_roots = [root.resolve() for root in allowed_roots] if allowed_roots is not None else None
        self.store = store
        self.index = index
        self._documents: LruMap[tuple[str, str], PackageDocument] = LruMap(_MEMORY_DOCUMENTS)
        self._pages: LruMap[tuple[str, str, PageRequest], DocsPage] = LruMap(_MEMORY_PAGES)
        self._release_lists: LruMap[str, ReleaseList] = LruMap(_MEMORY_RELEASE_LISTS)
        self.cached_states = CachedStates(store)  # cold calls that start together share one read
        self._resolutions: LruMap[tuple[str, str, float], ResolvedVersion] = LruMap(_MEMORY_RELEASE_LISTS)
        self._inflight: dict[tuple[str, ...], _Flight] = {}
        self._read_ahead: dict[tuple[str, str | None], asyncio.Task[_Resolved]] = {}
        self._pending_writes: deque[Callable[[], Awaitable[None]]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._project_names: set[str] = set()
        self.api = ApiReferences(self)
        self._active_calls = 0  # calls inside their deadline now (queued writes wait for quiet)
        self.cache_hits = self.cache_misses = 0  # document lookups, from memory or the store
        self._flushing = 0

    @classmethod
    @asynccontextmanager
    async def running(
        cls, settings: Settings, *, allowed_roots: list[Path] | None = None
    ) -> AsyncIterator[AutoDocsService]:
        """Open the store and the index client; close both on exit, whatever happens.

        ``allowed_roots``: folders ``scan`` may read (resolved, symlinks included); None: any.
        """
        from autodocs.index import IndexClient

        store = open_store(settings)
        await store.open()
        index = IndexClient(settings)
        service = cls(settings, store, index, allowed_roots=allowed_roots)
        try:
            yield service
        finally:
            # Shielded: whatever ended the session (a client that stopped reading cancels
            # everything under the MCP session), the queued cache writes land and the store closes.
            with anyio.CancelScope(shield=True):
                await service._stop_read_ahead()
                await service.api.aclose()
                await service._flush_before_close(settings.shutdown_timeout)
                await index.aclose()
                await store.close()

    async def flush_writes(self) -> None:
        """Wait until every cache write queued so far is done (they run behind the replies)."""
        self._flushing += 1
        try:
            while self._writer is not None and not self._writer.done():
                await asyncio.shield(self._writer)
        finally:
            self._flushing -= 1

    async def _flush_before_close(self, within: float) -> None:
        """:meth:`flush_writes`, for at most ``within`` seconds (``SHUTDOWN_TIMEOUT``): a store
        that has stopped answering must not hold the process past its grace period. Writes
        still queued then are dropped (a later miss, never a half-written entry)."""
        with anyio.move_on_after(within):
            await self.flush_writes()
            return
        writer, self._writer = self._writer, None
        queued = len(self._pending_writes)
        self._pending_writes.clear()
        if writer is not None:
            writer.cancel()  # the write underway is rolled back, not left half-done
            await asyncio.gather(writer, return_exceptions=True)
        log.warning("cache.writes_dropped", queued=queued, waited_s=within)

    # -- scanning ----------------------------------------------------------------------

    async def scan(self, project_path: str) -> ScanResult:
        self._check_allowed(project_path)
        result = await asyncio.to_thread(
            scan_project, project_path, max_bytes=self.settings.max_manifest_bytes, roots=self.allowed_roots
        )
        self._project_names.update(dependency.name for dependency in result.dependencies)
        return result

    def _check_allowed(self, project_path: str) -> None:
        if self.allowed_roots is None:
            return
        try:
            resolved = Path(project_path).expanduser().resolve()
        except (OSError, ValueError, RuntimeError):
            resolved = None
        if resolved is not None and any(resolved.is_relative_to(root) for root in self.allowed_roots):
            return
        roots = ", ".join(str(root) for root in self.allowed_roots)
        raise PathNotAllowed(
            f"{project_path[:300]} is outside the folders this server may read ({roots}); nothing was read.",
            suggestions=["Pass a project folder under those roots, or have the operator set AUTODOCS_ALLOWED_ROOTS."],
            allowed_roots=[str(root) for root in self.allowed_roots],
        )

    async def readiness(self) -> dict[str, Any]:
        """Whether this process can serve: the cache answers (the index may be down: stale data serves)."""
        cache = "ok"
        try:
            async with asyncio.timeout(2.0):
                await self.store.ping()
        except (AutoDocsError, TimeoutError) as exc:
            cache = f"unavailable: {exc}"
        return {"cache": cache, "circuits": self.index.fetcher.breaker_states(), "ready": cache == "ok"}

    # -- API reference (the use case lives in autodocs.api_reference) ------------------

    async def get_api_reference(
        self,
        package_name: str,
        object_path: str | None = None,
        *,
        project_path: str | None = None,
        version_constraint: str | None = None,
        max_tokens: int | None = None,
    ) -> dict[str, Any]:
        """The package's API (signatures, parsed docstrings) from its code; see :class:`ApiReferences`."""
        return await self.api.get(
            package_name,
            object_path,
            project_path=project_path,
            version_constraint=version_constraint,
            max_tokens=max_tokens,
        )

    async def resolve_exact_version(self, name: str, constraint: str | None) -> str:
        """The exact version a docs call with ``constraint`` would document (caches its docs too)."""
        async with self._deadline(f"resolving {name}"):
            resolved = await self._resolve(name, constraint)
        return resolved.document.version

    def budget(self, max_tokens: int | None) -> int:
        return self._budget(max_tokens)

    def deadline(self, what: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self._deadline(what)

    async def single_flight(
        self, key: tuple[str, ...], function: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
    ) -> T:
        return await self._single_flight(key, functools.partial(function, **kwargs), *args)

    def write_behind(self, write: Callable[[], Awaitable[None]]) -> None:
        self._write_behind(write)

    # -- docs for one package ----------------------------------------------------------

    async def get_package_docs(
        self,
        package_name: str,
        version_constraint: str | None = None,
        *,
        query: str | None = None,
        max_tokens: int | None = None,
        sections: list[str] | None = None,
        cursor: str | None = None,
    ) -> DocsPage:
        name = normalize_package_name(package_name)
        budget = self._budget(max_tokens)
        wanted = tuple(s for s in (sections or []) if s.strip())
        start = None
        if cursor:
            start = decode_cursor(cursor)
            if start.name != name:
                raise InvalidArgument(f"That cursor belongs to {start.name!r}, not {name!r}.")
            version_constraint, query, wanted = f"=={start.version}", start.query, start.sections
        async with self._deadline(f"docs for {name}"):
            resolved = await self._resolved(name, version_constraint)
        matches = await self._api_matches(name, resolved.document.version, query) if query and not start else []
        reserve = count_tokens(json.dumps([m.model_dump() for m in matches])) + 8 if matches else 0
        if budget - reserve < MIN_TOKENS:
            matches, reserve = [], 0
        request = PageRequest(
            budget=budget - reserve,
            constraint=version_constraint,
            query=query,
            wanted=wanted,
            start=start,
            source=resolved.source,
            latest=resolved.latest,
            stale=resolved.stale,
        )
        page = self._page(resolved.document, request)
        return page.model_copy(update={"api_matches": matches}) if matches else page

    async def _api_matches(self, name: str, version: str, query: str) -> list[ApiMatch]:
        """The best entries of this version's cached API reference for the query (none if not
        cached). Only this version's entries are read and ranked, never the cache's search
        index, so the cost does not grow with the cache (bench/docs_query.py)."""
        try:
            entries = await self.store.api_entries(name, version)
        except AutoDocsError:  # the store is unavailable: the page goes without
            return []
        best = best_matches(query, [(entry.path, entry.text) for entry in entries], _MAX_API_MATCHES)
        return [ApiMatch(path=entries[i].path, snippet=clip_snippet(entries[i].text)) for i in best]

    async def get_docs_with_context(
        self,
        package_name: str,
        version_constraint: str | None = None,
        *,
        include_dependencies: bool = True,
        max_dependencies: int | None = None,
        max_tokens: int | None = None,
        on_progress: ProgressHook | None = None,
    ) -> ContextResult:
        budget = self._budget(max_tokens)
        limit = self._dependency_limit(max_dependencies)
        name = normalize_package_name(package_name)
        async with self._deadline(f"docs for {name}"):
            resolved = await self._resolved(name, version_constraint)
        runtime = _runtime_requirements(resolved.document)
        chosen = runtime[:limit] if include_dependencies else []
        main_budget = budget if not chosen else max(budget // 2, budget - _MIN_TOKENS_PER_PACKAGE * len(chosen))
        package = self._page(
            resolved.document,
            PageRequest(
                budget=main_budget,
                constraint=version_constraint,
                source=resolved.source,
                latest=resolved.latest,
                stale=resolved.stale,
            ),
        )
        beyond = [name for name, _ in runtime[len(chosen) :]]
        why = f"beyond max_dependencies ({limit})" if include_dependencies else "include_dependencies is false"
        result = ContextResult(package=package, skipped_dependencies=beyond)
        result.skipped = [SkippedDependency(name=name, reason=why) for name in beyond]
        if chosen:
            each = max(_MIN_TOKENS_PER_PACKAGE, (budget - package.tokens) // len(chosen))

            async def one(dependency: str, spec: str | None) -> DocsPage | FailedPackage:
                outcome = await self._page_or_failure(dependency, spec, each)
                if on_progress is not None:
                    await on_progress(dependency, not isinstance(outcome, FailedPackage), len(chosen))
                return outcome

            outcomes = await asyncio.gather(*(one(dep, spec) for dep, spec in chosen))
            for outcome in outcomes:
                if isinstance(outcome, FailedPackage):
                    result.failed.append(outcome)
                else:
                    result.succeeded.append(outcome)
        total = 1 + len(chosen)
        result.partial = bool(result.failed)
        result.completion_rate = round((total - len(result.failed)) / total, 4)
        result.tokens = package.tokens + sum(page.tokens for page in result.succeeded)
        return result

    async def project_context(
        self,
        project_path: str,
        *,
        max_tokens: int | None = None,
        on_progress: ProgressHook | None = None,
    ) -> ProjectContextResult:
        """Scan the project, then docs for every dependency (lock pins first), concurrently."""
        scan = await self.scan(project_path)
        wanted = docs_requests(scan.dependencies)  # what cannot be documented is in scan.skipped
        budget = self._budget(max_tokens)
        each = max(_MIN_TOKENS_PER_PACKAGE, budget // max(1, len(wanted)))

        async def one(name: str, constraint: str | None) -> DocsPage | FailedPackage:
            outcome = await self._page_or_failure(name, constraint, each)
            if on_progress is not None:
                await on_progress(name, not isinstance(outcome, FailedPackage), len(wanted))
            return outcome

        outcomes = await asyncio.gather(*(one(name, spec) for name, spec in wanted.items()))
        result = ProjectContextResult(project_path=scan.project_path, scan=scan, skipped=scan.skipped)
        for outcome in outcomes:
            (result.failed if isinstance(outcome, FailedPackage) else result.succeeded).append(outcome)  # type: ignore[arg-type]
        result.partial = bool(result.failed) or scan.partial
        result.completion_rate = round(len(result.succeeded) / len(wanted), 4) if wanted else 1.0
        return result

    # -- cache -------------------------------------------------------------------------

    async def cache_stats(self) -> CacheStats:
        """Hits and misses: this process's document lookups answered from memory or the store,
        or not; sizes: the store's own, and apart, the code downloaded for API references."""
        await self.flush_writes()  # count what this process has just cached, too
        stats, code = await asyncio.gather(
            self.store.stats(), asyncio.to_thread(downloaded_code_bytes, self.settings.cache_dir)
        )
        update = {"hits": self.cache_hits, "misses": self.cache_misses, "downloaded_code_bytes": code}
        return stats.model_copy(update=update)

    async def prune_cache(self) -> PruneResult:
        """Drop versions beyond MAX_VERSIONS per package and entries unused for CLEANUP_DAYS."""
        await self.flush_writes()
        removed = await self.store.prune(
            max_versions=self.settings.max_versions, unused_days=self.settings.cleanup_days
        )
        if removed:
            for memo in (self._documents, self._pages, self._release_lists, self._resolutions):
                memo.clear()
        return PruneResult(
            removed_entries=removed,
            max_versions=self.settings.max_versions,
            cleanup_days=self.settings.cleanup_days,
        )

    async def list_cache(self, *, cursor: str | None = None, limit: int = 100) -> EntryPage:
        """One page of what the cache holds; pass next_cursor for the next page."""
        await self.flush_writes()
        return await self.store.list_entries(cursor=cursor, limit=limit)

    async def refresh(self, package_name: str | None = None) -> RefreshResult:
        """Forget cached entries (one package, or all) so the next call asks the index again."""
        if package_name is None:
            await self.flush_writes()
            removed = await self.store.clear()
            for memo in (self._documents, self._pages, self._release_lists, self._resolutions):
                memo.clear()
            self._read_ahead.clear()
            return RefreshResult(scope="all", removed_entries=removed, message="The whole cache was cleared.")
        name = normalize_package_name(package_name)
        await self.flush_writes()
        removed = await self.store.clear(name)
        self._documents.discard_where(lambda key: key[0] == name)
        self._pages.discard_where(lambda key: key[0] == name)
        self._release_lists.discard_where(lambda key: key == name)
        self._resolutions.discard_where(lambda key: key[0] == name)
        for key in [key for key in self._read_ahead if key[0] == name]:
            del self._read_ahead[key]
        return RefreshResult(
            scope=name,
            removed_entries=removed,
            message=f"Cleared {removed} cached entries of {name!r}; the next request fetches fresh data.",
        )

    # -- search (the use case lives in autodocs.doc_search) ----------------------------

    async def search_docs(
        self,
        query: str,
        *,
        project_path: str | None = None,
        packages: list[str] | None = None,
        limit: int = 10,
    ) -> SearchResult:
        """Full-text search over the cached docs, optionally only the project's or the named packages'."""
        return await search_cached_docs(self, query, project_path=project_path, packages=packages, limit=limit)

    # -- internals ---------------------------------------------------------------------

    def _dependency_limit(self, max_dependencies: int | None) -> int:
        limit = self.settings.max_deps if max_dependencies is None else max_dependencies
        if limit < 0 or limit > 100:
            raise InvalidArgument(f"max_dependencies must be between 0 and 100, not {limit}.")
        return limit

    def _budget(self, max_tokens: int | None) -> int:
        if max_tokens is None:
            return self.settings.max_tokens
        if max_tokens < MIN_TOKENS or max_tokens > 1_000_000:
            raise InvalidArgument(
                f"max_tokens must be between {MIN_TOKENS} and 1000000, not {max_tokens}: "
                "a smaller reply cannot hold the header and a useful piece of the docs.",
                suggestions=[f"Omit it to use the default ({self.settings.max_tokens})."],
            )
        return max_tokens

    @asynccontextmanager
    async def _deadline(self, what: str) -> AsyncIterator[None]:
        limit = self.settings.request_timeout
        self._active_calls += 1
        try:
            with deadline_scope(limit):
                async with asyncio.timeout(limit):
                    yield
        except TimeoutError:
            raise UpstreamTimeout(
                f"Gave up on {what} after the {limit:g} s deadline.",
                suggestions=["Try again; raise AUTODOCS_REQUEST_TIMEOUT if the package index is slow."],
            ) from None
        finally:
            self._active_calls -= 1

    async def _page_or_failure(self, name: str, constraint: str | None, budget: int) -> DocsPage | FailedPackage:
        try:
            return await self.get_package_docs(name, constraint, max_tokens=budget)
        except AutoDocsError as exc:
            return _failure(name, exc)
        except Exception as exc:  # one package's bug must not fail the batch
            log.exception("service.package_failed", package=name)
            return _failure(name, exc)

    # -- read-ahead --------------------------------------------------------------------

    def read_ahead(
        self,
        package_name: str,
        version_constraint: str | None,
        *,
        max_tokens: int | None = None,
        max_dependencies: int | None = None,
    ) -> asyncio.Future[None] | None:
        """Start resolving a docs call's package while the call is still being dispatched.

        A transport that has just read a ``get_package_docs`` request calls this before handing
        the message to the MCP SDK, which parses, validates and dispatches it before our tool
        runs (0.7-0.9 ms of a cold stdio call on 2 cores, bench/stdio_latency.py). Started
        here, the index request is on its way meanwhile; the call takes the resolution over
        (:meth:`_resolved`). It does exactly what the call would: the same memory and store
        lookups, the same single-flight index requests, under the same deadline, its result
        cached the same way. Nothing is started for what memory already answers, for arguments
        the call will reject before resolving (the call reports them), or past
        ``_MAX_READ_AHEAD`` waiting. One never taken over (its call failed validation) is dropped
        ``_READ_AHEAD_KEEP_S`` after it ends. Never raises.
        """
        if len(self._read_ahead) >= _MAX_READ_AHEAD:
            return None
        try:
            self._budget(max_tokens)
            self._dependency_limit(max_dependencies)
            name = normalize_package_name(package_name)
            specifiers = parse_constraint(version_constraint)
        except AutoDocsError:
            return None
        key = (name, version_constraint)
        if key in self._read_ahead or self._answered_from_memory(name, specifiers):
            return None
        loop = asyncio.get_running_loop()
        started = loop.create_future()
        context = contextvars.copy_context()
        context.run(underway.watch, started)
        task = loop.create_task(self._resolve_ahead(name, version_constraint), context=context)
        self._read_ahead[key] = task
        task.add_done_callback(lambda done: self._keep_read_ahead(key, done, started))
        return started

    async def _resolve_ahead(self, name: str, constraint: str | None) -> _Resolved:
        async with self._deadline(f"docs for {name}"):
            return await self._resolve(name, constraint, batched=False)  # one message at a time

    def _keep_read_ahead(
        self, key: tuple[str, str | None], task: asyncio.Task[_Resolved], started: asyncio.Future[None]
    ) -> None:
        if not started.done():
            started.set_result(None)
        if not task.cancelled():
            task.exception()  # retrieved: an outcome nobody claims is not logged as lost
        asyncio.get_running_loop().call_later(_READ_AHEAD_KEEP_S, self._drop_read_ahead, key, task)

    def _drop_read_ahead(self, key: tuple[str, str | None], task: asyncio.Task[_Resolved]) -> None:
        if self._read_ahead.get(key) is task:
            del self._read_ahead[key]

    async def _resolved(self, name: str, constraint: str | None) -> _Resolved:
        """:meth:`_resolve`, or the outcome of the read-ahead started for this call."""
        task = self._read_ahead.pop((name, constraint), None)
        if task is None or task.cancelled():
            return await self._resolve(name, constraint)
        # Awaited directly (no shield: one event-loop turn less): taken over, it is this
        # call's work, so a cancelled call cancels it too.
        return await task

    def _answered_from_memory(self, name: str, specifiers: SpecifierSet) -> bool:
        pin = exact_pin(specifiers)
        if pin is not None:
            return (name, pin) in self._documents
        releases = self._release_lists.get(name)
        if releases is None or not self._fresh(releases):
            return False
        chosen = self._resolutions.get(_resolution_key(name, specifiers, releases))
        return chosen is not None and (name, chosen.version) in self._documents

    async def _stop_read_ahead(self) -> None:
        tasks = list(self._read_ahead.values())
        self._read_ahead.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _resolve(self, name: str, constraint: str | None, *, batched: bool = True) -> _Resolved:
        """The version ``constraint`` picks and its document. ``batched``: read what the store
        holds of ``name`` with the other packages asked for in this turn (else at once)."""
        specifiers = parse_constraint(constraint)
        pin = exact_pin(specifiers)
        lookup = _Lookup(self.cached_states, name, batched=batched)
        if pin is not None:
            cached = await self._cached_document(name, pin, lookup)
            if cached is not None:
                return _Resolved(cached, "cache", None, False)
            try:  # the index client falls down its sources; "not listed" is its own fresh answer
                return _Resolved(await self._store_document(await self._fetch_version(name, pin)), "index", None, False)
            except VersionNotListed as exc:
                self._remember_release_list(exc.releases)
                raise VersionNotFound(
                    exc.message, available_versions=nearest_versions(exc.releases, specifiers)
                ) from None
        started = time.time()
        try:
            releases, latest, stale = await self._release_list(name, lookup)
            chosen = self._choose(name, specifiers, releases)
        except VersionNotFound:  # a list cached before this call may predate the release: ask once more
            if releases.fetched_at >= started or stale:
                raise
            releases, latest, stale = await self._release_list(name, lookup, refresh=True)
            chosen = self._choose(name, specifiers, releases)
        except UpstreamError:
            fallback = await self._newest_cached(name, specifiers)
            if fallback is None:
                raise
            log.warning("service.stale_document", package=name, version=fallback.version)
            return _Resolved(fallback, "cache", None, True)
        cached = await self._cached_document(name, chosen.version, lookup)
        if cached is not None:
            return _Resolved(cached, "cache", releases.latest, stale)
        if latest is not None and latest.version == chosen.version:
            return _Resolved(await self._store_document(latest), "index", releases.latest, stale)
        try:
            metadata = await self._fetch_version(name, chosen.version)
        except VersionNotListed as exc:  # the list named a release the index no longer lists
            self._remember_release_list(exc.releases)
            chosen = self._choose(name, specifiers, releases := exc.releases)
            metadata = await self._fetch_version(name, chosen.version)
        return _Resolved(await self._store_document(metadata), "index", releases.latest, stale)

    def _choose(self, name: str, specifiers: SpecifierSet, releases: ReleaseList) -> ResolvedVersion:
        memo_key = _resolution_key(name, specifiers, releases)
        chosen = self._resolutions.get(memo_key)
        if chosen is None:
            chosen = resolve_version(releases, specifiers)
            self._resolutions.put(memo_key, chosen)
        return chosen

    async def _fetch_version(self, name: str, version: str) -> VersionMetadata:
        try:
            return await self._single_flight(("version", name, version), self.index.fetch_version, name, version)
        except PackageNotFound as exc:
            raise await self._with_candidates(name, exc) from None

    async def _release_list(
        self, name: str, lookup: _Lookup, *, refresh: bool = False
    ) -> tuple[ReleaseList, VersionMetadata | None, bool]:
        """The release list (fresh from cache, else the index) and the latest metadata if fetched."""
        cached = self._release_lists.get(name) or (await lookup.state()).release_list
        if cached is not None and self._fresh(cached) and not refresh:
            self._release_lists.put(name, cached)
            return cached, None, False
        try:
            releases, latest = await self._single_flight(("project", name), self.index.fetch_project, name)
        except PackageNotFound as exc:
            raise await self._with_candidates(name, exc) from None
        except UpstreamError as exc:
            if cached is None:
                raise
            log.warning("service.stale_release_list", package=name, error=exc.type_name)
            return cached, None, True
        self._remember_release_list(releases)
        return releases, latest, False

    def _remember_release_list(self, releases: ReleaseList) -> None:
        self._release_lists.put(releases.name, releases)
        self._write_behind(functools.partial(self.store.put_release_list, releases))

    def _fresh(self, releases: ReleaseList) -> bool:
        """Whether a release list is young enough to choose a version from (RELEASE_LIST_TTL)."""
        return time.time() - releases.fetched_at < self.settings.release_list_ttl

    async def _newest_cached(self, name: str, specifiers: SpecifierSet) -> PackageDocument | None:
        """When the index cannot be asked: the newest cached version the constraint allows."""
        await self.flush_writes()  # what this process has just fetched counts too
        allowed = []
        for version in await self.store.cached_versions(name):
            try:
                parsed = Version(version)
            except InvalidVersion:
                continue
            if specifiers.contains(parsed, prereleases=True):
                allowed.append((parsed, version))
        if not allowed:
            return None
        return await self._cached_document(name, max(allowed)[1])

    async def _cached_document(self, name: str, version: str, lookup: _Lookup | None = None) -> PackageDocument | None:
        """From memory, else the store; ``lookup`` tells when the store has none (no read then)."""
        document = self._documents.get((name, version))
        if document is not None:
            self.cache_hits += 1
            return document
        if lookup is not None and version not in (await lookup.state()).versions:
            self.store.record_miss()
            self.cache_misses += 1
            return None
        underway.waiting()  # a read-ahead's message can go on: this read runs off the loop
        document = await self._store_read(self.store.get_document(name, version))
        if document is None:
            self.cache_misses += 1
            return None
        self.cache_hits += 1
        self._documents.put((name, version), document)
        return document

    async def _store_read(self, read: Awaitable[T]) -> T | None:
        """A cache read that fails (database down, pool busy) is a miss: the index can still answer."""
        try:
            return await read
        except CacheError as exc:
            log.warning("cache.read_failed", error=exc.type_name, message=exc.message)
            return None

    async def _store_document(self, metadata: VersionMetadata) -> PackageDocument:
        document = build_document(metadata, max_description_chars=self.settings.max_doc_size)
        self._documents.put((document.name, document.version), document)
        self._write_behind(functools.partial(self._put_document, document))
        return document

    async def _put_document(self, document: PackageDocument) -> None:
        count_costs(document)  # after the reply: pages cut later, here or by another process, need them
        await self.store.put_document(document)

    def _write_behind(self, write: Callable[[], Awaitable[None]]) -> None:
        """Queue a cache write to run after the reply; :meth:`flush_writes` waits for the queue.

        One writer task drains the queue, after a short pause that lets the reply which
        queued the write go out first. A failed write costs a warning and a later cache
        miss, never the reply.
        """
        self._pending_writes.append(write)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._drain_writes())

    async def _drain_writes(self) -> None:
        await asyncio.sleep(_WRITE_DELAY_S)
        while self._pending_writes:
            waited = 0.0
            while self._active_calls and not self._flushing and waited < _MAX_WRITE_DEFER_S:
                await asyncio.sleep(_WRITE_DEFER_POLL_S)
                waited += _WRITE_DEFER_POLL_S
            write = self._pending_writes.popleft()
            try:
                await write()
            except Exception as exc:
                log.warning("cache.write_failed", error=repr(exc))

    def _page(self, document: PackageDocument, request: PageRequest) -> DocsPage:
        key = (document.name, document.version, request)
        page = self._pages.get(key)
        if page is None:
            page = make_page(document, request)
            self._pages.put(key, page)
        return page

    async def _single_flight(self, key: tuple[str, ...], function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Concurrent callers with the same key share one upstream call (and its outcome).

        Each caller waits on a future of its own, which the shared call settles as it ends: one
        event-loop turn, where awaiting a shielded task takes two. A caller that is cancelled
        stops waiting; the call goes on for the others.
        """
        flight = self._inflight.get(key)
        if flight is None:
            flight = self._inflight[key] = _Flight()
            flight.task = asyncio.ensure_future(self._fly(key, flight, function, args))
        else:
            underway.waiting()  # joining a request already on its way
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        flight.waiters.append(waiter)
        return await waiter

    async def _fly(
        self, key: tuple[str, ...], flight: _Flight, function: Callable[..., Awaitable[Any]], args: tuple[Any, ...]
    ) -> None:
        try:
            result = await function(*args)
        except Exception as exc:
            self._land(key, flight, exc)
        except BaseException as exc:  # cancelled, or the process is stopping: so are its callers
            self._land(key, flight, exc)
            raise
        else:
            self._land(key, flight, None, result)

    def _land(self, key: tuple[str, ...], flight: _Flight, error: BaseException | None, result: Any = None) -> None:
        """Forget the flight (a caller from now on starts a new one) and hand its outcome to
        the callers still waiting: the result, the error, or (stopped by anything but an
        error) their cancellation."""
        del self._inflight[key]
        for waiter in flight.waiters:
            if waiter.done():  # a caller cancelled meanwhile has stopped waiting
                continue
            if error is None:
                waiter.set_result(result)
            elif isinstance(error, Exception):
                waiter.set_exception(error)
            else:
                waiter.cancel()

    async def _with_candidates(self, name: str, error: PackageNotFound) -> PackageNotFound:
        known = set(await self.store.known_names()) | self._project_names | set(self._release_lists.key_list())
        known |= {document_name for document_name, _ in self._documents.key_list()}
        candidates = difflib.get_close_matches(name, sorted(known), n=5, cutoff=0.6)
        suggestions = [f"Did you mean: {', '.join(candidates)}?"] if candidates else []
        suggestions += error.suggestions
        return PackageNotFound(error.message, suggestions=suggestions, candidates=candidates)


class _Flight:
    """One shared upstream call (:meth:`AutoDocsService._single_flight`): its task, held here
    until it ends, and the futures of the callers waiting for it."""

    __slots__ = ("task", "waiters")

    def __init__(self) -> None:
        self.task: asyncio.Future[None] | None = None
        self.waiters: list[asyncio.Future[Any]] = []


class _Lookup:
    """One package's :class:`CachedState` for one call: read (batched) at most once, if needed."""

    __slots__ = ("_batched", "_name", "_state", "_states")

    def __init__(self, states: CachedStates, name: str, *, batched: bool = True) -> None:
        self._states = states
        self._name = name
        self._batched = batched
        self._state: CachedState | None = None

    async def state(self) -> CachedState:
        if self._state is None:
            read = self._states.get if self._batched else self._states.get_now
            self._state = await read(self._name)
        return self._state


def _resolution_key(name: str, specifiers: SpecifierSet, releases: ReleaseList) -> tuple[str, str, float]:
    """The memo key of a version chosen from ``releases`` (a newer list chooses again)."""
    return (name, str(specifiers), releases.fetched_at)


def _runtime_requirements(document: PackageDocument) -> list[tuple[str, str | None]]:
    """Requirements needed without extras, each name once, in the order the package lists them."""
    seen: dict[str, str | None] = {}
    for requirement in document.requirements:
        if requirement.extra is None and requirement.name not in seen and requirement.name != document.name:
            seen[requirement.name] = requirement.specifier or None
    return list(seen.items())


def _failure(name: str, exc: BaseException) -> FailedPackage:
    error = to_error_payload(exc)["error"]
    return FailedPackage(
        name=name,
        error_type=error["type"],
        message=error["message"],
        retryable=error["retryable"],
        suggestions=error["suggestions"],
    )
