"""The files of a docs set: which source files are pages, and reading any file confined to the sdist.

Every read a reader makes — a page, an ``include``, a ``literalinclude``, a snippet — goes through
``DocsFolder.read``: the path is joined to the including file's folder (or the docs source folder
for Sphinx's ``/x``), normalized, and refused unless the resolved file lies inside the unpacked
sdist. Sizes are capped, binary files refused, invalid UTF-8 decoded with replacement characters.
A refusal is a warning string, never an exception.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

__all__ = ["DocFile", "DocsFolder", "ReadResult"]

#: Folders of a docs tree that hold a build's output or templates, not pages: a shipped ``_build``
#: or ``_sources`` (the built HTML's copies of the pages, ``page.rst.txt``) would read every page twice.
_OUTPUT_FOLDERS = frozenset({"_build", "_sources", "_static", "_templates", "_images", "_downloads"})
PAGE_SUFFIXES = {".rst": "rst", ".txt": "rst", ".md": "md", ".markdown": "md"}
MAX_READ_BYTES = 4 << 20


@dataclass(frozen=True, slots=True)
class DocFile:
    """A page's source file: its path inside the sdist and its markup (``rst`` or ``md``)."""

    path: str
    markup: str


@dataclass(frozen=True, slots=True)
class ReadResult:
    """A confined read: the text and its path inside the sdist, or the warning that says why not."""

    text: str | None
    path: str = ""
    warning: str = ""


class DocsFolder:
    """An unpacked sdist (or any docs tree on disk) that readers may read from, and nothing else."""

    def __init__(self, root: Path, *, source_dir: str = "") -> None:
        self.root = root.resolve()
        #: Where Sphinx's absolute include paths (``/x``) start, relative to ``root``.
        self.source_dir = source_dir

    def read(self, name: str, *, relative_to: str = "", max_bytes: int = MAX_READ_BYTES) -> ReadResult:
        """Read ``name`` as an include inside the file ``relative_to`` would (see module docs)."""
        name = name.strip()
        if not name or "\x00" in name or "://" in name:
            return ReadResult(None, warning=f"include {name!r} is not a file inside the sdist; skipped")
        if name.startswith("/"):
            candidate = PurePosixPath(self.source_dir) / name.lstrip("/")
        else:
            candidate = PurePosixPath(relative_to).parent / name
        normalized = _normalized(candidate)
        if normalized is None:
            return ReadResult(None, warning=f"include {name!r} leads outside the sdist; nothing was read")
        path = self.root.joinpath(*normalized.parts)
        try:
            resolved = path.resolve()
            if not resolved.is_relative_to(self.root) or path.is_symlink():
                return ReadResult(None, warning=f"include {name!r} leads outside the sdist; nothing was read")
            if not resolved.is_file():
                return ReadResult(None, warning=f"include {name!r} is not in the sdist; skipped")
            with resolved.open("rb") as stream:
                data = stream.read(max_bytes + 1)
        except (OSError, ValueError, RuntimeError) as exc:
            return ReadResult(None, warning=f"include {name!r} could not be read ({exc.__class__.__name__})")
        shown = normalized.as_posix()
        if len(data) > max_bytes:
            return ReadResult(None, shown, f"{shown} is larger than {max_bytes} bytes; skipped")
        if b"\x00" in data:
            return ReadResult(None, shown, f"{shown} is binary, not text; skipped")
        return ReadResult(data.decode("utf-8", "replace"), shown)

    def page_files(self, folder: str, suffixes: tuple[str, ...] | None = None) -> list[DocFile]:
        """Every page source under ``folder`` (relative to the root), sorted by path."""
        wanted = suffixes or tuple(PAGE_SUFFIXES)
        base = self.root.joinpath(*PurePosixPath(folder).parts) if folder else self.root
        if not base.is_dir():
            return []
        found = []
        for path in base.rglob("*"):
            if path.suffix.lower() in wanted and path.is_file() and not path.is_symlink():
                relative = path.relative_to(self.root).as_posix()
                if not _OUTPUT_FOLDERS.isdisjoint(relative.split("/")[:-1]):
                    continue
                found.append(DocFile(relative, PAGE_SUFFIXES.get(path.suffix.lower(), "rst")))
        return sorted(found, key=lambda f: f.path)


def _normalized(path: PurePosixPath) -> PurePosixPath | None:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in (".", "", "/"):
            parts.append(part)
    return PurePosixPath(*parts) if parts else None
