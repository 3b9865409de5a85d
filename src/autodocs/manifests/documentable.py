"""Which of a project's dependencies can be documented, at which version, and why not the rest.

Docs come from the package index, one release at a time. A dependency declared as a git,
path or URL reference names no release: a lock pin gives it one, and so does an archive URL
whose file name carries a version (``foo-1.2.3-py3-none-any.whl``); otherwise it is listed
as skipped, with the reason, rather than dropped without a word.
"""

from __future__ import annotations

from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    parse_sdist_filename,
    parse_wheel_filename,
)

from autodocs.manifests.base import Dependency, SkippedDependency

__all__ = ["docs_requests", "skipped_dependencies"]

_VCS = ("git+", "hg+", "svn+", "bzr+")


def docs_requests(dependencies: list[Dependency]) -> dict[str, str | None]:
    """The version constraint to document each dependency at (a lock pin first), by name."""
    wanted: dict[str, str | None] = {}
    for dependency in dependencies:
        constraint = _constraint(dependency)
        if constraint is None:
            continue
        exact = constraint.startswith("==")
        if dependency.name not in wanted or exact:
            wanted[dependency.name] = constraint or None
    return wanted


def skipped_dependencies(dependencies: list[Dependency]) -> list[SkippedDependency]:
    """The dependencies :func:`docs_requests` leaves out, once per name, each with its reason."""
    documented = {dependency.name for dependency in dependencies if _constraint(dependency) is not None}
    skipped: dict[str, SkippedDependency] = {}
    for dependency in dependencies:
        if dependency.name in documented or dependency.name in skipped or dependency.url is None:
            continue
        skipped[dependency.name] = SkippedDependency(
            name=dependency.name,
            reason=f"{_kind(dependency.url)} without a version: the package index has no release to document",
            url=dependency.url,
            source=dependency.source,
        )
    return list(skipped.values())


def _constraint(dependency: Dependency) -> str | None:
    """``==pin``, the declared specifier (``""`` for any version), or None: nothing to document."""
    if dependency.pinned_version:
        return f"=={dependency.pinned_version}"
    if dependency.url is None:
        return dependency.specifier
    version = _archive_version(dependency.url)
    return f"=={version}" if version else None


def _archive_version(url: str) -> str | None:
    filename = url.split("#")[0].split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        if filename.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None


def _kind(url: str) -> str:
    if url.startswith(_VCS):
        return f"a {url.split('+', 1)[0]} reference"
    if "://" in url and not url.startswith("file:"):
        return "a direct URL"
    return "a local path"
