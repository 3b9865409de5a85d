"""The package-index client: the JSON API's two documents, fetched through one resilient path.

``fetch_project`` (release list + the latest version's metadata) and ``fetch_version`` (one
exact version's metadata). Names and versions are validated before a URL exists
(:mod:`autodocs.index.names`); how a request is bounded, retried, hedged and cut off lives in
:mod:`autodocs.index.fetch`. Only the fields AutoDocs reads are kept (:mod:`autodocs.index.models`).
"""

from __future__ import annotations

import time
from typing import Any

import httpx

from autodocs.config import Settings
from autodocs.errors import PackageNotFound, UpstreamResponseInvalid, VersionNotFound
from autodocs.index.fetch import JsonFetcher, NotFound
from autodocs.index.models import DistFile, Release, ReleaseList, VersionMetadata
from autodocs.index.names import normalize_package_name, validate_version_string

__all__ = ["IndexClient"]


class IndexClient:
    """Fetches release lists and version metadata from the package index's JSON API."""

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._base = settings.pypi_url
        self.fetcher = JsonFetcher(settings, transport=transport)

    @property
    def requests_sent(self) -> int:
        return self.fetcher.requests_sent

    async def aclose(self) -> None:
        await self.fetcher.aclose()

    async def fetch_project(self, name: str) -> tuple[ReleaseList, VersionMetadata]:
        """The project's release list and the latest version's metadata (one request)."""
        normalized = normalize_package_name(name)
        try:
            data = await self.fetcher.get_json(f"{self._base}/{normalized}/json")
        except NotFound:
            raise PackageNotFound(f"The package index has no package named {normalized!r}.") from None
        info = _expect_dict(data.get("info"), "info")
        releases = _parse_releases(data.get("releases"))
        latest = str(info.get("version") or "")
        release_list = ReleaseList(name=normalized, latest=latest, releases=releases, fetched_at=time.time())
        return release_list, VersionMetadata.from_info(info, data.get("urls"))

    async def fetch_version(self, name: str, version: str) -> VersionMetadata:
        """Metadata of one exact version; :class:`VersionNotFound` when the index has no such page."""
        normalized = normalize_package_name(name)
        validate_version_string(version)
        try:
            data = await self.fetcher.get_json(f"{self._base}/{normalized}/{version}/json")
        except NotFound:
            raise VersionNotFound(f"The package index has no version {version} of {normalized!r}.") from None
        return VersionMetadata.from_info(_expect_dict(data.get("info"), "info"), data.get("urls"))

    async def fetch_release_files(self, name: str, version: str) -> tuple[DistFile, ...]:
        """The files (wheels, sdist) of one exact version, from the project page's release table
        (every version's files, in one request); the version's own page if the table lacks it."""
        normalized = normalize_package_name(name)
        validate_version_string(version)
        try:
            data = await self.fetcher.get_json(f"{self._base}/{normalized}/json")
        except NotFound:
            raise PackageNotFound(f"The package index has no package named {normalized!r}.") from None
        releases = data.get("releases")
        files = releases.get(version) if isinstance(releases, dict) else None
        if isinstance(files, list):
            return tuple(f for raw in files if (f := DistFile.from_json(raw)))
        return (await self.fetch_version(normalized, version)).files


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
