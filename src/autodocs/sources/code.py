"""Which code an API reference is read from: a release's folders, its top-level names, a fingerprint.

The code comes from an environment on disk (:mod:`autodocs.sources.environment`) or from an
archive unpacked into the cache (:mod:`autodocs.sources.archives`). The fingerprint says what a
cached reference was built from: it changes with the installed code (an editable install
changes without a version bump), with the allowed roots it was read under, and with
:data:`FORMAT`, bumped whenever references built before must be rebuilt.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from autodocs.confine import Confinement
from autodocs.docs.api_model import ApiSource
from autodocs.errors import CodeUnavailable, PathNotAllowed
from autodocs.sources.archives import UNVERIFIED_MARKER
from autodocs.sources.environment import InstalledDistribution, PythonEnvironment
from autodocs.sources.snapshot import snapshot_code

__all__ = ["FORMAT", "ReleaseCode", "archive_code", "environment_code", "stamp"]

#: 2: the allowed roots hold for a project's environment, and secret-looking values are hidden.
FORMAT = "v2"


@dataclass(frozen=True, slots=True)
class ReleaseCode:
    """Where one release's code is and what it is."""

    name: str
    version: str
    search_paths: tuple[Path, ...]
    top_names: tuple[str, ...]
    source: ApiSource
    fingerprint: str
    warnings: tuple[str, ...] = ()  # what was left out (outside the allowed roots, unverified)


def stamp(environment: PythonEnvironment) -> tuple[int, ...]:
    stamps = []
    for folder in environment.site_packages:
        try:
            stamps.append(folder.stat().st_mtime_ns)
        except OSError:
            stamps.append(-1)
    return tuple(stamps)


def environment_code(
    installed: InstalledDistribution, environment: PythonEnvironment, *, snapshots: Path, max_wheel_bytes: int
) -> ReleaseCode:
    """The installed distribution's code. Confined (a project's environment in HTTP mode), griffe
    gets a copy made inside the roots (:mod:`autodocs.sources.snapshot`), not the folders themselves."""
    confinement = environment.confinement
    fingerprint = f"{FORMAT}:env:{_fingerprint(installed.search_paths, installed.top_level, confinement)}"
    search_paths, warnings = installed.search_paths, list(installed.warnings)
    if confinement.roots is not None:  # built under other roots, a reference may hold what these refuse
        roots = hashlib.sha256("\0".join(map(str, confinement.roots)).encode()).hexdigest()[:12]
        fingerprint += f":confined:{roots}"
        search_paths, skipped = snapshot_code(
            installed.name,
            fingerprint,
            installed.search_paths,
            installed.top_level,
            confinement,
            folder=snapshots,
            max_wheel_bytes=max_wheel_bytes,
        )
        warnings += skipped
    return ReleaseCode(
        name=installed.name,
        version=installed.version,
        search_paths=search_paths,
        top_names=installed.top_level,
        source=ApiSource(
            kind="environment",
            location=str(installed.search_paths[0]),
            distribution_version=installed.version,
        ),
        fingerprint=fingerprint,
        warnings=tuple(dict.fromkeys([*environment.warnings, *warnings])),
    )


def archive_code(name: str, version: str, folder: Path) -> ReleaseCode:
    environment = PythonEnvironment(root=folder, site_packages=(folder,))
    installed = environment.distribution(name)
    kind: Literal["wheel", "sdist"] = "wheel" if installed is not None else "sdist"
    # What the archive holds is what can be read: its top-level folders and modules (a wheel's
    # top_level.txt is optional and often missing).
    top_names = _tree_top_names(folder, name)
    if installed is not None:
        ordered = dict.fromkeys([*(n for n in installed.top_level if n in top_names), *top_names])
        preferred = name.replace("-", "_")
        top_names = tuple(sorted(ordered, key=lambda n: n != preferred))  # the package's namesake first
        found_version = installed.version
    else:
        found_version = _pkg_info_version(folder) or version
    if not top_names:
        raise CodeUnavailable(f"The archive of {name} {version} holds no Python modules or stubs.")
    unverified = _read_marker(folder / UNVERIFIED_MARKER)
    return ReleaseCode(
        name=name,
        version=version,
        search_paths=(folder,),
        top_names=top_names,
        source=ApiSource(kind=kind, location=folder.name, distribution_version=found_version),
        fingerprint=f"{FORMAT}:archive:{folder.name}",
        warnings=(f"{unverified} was not verified: the package index lists no SHA-256 for it.",) if unverified else (),
    )


def _tree_top_names(folder: Path, name: str) -> tuple[str, ...]:
    names = []
    for child in sorted(folder.iterdir()):
        if child.is_dir() and any((child / f"__init__{s}").is_file() for s in (".py", ".pyi")):
            if child.name not in ("tests", "test", "docs", "examples", "benchmarks"):
                names.append(child.name)
        elif child.suffix in (".py", ".pyi") and child.stem not in ("setup", "conftest", "noxfile"):
            names.append(child.stem)
    preferred = name.replace("-", "_")
    return tuple(sorted(dict.fromkeys(names), key=lambda n: n != preferred))


def _read_marker(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")[:300] or path.name
    except OSError:
        return None


def _pkg_info_version(folder: Path) -> str | None:
    try:
        text = (folder / "PKG-INFO").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return None
    match = re.search(r"^Version:\s*(\S+)", text, re.MULTILINE)
    return match.group(1) if match else None


def _fingerprint(paths: tuple[Path, ...], top_names: tuple[str, ...], confinement: Confinement) -> int:
    """Changes when the installed code does (reinstall, editable edit): newest mtime of the packages' folders."""
    stamps = []
    for folder in paths:
        for top in top_names:
            for candidate in (folder / top, folder / f"{top}.py", folder / f"{top}.pyi"):
                try:
                    stamps.append(confinement.stat(candidate).st_mtime_ns)
                except (OSError, PathNotAllowed):  # the copy leaves it out too
                    continue
    return max(stamps, default=0)
