"""The facade the MCP tools, the HTTP server and the CLI call: one object, one method per use case.

The use cases themselves live in :mod:`autodocs.usecases`, one module each; this class builds
them over one store, one index client and the shared machinery (:mod:`autodocs.usecases.machinery`),
opens and closes them (:meth:`AutoDocsService.running`), and adds nothing else. No transport
code lives here.

Every public method runs under the ``REQUEST_TIMEOUT`` deadline (per package for
multi-package calls) and raises only :mod:`autodocs.errors` classes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio

from autodocs.cache import CacheStats, Store, open_store
from autodocs.cache.base import EntryPage
from autodocs.config import Settings
from autodocs.docs.model import DocsPage
from autodocs.errors import AutoDocsError
from autodocs.manifests import ScanResult
from autodocs.usecases.api_reference import ApiReferences
from autodocs.usecases.cache_admin import CacheAdmin
from autodocs.usecases.context import Contexts
from autodocs.usecases.docs import PackageDocs
from autodocs.usecases.docsets import ReleaseDocsets
from autodocs.usecases.machinery.calls import CallLimits
from autodocs.usecases.machinery.flight import SingleFlight
from autodocs.usecases.machinery.project_indexes import ProjectIndexes
from autodocs.usecases.machinery.writebehind import WriteBehind
from autodocs.usecases.replies import (
    ContextResult,
    ProgressHook,
    ProjectContextResult,
    PruneResult,
    RefreshResult,
    SearchResult,
)
from autodocs.usecases.resolution import Resolution
from autodocs.usecases.scan import ProjectScan
from autodocs.usecases.search import search_cached_docs

if TYPE_CHECKING:  # its HTTP stack is imported when a service opens, not with this module
    from autodocs.index import IndexClient
    from autodocs.index.project import Transport

__all__ = ["AutoDocsService"]


class AutoDocsService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        index: IndexClient,
        *,
        allowed_roots: list[Path] | None = None,
        transport: Transport = "stdio",
        one_shot: bool = False,
    ) -> None:
        """``transport``: ``http`` applies the operator's allow-list to the indexes a project names
        (:mod:`autodocs.index.project`); ``stdio`` (and the CLI) trust the user's own project.
        ``one_shot``: a process that ends after its call (the CLI) starts no docs-set build it
        would not wait for."""
        from autodocs.index.pool import IndexClients

        self.settings = settings
        self.allowed_roots = [root.resolve() for root in allowed_roots] if allowed_roots is not None else None
        self.store = store
        self.index = index
        self.writes = WriteBehind()
        calls = CallLimits(settings, self.writes)
        flights = SingleFlight()
        self.resolution = Resolution(settings, store, index, calls=calls, flights=flights, writes=self.writes)
        self.cached_states = self.resolution.cached_states  # cold calls that start together share one read
        self.projects = ProjectScan(settings, self.allowed_roots, self.resolution.project_names)
        #: The clients of projects' index plans (index/pool.py); closed with the service.
        self.index_clients = IndexClients(settings, slots=index.fetcher.slots)
        self.project_indexes = ProjectIndexes(
            settings, self.projects.scan, index, self.index_clients, transport=transport
        )
        self.docsets = ReleaseDocsets(settings, store, index, background=not one_shot)
        self.docs = PackageDocs(
            store,
            calls=calls,
            resolution=self.resolution,
            projects=self.project_indexes,
            docsets=self.docsets,
            background=not one_shot,
        )
        self.contexts = Contexts(self.docs, calls=calls, resolution=self.resolution, projects=self.project_indexes)
        self.api = ApiReferences(
            settings,
            store,
            allowed_roots=self.allowed_roots,
            calls=calls,
            flights=flights,
            writes=self.writes,
            projects=self.project_indexes,
            resolve_version=self.resolution.resolve_exact_version,
        )
        self.cache = CacheAdmin(
            settings,
            store,
            writes=self.writes,
            lookups=lambda: (self.cache_hits, self.cache_misses),
            forget=self._forget,
        )

    @classmethod
    @asynccontextmanager
    async def running(
        cls,
        settings: Settings,
        *,
        allowed_roots: list[Path] | None = None,
        transport: Transport = "stdio",
        one_shot: bool = False,
    ) -> AsyncIterator[AutoDocsService]:
        """Open the store and the index client; close both on exit, whatever happens.

        ``allowed_roots``: folders ``scan`` may read (resolved, symlinks included); None: any.
        ``transport``: whose project files are trusted to name indexes (see :meth:`__init__`).
        """
        from autodocs.index import IndexClient
        from autodocs.index.env_credentials import credential_sources, credential_urls

        store = open_store(settings)
        await store.open()
        # The operator's credentials by index name (uv's and Poetry's variables) serve its own indexes too.
        operator = credential_urls(credential_sources((), trust_project_names=False))
        index = IndexClient(settings, credential_urls=operator)
        service = cls(settings, store, index, allowed_roots=allowed_roots, transport=transport, one_shot=one_shot)
        try:
            yield service
        finally:
            # Shielded: whatever ended the session (a client that stopped reading cancels
            # everything under the MCP session), the queued cache writes land and the store closes.
            with anyio.CancelScope(shield=True):
                await service.api.aclose()
                await service.docs.rankings.aclose()
                await service.docsets.aclose()
                await service.writes.flush_before_close(settings.shutdown_timeout)
                await service.index_clients.aclose()
                await index.aclose()
                await store.close()

    @property
    def index_key(self) -> str:
        """The key the caches file this service's index client's answers under."""
        return self.index.cache_key

    @property
    def cache_hits(self) -> int:
        """Document lookups answered from memory or the store, by this process."""
        return self.resolution.cache_hits

    @property
    def cache_misses(self) -> int:
        return self.resolution.cache_misses

    async def flush_writes(self) -> None:
        """Wait until every cache write queued so far is done (they run behind the replies)."""
        await self.writes.flush()

    async def readiness(self) -> dict[str, Any]:
        """Whether this process can serve: the cache answers (the index may be down: stale data serves)."""
        cache = "ok"
        try:
            async with asyncio.timeout(2.0):
                await self.store.ping()
        except (AutoDocsError, TimeoutError) as exc:
            cache = f"unavailable: {exc}"
        return {"cache": cache, "circuits": self.index.fetcher.breaker_states(), "ready": cache == "ok"}

    # -- the use cases -------------------------------------------------------------------

    async def scan(self, project_path: str) -> ScanResult:
        return await self.projects.scan(project_path)

    async def get_package_docs(
        self,
        package_name: str,
        version_constraint: str | None = None,
        *,
        query: str | None = None,
        max_tokens: int | None = None,
        sections: list[str] | None = None,
        cursor: str | None = None,
        project_path: str | None = None,
    ) -> DocsPage:
        return await self.docs.get(
            package_name,
            version_constraint,
            query=query,
            max_tokens=max_tokens,
            sections=sections,
            cursor=cursor,
            project=project_path,
        )

    async def get_docs_with_context(
        self,
        package_name: str,
        version_constraint: str | None = None,
        *,
        include_dependencies: bool = True,
        max_dependencies: int | None = None,
        max_tokens: int | None = None,
        on_progress: ProgressHook | None = None,
        project_path: str | None = None,
    ) -> ContextResult:
        return await self.contexts.with_dependencies(
            package_name,
            version_constraint,
            include_dependencies=include_dependencies,
            max_dependencies=max_dependencies,
            max_tokens=max_tokens,
            on_progress=on_progress,
            project_path=project_path,
        )

    async def project_context(
        self, project_path: str, *, max_tokens: int | None = None, on_progress: ProgressHook | None = None
    ) -> ProjectContextResult:
        """Scan the project, then docs for every dependency (lock pins first), concurrently."""
        return await self.contexts.of_project(project_path, max_tokens=max_tokens, on_progress=on_progress)

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
        return await self.resolution.resolve_exact_version(name, constraint)

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

    async def cache_stats(self) -> CacheStats:
        return await self.cache.stats()

    async def prune_cache(self) -> PruneResult:
        return await self.cache.prune()

    async def list_cache(self, *, cursor: str | None = None, limit: int = 100) -> EntryPage:
        return await self.cache.list(cursor=cursor, limit=limit)

    async def refresh(self, package_name: str | None = None) -> RefreshResult:
        return await self.cache.refresh(package_name)

    def _forget(self, name: str | None) -> None:
        """Drop what memory holds of ``name`` (None: of every package) after the store dropped it."""
        self.resolution.forget(name)
        self.docs.forget(name)
        self.docsets.forget(name)
