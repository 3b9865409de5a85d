"""The model every manifest family produces, and the shared helpers to build it.

Each family module turns one file into a :class:`ParsedFile`: the dependencies it could
read, plus one :class:`~autodocs.errors.ManifestError` per entry it had to reject (a
hostile name, a URL to a private address, a malformed table). A file that cannot be read
at all (invalid TOML, not UTF-8, too big) raises :class:`ManifestError` instead. Parsers
never raise anything else on purpose; the scanner turns a stray exception into a
per-file ``InternalError``.

Requirement strings are parsed with ``packaging`` (PEP 508), names normalized (PEP 503).
"""

from __future__ import annotations

import functools
import ipaddress
import re
import tomllib
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol
from urllib.parse import urlsplit

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import (
    InvalidSdistFilename,
    InvalidWheelFilename,
    canonicalize_name,
    parse_sdist_filename,
    parse_wheel_filename,
)
from pydantic import BaseModel, Field

from autodocs.errors import ManifestError

__all__ = [
    "DeclaredIndex",
    "Dependency",
    "FileError",
    "LineFinder",
    "LineLookup",
    "ParsedFile",
    "ScanResult",
    "SkippedDependency",
    "SourceLocation",
    "check_url",
    "dependency_from_requirement",
    "editable_dependency",
    "entry_error",
    "load_toml",
    "make_dependency",
    "parse_requirement_list",
]

_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)
_METADATA_HOSTS = frozenset({"localhost", "metadata", "metadata.google.internal", "instance-data"})


class SourceLocation(BaseModel):
    file: str = Field(description="Path of the manifest, relative to the project root.")
    line: int | None = Field(default=None, description="1-based line of the entry, when known.")


class Dependency(BaseModel):
    name: str = Field(description="PEP 503 normalized distribution name.")
    specifier: str = Field(default="", description="PEP 440 version specifier ('' when unconstrained).")
    extras: list[str] = Field(default_factory=list, description="Requested extras, sorted.")
    marker: str | None = Field(default=None, description="PEP 508 environment marker, normalized.")
    group: str = Field(default="main", description="main, optional:<extra>, group:<name> or a requirements file's.")
    pinned_version: str | None = Field(
        default=None,
        description="Exact version from a lock file; when it locks several, the one for the project's Python "
        "(its .venv's, else the running one's; the newest when none matches).",
    )
    pinned_versions: list[str] = Field(
        default_factory=list,
        description="Every version the lock files pin for it, newest first, when there are several "
        "(a uv.lock forked by Python version).",
    )
    url: str | None = Field(default=None, description="Direct reference (URL, VCS, path), if any.")
    index: str | None = Field(
        default=None,
        description="The index the project locks or pins it to (a lock's registry, a uv source or Poetry source "
        "naming an index), credentials removed: it is fetched only from there.",
    )
    source: SourceLocation = Field(description="Where the entry was first found.")
    sources: list[SourceLocation] = Field(
        default_factory=list, description="Every place the same entry is declared (source first)."
    )


IndexRole = Literal["primary", "default", "supplemental", "explicit"]


class DeclaredIndex(BaseModel):
    """A package index the project's own files name. Read only: the scanner sends no request."""

    url: str = Field(
        description="Its URL, with any user name and password taken out (a project file's credentials are never used)."
    )
    name: str | None = Field(default=None, description="Its name, where the tool names indexes (uv, Poetry).")
    tool: Literal["uv", "poetry"] | None = Field(
        default=None,
        description="The tool whose table names it: its name selects that tool's credential variables "
        "(UV_INDEX_<NAME>_USERNAME, POETRY_HTTP_BASIC_<NAME>_USERNAME), which the operator sets.",
    )
    role: IndexRole = Field(
        description="primary: asked before the default index (uv's [[tool.uv.index]]); default: the project's "
        "default index, in place of the server's (uv default = true, pip --index-url, Poetry primary sources); "
        "supplemental: asked after it (pip --extra-index-url, Poetry supplemental); explicit: only for the "
        "packages pinned or locked to it (uv explicit = true, Poetry explicit, a lock's registry)."
    )
    source: SourceLocation = Field(description="Where it is declared.")
    had_credentials: bool = Field(default=False, description="The file wrote credentials into the URL (not kept).")


class SkippedDependency(BaseModel):
    name: str = Field(description="PEP 503 normalized distribution name.")
    reason: str = Field(description="Why it has no docs here, e.g. a git reference without a version.")
    url: str | None = Field(default=None, description="The direct reference, when that is the reason.")
    source: SourceLocation | None = Field(default=None, description="Where it is declared, when known.")


class FileError(BaseModel):
    file: str
    error: dict[str, Any]


class ScanResult(BaseModel):
    project_path: str
    files_read: list[str] = Field(default_factory=list)
    dependencies: list[Dependency] = Field(default_factory=list)
    locked_only: list[Dependency] = Field(
        default_factory=list, description="Packages a lock file pins that no manifest names (transitive)."
    )
    lock_files: list[str] = Field(default_factory=list, description="Lock files whose pins were applied.")
    indexes: list[DeclaredIndex] = Field(
        default_factory=list, description="Package indexes the project's files and locks name, as declared."
    )
    skipped: list[SkippedDependency] = Field(
        default_factory=list,
        description="Dependencies that cannot be documented (a git, path or URL reference with no version), and why.",
    )
    errors: list[FileError] = Field(default_factory=list)
    partial: bool = Field(default=False, description="True when some manifest or entry could not be read.")


@dataclass
class ParsedFile:
    """What one manifest yielded: its dependencies and the entries it had to reject."""

    dependencies: list[Dependency] = field(default_factory=list)
    problems: list[ManifestError] = field(default_factory=list)
    workspace_members: list[str] = field(default_factory=list)  # uv workspace globs
    workspace_exclude: list[str] = field(default_factory=list)
    indexes: list[DeclaredIndex] = field(default_factory=list)

    def extend(self, other: ParsedFile) -> None:
        self.dependencies.extend(other.dependencies)
        self.indexes.extend(other.indexes)
        self.problems.extend(other.problems)
        self.workspace_members.extend(other.workspace_members)
        self.workspace_exclude.extend(other.workspace_exclude)


def entry_error(file: str, line: int | None, problem: str, suggestion: str | None = None) -> ManifestError:
    """A :class:`ManifestError` for one entry, located as ``file:line``."""
    return ManifestError(
        f"{file}{f':{line}' if line else ''}: {problem}",
        suggestions=[suggestion] if suggestion else None,
        file=file,
        line=line,
    )


def load_toml(text: str, *, file: str) -> dict[str, Any]:
    """Parse TOML; a syntax error becomes a :class:`ManifestError` naming line and column."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        if "(at end of document)" in message:  # tomllib names no position at EOF
            lines = text.splitlines() or [""]
            position = f"(at end of document, line {len(lines)}, column {len(lines[-1]) + 1})"
            message = message.replace("(at end of document)", position)
        raise ManifestError(
            f"{file}: invalid TOML: {message}",
            suggestions=["Fix the TOML syntax at the line and column named."],
            file=file,
        ) from None
    except RecursionError:
        raise ManifestError(f"{file}: invalid TOML: nested too deeply", file=file) from None


def check_url(url: str, *, file: str, line: int | None) -> None:
    """Refuse direct references to loopback, private, link-local or cloud-metadata hosts.

    AutoDocs never fetches these URLs; refusing them still tells the user the manifest
    names something that should not be there (e.g. http://169.254.169.254/).
    """
    bare = url.split("+", 1)[1] if re.match(r"^(git|hg|svn|bzr)\+", url) else url
    try:
        host = urlsplit(bare).hostname
    except ValueError:
        raise entry_error(file, line, f"malformed URL {url[:200]!r}") from None
    if not host:
        return
    refused = host.lower() in _METADATA_HOSTS or host.lower().endswith(".internal")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        pass
    else:
        refused = refused or not address.is_global
    if refused:
        raise entry_error(
            file,
            line,
            f"direct reference to a local, private or metadata address refused: {url[:200]!r}",
            "Depend on a package from the index or a public URL.",
        )


def dependency_from_requirement(text: str, *, group: str, file: str, line: int | None) -> Dependency:
    """Parse one PEP 508 requirement string into a :class:`Dependency`."""
    try:
        requirement = _requirement(text)
    except InvalidRequirement as exc:
        raise entry_error(
            file,
            line,
            f"invalid requirement {text[:200]!r}: {str(exc)[:300]}",
            "Fix the requirement so it follows PEP 508, e.g. 'requests>=2.31'.",
        ) from None
    if requirement.url is not None:
        check_url(requirement.url, file=file, line=line)
    return Dependency(
        name=requirement.name,
        specifier=requirement.specifier,
        extras=list(requirement.extras),
        marker=requirement.marker,
        group=group,
        url=requirement.url,
        source=SourceLocation(file=file, line=line),
    )


class _ParsedRequirement(NamedTuple):
    """What a dependency takes from a PEP 508 requirement, in normal form (immutable: memoized)."""

    name: str
    specifier: str
    extras: tuple[str, ...]
    marker: str | None
    url: str | None


@functools.lru_cache(maxsize=4096)
def _requirement(text: str) -> _ParsedRequirement:
    """Parsing is the scan's hot spot and monorepos repeat the same strings: memoized, as a
    tuple of strings (a ``Requirement``'s attributes can be reassigned)."""
    requirement = Requirement(text)
    return _ParsedRequirement(
        canonicalize_name(requirement.name),
        str(requirement.specifier),
        tuple(sorted(canonicalize_name(extra) for extra in requirement.extras)),
        str(requirement.marker) if requirement.marker is not None else None,
        requirement.url,
    )


def make_dependency(
    name: str,
    *,
    group: str,
    file: str,
    line: int | None,
    specifier: str = "",
    extras: list[str] | None = None,
    marker: str | None = None,
    url: str | None = None,
) -> Dependency:
    """Build a :class:`Dependency` from parts (TOML tables), validating each one."""
    if not _NAME.match(name):
        raise entry_error(file, line, f"invalid distribution name {name[:200]!r}", "Use a PEP 508 name.")
    try:
        normalized_specifier = str(SpecifierSet(specifier))
    except InvalidSpecifier:
        raise entry_error(file, line, f"{name}: invalid version specifier {specifier[:200]!r}") from None
    bad_extras = [extra for extra in extras or [] if not _NAME.match(extra)]
    if bad_extras:
        raise entry_error(file, line, f"{name}: invalid extra {bad_extras[0][:100]!r}")
    normalized_marker = None
    if marker:
        try:
            normalized_marker = str(Marker(marker))
        except InvalidMarker:
            raise entry_error(file, line, f"{name}: invalid environment marker {marker[:200]!r}") from None
    if url is not None:
        check_url(url, file=file, line=line)
    return Dependency(
        name=canonicalize_name(name),
        specifier=normalized_specifier,
        extras=sorted({canonicalize_name(extra) for extra in extras or []}),
        marker=normalized_marker,
        group=group,
        url=url,
        source=SourceLocation(file=file, line=line),
    )


class LineLookup(Protocol):
    """Answers the line of an entry's text, or None when it cannot be located."""

    def find(self, text: str) -> int | None: ...


class LineFinder:
    """Maps an entry back to its line: tomllib and configparser give no positions.

    Looks for the quoted text (or a ``key =`` line) searching forward from the last
    match, so repeated strings map to successive lines.
    """

    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._cursor = 0

    def find(self, text: str, *, quoted: bool = True, key: bool = False) -> int | None:
        if key:
            pattern = re.compile(rf"^\s*[\"']?{re.escape(text)}[\"']?\s*=")
            return self._search(lambda line: pattern.match(line) is not None)
        needles = (f'"{text}"', f"'{text}'") if quoted else (text,)
        return self._search(lambda line: any(needle in line for needle in needles))

    def _search(self, matches: Any) -> int | None:
        for start in (self._cursor, 0):
            for index in range(start, len(self._lines)):
                if matches(self._lines[index]):
                    self._cursor = index + 1
                    return index + 1
        return None


def parse_requirement_list(value: Any, *, group: str, file: str, where: str, lines: LineLookup) -> ParsedFile:
    """A TOML list of PEP 508 strings; each bad entry becomes a problem, not a failure.

    PDM's ``"-e path#egg=name"`` / ``"-e name @ url"`` editable strings are accepted too.
    """
    parsed = ParsedFile()
    if not isinstance(value, list):
        parsed.problems.append(entry_error(file, None, f"{where} must be a list of requirement strings"))
        return parsed
    for item in value:
        if not isinstance(item, str):
            parsed.problems.append(entry_error(file, None, f"{where}: {str(item)[:100]!r} is not a requirement string"))
            continue
        line = lines.find(item)
        text = item.strip()
        try:
            if text.startswith("-e "):
                editable = editable_dependency(text[3:].strip(), group=group, file=file, line=line)
                if editable is not None:
                    parsed.dependencies.append(editable)
            else:
                parsed.dependencies.append(dependency_from_requirement(text, group=group, file=file, line=line))
        except ManifestError as exc:
            parsed.problems.append(exc)
    return parsed


_EGG = re.compile(r"#egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


def editable_dependency(target: str, *, group: str, file: str, line: int | None) -> Dependency | None:
    """``name @ url``, ``url#egg=name`` or an archive URL: a direct reference with no version.

    A reference that names no package yields ``None``: a local path (``-e .``, the project
    itself) or a VCS/URL reference without ``#egg=`` is a valid pip line, but only
    building it would tell its name, so there is nothing to document. A URL to a
    local, private or metadata address is still refused.
    """
    if " @ " in target:
        return dependency_from_requirement(target, group=group, file=file, line=line)
    if "://" in target:
        check_url(target, file=file, line=line)
    egg = _EGG.search(target)
    name = egg.group(1) if egg else _archive_name(target)
    if name is None:
        return None
    return Dependency(
        name=canonicalize_name(name), group=group, url=target, source=SourceLocation(file=file, line=line)
    )


def _archive_name(target: str) -> str | None:
    filename = target.split("#")[0].split("?")[0].rstrip("/").rsplit("/", 1)[-1]
    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[0])
        if filename.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(filename)[0])
    except (InvalidWheelFilename, InvalidSdistFilename):
        return None
    return None
