"""Lock files → exact versions: uv.lock, poetry.lock, pdm.lock, Pipfile.lock, pylock.toml.

Each reader returns every locked package with its version; the scanner pins the direct
dependencies and lists the rest as ``locked_only``. A lock that forks a package (one
version per Python range: uv's ``resolution-markers``, Poetry's ``markers``) gives each
version with its markers; the scanner pins the one whose markers match the project's
Python (:func:`project_environment`).
Packages that are the project itself or a local path/workspace member (no version on the
index) are left out. A package the lock took from a git repository or a URL keeps that
reference (``url``): its version names no release on any index, so the scanner lists it as
skipped instead of asking an index for it.

``pylock.toml`` (PEP 751) is validated by ``packaging.pylock``, the PyPA reference. The
other formats are tool-private with no standalone reader (uv's is Rust, Poetry's and
PDM's need the tools installed); the few keys needed (name, version, source kind) are
stable across their lock versions and read directly.
"""

from __future__ import annotations

import contextlib
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from packaging.markers import (
    InvalidMarker,
    Marker,
    UndefinedComparison,
    UndefinedEnvironmentName,
    default_environment,
)
from packaging.pylock import Pylock, PylockUnsupportedVersionError, PylockValidationError
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from autodocs.errors import AutoDocsError, ManifestError
from autodocs.manifests.base import LineFinder, load_toml

__all__ = ["LOCK_FILES", "LockedPackage", "is_lock_file", "parse_lock", "project_environment"]

LOCK_FILES = ("uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "pylock.toml")
_PYLOCK = re.compile(r"^pylock\.([^.]+)\.toml$")
_LOCAL_SOURCES = frozenset({"editable", "virtual", "directory", "workspace", "path"})


@dataclass(frozen=True)
class LockedPackage:
    name: str
    version: str
    line: int | None
    #: uv's ``resolution-markers``: the environments this version is locked for when the lock
    #: forks the package by Python version (or platform); empty when it is locked for all.
    markers: tuple[str, ...] = ()
    #: The index the lock records the package came from (uv's ``source.registry``, Poetry's
    #: ``[package.source]`` url of a legacy source, pylock's ``index``); None: not recorded.
    index: str | None = None
    #: The git or URL reference the lock records the package from (uv's ``source.git``/``source.url``,
    #: Poetry's ``[package.source]`` of type git or url, PDM's ``git``, pylock's ``vcs``/``archive``);
    #: None: it comes from an index.
    url: str | None = None

    def applies_to(self, environment: dict[str, str]) -> bool:
        """Whether this version is the one locked for ``environment`` (marker variables)."""
        if not self.markers:
            return True
        for text in self.markers:
            with contextlib.suppress(InvalidMarker, UndefinedComparison, UndefinedEnvironmentName):
                if _marker(text).evaluate(environment):
                    return True
        return False


def project_environment(root: Path, read_text: Callable[[Path], str] | None = None) -> dict[str, str]:
    """Marker variables of the project's Python: its ``.venv`` (or ``venv``) when it has one,
    read from ``pyvenv.cfg`` (the interpreter is never started), else the running Python's.
    Only the Python version is read from the venv; the rest is the running Python's.

    ``read_text`` reads a project file (the scan passes its confined reader, so a ``.venv``
    linked outside the allowed roots is never read); it raises :class:`OSError` or an
    AutoDocs error (:class:`~autodocs.errors.PathNotAllowed`) for a file it will not read."""
    environment: dict[str, str] = {"python_version": _RUNNING["python_version"]}
    environment["python_full_version"] = _RUNNING["python_full_version"]
    read = read_text if read_text is not None else _read_plain
    for folder in (".venv", "venv"):
        try:
            text = read(root / folder / "pyvenv.cfg")
        except (OSError, AutoDocsError):  # unreadable or outside the roots: the running Python
            continue
        values = dict(line.partition("=")[::2] for line in text.splitlines()[:200])
        values = {key.strip().lower(): value.strip() for key, value in values.items()}
        found = _PYTHON_VERSION.match(values.get("version_info") or values.get("version") or "")
        if found:
            environment["python_full_version"] = found.group(0)
            environment["python_version"] = f"{found.group(1)}.{found.group(2)}"
            break
    return environment


def _read_plain(path: Path) -> str:
    return path.read_text(encoding="utf-8", errors="replace")


_RUNNING = default_environment()
_PYTHON_VERSION = re.compile(r"^(\d+)\.(\d+)\.\d+")


@functools.lru_cache(maxsize=256)
def _marker(text: str) -> Marker:
    return Marker(text)


def is_lock_file(filename: str) -> bool:
    return filename in LOCK_FILES or bool(_PYLOCK.match(filename))


def parse_lock(text: str, *, file: str) -> list[LockedPackage]:
    """Every package a lock file pins; raises ManifestError when the file is unusable."""
    filename = file.rsplit("/", 1)[-1]
    if filename == "Pipfile.lock":
        return _pipfile_lock(text, file)
    data = load_toml(text, file=file)
    if filename.startswith("pylock."):
        return _pylock(data, text, file)
    packages = data.get("package", [])
    if not isinstance(packages, list):
        raise _shape(file, "[[package]] must be an array of tables")
    lines = LineFinder(text)
    found = []
    for package in packages:
        if not isinstance(package, dict) or not isinstance(package.get("name"), str):
            continue
        line = lines.find(f'name = "{package["name"]}"', quoted=False)
        version = package.get("version")
        if not isinstance(version, str) or _is_local(package):
            continue
        locked = _locked(
            package["name"], version, line, _resolution_markers(package), _registry(package), _direct_reference(package)
        )
        if locked is not None:
            found.append(locked)
    return found


def _resolution_markers(package: dict[str, Any]) -> tuple[str, ...]:
    """When this locked version applies: uv's ``resolution-markers`` (a list), Poetry's
    ``markers`` (a string, or one per dependency group) or PDM's ``marker``."""
    markers = package.get("resolution-markers", package.get("markers", package.get("marker")))
    if isinstance(markers, str):
        return (markers,)
    if isinstance(markers, dict):
        markers = list(markers.values())
    if not isinstance(markers, list):
        return ()
    return tuple(marker for marker in markers if isinstance(marker, str))


def _registry(package: dict[str, Any]) -> str | None:
    """The index a uv.lock or poetry.lock entry was resolved from, when the lock records one."""
    source = package.get("source")
    if not isinstance(source, dict):
        return None
    if isinstance(source.get("registry"), str):  # uv: source = { registry = "https://…/simple" }
        return str(source["registry"])
    if source.get("type") == "legacy" and isinstance(source.get("url"), str):  # poetry: a named source
        return str(source["url"])
    return None


def _direct_reference(package: dict[str, Any]) -> str | None:
    """The git or URL reference a uv.lock, poetry.lock or pdm.lock entry was resolved from, if any."""
    source = package.get("source")
    if isinstance(source, dict):
        if isinstance(source.get("git"), str):  # uv: source = { git = "https://…?rev=…#sha" }
            return _git(str(source["git"]))
        if source.get("type") == "git" and isinstance(source.get("url"), str):  # poetry
            revision = source.get("resolved_reference") or source.get("reference")
            return _git(str(source["url"])) + (f"@{revision}" if isinstance(revision, str) and revision else "")
        if isinstance(source.get("url"), str) and source.get("type") in (None, "url", "file"):  # an archive
            return str(source["url"])
    if isinstance(package.get("git"), str):  # pdm
        return _git(str(package["git"]))
    return None


def _git(url: str) -> str:
    return url if url.startswith("git+") else f"git+{url}"


def _is_local(package: dict[str, Any]) -> bool:
    source = package.get("source")
    if isinstance(source, dict):  # uv: {editable = "."}; poetry: {type = "directory"}
        return bool(_LOCAL_SOURCES & set(source)) or source.get("type") in _LOCAL_SOURCES
    return package.get("editable") is True or isinstance(package.get("path"), str)  # pdm


def _pipfile_lock(text: str, file: str) -> list[LockedPackage]:
    try:
        data = json.loads(text)
    except (json.JSONDecodeError, RecursionError) as exc:
        where = f" (line {exc.lineno}, column {exc.colno})" if isinstance(exc, json.JSONDecodeError) else ""
        raise ManifestError(f"{file}: invalid JSON{where}", file=file) from None
    if not isinstance(data, dict):
        raise _shape(file, "the top level must be an object")
    lines = LineFinder(text)
    found = []
    for section in ("default", "develop"):
        packages = data.get(section, {})
        if not isinstance(packages, dict):
            continue
        for name, entry in packages.items():
            line = lines.find(name)
            version = entry.get("version") if isinstance(entry, dict) else None
            if isinstance(version, str) and version.startswith("=="):
                locked = _locked(name, version[2:], line)
                if locked is not None:
                    found.append(locked)
    return found


def _pylock(data: dict[str, Any], text: str, file: str) -> list[LockedPackage]:
    try:
        lock = Pylock.from_dict(data)
    except (PylockValidationError, PylockUnsupportedVersionError) as exc:
        raise _shape(file, f"not a valid PEP 751 lock file: {str(exc)[:300]}") from None
    lines = LineFinder(text)
    found = []
    for package in lock.packages:
        line = lines.find(f'name = "{package.name}"', quoted=False)
        if package.version is not None and package.directory is None:
            reference = package.vcs.url if package.vcs is not None else None
            if reference is None and package.archive is not None:
                reference = package.archive.url
            if package.vcs is not None and reference is not None:
                reference = f"{package.vcs.type}+{reference}" if "+" not in reference.split("://")[0] else reference
            found.append(
                LockedPackage(
                    name=str(package.name), version=str(package.version), line=line, index=package.index, url=reference
                )
            )
    return found


def _locked(
    name: str,
    version: str,
    line: int | None,
    markers: tuple[str, ...] = (),
    index: str | None = None,
    url: str | None = None,
) -> LockedPackage | None:
    try:
        return LockedPackage(
            name=canonicalize_name(name, validate=True),
            version=str(Version(version)),
            line=line,
            markers=markers,
            index=index,
            url=url,
        )
    except (InvalidVersion, ValueError):
        return None  # not something the index could serve at that version


def _shape(file: str, problem: str) -> ManifestError:
    return ManifestError(f"{file}: {problem}", suggestions=["Regenerate the lock file with its tool."], file=file)
