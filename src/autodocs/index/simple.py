"""The Simple API's project page (PEP 503 HTML, PEP 691 JSON) → the files of every release.

What a page gives: each file's URL (resolved against the page it came from, or its ``<base>``),
hashes, size and upload time (PEP 700), ``requires-python`` (PEP 503), yanked status and
reason (PEP 592) and whether a core-metadata file sits next to it (PEP 658, under its PEP 714
name ``core-metadata`` first, then the older ``dist-info-metadata``). Which version a file
belongs to is read from its name (:mod:`packaging.utils`), as pip does.

Libraries: :mod:`html.parser` (standard library) reads these regular pages well, and
pydantic-core's JSON parser (here with pydantic) the JSON ones, twice as fast as :mod:`json` on a
big project's megabytes; ``pypi-simple`` would bring ``requests`` and ``beautifulsoup4``, a
second HTTP stack next to httpx, for the same few lines. Choosing a file for a version is kept apart
from fetching (as pip keeps ``collector`` apart from ``package_finder``): :meth:`ProjectListing.files_of`.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin

import pydantic_core
from packaging.version import InvalidVersion, Version

from autodocs.errors import UpstreamResponseInvalid
from autodocs.index.models import DistFile, Release, ReleaseList, VersionMetadata

__all__ = ["SIMPLE_ACCEPT", "ProjectListing", "listing_from_json_api", "parse_simple_page"]

#: PEP 691 content negotiation: JSON preferred, HTML accepted (any index that predates PEP 691).
SIMPLE_ACCEPT = "application/vnd.pypi.simple.v1+json, application/vnd.pypi.simple.v1+html;q=0.2, text/html;q=0.01"
_SDIST_SUFFIXES = (".tar.gz", ".zip")


@dataclass(frozen=True, slots=True)
class ProjectListing:
    """Every file the index lists for one project, each tagged with its release's version."""

    name: str
    files: tuple[DistFile, ...]
    fetched_at: float
    listed: ReleaseList | None = None  # the JSON API's own list, which names releases without files too
    latest: VersionMetadata | None = None  # the JSON API's project page carries the latest's metadata

    def versions(self) -> dict[str, list[DistFile]]:
        grouped: dict[str, list[DistFile]] = {}
        for file in self.files:
            grouped.setdefault(file.version, []).append(file)
        return grouped

    def files_of(self, version: str) -> tuple[DistFile, ...] | None:
        """The files of ``version`` (compared as PEP 440 versions), or None when not listed."""
        try:
            wanted = Version(version)
        except InvalidVersion:
            return None
        found = tuple(f for f in self.files if Version(f.version) == wanted)
        if found or self.listed is None:
            return found or None
        return () if any(_same_version(r.version, wanted) for r in self.listed.releases) else None

    def release_list(self) -> ReleaseList:
        """The list the rest of AutoDocs reads; ``latest`` is the newest final release not yanked
        (the JSON API's meaning), else the newest of any kind."""
        if self.listed is not None:
            return self.listed
        releases: list[Release] = []
        for version, files in self.versions().items():
            yanked = all(f.yanked for f in files)
            first = files[0]
            releases.append(
                Release(
                    version,
                    yanked,
                    first.yanked_reason if yanked else None,
                    first.requires_python,
                    min((f.upload_time for f in files if f.upload_time), default=None),
                    True,
                )
            )
        releases.sort(key=lambda release: Version(release.version))
        usable = [r for r in releases if not r.yanked] or releases
        final = [r for r in usable if not Version(r.version).is_prerelease]
        latest = (final or usable)[-1].version if usable else ""
        return ReleaseList(name=self.name, latest=latest, releases=tuple(releases), fetched_at=self.fetched_at)


def parse_simple_page(name: str, url: str, content_type: str, body: bytes) -> ProjectListing:
    """The listing of a Simple API project page, JSON or HTML by its ``Content-Type``."""
    media_type = content_type.split(";", 1)[0].strip().lower()
    if media_type in ("application/vnd.pypi.simple.v1+json", "application/json"):
        files = _files_from_json(body, url)
    elif media_type in ("application/vnd.pypi.simple.v1+html", "text/html", ""):
        files = _files_from_html(body, url)
    else:
        raise UpstreamResponseInvalid(
            f"The package index answered {url} with {media_type!r}, not a Simple API page.", retryable=False
        )
    return ProjectListing(name=name, files=tuple(files), fetched_at=time.time())


def listing_from_json_api(
    name: str, url: str, releases: Any, listed: ReleaseList, latest: VersionMetadata
) -> ProjectListing:
    """The files of the JSON API's ``releases`` table (links resolved against ``url``)."""
    files: list[DistFile] = []
    if isinstance(releases, dict):
        for version, raw_files in releases.items():
            for raw in raw_files if isinstance(raw_files, list) else ():
                file = DistFile.from_json(raw, url)
                if file is not None:
                    files.append(replace(file, version=str(version)))
    usable = []
    for file in files:
        try:
            usable.append(replace(file, version=str(Version(file.version))))
        except InvalidVersion:
            continue
    return ProjectListing(name=name, files=tuple(usable), fetched_at=listed.fetched_at, listed=listed, latest=latest)


def _same_version(raw: str, wanted: Version) -> bool:
    try:
        return Version(raw) == wanted
    except InvalidVersion:
        return False


class _Versions:
    """The release version a file's name carries, or None for names that say none (``.egg``,
    ``.exe``, a mangled name), which are left out as pip leaves them out.

    Read as :func:`packaging.utils.parse_wheel_filename` and ``parse_sdist_filename`` read it
    (the wheel's second dash-separated field; the sdist's text after its last dash), without
    parsing the wheel's tags: on a big project's page (thousands of files) that parsing was a
    fifth of the time. Each distinct version string is parsed once.
    """

    def __init__(self) -> None:
        self._seen: dict[str, str | None] = {}

    def of(self, filename: str) -> tuple[str, str] | None:
        if filename.endswith(".whl"):
            parts = filename[:-4].split("-")
            raw, kind = (parts[1] if len(parts) in (5, 6) else ""), "bdist_wheel"
        elif filename.endswith(_SDIST_SUFFIXES):
            stem = filename[: -len(".tar.gz")] if filename.endswith(".tar.gz") else filename[: -len(".zip")]
            raw, kind = stem.rpartition("-")[2] if "-" in stem else "", "sdist"
        else:
            return None
        version = self._seen[raw] if raw in self._seen else self._parse(raw)
        return None if version is None else (version, kind)

    def _parse(self, raw: str) -> str | None:
        try:
            version: str | None = str(Version(raw)) if raw else None
        except InvalidVersion:
            version = None
        self._seen[raw] = version
        return version


def _link(page: str, href: str) -> str:
    """``href`` resolved against its page (absolute links, the common case, as they are)."""
    return href if href.startswith(("https://", "http://")) else urljoin(page, href)


def _files_from_json(body: bytes, url: str) -> list[DistFile]:
    try:
        data = pydantic_core.from_json(body)  # a big project's page is megabytes: twice json's speed
    except ValueError:
        raise UpstreamResponseInvalid(f"The package index sent invalid JSON for {url}.") from None
    raw_files = data.get("files") if isinstance(data, dict) else None
    if not isinstance(raw_files, list):
        raise UpstreamResponseInvalid(f"The package index's page {url} has no file list.", retryable=False)
    files = []
    versions = _Versions()
    for raw in raw_files:
        if not isinstance(raw, dict) or not isinstance(raw.get("filename"), str) or not isinstance(raw.get("url"), str):
            continue
        found = versions.of(raw["filename"])
        if found is None:
            continue
        hashes = raw.get("hashes")
        sha256 = hashes.get("sha256") if isinstance(hashes, dict) else None
        metadata = raw.get("core-metadata", raw.get("dist-info-metadata", False))
        yanked = raw.get("yanked", False)
        size, upload_time, requires_python = raw.get("size"), raw.get("upload-time"), raw.get("requires-python")
        files.append(
            DistFile(
                filename=raw["filename"],
                url=_link(url, raw["url"]),
                packagetype=found[1],
                size=size if isinstance(size, int) and not isinstance(size, bool) else None,
                sha256=sha256 if isinstance(sha256, str) else None,
                yanked=bool(yanked),
                yanked_reason=yanked if isinstance(yanked, str) and yanked else None,
                requires_python=requires_python if isinstance(requires_python, str) else None,
                upload_time=upload_time if isinstance(upload_time, str) else None,
                metadata=bool(metadata),
                metadata_sha256=_sha256_of(metadata.get("sha256")) if isinstance(metadata, dict) else None,
                version=found[0],
            )
        )
    return files


def _files_from_html(body: bytes, url: str) -> list[DistFile]:
    reader = _AnchorReader(url)
    reader.feed(body.decode("utf-8", errors="replace"))
    reader.close()
    return reader.files


def _sha256_of(value: Any) -> str | None:
    return value.lower() if isinstance(value, str) and len(value) == 64 else None


def _hash_attribute(value: str | None) -> tuple[bool, str | None]:
    """``data-core-metadata``: absent, ``true``, or ``<hashname>=<hex>`` (PEP 658)."""
    if value is None or value.lower() == "false":
        return False, None
    name, _, digest = value.partition("=")
    return True, _sha256_of(digest) if name.lower() == "sha256" else None


class _AnchorReader(HTMLParser):
    """Every ``<a>`` of a PEP 503 page; ``<base href>`` moves the page's base, as in pip."""

    def __init__(self, url: str) -> None:
        super().__init__(convert_charrefs=True)
        self.base = url
        self.files: list[DistFile] = []
        self._versions = _Versions()
        self._open: dict[str, str | None] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "base" and self.files == []:
            href = dict(attrs).get("href")
            if href:
                self.base = urljoin(self.base, href)
        elif tag == "a":
            self._open, self._text = dict(attrs), []

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag != "a" or self._open is None:
            return
        attrs, self._open = self._open, None
        href = attrs.get("href")
        if not href:
            return
        link, _, fragment = _link(self.base, href).partition("#")
        hash_name, _, digest = fragment.partition("=")
        filename = "".join(self._text).strip() or link.rsplit("/", 1)[-1]
        found = self._versions.of(filename)
        if found is None:
            return
        metadata = attrs.get("data-core-metadata", attrs.get("data-dist-info-metadata"))
        has_metadata, metadata_sha256 = _hash_attribute(metadata)
        yanked = attrs.get("data-yanked")
        self.files.append(
            DistFile(
                filename=filename,
                url=link,
                packagetype=found[1],
                size=None,
                sha256=_sha256_of(digest) if hash_name == "sha256" else None,
                yanked=yanked is not None,
                yanked_reason=yanked or None,
                requires_python=attrs.get("data-requires-python") or None,
                metadata=has_metadata,
                metadata_sha256=metadata_sha256,
                version=found[0],
            )
        )
