"""Find a package's code in a Python environment on disk — without running its interpreter.

A project's environment (``.venv/``, ``venv/``, or the one ``AUTODOCS_PYTHON`` names) is read
from its files: ``pyvenv.cfg`` and the ``lib/pythonX.Y/site-packages`` layout (``Lib/site-packages``
on Windows), plus the base installation's site-packages when the venv includes it. Starting the
environment's ``python`` to ask for ``sys.path`` would execute ``site`` hooks and ``.pth`` files of
packages we promise never to run, so we don't.

Installed distributions are read with :mod:`importlib.metadata` pointed at those folders (it
only reads ``*.dist-info`` files): name and version from ``METADATA``, the importable top-level
names from ``top_level.txt`` or ``RECORD``. Editable installs (a ``.pth`` file with a path) add
that path to where the code is searched.
"""

from __future__ import annotations

import importlib.metadata
import os
from dataclasses import dataclass, field
from pathlib import Path

from packaging.utils import canonicalize_name

__all__ = ["InstalledDistribution", "PythonEnvironment", "find_environment", "open_environment"]

_VENV_FOLDERS = (".venv", "venv")
_CODE_SUFFIXES = (".py", ".pyi")


@dataclass(frozen=True, slots=True)
class InstalledDistribution:
    name: str  # normalized (PEP 503)
    version: str
    top_level: tuple[str, ...]  # importable top-level module or package names
    search_paths: tuple[Path, ...]  # where those names are found (site-packages, editable paths)


@dataclass(slots=True)
class PythonEnvironment:
    """A Python environment as its files show it."""

    root: Path
    site_packages: tuple[Path, ...]
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
                entries = [e for e in os.listdir(folder) if e.endswith((".dist-info", ".egg-info"))]
            except OSError:
                continue
            for entry in entries:
                stem = entry.rsplit(".", 1)[0]
                if canonicalize_name(stem.split("-", 1)[0]) != wanted:
                    continue
                dist = importlib.metadata.PathDistribution(folder / entry)
                raw_name = dist.metadata["Name"] if dist.metadata is not None else None
                if not raw_name or canonicalize_name(raw_name) != wanted:
                    continue
                return InstalledDistribution(
                    name=wanted,
                    version=str(dist.version),
                    top_level=_top_level_names(dist, raw_name),
                    search_paths=(folder, *_editable_paths(dist, folder)),
                )
        return None


def find_environment(project: Path | None, configured: Path | None) -> PythonEnvironment | None:
    """The environment to read: ``configured`` (``AUTODOCS_PYTHON``) first, else the project's own."""
    if configured is not None:
        return open_environment(configured)
    if project is None:
        return None
    for folder in _VENV_FOLDERS:
        candidate = project / folder
        if (candidate / "pyvenv.cfg").is_file():
            return open_environment(candidate)
    return None


def open_environment(path: Path) -> PythonEnvironment | None:
    """The environment at ``path``: a venv or installation folder, its python executable, or a
    site-packages folder itself."""
    root = path
    if path.is_file():  # .../bin/python or ...\\Scripts\\python.exe
        root = path.parent.parent
    if not root.is_dir():
        return None
    if root.name in ("site-packages", "dist-packages"):  # a site-packages folder given directly
        return PythonEnvironment(root=root, site_packages=(root,))
    folders = _site_packages(root)
    config = _read_pyvenv_cfg(root / "pyvenv.cfg")
    if config.get("include-system-site-packages", "false").lower() == "true" and config.get("home"):
        base = Path(config["home"]).parent  # home is the base interpreter's bin folder
        folders += [f for f in _site_packages(base) if f not in folders]
    if not folders:
        return None
    return PythonEnvironment(root=root, site_packages=tuple(folders))


def _site_packages(root: Path) -> list[Path]:
    found: list[Path] = []
    for lib in ("lib", "lib64"):
        for version_dir in sorted((root / lib).glob("python3*"), reverse=True):
            for name in ("site-packages", "dist-packages"):
                candidate = version_dir / name
                if candidate.is_dir() and candidate.resolve() not in {f.resolve() for f in found}:
                    found.append(candidate)
    windows = root / "Lib" / "site-packages"
    if windows.is_dir():
        found.append(windows)
    return found


def _read_pyvenv_cfg(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
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


def _editable_paths(dist: importlib.metadata.Distribution, folder: Path) -> list[Path]:
    """Folders named by the distribution's ``.pth`` files (editable installs), never executed."""
    paths: list[Path] = []
    for file in dist.files or ():
        if file.suffix != ".pth" or len(file.parts) != 1:
            continue
        try:
            text = (folder / file.name).read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        for line in text.splitlines()[:50]:
            line = line.strip()
            if not line or line.startswith(("#", "import ", "import\t")):
                continue
            candidate = (folder / line).resolve() if not Path(line).is_absolute() else Path(line)
            if candidate.is_dir():
                paths.append(candidate)
    return paths
