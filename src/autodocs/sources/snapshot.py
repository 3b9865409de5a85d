"""A private copy of a project environment's code, made inside the allowed roots, for griffe to read.

griffe opens the files of the folders it is given by path, following every link, so handing it
a project's site-packages in HTTP mode would let a link in there (or one flipped while griffe
reads) show it code from outside the allowed roots. Instead the distribution's top-level
packages and modules are copied, through :class:`~autodocs.confine.Confinement`, into a folder
under the cache (the operator's, trusted), and griffe reads that copy. A link inside the roots
is followed; one leading out is skipped and named in a warning. Only what static analysis reads
is copied (``.py``, ``.pyi``, ``py.typed``), within a byte and file budget.

A copy is named after what it was made from (the fingerprint of the code), made in a temporary
folder and renamed into place, so it is complete or absent, and reused until the code changes;
the distribution's older copies are removed then.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from autodocs.confine import OPENS_BENEATH, Confinement, open_in
from autodocs.errors import CodeUnavailable, PathNotAllowed

__all__ = ["snapshot_code"]

_KEPT_SUFFIXES = (".py", ".pyi")
_KEPT_NAMES = ("py.typed",)
_MAX_FILES = 200_000
_MAX_DEPTH = 64
#: Bytes copied per ``MAX_WHEEL_BYTES`` byte: the bound an unpacked archive has (sources/archives.py).
_EXPANSION_LIMIT = 20


@dataclass
class _Copy:
    confinement: Confinement
    budget: int
    files: int = 0
    warnings: list[str] = field(default_factory=list)
    visited: set[Path] = field(default_factory=set)

    def entry(self, source: Path, target: Path, depth: int) -> None:
        """Copy the file or folder ``source`` names to ``target`` (links inside the roots followed)."""
        try:
            real = self.confinement.resolve(source)
        except PathNotAllowed:
            self.warnings.append(f"{source} leads outside the allowed roots; it was not read.")
            return
        if real.is_dir():
            self.folder(source, real, target, depth)
        elif _kept(source.name):
            try:
                self.file(self.confinement.open_file(source), target)
            except PathNotAllowed:
                self.warnings.append(f"{source} leads outside the allowed roots; it was not read.")
            except OSError:
                return

    def folder(self, source: Path, real: Path, target: Path, depth: int, descriptor: int | None = None) -> None:
        """Copy a folder. Its plain entries are opened from its descriptor without following links
        (one ``open`` each, inside it by construction); its links are resolved and checked."""
        if real in self.visited or depth > _MAX_DEPTH:  # a link cycle, or absurd nesting
            if descriptor is not None:
                os.close(descriptor)
            return
        self.visited.add(real)
        if not OPENS_BENEATH:  # no walking by descriptor here: every entry is resolved and checked
            self.by_path(source, target, depth)
            return
        try:
            if descriptor is None:
                descriptor = self.confinement.open_directory(source)
        except PathNotAllowed:
            self.warnings.append(f"{source} leads outside the allowed roots; it was not read.")
            return
        except OSError:
            return
        try:
            with os.scandir(descriptor) as listing:
                entries = sorted((e.name, e.is_symlink(), e.is_dir(follow_symlinks=False)) for e in listing)
            target.mkdir(exist_ok=True)
            for name, link, is_folder in entries:
                if name == "__pycache__" or not (is_folder or link or _kept(name)):
                    continue
                if link:
                    self.entry(source / name, target / name, depth + 1)
                    continue
                try:
                    child = open_in(descriptor, name, directory=is_folder)
                except OSError:  # became a link or vanished since it was listed: left out
                    continue
                if is_folder:
                    self.folder(source / name, real / name, target / name, depth + 1, child)
                else:
                    self.file(child, target / name)
        finally:
            os.close(descriptor)

    def by_path(self, source: Path, target: Path, depth: int) -> None:
        try:
            names = self.confinement.list_directory(source)
        except PathNotAllowed:
            self.warnings.append(f"{source} leads outside the allowed roots; it was not read.")
            return
        except OSError:
            return
        target.mkdir(exist_ok=True)
        for name in names:
            if name != "__pycache__":
                self.entry(source / name, target / name, depth + 1)

    def file(self, descriptor: int, target: Path) -> None:
        self.files += 1
        if self.files > _MAX_FILES:
            os.close(descriptor)
            raise CodeUnavailable(f"The package has more than {_MAX_FILES} files; more than AutoDocs reads.")
        with open(descriptor, "rb", closefd=True) as handle:
            data = handle.read(self.budget + 1)
        self.budget -= len(data)
        if self.budget < 0:
            raise CodeUnavailable(
                "The package's code is larger than AutoDocs reads from an environment.",
                suggestions=["Raise AUTODOCS_MAX_WHEEL_BYTES, which bounds this copy too (20x)."],
            )
        target.write_bytes(data)


def _kept(name: str) -> bool:
    return name.endswith(_KEPT_SUFFIXES) or name in _KEPT_NAMES


def snapshot_code(
    name: str,
    key: str,
    search_paths: tuple[Path, ...],
    top_names: tuple[str, ...],
    confinement: Confinement,
    *,
    folder: Path,
    max_wheel_bytes: int,
) -> tuple[tuple[Path, ...], list[str]]:
    """The copies of ``search_paths`` (one folder each, same order) holding ``top_names``, and the
    warnings about what was left out. ``key`` says what the code is (its fingerprint); at most
    ``max_wheel_bytes`` x 20 bytes are copied, as an archive may unpack to; blocking."""
    digest = hashlib.sha256("\0".join([key, *map(str, search_paths), *top_names]).encode()).hexdigest()[:16]
    destination = folder / f"{name}-{digest}"
    copies = tuple(destination / str(index) for index in range(len(search_paths)))
    warnings_file = destination / "warnings.txt"
    try:  # made before (by this process or another): reused
        return copies, [line for line in warnings_file.read_text(encoding="utf-8").splitlines() if line]
    except OSError:
        shutil.rmtree(destination, ignore_errors=True)  # absent, or not one this module wrote
    folder.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=folder))
    try:
        copy = _Copy(confinement, budget=max_wheel_bytes * _EXPANSION_LIMIT)
        for index, search_path in enumerate(search_paths):
            (workdir / str(index)).mkdir()
            for top in top_names:
                for candidate in (top, f"{top}-stubs", f"{top}.py", f"{top}.pyi"):
                    if os.path.lexists(search_path / candidate):
                        copy.entry(search_path / candidate, workdir / str(index) / candidate, 0)
        warnings = list(dict.fromkeys(copy.warnings))
        (workdir / "warnings.txt").write_text("".join(f"{w}\n" for w in warnings), encoding="utf-8")
        try:
            os.rename(workdir, destination)
        except OSError:
            if not destination.is_dir():  # not a lost race with another process: a real failure
                raise
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    _remove_older(folder, name, keep=destination.name)
    return copies, warnings


def _remove_older(folder: Path, name: str, *, keep: str) -> None:
    older = re.compile(rf"^{re.escape(name)}-[0-9a-f]{{16}}$")
    for entry in os.listdir(folder):
        if entry != keep and older.match(entry):
            shutil.rmtree(folder / entry, ignore_errors=True)
