"""One package index: "the release list of X" and "the metadata of X==V", from whatever it serves.

Sources, cheapest first (:mod:`autodocs.index.capabilities` records which ones an index has):

* the JSON API's project page (release list + the latest version's metadata, one request) and
  per-version page (one exact version's metadata, one request);
* the Simple API's project page (:mod:`autodocs.index.simple`: PEP 691 JSON, else PEP 503
  HTML), which lists every file of every release;
* a release's core metadata from its files (:mod:`autodocs.index.metadata`: the PEP 658
  file, the wheel's METADATA by range requests, the sdist's PKG-INFO).

An index without per-version pages (many mirrors and private indexes) still serves every
release: once one such page has 404'd for a version the index lists, it is not asked again.
:class:`VersionNotListed` is raised only when the index's own, freshly fetched listing lacks
the version, and carries that listing so the caller can name the nearest versions.

How a request is bounded, retried, hedged and cut off lives in :mod:`autodocs.index.fetch`;
which index is asked, in :mod:`autodocs.index.client`.
"""

from __future__ import annotations

import asyncio
import functools
import time
from typing import Any

from autodocs.errors import PackageNotFound, UpstreamResponseInvalid, VersionNotFound
from autodocs.index.answers import Page
from autodocs.index.auth import without_credentials
from autodocs.index.capabilities import IndexCapabilities, index_endpoints
from autodocs.index.fetch import JsonFetcher, NotFound
from autodocs.index.metadata import read_release_metadata
from autodocs.index.models import INFO_KEYS, DistFile, Release, ReleaseList, VersionMetadata, VersionNotListed
from autodocs.index.simple import SIMPLE_ACCEPT, ProjectListing, listing_from_json_api, parse_simple_page
from autodocs.memo import LruMap

__all__ = ["IndexSource", "VersionNotListed"]

#: How long a fetched listing is used again for a version it lists (a docs call's span), and
#: for how many packages: an unconstrained call on a Simple-only index then costs 2 requests.
_REUSE_S = 60.0
_RECENT_LISTINGS = 256
_PARSE_IN_THREAD_BYTES = 256 * 1024


class IndexSource:
    """One index, by the cheapest source it has; names are name and versions checked by the caller."""

    def __init__(self, url: str, fetcher: JsonFetcher) -> None:
        self.endpoints = index_endpoints(without_credentials(url))  # credentials: index/auth.py
        self.capabilities = IndexCapabilities.for_endpoints(self.endpoints)
        self.fetcher = fetcher
        self._recent: LruMap[str, ProjectListing] = LruMap(_RECENT_LISTINGS)

    async def fetch_project(self, name: str) -> tuple[ReleaseList, VersionMetadata | None]:
        """The project's release list, and the latest version's metadata when the JSON API gave it."""
        data, page_url = await self._json_project(name)
        if data is not None:
            info = _expect_dict(data.get("info"), "info")
            latest = str(info.get("version") or "")
            releases = ReleaseList(name, latest, _parse_releases(data.get("releases")), time.time())
            # A minimal page (some private servers give only the version) has no metadata to use.
            described = bool(info.get("name"))
            return releases, VersionMetadata.from_info(info, data.get("urls"), page_url) if described else None
        listing = await self._simple_listing(name)
        self._recent.put(name, listing)  # the version chosen from it is fetched next
        if self.capabilities.json_api is None:
            self.capabilities.learn("json_api", False)  # no project page where the Simple API has one
        return listing.release_list(), None

    async def fetch_version(self, name: str, version: str) -> VersionMetadata:
        """Metadata of one exact version, from the first source that has it (module docstring);
        :class:`VersionNotListed` when the index does not list the version at all."""
        capabilities, endpoints = self.capabilities, self.endpoints
        asked_page = capabilities.json_api is not False and capabilities.version_pages is not False
        if asked_page:
            url = endpoints.json_version_url(name, version)
            try:
                data = await self.fetcher.get_json(url)
            except NotFound:
                pass  # the listing tells whether the version exists
            except UpstreamResponseInvalid:  # an answer, but not the JSON API's (a login page, a 401)
                if capabilities.json_api:
                    raise
                capabilities.learn("json_api", False)
            else:
                capabilities.learn("version_pages", True)
                return VersionMetadata.from_info(_expect_dict(data.get("info"), "info"), data.get("urls"), url)
        listing = await self._listing(name, version)
        files = listing.files_of(version)
        if files is None:
            raise VersionNotListed(f"The package index has no version {version} of {name!r}.", listing.release_list())
        if asked_page:
            capabilities.learn("version_pages", False)  # listed, yet no page: stop asking for pages
        if listing.latest is not None and listing.latest.version == version:
            return listing.latest
        info = await read_release_metadata(self.fetcher.get_page, files, capabilities)
        return _metadata_from(info, name, version, files)

    async def fetch_release_files(self, name: str, version: str) -> tuple[DistFile, ...]:
        """The files (wheels, sdist) of one exact version, links absolute."""
        files = (await self._listing(name, version)).files_of(version)
        if files is None:
            raise VersionNotFound(f"The package index has no version {version} of {name!r}.")
        return files

    async def _json_project(self, name: str) -> tuple[dict[str, Any] | None, str]:
        """The JSON API's project page, or None where the index has no JSON API (learnt here)."""
        if self.capabilities.json_api is False:
            return None, ""
        url = self.endpoints.json_project_url(name)
        try:
            data = await self.fetcher.get_json(url)
        except NotFound:
            if self.capabilities.json_api:
                raise PackageNotFound(f"The package index has no package named {name!r}.") from None
            return None, ""  # unknown yet: the Simple API decides
        except UpstreamResponseInvalid:
            if self.capabilities.json_api:
                raise
            self.capabilities.learn("json_api", False)  # answered, but not with the JSON API
            return None, ""
        self.capabilities.learn("json_api", True)
        return data, url

    async def _listing(self, name: str, version: str) -> ProjectListing:
        """Every file of every release: the Simple API where the index has one (it names PEP 658
        files), else the JSON API's project page. A listing fetched moments ago (the release
        list a version was just chosen from) is used again only if it lists ``version``: that
        a version is not listed is always the index's fresh answer."""
        recent = self._recent.get(name)
        if recent is not None and time.time() - recent.fetched_at < _REUSE_S and recent.files_of(version) is not None:
            return recent
        listing = await self._fresh_listing(name)
        self._recent.put(name, listing)
        return listing

    async def _fresh_listing(self, name: str) -> ProjectListing:
        if self.capabilities.simple_api is not False:
            try:
                return await self._simple_listing(name)
            except PackageNotFound:
                if self.capabilities.json_api is False:
                    raise
        data, url = await self._json_project(name)
        if data is None:
            raise PackageNotFound(f"The package index has no package named {name!r}.")
        if self.capabilities.simple_api is None:
            self.capabilities.learn("simple_api", False)  # the JSON API has it, the Simple API not
        info = _expect_dict(data.get("info"), "info")
        listed = ReleaseList(name, str(info.get("version") or ""), _parse_releases(data.get("releases")), time.time())
        latest = VersionMetadata.from_info(info, data.get("urls"), url)
        return listing_from_json_api(name, url, data.get("releases"), listed, latest)

    async def _simple_listing(self, name: str) -> ProjectListing:
        url = self.endpoints.simple_project_url(name)
        try:
            page: Page = await self.fetcher.get_page(url, headers={"Accept": SIMPLE_ACCEPT})
        except NotFound:
            raise PackageNotFound(f"The package index has no package named {name!r}.") from None
        parse = functools.partial(parse_simple_page, name, page.url, page.content_type, page.body)
        # A big project's page is megabytes (a tenth of a second to parse): off the event loop.
        listing = await asyncio.to_thread(parse) if len(page.body) > _PARSE_IN_THREAD_BYTES else parse()
        self.capabilities.learn("simple_api", True)
        return listing


def _metadata_from(info: dict[str, Any], name: str, version: str, files: tuple[DistFile, ...]) -> VersionMetadata:
    """The version's metadata with what only the listing knows: yanked status and reason."""
    yanked = all(f.yanked for f in files)
    info["yanked"] = yanked
    info["yanked_reason"] = next((f.yanked_reason for f in files if f.yanked_reason), None) if yanked else None
    if not info.get("requires_python"):
        info["requires_python"] = files[0].requires_python
    kept = {key: info.get(key) for key in INFO_KEYS}
    version = str(info.get("version") or files[0].version or version)  # "==1.0" may be 1.0.0
    return VersionMetadata(name=str(info.get("name") or name), version=version, info=kept, files=files)


def _expect_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UpstreamResponseInvalid(f"The package index's {what} is not a JSON object.", retryable=False)
    return value


def _parse_releases(raw: Any) -> tuple[Release, ...]:
    if not isinstance(raw, dict):
        return ()
    # Runs over every file of every release on the cold path (thousands for big projects), so
    # it reads the first file for the per-release facts and touches the others only for "yanked",
    # and builds each tuple with tuple.__new__ (the named tuple's own __new__ is a Python
    # function: a fifth of the loop). The keys of a decoded JSON object are str already.
    releases: list[Release] = []
    append = releases.append
    new = tuple.__new__
    for version, files in raw.items():
        first = files[0] if type(files) is list and files else None
        if type(first) is not dict:
            append(new(Release, (version, False, None, None, None, bool(files) and type(files) is list)))
            continue
        yanked = bool(first.get("yanked")) and all(type(f) is dict and f.get("yanked") for f in files)
        upload_time = first.get("upload_time_iso_8601")
        append(
            new(
                Release,
                (
                    version,
                    yanked,
                    first.get("yanked_reason") if yanked else None,
                    first.get("requires_python"),
                    upload_time if type(upload_time) is str else None,
                    True,
                ),
            )
        )
    return tuple(releases)
