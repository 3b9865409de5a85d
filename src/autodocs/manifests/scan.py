"""Find and read a project's dependency manifests → :class:`ScanResult`.

One module per manifest family; this module decides which files a project has, reads
them safely (size cap, encoding, confinement to the project root), follows uv workspace
members, applies lock-file pins, merges duplicates, and collects every file's (or
entry's) failure as a structured error so one bad file never hides the others. It never
touches the network and never runs project code.
"""

from __future__ import annotations

import errno
import fnmatch
import functools
from collections.abc import Callable, Iterable
from pathlib import Path, PurePosixPath

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import Version

from autodocs.confine import Confinement
from autodocs.errors import (
    AutoDocsError,
    InternalError,
    ManifestError,
    NotADirectory,
    PathNotAllowed,
    PathNotFound,
)
from autodocs.manifests.base import (
    Dependency,
    FileError,
    ParsedFile,
    ScanResult,
    SourceLocation,
)
from autodocs.manifests.documentable import skipped_dependencies
from autodocs.manifests.indexes import declared_index
from autodocs.manifests.locks import LockedPackage, is_lock_file, parse_lock, project_environment
from autodocs.manifests.pipfile import parse_pipfile
from autodocs.manifests.pyproject import parse_hatch_toml, parse_pyproject
from autodocs.manifests.requirements import parse_requirements
from autodocs.manifests.setuptools import parse_setup_cfg, parse_setup_py

__all__ = ["DEFAULT_MAX_MANIFEST_BYTES", "scan_project"]

DEFAULT_MAX_MANIFEST_BYTES = 5 * 1024 * 1024

#: Folder levels a workspace ``**`` descends, and the matches a glob keeps at most.
_GLOB_DEPTH = 8
_GLOB_MATCHES = 1000
_TEXT_MANIFESTS: dict[str, Callable[..., ParsedFile]] = {
    "pyproject.toml": parse_pyproject,
    "hatch.toml": parse_hatch_toml,
    "setup.cfg": parse_setup_cfg,
    "setup.py": parse_setup_py,
    "Pipfile": parse_pipfile,
}


def scan_project(
    project_path: str | Path, *, max_bytes: int = DEFAULT_MAX_MANIFEST_BYTES, roots: list[Path] | None = None
) -> ScanResult:
    """Read every manifest of the project; blocking (call it from a worker thread).

    ``roots``: the folders it may read (``AUTODOCS_ALLOWED_ROOTS``; None: anywhere). Every file
    is opened through :class:`~autodocs.confine.Confinement`, so a link flipped while the scan
    runs can make a file fail, never make it be read from outside."""
    confinement = Confinement.of(roots)
    root = _check_project_path(project_path)
    root = confinement.resolve(root)  # raises PathNotAllowed: the folder moved out since it was checked
    scan = _Scan(root, _SafeReader(root, max_bytes, confinement))
    workspace = scan.directory(root)
    for member in _workspace_members(root, workspace, scan):
        scan.directory(member)
    result = scan.result
    result.dependencies = _merge(result.dependencies)
    scan.apply_locks(
        sorted(root / name for name in scan.read.listing(root) if is_lock_file(name) and (root / name).is_file())
    )
    result.skipped = skipped_dependencies([*result.dependencies, *scan.lock_references])
    result.partial = bool(result.errors)
    return result


class _Scan:
    def __init__(self, root: Path, reader: _SafeReader) -> None:
        self.root = root
        self.read = reader
        self.result = ScanResult(project_path=str(root))
        self.lock_files: dict[LockedPackage, str] = {}
        #: Transitive packages a lock took from git or a URL: skipped, with their reference.
        self.lock_references: list[Dependency] = []

    def directory(self, folder: Path) -> ParsedFile:
        """Scan one project folder's manifests; returns what its pyproject.toml said."""
        pyproject = ParsedFile()
        for filename, parse in _TEXT_MANIFESTS.items():
            path = folder / filename
            if path.is_file() or path.is_symlink():
                relative = _display(path, self.root)
                parsed = self.collect(relative, functools.partial(self._parse_text, parse, path, relative))
                if filename == "pyproject.toml" and parsed is not None:
                    pyproject = parsed
        for path in _requirements_files(folder, self.read.listing):
            relative = _display(path, self.root)
            self.collect(relative, functools.partial(parse_requirements, path, root=self.root, read_text=self.read))
        return pyproject

    def _parse_text(self, parse: Callable[..., ParsedFile], path: Path, relative: str) -> ParsedFile:
        return parse(self.read(path), file=relative)

    def collect(self, relative: str, parse: Callable[[], ParsedFile]) -> ParsedFile | None:
        try:
            parsed = parse()
        except AutoDocsError as exc:
            self.result.errors.append(FileError(file=relative, error=exc.to_dict()))
            return None
        except Exception as exc:  # a parser bug must cost one file, not the scan
            error = InternalError(f"{relative}: unexpected {type(exc).__name__} while parsing")
            self.result.errors.append(FileError(file=relative, error=error.to_dict()))
            return None
        self.result.files_read.append(relative)
        self.result.dependencies.extend(parsed.dependencies)
        self.result.indexes.extend(parsed.indexes)
        for problem in parsed.problems:
            self.result.errors.append(
                FileError(file=str(problem.details.get("file", relative)), error=problem.to_dict())
            )
        return parsed

    def apply_locks(self, paths: list[Path]) -> None:
        """Pin direct dependencies to locked versions; everything else locked → ``locked_only``."""
        locked: list[tuple[str, LockedPackage]] = []
        for path in paths:
            relative = _display(path, self.root)
            try:
                packages = parse_lock(self.read(path), file=relative)
            except AutoDocsError as exc:
                self.result.errors.append(FileError(file=relative, error=exc.to_dict()))
                continue
            except Exception as exc:
                error = InternalError(f"{relative}: unexpected {type(exc).__name__} while parsing")
                self.result.errors.append(FileError(file=relative, error=error.to_dict()))
                continue
            self.result.files_read.append(relative)
            self.result.lock_files.append(relative)
            locked.extend((relative, package) for package in packages)
        self.lock_files = {package: file for file, package in locked}
        versions: dict[str, list[LockedPackage]] = {}
        references: dict[str, LockedPackage] = {}  # taken from git or a URL: no index release
        for _, package in locked:
            if package.url is None:
                versions.setdefault(package.name, []).append(package)
            else:
                references.setdefault(package.name, package)
        environment: dict[str, str] | None = None
        direct = {dependency.name for dependency in self.result.dependencies}
        for dependency in self.result.dependencies:
            if dependency.url is None and dependency.name not in versions and dependency.name in references:
                dependency.url = references[dependency.name].url  # the lock took it from there
            if dependency.url is not None or dependency.name not in versions:
                continue
            allowed = _allowed(versions[dependency.name], dependency.specifier)
            if len({package.version for package in allowed}) > 1:  # a fork: one per environment
                if environment is None:
                    environment = project_environment(self.root, self.read.environment_file)
                dependency.pinned_versions = sorted({p.version for p in allowed}, key=Version, reverse=True)
                dependency.pinned_version = _for_environment(allowed, environment)
            elif allowed:
                dependency.pinned_version = allowed[0].version
            dependency.index = self.lock_index(allowed, dependency.pinned_version) or dependency.index
        seen: set[tuple[str, str]] = set()
        for file, package in locked:
            if package.name in direct or (package.name, package.version) in seen:
                continue
            seen.add((package.name, package.version))
            if package.url is not None:
                if package.name not in versions:  # listed as skipped by the scan, never asked of an index
                    self.lock_references.append(
                        Dependency(
                            name=package.name,
                            group="locked",
                            url=package.url,
                            source=SourceLocation(file=file, line=package.line),
                        )
                    )
                continue
            self.result.locked_only.append(
                Dependency(
                    name=package.name,
                    group="locked",
                    pinned_version=package.version,
                    index=self.lock_index([package], package.version),
                    source=SourceLocation(file=file, line=package.line),
                    sources=[SourceLocation(file=file, line=package.line)],
                )
            )

    def lock_index(self, packages: list[LockedPackage], version: str | None) -> str | None:
        """The index the lock records for ``version``, its URL without credentials; each index a lock
        names is listed once in ``indexes`` (as ``explicit``: only for the packages locked to it)."""
        package = next((p for p in packages if p.version == version and p.index), None)
        if package is None or package.index is None:
            return None
        try:
            index = declared_index(package.index, role="explicit", file=self.lock_files[package], line=package.line)
        except ManifestError:
            return None
        if all(known.url != index.url for known in self.result.indexes):
            self.result.indexes.append(index)
        return index.url


def _allowed(candidates: list[LockedPackage], specifier: str) -> list[LockedPackage]:
    """The locked versions the specifier allows (a lock may hold one per Python version)."""
    return [package for package in candidates if _allows(specifier, package.version)]


def _for_environment(candidates: list[LockedPackage], environment: dict[str, str]) -> str:
    """The newest version locked for ``environment``; the newest of all when none is."""
    matching = [package for package in candidates if package.applies_to(environment)] or candidates
    return str(max(Version(package.version) for package in matching))


@functools.lru_cache(maxsize=4096)
def _allows(specifier: str, version: str) -> bool:
    """Whether ``specifier`` allows ``version`` (pre-releases too); False when it is invalid.

    Memoized as a bool, not as the ``SpecifierSet``: a set's ``prereleases`` can be changed."""
    try:
        return SpecifierSet(specifier).contains(version, prereleases=True)
    except InvalidSpecifier:
        return False


def _merge(dependencies: list[Dependency]) -> list[Dependency]:
    """One entry per (name, group, specifier, marker, extras, url), every source kept.

    The same package with different specifiers stays apart, in one group as across files:
    ``foo`` and ``foo>=2.3`` listed in one group are two entries, as written, so the scan
    shows what the project says (and a lock pin is checked against each).
    """
    merged: dict[tuple[object, ...], tuple[Dependency, set[tuple[str, int | None]]]] = {}
    for dependency in dependencies:
        if not dependency.sources:
            dependency.sources = [dependency.source]
        key = (
            dependency.name,
            dependency.group,
            dependency.specifier,
            dependency.marker,
            tuple(dependency.extras),
            dependency.url,
        )
        if key not in merged:
            merged[key] = (dependency, {(source.file, source.line) for source in dependency.sources})
            continue
        kept, seen = merged[key]
        for source in dependency.sources:
            if (source.file, source.line) not in seen:
                kept.sources.append(source)
                seen.add((source.file, source.line))
    return [dependency for dependency, _ in merged.values()]


def _workspace_members(root: Path, workspace: ParsedFile, scan: _Scan) -> Iterable[Path]:
    """uv ``[tool.uv.workspace]`` members (globs relative to the root), confined to it."""
    excluded: set[Path] = set()
    for pattern in workspace.workspace_exclude:
        excluded.update(_glob(root, pattern, scan.read.listing))
    members: dict[Path, None] = {}
    for pattern in workspace.workspace_members:
        try:
            matches = _glob(root, pattern, scan.read.listing)
        except ManifestError as exc:
            scan.result.errors.append(FileError(file="pyproject.toml", error=exc.to_dict()))
            continue
        for path in matches:
            resolved = path.resolve()
            if not resolved.is_relative_to(root):
                error = ManifestError(
                    f"pyproject.toml: workspace member {_display(path, root)} leaves the project root; not read",
                    file="pyproject.toml",
                )
                scan.result.errors.append(FileError(file="pyproject.toml", error=error.to_dict()))
            elif resolved.is_dir() and resolved != root and path not in excluded:
                members[path] = None
    return members


def _glob(root: Path, pattern: str, listing: Callable[[Path], list[str]]) -> list[Path]:
    """The folders a workspace glob names, walked one component at a time through ``listing``
    (the scan's confined reader): a folder that leads outside the root is never listed, so not
    even the names in it leave the server. ``*``, ``?`` and ``[...]`` match within a component,
    ``**`` any depth (at most :data:`_GLOB_DEPTH`); hidden names only match patterns that say so."""
    if pattern.startswith(("/", "\\")) or ".." in Path(pattern).parts or "\x00" in pattern:
        raise ManifestError(
            f"pyproject.toml: workspace member glob {pattern[:200]!r} must stay inside the project",
            file="pyproject.toml",
        )
    found = [root]
    for part in (p for p in PurePosixPath(pattern.replace("\\", "/")).parts if p not in ("", ".")):
        following: list[Path] = []
        for folder in found:
            if part == "**":
                following.extend(_folders_below(folder, listing, _GLOB_DEPTH))
            elif any(char in part for char in "*?["):
                hidden = part.startswith(".")
                following.extend(
                    folder / name
                    for name in listing(folder)
                    if fnmatch.fnmatchcase(name, part) and (hidden or not name.startswith("."))
                )
            else:
                following.append(folder / part)
        found = following[:_GLOB_MATCHES]
    return sorted(dict.fromkeys(found))


def _folders_below(folder: Path, listing: Callable[[Path], list[str]], depth: int) -> list[Path]:
    """``folder`` and the folders under it, ``depth`` levels at most, listed through ``listing``."""
    folders = [folder]
    if depth > 0:
        for name in listing(folder):
            child = folder / name
            if not name.startswith(".") and child.is_dir():
                folders.extend(_folders_below(child, listing, depth - 1))
    return folders[:_GLOB_MATCHES]


def _check_project_path(project_path: str | Path) -> Path:
    text = str(project_path)
    if not text or "\x00" in text:
        raise PathNotFound(f"Project path {text[:200]!r} is not a valid path.")
    path = Path(text).expanduser()
    if not path.exists():
        raise PathNotFound(f"Project path {text[:500]} does not exist.")
    if not path.is_dir():
        raise NotADirectory(f"Project path {text[:500]} is not a directory.")
    return path.resolve()


def _requirements_files(folder: Path, listing: Callable[[Path], list[str]]) -> list[Path]:
    names = listing(folder)
    candidates = [folder / name for name in names if fnmatch.fnmatchcase(name, "*requirements*.txt")]
    if "requirements" in names:
        nested = folder / "requirements"
        candidates.extend(nested / name for name in listing(nested) if name.endswith(".txt"))
    return [path for path in candidates if path.is_file() or path.is_symlink()]


class _SafeReader:
    """Reads manifest text: inside the root only, regular files, size-capped, UTF-8 (BOM tolerated)."""

    def __init__(self, root: Path, max_bytes: int, confinement: Confinement) -> None:
        self._root = root
        self._max_bytes = max_bytes
        self._confinement = confinement

    def listing(self, folder: Path) -> list[str]:
        """The names in ``folder`` (sorted), read from the folder checked to be in the project; else none."""
        try:
            return self._confinement.list_directory(folder, within=self._root)
        except (OSError, PathNotAllowed):
            return []

    def environment_file(self, path: Path) -> str:
        """A file of the project's environment (``.venv/pyvenv.cfg``): a venv may be linked from
        elsewhere, so only the allowed roots bound it, not the project folder."""
        return self._confinement.read_bytes(path, self._max_bytes).decode("utf-8", errors="replace")

    def __call__(self, path: Path) -> str:
        resolved = path.resolve()
        relative = _display(path if not resolved.is_relative_to(self._root) else resolved, self._root)
        try:  # resolved again and opened link-free: the check above only names the file
            data = self._confinement.read_bytes(path, self._max_bytes, within=self._root)
        except PathNotAllowed:
            raise ManifestError(
                f"{relative}: leaves the project root (symlink or '..'); not read", file=relative
            ) from None
        except (IsADirectoryError, NotADirectoryError):
            raise ManifestError(f"{relative}: not a regular file; not read", file=relative) from None
        except OSError as exc:
            if exc.errno == errno.EINVAL:
                raise ManifestError(f"{relative}: not a regular file; not read", file=relative) from None
            raise ManifestError(f"{relative}: cannot be read: {exc.strerror or exc}", file=relative) from None
        if len(data) > self._max_bytes:
            raise ManifestError(
                f"{relative}: larger than the {self._max_bytes} byte limit for manifests",
                suggestions=["Raise AUTODOCS_MAX_MANIFEST_BYTES if this file is really a manifest."],
                file=relative,
            )
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise ManifestError(
                f"{relative}: not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r})",
                suggestions=["Save the file as UTF-8."],
                file=relative,
            ) from None


def _display(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name
