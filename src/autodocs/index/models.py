"""What AutoDocs keeps of the index's JSON: release lists and per-version metadata.

Plain frozen dataclasses and named tuples, built with a few dict look-ups, because the cold
path parses hundreds of these and pydantic validation of every release entry would be measurable.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import urljoin

from autodocs.errors import VersionNotFound

__all__ = ["DistFile", "Release", "ReleaseList", "VersionMetadata", "VersionNotListed"]

#: The ``info`` keys AutoDocs reads; everything else in the index's answer is dropped.
INFO_KEYS = (
    "name",
    "version",
    "summary",
    "description",
    "description_content_type",
    "home_page",
    "project_urls",
    "requires_dist",
    "requires_python",
    "license",
    "license_expression",
    "classifiers",
    "author",
    "author_email",
    "keywords",
    "yanked",
    "yanked_reason",
    "docs_url",
)


class Release(NamedTuple):
    """One release in a project's list. A named tuple, not a dataclass: big projects list
    thousands of releases, and a tuple is built in a third of a frozen dataclass's time."""

    version: str
    yanked: bool = False
    yanked_reason: str | None = None
    requires_python: str | None = None
    upload_time: str | None = None
    has_files: bool = True

    def to_json(self) -> list[Any]:
        return list(self)

    @classmethod
    def from_json(cls, row: list[Any]) -> Release:
        return cls(str(row[0]), bool(row[1]), row[2], row[3], row[4], bool(row[5]))


@dataclass(frozen=True, slots=True)
class ReleaseList:
    """Every release of a project, as the index listed it at ``fetched_at`` (epoch seconds)."""

    name: str
    latest: str
    releases: tuple[Release, ...]
    fetched_at: float

    def to_json(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "latest": self.latest,
            "fetched_at": self.fetched_at,
            "releases": [release.to_json() for release in self.releases],
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ReleaseList:
        return cls(
            name=data["name"],
            latest=data["latest"],
            fetched_at=float(data["fetched_at"]),
            releases=tuple(Release.from_json(row) for row in data["releases"]),
        )

    def find(self, version: str) -> Release | None:
        for release in self.releases:
            if release.version == version:
                return release
        return None


@dataclass(frozen=True, slots=True)
class DistFile:
    """One file of a release (a wheel or an sdist) as the index lists it.

    ``url`` is absolute: resolved against the page that listed it (PEP 503 allows relative
    links). ``metadata`` says whether a PEP 658/714 ``.metadata`` file sits next to it, and
    ``metadata_sha256`` is that file's listed hash when the index gave one.
    """

    filename: str
    url: str
    packagetype: str  # "bdist_wheel", "sdist", ...
    size: int | None
    sha256: str | None
    yanked: bool = False
    version: str = ""
    requires_python: str | None = None
    upload_time: str | None = None
    yanked_reason: str | None = None
    metadata: bool = False
    metadata_sha256: str | None = None

    @property
    def metadata_url(self) -> str:
        return f"{self.url}.metadata"  # PEP 658: the file's URL (without fragment) plus ".metadata"

    @classmethod
    def from_json(cls, raw: Any, base: str = "") -> DistFile | None:
        """A file of the JSON API's ``urls``/``releases``; ``base`` is the page it came from."""
        if not isinstance(raw, dict):
            return None
        filename, url = raw.get("filename"), raw.get("url")
        if not isinstance(filename, str) or not isinstance(url, str) or not filename or not url:
            return None
        digests = raw.get("digests")
        sha256 = digests.get("sha256") if isinstance(digests, dict) else None
        size = raw.get("size")
        upload_time = raw.get("upload_time_iso_8601")
        return cls(
            filename=filename,
            url=urljoin(base, url) if base else url,
            packagetype=str(raw.get("packagetype") or ""),
            size=size if isinstance(size, int) and not isinstance(size, bool) else None,
            sha256=sha256 if isinstance(sha256, str) else None,
            yanked=bool(raw.get("yanked")),
            yanked_reason=raw.get("yanked_reason") if isinstance(raw.get("yanked_reason"), str) else None,
            requires_python=raw.get("requires_python") if isinstance(raw.get("requires_python"), str) else None,
            upload_time=upload_time if isinstance(upload_time, str) else None,
        )


@dataclass(frozen=True, slots=True)
class VersionMetadata:
    """The ``info`` object of one exact version (description, requirements, ...) and its files."""

    name: str
    version: str
    info: dict[str, Any] = field(default_factory=dict)
    files: tuple[DistFile, ...] = ()

    @classmethod
    def from_info(cls, info: dict[str, Any], urls: Any = None, base: str = "") -> VersionMetadata:
        kept = {key: info.get(key) for key in INFO_KEYS}
        files = tuple(f for raw in (urls if isinstance(urls, list) else ()) if (f := DistFile.from_json(raw, base)))
        return cls(name=str(info.get("name") or ""), version=str(info.get("version") or ""), info=kept, files=files)


class VersionNotListed(VersionNotFound):
    """The index's fresh listing of the project lacks the version; ``releases`` is that listing."""

    def __init__(self, message: str, releases: ReleaseList) -> None:
        super().__init__(message)
        self.releases = releases

    @property
    def type_name(self) -> str:
        return "VersionNotFound"  # what a caller sees, should it ever reach a boundary
