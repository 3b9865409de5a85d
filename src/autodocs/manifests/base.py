"""The model every manifest family produces, and the shared helpers to build it.

Each family module turns one file into ``list[Dependency]`` and raises
:class:`~autodocs.errors.ManifestError` (never anything else) when the file is unusable.
Requirement strings are parsed with ``packaging`` (PEP 508), names normalized (PEP 503).
"""

from __future__ import annotations

from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from pydantic import BaseModel, Field

from autodocs.errors import ManifestError

__all__ = ["Dependency", "FileError", "ScanResult", "SourceLocation", "dependency_from_requirement"]


class SourceLocation(BaseModel):
    file: str = Field(description="Path of the manifest, relative to the project root.")
    line: int | None = Field(default=None, description="1-based line of the entry, when known.")


class Dependency(BaseModel):
    name: str = Field(description="PEP 503 normalized distribution name.")
    specifier: str = Field(default="", description="PEP 440 version specifier ('' when unconstrained).")
    extras: list[str] = Field(default_factory=list, description="Requested extras, sorted.")
    marker: str | None = Field(default=None, description="PEP 508 environment marker, normalized.")
    group: str = Field(default="main", description="main, optional:<extra> or group:<name>.")
    pinned_version: str | None = Field(default=None, description="Exact version from a lock file.")
    url: str | None = Field(default=None, description="Direct reference (URL, VCS, path), if any.")
    source: SourceLocation


class FileError(BaseModel):
    file: str
    error: dict[str, Any]


class ScanResult(BaseModel):
    project_path: str
    files_read: list[str] = Field(default_factory=list)
    dependencies: list[Dependency] = Field(default_factory=list)
    errors: list[FileError] = Field(default_factory=list)
    partial: bool = Field(default=False, description="True when some manifest could not be read.")


def dependency_from_requirement(text: str, *, group: str, file: str, line: int | None) -> Dependency:
    """Parse one PEP 508 requirement string into a :class:`Dependency`."""
    try:
        requirement = Requirement(text)
    except InvalidRequirement as exc:
        raise ManifestError(
            f"{file}{f':{line}' if line else ''}: invalid requirement {text[:200]!r}: {exc}",
            suggestions=["Fix the requirement so it follows PEP 508, e.g. 'requests>=2.31'."],
            file=file,
            line=line,
        ) from None
    return Dependency(
        name=canonicalize_name(requirement.name),
        specifier=str(requirement.specifier),
        extras=sorted(canonicalize_name(extra) for extra in requirement.extras),
        marker=str(requirement.marker) if requirement.marker is not None else None,
        group=group,
        url=requirement.url,
        source=SourceLocation(file=file, line=line),
    )
