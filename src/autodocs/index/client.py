"""The package-index client: which index is asked for a package, and in what order.

``AUTODOCS_INDEX_URL`` first, then each of ``AUTODOCS_EXTRA_INDEX_URLS`` (or a project plan's
indexes, for a client of :mod:`autodocs.index.pool`): the first index that has the package wins
(uv's default, which keeps a package name taken on a second index from shadowing the first's),
and is remembered for that package. Each index is an
:class:`~autodocs.index.source.IndexSource` (its sources and capabilities); all share one
:class:`~autodocs.index.fetch.JsonFetcher` (one connection pool, one policy, one trust).
Names and versions are validated here, before a URL exists (:mod:`autodocs.index.names`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from typing import TypeVar

import httpx

from autodocs.config import Settings
from autodocs.errors import PackageNotFound
from autodocs.index.capabilities import IndexCapabilities, IndexEndpoints
from autodocs.index.fetch import JsonFetcher
from autodocs.index.keys import index_key
from autodocs.index.models import DistFile, ReleaseList, VersionMetadata
from autodocs.index.names import normalize_package_name, validate_version_string
from autodocs.index.slots import RequestSlots
from autodocs.index.source import IndexSource, VersionNotListed
from autodocs.memo import LruMap

__all__ = ["IndexClient", "VersionNotListed"]

_T = TypeVar("_T")
#: Packages whose index is remembered (only those found past the first index are kept).
_REMEMBERED_PACKAGES = 4096


class IndexClient:
    """Release lists, version metadata and release files, from the first index that has the package."""

    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        indexes: Sequence[str] | None = None,
        credential_urls: Sequence[str] = (),
        slots: RequestSlots | None = None,
    ) -> None:
        """``indexes``: asked in this order (default: the settings' own); ``credential_urls``: more
        of the operator's credentials, as URL user information (``index/env_credentials.py``);
        ``slots``: the process's request slots, shared by every client (``index/pool.py``)."""
        urls = tuple(indexes) if indexes is not None else (settings.pypi_url, *settings.extra_index_urls)
        self.fetcher = JsonFetcher(
            settings, transport=transport, index_urls=urls, credential_urls=credential_urls, slots=slots
        )
        self.sources = [IndexSource(url, self.fetcher) for url in urls]
        self._cache_key = index_key(urls)
        self._home: LruMap[str, IndexSource] = LruMap(_REMEMBERED_PACKAGES)

    @property
    def cache_key(self) -> str:
        """What the caches file this client's answers under (:mod:`autodocs.index.keys`): its
        index URLs in order, without credentials or trailing slashes, joined by a space."""
        return self._cache_key

    @property
    def index_urls(self) -> tuple[str, ...]:
        """The indexes asked, in order, without credentials."""
        return tuple(source.endpoints.configured for source in self.sources)

    def index_of(self, name: str) -> str:
        """The index (URL without credentials) that serves ``name``: the one remembered for it, else
        the first (which answered, or will be asked first)."""
        home = self._home.get(normalize_package_name(name))
        return (home or self.sources[0]).endpoints.configured

    @property
    def endpoints(self) -> IndexEndpoints:
        return self.sources[0].endpoints

    @property
    def capabilities(self) -> IndexCapabilities:
        return self.sources[0].capabilities

    @property
    def requests_sent(self) -> int:
        return self.fetcher.requests_sent

    async def aclose(self) -> None:
        await self.fetcher.aclose()

    async def fetch_project(self, name: str) -> tuple[ReleaseList, VersionMetadata | None]:
        """The project's release list, and the latest version's metadata when the index gave it."""
        normalized = normalize_package_name(name)
        return await self._first(normalized, lambda source: source.fetch_project(normalized))

    async def fetch_version(self, name: str, version: str) -> VersionMetadata:
        """Metadata of one exact version; :class:`VersionNotListed` when its index does not list it."""
        normalized = normalize_package_name(name)
        validate_version_string(version)
        return await self._first(normalized, lambda source: source.fetch_version(normalized, version))

    async def fetch_release_files(self, name: str, version: str) -> tuple[DistFile, ...]:
        """The files (wheels, sdist) of one exact version, links absolute."""
        normalized = normalize_package_name(name)
        validate_version_string(version)
        return await self._first(normalized, lambda source: source.fetch_release_files(normalized, version))

    async def _first(self, name: str, ask: Callable[[IndexSource], Awaitable[_T]]) -> _T:
        """``ask`` the package's index: the remembered one, else each in order until one has it."""
        home = self._home.get(name)
        if home is not None:
            return await ask(home)
        for source in self.sources[:-1]:
            try:
                result = await ask(source)
            except PackageNotFound:
                continue
            if source is not self.sources[0]:
                self._home.put(name, source)
            return result
        result = await ask(self.sources[-1])
        if len(self.sources) > 1:
            self._home.put(name, self.sources[-1])
        return result
