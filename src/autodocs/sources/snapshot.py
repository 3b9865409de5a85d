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

from autodocs.confine import Confinement
from autodocs.errors import CodeUnavailable, PathNotAllowed

__all__ = ["snapshot_code"]

_KEPT_SUFFIXES = (".py", ".pyi")
_KEPT_NAMES = ("py.typed",)
_MAX_FILES = 200_000
_MAX_DEPTH = 64


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
        elif source.suffix in _KEPT_SUFFIXES or source.name in _KEPT_NAMES:
            self.file(source, target)

    def folder(self, source: Path, real: Path, target: Path, depth: int) -> None:
        if real in self.visited or depth > _MAX_DEPTH:  # a link cycle, or absurd nesting
            return
        self.visited.add(real)
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

    def file(self, source: Path, target: Path) -> None:
        self.files += 1
        if self.files > _MAX_FILES:
            raise CodeUnavailable(f"The package has more than {_MAX_FILES} files; more than AutoDocs reads.")
        try:
            data = self.confinement.read_bytes(source, self.budget)
        except PathNotAllowed:
            self.warnings.append(f"{source} leads outside the allowed roots; it was not read.")
            return
        except OSError:
            return
        self.budget -= len(data)
        if self.budget < 0:
            raise CodeUnavailable(
                "The package's code is larger than AutoDocs reads from an environment.",
                suggestions=["Raise AUTODOCS_MAX_WHEEL_BYTES, which bounds this copy too (20x)."],
            )
        target.write_bytes(data)


def snapshot_code(
    name: str,
    key: str,
    search_paths: tuple[Path, ...],
    top_names: tuple[str, ...],
    confinement: Confinement,
    *,
    folder: Path,
    max_bytes: int,
) -> tuple[tuple[Path, ...], list[str]]:
    """The copies of ``search_paths`` (one folder each, same order) holding ``top_names``, and the
    warnings about what was left out. ``key`` says what the code is (its fingerprint); blocking."""
    digest = hashlib.sha256("\0".join([key, *map(str, search_paths), *top_names]).encode()).hexdigest()[:16]
    destination = folder / f"{name}-{digest}"
    copies = tuple(destination / str(index) for index in range(len(search_paths)))
    warnings_file = destination / "warnings.txt"
    if destination.is_dir():
        return copies, [line for line in warnings_file.read_text(encoding="utf-8").splitlines() if line]
    folder.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=folder))
    try:
        copy = _Copy(confinement, budget=max_bytes)
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
