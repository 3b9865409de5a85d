"""Find and read a project's dependency manifests → :class:`ScanResult`.

One module per manifest family; this module decides which files a project has, reads
them safely (size cap, encoding, confinement to the project root) and collects every
file's failure as a structured per-file error so one bad file never hides the others.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

from autodocs.errors import AutoDocsError, InternalError, ManifestError, NotADirectory, PathNotFound
from autodocs.manifests.base import Dependency, FileError, ScanResult, SourceLocation
from autodocs.manifests.pyproject import parse_pyproject
from autodocs.manifests.requirements import parse_requirements

__all__ = ["Dependency", "FileError", "ScanResult", "SourceLocation", "scan_project"]

DEFAULT_MAX_MANIFEST_BYTES = 5 * 1024 * 1024


def scan_project(project_path: str | Path, *, max_bytes: int = DEFAULT_MAX_MANIFEST_BYTES) -> ScanResult:
    """Read every manifest of the project; blocking (call it from a worker thread)."""
    root = _check_project_path(project_path)
    result = ScanResult(project_path=str(root))
    reader = _SafeReader(root, max_bytes)

    pyproject = root / "pyproject.toml"
    if pyproject.is_file():
        _collect(result, "pyproject.toml", lambda: parse_pyproject(reader(pyproject), file="pyproject.toml"))
    for path in _requirements_files(root):
        relative = path.relative_to(root).as_posix()
        _collect(result, relative, functools.partial(parse_requirements, path, root=root, read_text=reader))
    result.partial = bool(result.errors)
    return result


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


def _requirements_files(root: Path) -> list[Path]:
    candidates = sorted(root.glob("*requirements*.txt"))
    folder = root / "requirements"
    if folder.is_dir():
        candidates.extend(sorted(folder.glob("*.txt")))
    return [path for path in candidates if path.is_file()]


def _collect(result: ScanResult, relative: str, parse: Callable[[], list[Dependency]]) -> None:
    try:
        dependencies: list[Dependency] = parse()
    except AutoDocsError as exc:
        result.errors.append(FileError(file=relative, error=exc.to_dict()))
        return
    except Exception as exc:  # a parser bug must cost one file, not the scan
        error = InternalError(f"{relative}: unexpected {type(exc).__name__} while parsing")
        result.errors.append(FileError(file=relative, error=error.to_dict()))
        return
    result.files_read.append(relative)
    result.dependencies.extend(dependencies)


class _SafeReader:
    """Reads manifest text: inside the root only, size-capped, UTF-8 (BOM tolerated)."""

    def __init__(self, root: Path, max_bytes: int) -> None:
        self._root = root
        self._max_bytes = max_bytes

    def __call__(self, path: Path) -> str:
        resolved = path.resolve()
        relative = _display(resolved, self._root)
        if not resolved.is_relative_to(self._root):
            raise ManifestError(f"{relative}: leaves the project root (symlink or '..'); not read", file=relative)
        try:
            with resolved.open("rb") as handle:
                data = handle.read(self._max_bytes + 1)
        except OSError as exc:
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
