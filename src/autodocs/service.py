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
import difflib
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar

import structlog
from pydantic import BaseModel, Field

from autodocs.cache import CacheStats, Store, open_store
from autodocs.config import Settings
from autodocs.docs.budget import Cursor, Page, decode_cursor, encode_cursor, paginate
from autodocs.docs.build import build_document
from autodocs.docs.model import DocsPage, PackageDocument
from autodocs.docs.tokens import count_tokens
from autodocs.errors import (
    AutoDocsError,
    InvalidArgument,
    PackageNotFound,
    UpstreamError,
    UpstreamTimeout,
    VersionNotFound,
    to_error_payload,
)
from autodocs.index import IndexClient, ReleaseList, VersionMetadata, normalize_package_name
from autodocs.manifests import ScanResult, scan_project
from autodocs.resolve import exact_pin, parse_constraint, resolve_version

__all__ = ["AutoDocsService", "ContextResult", "FailedPackage", "ProjectContextResult", "RefreshResult"]

log = structlog.get_logger(__name__)
T = TypeVar("T")

#: Parsed documents kept in memory; they are immutable per version, so this is only a speed-up.
_MEMORY_DOCUMENTS = 512
#: A dependency shown with context gets at least this many tokens.
_MIN_TOKENS_PER_PACKAGE = 300
#: Later pages repeat only name and version, not the metadata the first page carried.
_CONTINUATION_HEADER_TOKENS = 190
_MAX_OMITTED_LISTED = 50
_MAX_AVAILABLE_LISTED = 100
_HOW_TO_GET_MORE_TOKENS = 60


class FailedPackage(BaseModel):
    name: str
    error_type: str
    message: str
    retryable: bool
    suggestions: list[str] = Field(default_factory=list)


class ContextResult(BaseModel):
    """A package's docs plus a shorter page for each of its runtime dependencies."""

    package: DocsPage
    dependencies: list[DocsPage] = Field(default_factory=list)
    failed: list[FailedPackage] = Field(default_factory=list)
    skipped_dependencies: list[str] = Field(
        default_factory=list, description="Runtime dependencies beyond max_dependencies."
    )
    partial: bool = False
    completion_rate: float = 1.0
    tokens: int = 0


class ProjectContextResult(BaseModel):
    project_path: str
    scan: ScanResult
    succeeded: list[DocsPage] = Field(default_factory=list)
    failed: list[FailedPackage] = Field(default_factory=list)
    partial: bool = False
    completion_rate: float = 1.0


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
    def __init__(self, settings: Settings, store: Store, index: IndexClient) -> None:
        self.settings = settings
        self.store = store
        self.index = index
        self._memory: OrderedDict[tuple[str, str], PackageDocument] = OrderedDict()
        self._inflight: dict[tuple[str, ...], asyncio.Task[Any]] = {}
        self._project_names: set[str] = set()

    @classmethod
    @asynccontextmanager
    async def running(cls, settings: Settings) -> AsyncIterator[AutoDocsService]:
        """Open the store and the index client; close both on exit, whatever happens."""
        store = open_store(settings)
        await store.open()
        index = IndexClient(settings)
        try:
            yield cls(settings, store, index)
        finally:
            await index.aclose()
            await store.close()

    # -- scanning ----------------------------------------------------------------------

    async def scan(self, project_path: str) -> ScanResult:
        result = await asyncio.to_thread(scan_project, project_path)
        self._project_names.update(dependency.name for dependency in result.dependencies)
        return result

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
            resolved = await self._resolve(name, version_constraint)
        page = _fit_page(resolved.document, budget, query=query, wanted=wanted, start=start)
        return _to_page(resolved, page, version_constraint, query, budget, continuation=start is not None)

    async def get_docs_with_context(
        self,
        package_name: str,
        version_constraint: str | None = None,
        *,
        include_dependencies: bool = True,
        max_dependencies: int | None = None,
        max_tokens: int | None = None,
    ) -> ContextResult:
        budget = self._budget(max_tokens)
        limit = self.settings.max_deps if max_dependencies is None else max_dependencies
        if limit < 0 or limit > 100:
            raise InvalidArgument(f"max_dependencies must be between 0 and 100, not {limit}.")
        name = normalize_package_name(package_name)
        async with self._deadline(f"docs for {name}"):
            resolved = await self._resolve(name, version_constraint)
        runtime = _runtime_requirements(resolved.document)
        chosen = runtime[:limit] if include_dependencies else []
        main_budget = budget if not chosen else max(budget // 2, budget - _MIN_TOKENS_PER_PACKAGE * len(chosen))
        main_page = _fit_page(resolved.document, main_budget)
        package = _to_page(resolved, main_page, version_constraint, None, main_budget)
        result = ContextResult(package=package, skipped_dependencies=[r[0] for r in runtime[len(chosen) :]])
        if chosen:
            each = max(_MIN_TOKENS_PER_PACKAGE, (budget - package.tokens) // len(chosen))
            outcomes = await asyncio.gather(*(self._page_or_failure(dep, spec, each) for dep, spec in chosen))
            for outcome in outcomes:
                if isinstance(outcome, FailedPackage):
                    result.failed.append(outcome)
                else:
                    result.dependencies.append(outcome)
        total = 1 + len(chosen)
        result.partial = bool(result.failed)
        result.completion_rate = round((total - len(result.failed)) / total, 4)
        result.tokens = package.tokens + sum(page.tokens for page in result.dependencies)
        return result

    async def project_context(
        self,
        project_path: str,
        *,
        max_tokens: int | None = None,
        on_progress: Callable[[str, bool, int], None] | None = None,
    ) -> ProjectContextResult:
        """Scan the project, then docs for every dependency (lock pins first), concurrently."""
        scan = await self.scan(project_path)
        wanted: dict[str, str | None] = {}
        for dependency in scan.dependencies:
            if dependency.url and not dependency.pinned_version:
                continue
            constraint = f"=={dependency.pinned_version}" if dependency.pinned_version else dependency.specifier
            if dependency.name not in wanted or dependency.pinned_version:
                wanted[dependency.name] = constraint or None
        budget = self._budget(max_tokens)
        each = max(_MIN_TOKENS_PER_PACKAGE, budget // max(1, len(wanted)))

        async def one(name: str, constraint: str | None) -> DocsPage | FailedPackage:
            outcome = await self._page_or_failure(name, constraint, each)
            if on_progress is not None:
                on_progress(name, not isinstance(outcome, FailedPackage), len(wanted))
            return outcome

        outcomes = await asyncio.gather(*(one(name, spec) for name, spec in wanted.items()))
        result = ProjectContextResult(project_path=scan.project_path, scan=scan)
        for outcome in outcomes:
            (result.failed if isinstance(outcome, FailedPackage) else result.succeeded).append(outcome)  # type: ignore[arg-type]
        result.partial = bool(result.failed) or scan.partial
        result.completion_rate = round(len(result.succeeded) / len(wanted), 4) if wanted else 1.0
        return result

    # -- cache -------------------------------------------------------------------------

    async def cache_stats(self) -> CacheStats:
        return await self.store.stats()

    async def refresh(self, package_name: str | None = None) -> RefreshResult:
        """Forget cached entries (one package, or all) so the next call asks the index again."""
        if package_name is None:
            removed = await self.store.clear()
            self._memory.clear()
            return RefreshResult(scope="all", removed_entries=removed, message="The whole cache was cleared.")
        name = normalize_package_name(package_name)
        removed = await self.store.clear(name)
        for key in [key for key in self._memory if key[0] == name]:
            del self._memory[key]
        return RefreshResult(
            scope=name,
            removed_entries=removed,
            message=f"Cleared {removed} cached entries of {name!r}; the next request fetches fresh data.",
        )

    # -- internals ---------------------------------------------------------------------

    def _budget(self, max_tokens: int | None) -> int:
        if max_tokens is None:
            return self.settings.max_tokens
        if max_tokens < 100 or max_tokens > 1_000_000:
            raise InvalidArgument(
                f"max_tokens must be between 100 and 1000000, not {max_tokens}.",
                suggestions=[f"Omit it to use the default ({self.settings.max_tokens})."],
            )
        return max_tokens

    @asynccontextmanager
    async def _deadline(self, what: str) -> AsyncIterator[None]:
        limit = self.settings.request_timeout
        try:
            async with asyncio.timeout(limit):
                yield
        except TimeoutError:
            raise UpstreamTimeout(
                f"Gave up on {what} after the {limit:g} s deadline.",
                suggestions=["Try again; raise AUTODOCS_REQUEST_TIMEOUT if the package index is slow."],
            ) from None

    async def _page_or_failure(self, name: str, constraint: str | None, budget: int) -> DocsPage | FailedPackage:
        try:
            return await self.get_package_docs(name, constraint, max_tokens=budget)
        except AutoDocsError as exc:
            return _failure(name, exc)
        except Exception as exc:  # one package's bug must not fail the batch
            log.exception("service.package_failed", package=name)
            return _failure(name, exc)

    async def _resolve(self, name: str, constraint: str | None) -> _Resolved:
        specifiers = parse_constraint(constraint)
        pin = exact_pin(specifiers)
        if pin is not None:
            cached = await self._cached_document(name, pin)
            if cached is not None:
                return _Resolved(cached, "cache", None, False)
            try:
                metadata = await self._single_flight(("version", name, pin), self.index.fetch_version, name, pin)
            except VersionNotFound:
                pass  # the release list tells whether the package or the version is missing
            else:
                return _Resolved(await self._store_document(metadata), "index", None, False)
        releases, latest, stale = await self._release_list(name)
        chosen = resolve_version(releases, specifiers)
        cached = await self._cached_document(name, chosen.version)
        if cached is not None:
            return _Resolved(cached, "cache", releases.latest, stale)
        if latest is not None and latest.version == chosen.version:
            metadata = latest
        else:
            metadata = await self._single_flight(
                ("version", name, chosen.version), self.index.fetch_version, name, chosen.version
            )
        return _Resolved(await self._store_document(metadata), "index", releases.latest, stale)

    async def _release_list(self, name: str) -> tuple[ReleaseList, VersionMetadata | None, bool]:
        """The release list (fresh from cache, else the index) and the latest metadata if fetched."""
        cached = await self.store.get_release_list(name)
        if cached is not None and time.time() - cached.fetched_at < self.settings.release_list_ttl:
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
        await self.store.put_release_list(releases)
        return releases, latest, False

    async def _cached_document(self, name: str, version: str) -> PackageDocument | None:
        key = (name, version)
        document = self._memory.get(key)
        if document is not None:
            self._memory.move_to_end(key)
            return document
        document = await self.store.get_document(name, version)
        if document is not None:
            self._remember(document)
        return document

    async def _store_document(self, metadata: VersionMetadata) -> PackageDocument:
        document = build_document(metadata, max_description_chars=self.settings.max_doc_size)
        await self.store.put_document(document)
        self._remember(document)
        return document

    def _remember(self, document: PackageDocument) -> None:
        self._memory[(document.name, document.version)] = document
        self._memory.move_to_end((document.name, document.version))
        while len(self._memory) > _MEMORY_DOCUMENTS:
            self._memory.popitem(last=False)

    async def _single_flight(self, key: tuple[str, ...], function: Callable[..., Awaitable[T]], *args: Any) -> T:
        """Concurrent callers with the same key share one upstream call (and its outcome)."""
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(function(*args))
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._forget_flight(key, done))
        result: T = await asyncio.shield(task)
        return result

    def _forget_flight(self, key: tuple[str, ...], task: asyncio.Task[Any]) -> None:
        self._inflight.pop(key, None)
        if not task.cancelled():
            task.exception()  # retrieved here so an outcome nobody awaited is not logged as lost

    async def _with_candidates(self, name: str, error: PackageNotFound) -> PackageNotFound:
        known = set(await self.store.known_names()) | self._project_names
        candidates = difflib.get_close_matches(name, sorted(known), n=5, cutoff=0.6)
        suggestions = [f"Did you mean: {', '.join(candidates)}?"] if candidates else []
        suggestions += error.suggestions
        return PackageNotFound(error.message, suggestions=suggestions, candidates=candidates)


def _fit_page(
    document: PackageDocument,
    budget: int,
    *,
    query: str | None = None,
    wanted: tuple[str, ...] = (),
    start: Cursor | None = None,
) -> Page:
    """Paginate, then again with room for the lists the page carries (omitted, available sections)."""
    header = _CONTINUATION_HEADER_TOKENS + count_tokens(document.summary or "") if start else document.header_tokens
    reserved = 0
    page = paginate(document, max_tokens=budget, query=query, wanted=wanted, start=start, header_tokens=header)
    for _ in range(3):
        listing = _listing_tokens(document, page)
        if page.tokens - reserved + listing <= budget or not page.sections:
            break
        reserved = listing
        page = paginate(
            document, max_tokens=budget, query=query, wanted=wanted, start=start, header_tokens=header + reserved
        )
    page.tokens += _listing_tokens(document, page) - reserved
    return page


def _listing_tokens(document: PackageDocument, page: Page) -> int:
    """Tokens of the lists a page carries besides its sections (see :func:`_listed_omitted`)."""
    tokens = 0
    if page.next_cursor is not None:
        titles = {section.anchor: section.title_tokens for section in document.sections}
        listed = page.omitted[: _listed_omitted(page)]
        tokens += sum(2 * titles.get(item.anchor, 4) + 14 for item in listed) + _HOW_TO_GET_MORE_TOKENS
    if page.missing:
        tokens += sum(s.title_tokens + 2 for s in document.sections[:_MAX_AVAILABLE_LISTED])
    return tokens


def _listed_omitted(page: Page) -> int:
    """How many omitted sections a page names: enough to choose from, never the bulk of the page."""
    return min(len(page.omitted), _MAX_OMITTED_LISTED, max(5, page.tokens // 60))


def _to_page(
    resolved: _Resolved,
    page: Page,
    constraint: str | None,
    query: str | None,
    budget: int,
    *,
    continuation: bool = False,
) -> DocsPage:
    document = resolved.document
    first_page = not continuation
    warnings = []
    if document.yanked:
        warnings.append(f"Version {document.version} was yanked: {document.yanked_reason or 'no reason given'}.")
    if document.description_truncated:
        warnings.append("The description was longer than AUTODOCS_MAX_DOC_SIZE; its end is not included.")
    if resolved.stale:
        warnings.append("The package index could not be reached; the release list is from the cache.")
    next_cursor = encode_cursor(page.next_cursor) if page.next_cursor else None
    how = None
    if next_cursor:
        how = (
            "Some sections did not fit in max_tokens. Call again with cursor=next_cursor for the next page, "
            "ask for named sections (sections=[...], titles from omitted_sections), or raise max_tokens."
        )
    return DocsPage(
        name=document.name,
        version=document.version,
        requested_constraint=constraint,
        source=resolved.source,
        stale=resolved.stale,
        latest_version=resolved.latest,
        continuation=continuation,
        summary=document.summary,
        requires_python=document.requires_python if first_page else None,
        license=document.license if first_page else None,
        home_page=document.home_page if first_page else None,
        project_urls=document.project_urls if first_page else {},
        requirements=[r.as_pep508() for r in document.requirements] if first_page else [],
        yanked=document.yanked,
        yanked_reason=document.yanked_reason,
        query=query,
        sections=page.sections,
        truncated=next_cursor is not None,
        omitted_sections=page.omitted[: _listed_omitted(page)],
        omitted_count=len(page.omitted),
        missing_sections=page.missing,
        available_sections=[s.title for s in document.sections[:_MAX_AVAILABLE_LISTED]] if page.missing else [],
        next_cursor=next_cursor,
        how_to_get_more=how,
        tokens=page.tokens,
        max_tokens=budget,
        warnings=warnings,
    )


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
