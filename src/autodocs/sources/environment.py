"""Find a package's code in a Python environment on disk — without running its interpreter.

A project's environment (``.venv/``, ``venv/``, or the one ``AUTODOCS_PYTHON`` names) is read
from its files: ``pyvenv.cfg`` and the ``lib/pythonX.Y/site-packages`` layout (``Lib/site-packages``
on Windows), plus the base installation's site-packages when the venv includes it. Starting the
environment's ``python`` to ask for ``sys.path`` would execute ``site`` hooks and ``.pth`` files of
packages we promise never to run, so we don't.

Installed distributions are read through :mod:`importlib.metadata` (a :class:`~importlib.metadata.Distribution`
whose files are opened by :class:`~autodocs.confine.Confinement`; it only reads ``*.dist-info``
files): name and version from ``METADATA``, the importable top-level names from ``top_level.txt``
or ``RECORD``. Editable installs (a ``.pth`` file with a path) add that path to where the code is
searched.

A project's environment is project-supplied: in HTTP mode every folder and file of it — the venv
folder, its site-packages, ``.pth`` entries, ``pyvenv.cfg``'s ``home`` — must resolve inside the
allowed roots. One that does not is skipped with a warning for the reply and never read. The
environment ``AUTODOCS_PYTHON`` names is the operator's and is read as is.
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

from autodocs.confine import UNCONFINED, Confinement
from autodocs.errors import PathNotAllowed

__all__ = ["InstalledDistribution", "PythonEnvironment", "find_environment", "open_environment"]

_VENV_FOLDERS = (".venv", "venv")
_CODE_SUFFIXES = (".py", ".pyi")
_MAX_METADATA_BYTES = 4 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class InstalledDistribution:
    name: str  # normalized (PEP 503)
    version: str
    top_level: tuple[str, ...]  # importable top-level module or package names
    search_paths: tuple[Path, ...]  # where those names are found (site-packages, editable paths)
    warnings: tuple[str, ...] = ()  # what was skipped: outside the allowed roots


@dataclass(slots=True)
class PythonEnvironment:
    """A Python environment as its files show it (``site_packages`` resolved)."""

    root: Path
    site_packages: tuple[Path, ...]
    confinement: Confinement = UNCONFINED
    warnings: list[str] = field(default_factory=list)
    _by_name: dict[str, InstalledDistribution] | None = field(default=None, repr=False)

    def distribution(self, name: str) -> InstalledDistribution | None:
        """The installed distribution called ``name`` (any spelling), or None.

        Only metadata folders whose name could be this distribution's are read (one directory
        listing per site-packages folder), so a lookup costs the same in a venv of ten
        distributions or a thousand."""
        wanted = canonicalize_name(name)
        if self._by_name is None:
            self._by_name = {}
        if wanted not in self._by_name:
            found = self._scan(wanted)
            if found is None:
                return None
            self._by_name[wanted] = found
        return self._by_name[wanted]

    def _scan(self, wanted: str) -> InstalledDistribution | None:
        for folder in self.site_packages:  # earlier folders win, as on sys.path
            try:
                listing = self.confinement.list_directory(folder)
            except (OSError, PathNotAllowed):  # e.g. the folder was swapped for a link out
                continue
            for entry in listing:
                if not entry.endswith((".dist-info", ".egg-info")):
                    continue
                stem = entry.rsplit(".", 1)[0]
                if canonicalize_name(stem.split("-", 1)[0]) != wanted:
                    continue
                warnings: list[str] = []
                dist = _ConfinedDistribution(folder / entry, self.confinement, warnings)
                metadata = dist.metadata
                raw_name = metadata["Name"] if metadata is not None else None
                if not raw_name or canonicalize_name(raw_name) != wanted:
                    continue
                return InstalledDistribution(
                    name=wanted,
                    version=str(dist.version),
                    top_level=_top_level_names(dist, raw_name),
                    search_paths=(folder, *_editable_paths(dist, folder, self.confinement, warnings)),
                    warnings=tuple(dict.fromkeys(warnings)),
                )
        return None


class _ConfinedDistribution(importlib.metadata.Distribution):
    """A ``*.dist-info`` folder whose files are opened inside the allowed roots only."""

    def __init__(self, folder: Path, confinement: Confinement, warnings: list[str]) -> None:
        self._folder = folder
        self._confinement = confinement
        self._warnings = warnings

    def read_text(self, filename: str | os.PathLike[str]) -> str | None:
        try:
            data = self._confinement.read_bytes(self._folder / filename, _MAX_METADATA_BYTES)
        except PathNotAllowed:
            self._warnings.append(f"{self._folder.name}/{filename} leads outside the allowed roots; not read.")
            return None
        except OSError:
            return None
        return data[:_MAX_METADATA_BYTES].decode("utf-8", errors="replace")

    def locate_file(self, path: str | os.PathLike[str]) -> Path:
        return self._folder.parent / path


def find_environment(
    project: Path | None, configured: Path | None, *, confinement: Confinement = UNCONFINED
) -> tuple[PythonEnvironment | None, list[str]]:
    """The environment to read and what was skipped on the way: ``configured`` (``AUTODOCS_PYTHON``,
    trusted) first, else the project's own, every path of which must lie inside ``confinement``."""
    if configured is not None:
        return open_environment(configured), []
    if project is None:
        return None, []
    warnings: list[str] = []
    for folder in _VENV_FOLDERS:
        candidate = project / folder
        if not os.path.lexists(candidate):
            continue
        try:
            os.close(confinement.open_file(candidate / "pyvenv.cfg"))
        except PathNotAllowed:
            warnings.append(f"The project's {folder}/ leads outside the allowed roots; it was not read.")
            continue
        except OSError:
            continue
        environment = open_environment(candidate, confinement=confinement, warnings=warnings)
        if environment is not None:
            return environment, warnings
    return None, warnings


def open_environment(
    path: Path, *, confinement: Confinement = UNCONFINED, warnings: list[str] | None = None
) -> PythonEnvironment | None:
    """The environment at ``path``: a venv or installation folder, its python executable, or a
    site-packages folder itself. What was skipped is added to ``warnings``."""
    warnings = [] if warnings is None else warnings
    root = path
    if path.is_file():  # .../bin/python or ...\\Scripts\\python.exe
        root = path.parent.parent
    try:
        root = confinement.resolve(root)
    except PathNotAllowed:
        warnings.append(f"{root} leads outside the allowed roots; it was not read.")
        return None
    if not root.is_dir():
        return None
    if root.name in ("site-packages", "dist-packages"):  # a site-packages folder given directly
        return PythonEnvironment(root=root, site_packages=(root,), confinement=confinement)
    folders = _site_packages(root, confinement, warnings)
    config = _read_pyvenv_cfg(root / "pyvenv.cfg", confinement)
    if config.get("include-system-site-packages", "false").lower() == "true" and config.get("home"):
        base = Path(config["home"]).parent  # home is the base interpreter's bin folder
        if confinement.is_inside(base):
            folders += [f for f in _site_packages(base, confinement, warnings) if f not in folders]
        else:
            warnings.append(
                f"pyvenv.cfg includes the base installation's packages ({base}), which is outside the "
                "allowed roots; they were not read."
            )
    if not folders:
        return None
    return PythonEnvironment(root=root, site_packages=tuple(folders), confinement=confinement, warnings=warnings)


def _site_packages(root: Path, confinement: Confinement, warnings: list[str]) -> list[Path]:
    """The site-packages folders under ``root``, resolved; one leading out of the roots is skipped."""
    found: list[Path] = []
    candidates = [root / "Lib" / "site-packages"]
    for lib in ("lib", "lib64"):
        try:
            names = confinement.list_directory(root / lib)
        except (OSError, PathNotAllowed):
            continue
        for version_dir in sorted((n for n in names if n.startswith("python3")), reverse=True):
            candidates += [root / lib / version_dir / "site-packages", root / lib / version_dir / "dist-packages"]
    for candidate in candidates:
        try:
            real = confinement.resolve(candidate)
        except PathNotAllowed:
            warnings.append(f"{candidate} leads outside the allowed roots; it was not read.")
            continue
        if real.is_dir() and real not in found:
            found.append(real)
    return found


def _read_pyvenv_cfg(path: Path, confinement: Confinement) -> dict[str, str]:
    try:
        text = confinement.read_bytes(path, 64 * 1024).decode("utf-8", errors="replace")
    except (OSError, PathNotAllowed):
        return {}
    values: dict[str, str] = {}
    for line in text.splitlines()[:200]:
        key, sep, value = line.partition("=")
        if sep:
            values[key.strip().lower()] = value.strip()
    return values


def _top_level_names(dist: importlib.metadata.Distribution, raw_name: str) -> tuple[str, ...]:
    names: list[str] = []
    text = dist.read_text("top_level.txt")
    if text:
        names = [line.strip().replace("/", ".") for line in text.splitlines() if line.strip()]
    if not names:
        for file in dist.files or ():
            parts = file.parts
            if not parts or parts[0] in ("..", "") or parts[0].endswith((".dist-info", ".data")):
                continue
            if parts[0] == "__pycache__":
                continue
            head = parts[0]
            if len(parts) == 1:
                if head.endswith(_CODE_SUFFIXES):
                    head = head.rsplit(".", 1)[0]
                elif head.endswith((".so", ".pyd")):
                    head = head.split(".", 1)[0]
                else:
                    continue
            if head.isidentifier() and head not in names:
                names.append(head)
    if not names:
        names = [canonicalize_name(raw_name).replace("-", "_")]
    # A stubs-only distribution ("foo-stubs") documents "foo"; the distribution's namesake first.
    names = [name[: -len("-stubs")] if name.endswith("-stubs") else name for name in names]
    preferred = canonicalize_name(raw_name).replace("-", "_")
    return tuple(sorted(dict.fromkeys(names), key=lambda n: n.lower() != preferred))


def _editable_paths(
    dist: importlib.metadata.Distribution, folder: Path, confinement: Confinement, warnings: list[str]
) -> list[Path]:
    """Folders named by the distribution's ``.pth`` files (editable installs), never executed;
    one outside the allowed roots is left out with a warning."""
    paths: list[Path] = []
    for file in dist.files or ():
        if file.suffix != ".pth" or len(file.parts) != 1:
            continue
        try:
            text = confinement.read_bytes(folder / file.name, 64 * 1024).decode("utf-8", errors="replace")
        except PathNotAllowed:
            warnings.append(f"{file.name} leads outside the allowed roots; it was not read.")
            continue
        except OSError:
            continue
        for line in text.splitlines()[:50]:
            line = line.strip()
            if not line or line.startswith(("#", "import ", "import\t")):
                continue
            try:
                candidate = confinement.resolve(folder / line)  # an absolute line replaces the folder
            except PathNotAllowed:
                warnings.append(f"{file.name} names {line[:200]}, outside the allowed roots; it was not read.")
                continue
            if candidate.is_dir():
                paths.append(candidate)
    return paths
