"""A release's documentation text from its sdist: the unpacking policy for docs, beside the code policy.

``sources/archives.py`` keeps what static analysis reads; this module keeps what a reader of the
docs reads: the ``docs/``, ``doc/`` and ``documentation/`` trees, the top-level README, CHANGES,
HISTORY… in ``.md``, ``.rst`` and ``.txt``, the build configuration that orders the pages
(``mkdocs.yml``, Sphinx's ``conf.py`` inside the docs tree), and any other file of the sdist that a
kept page includes (``docs_src/…`` examples, ``../README.rst``, ``literalinclude`` targets,
``--8<--`` snippets), followed transitively a few levels deep.

What the caller can rely on, whatever the archive holds:

- nothing is written or read outside ``target``: absolute paths, ``..``, empty or control-character
  segments, links, devices and folders named as files are never created; the sdist's one top
  folder (``name-version/``) is stripped;
- time and memory stay bounded: the archive's own size (``max_sdist_bytes``), the number of entries
  (``max_members``) and of files kept (``max_kept_files``), the bytes unpacked (``expansion_limit``
  × the archive's size, and ``max_total_bytes``), the size of one file (``max_file_bytes``) and the
  bytes *scanned* — a tar member that is skipped still costs its decompression, so skipped sizes
  count too;
- a kept page that is binary (a NUL byte) is removed, one that is not valid UTF-8 is kept decoded
  with replacement characters; either is named in the warnings;
- every problem is a warning in the result, never an exception: a truncated or hostile archive
  yields what was unpacked before the problem.

Finding include targets is a line scan (a regular expression per include syntax): it only decides
which files to keep, before any parser runs. The parsers (``autodocs.docset``) resolve includes
themselves, confined to the same folder, so a target this scan misses is a warning there, not a leak.
"""

from __future__ import annotations

import re
import stat
import tarfile
import time
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import IO

__all__ = ["DocArchiveLimits", "UnpackedDocs", "unpack_docs"]

DOC_TREES = ("docs", "doc", "documentation")
DOC_SUFFIXES = (".md", ".markdown", ".rst", ".txt")
_TOP_LEVEL_STEMS = ("readme", "changes", "changelog", "history", "news", "releases", "contributing", "authors")
_CONFIG_NAMES = ("mkdocs.yml", "mkdocs.yaml")
_BAD_SEGMENT = re.compile(r"[\x00-\x1f\\]")
# `.. include:: x`, `.. literalinclude:: x`, MyST ```{include} x``` and `:::{include} x`, `--8<-- "x"`.
_INCLUDE_LINE = re.compile(
    r"""^\s*(?:\.\.\s+(?:literal)?include::\s*(?P<rst>\S[^\n]*?)"""
    r"""|(?:`{3,}|:{3,})\{(?:literal)?include\}\s*(?P<myst>\S[^\n]*?)"""
    r"""|;?-{1,}8<-{1,}\s+["'](?P<snippet>[^"'\n]+)["'])\s*$""",
    re.MULTILINE,
)
# markdown-include's `{!path!}` / `{!> path !}`, and `{* path … *}` (FastAPI's code-file include).
_MARKDOWN_INCLUDE = re.compile(r"\{(?:!>?|\*)\s*(?P<path>[^\s!*}]+)")
_SNIPPET_BLOCK = re.compile(
    r"^\s*-{1,}8<-{1,}\s*\n(?P<body>(?:(?!\s*-{1,}8<-).*\n){1,64}?)\s*-{1,}8<-{1,}\s*$", re.MULTILINE
)
_INCLUDE_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class DocArchiveLimits:
    """Bounds on one sdist's unpacking; the defaults suit real releases (Django's docs fit easily)."""

    #: The sdist itself; proposed setting ``AUTODOCS_MAX_SDIST_BYTES`` beside ``MAX_WHEEL_BYTES``.
    max_sdist_bytes: int = 64 << 20
    max_members: int = 100_000
    #: Files written; docs trees hold hundreds (Django about 600), so this bounds disk use, not reading.
    max_kept_files: int = 10_000
    max_file_bytes: int = 4 << 20
    max_total_bytes: int = 256 << 20
    #: Unpacked (and scanned) bytes allowed per archive byte; text compresses about 4-8x.
    expansion_limit: int = 40
    #: Wall-clock bound on the whole unpacking, in seconds.
    max_seconds: float = 60.0


@dataclass(slots=True)
class UnpackedDocs:
    """What ``unpack_docs`` left in its target folder, and why anything is missing."""

    root: Path
    files: list[PurePosixPath] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


#: What reading a damaged or hostile archive can raise (zip: encrypted members are a RuntimeError).
_DAMAGED = (
    OSError,
    EOFError,
    ValueError,
    RuntimeError,
    NotImplementedError,
    zlib.error,
    tarfile.TarError,
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
)


class _Stop(Exception):
    """A bound was reached: unpacking ends and keeps what it has (the message is the warning)."""


def unpack_docs(archive: Path, target: Path, limits: DocArchiveLimits | None = None) -> UnpackedDocs:
    """Unpack the documentation text of the sdist ``archive`` into the new folder ``target``.

    ``target`` must not exist; it is created and holds only kept files when this returns.
    """
    limits = limits or DocArchiveLimits()
    target.mkdir(parents=True)
    result = UnpackedDocs(root=target)
    try:
        size = archive.stat().st_size
        if size > limits.max_sdist_bytes:
            result.warnings.append(
                f"The sdist is {size} bytes, above AUTODOCS_MAX_SDIST_BYTES ({limits.max_sdist_bytes}); not unpacked."
            )
            return result
        budget = _Budget(limits, size)
        names: set[PurePosixPath] = set()
        try:
            for relative, source in _members(archive, budget, result.warnings, names.add):
                if _is_doc(relative):
                    budget.keep()
                    _copy(source, target.joinpath(*relative.parts), budget)
            _keep_included(archive, target, names, budget, result.warnings)
        except _Stop as stop:
            result.warnings.append(str(stop))
        _drop_binary_pages(target, result.warnings)
        result.files = sorted(PurePosixPath(p.relative_to(target).as_posix()) for p in target.rglob("*") if p.is_file())
    except _DAMAGED as exc:
        result.warnings.append(f"The sdist could not be unpacked ({exc.__class__.__name__}: {exc}).")
    return result


class _Budget:
    def __init__(self, limits: DocArchiveLimits, archive_size: int) -> None:
        self.limits = limits
        self.allowed = min(limits.max_total_bytes, max(archive_size, 1 << 16) * limits.expansion_limit)
        self.written = 0
        self.kept = 0
        self.scanned = 0
        self.members = 0
        self.deadline = time.monotonic() + limits.max_seconds

    def start_pass(self) -> None:
        """Entry count and scanned bytes are per pass over the archive; written bytes and time are not."""
        self.members = 0
        self.scanned = 0

    def member(self, declared_size: int) -> None:
        self.members += 1
        self.scanned += max(declared_size, 0)
        if self.members > self.limits.max_members:
            raise _Stop(f"The sdist has more than {self.limits.max_members} entries; the rest were not read.")
        if self.scanned > self.allowed * 2:
            raise _Stop("The sdist expands to far more than its size (a bomb?); the rest was not read.")
        if time.monotonic() > self.deadline:
            raise _Stop(f"Unpacking the sdist took over {self.limits.max_seconds:g} s; the rest was not read.")

    def keep(self) -> None:
        self.kept += 1
        if self.kept > self.limits.max_kept_files:
            raise _Stop(f"The sdist has more than {self.limits.max_kept_files} docs files; the rest were not kept.")

    def write(self, count: int) -> None:
        self.written += count
        if self.written > self.allowed:
            raise _Stop("The sdist unpacks to far more than its size (a bomb?); the rest was not read.")


def _safe_relative(raw: str) -> PurePosixPath | None:
    """The member's path below the sdist's top folder, or None when it could lead anywhere else."""
    if raw.startswith(("/", "\\")) or _BAD_SEGMENT.search(raw) or len(raw) > 1024:
        return None
    parts = [p for p in raw.split("/") if p != ""]
    if len(parts) < 2 or any(p in (".", "..") for p in parts) or ":" in parts[0]:
        return None
    return PurePosixPath(*parts[1:])


def _is_doc(relative: PurePosixPath) -> bool:
    parts = relative.parts
    if len(parts) == 1:
        name = parts[0].lower()
        stem, _, suffix = name.rpartition(".")
        return name in _CONFIG_NAMES or (f".{suffix}" in DOC_SUFFIXES and stem in _TOP_LEVEL_STEMS)
    if parts[0].lower() not in DOC_TREES:
        return False
    return relative.suffix.lower() in (*DOC_SUFFIXES, ".yml", ".yaml") or relative.name == "conf.py"


def _members(
    archive: Path, budget: _Budget, warnings: list[str], seen: Callable[[PurePosixPath], object]
) -> Iterator[tuple[PurePosixPath, IO[bytes]]]:
    """Each regular member (safe relative path, open stream); ``seen`` is told every safe path first.

    The caller reads the stream or not; an unread member costs only its decompression.
    """
    budget.start_pass()
    if zipfile.is_zipfile(archive):
        yield from _zip_members(archive, budget, warnings, seen)
        return
    try:
        with tarfile.open(archive, "r:*") as bundle:
            while True:
                try:
                    member = bundle.next()
                except _DAMAGED as exc:
                    raise _Stop(f"The sdist is damaged ({exc.__class__.__name__}); only part of it was read.") from None
                if member is None:
                    return
                budget.member(member.size)
                if member.issym() or member.islnk():
                    _warn_once(warnings, "The sdist holds links; they were skipped.")
                    continue
                relative = _safe_relative(member.name)
                if not member.isfile() or relative is None:
                    if member.isfile():
                        _warn_once(warnings, "The sdist holds paths outside its folder; they were skipped.")
                    continue
                seen(relative)
                if member.size > budget.limits.max_file_bytes:
                    continue
                stream = bundle.extractfile(member)
                if stream is not None:
                    with stream:
                        yield relative, stream
    except _DAMAGED as exc:
        raise _Stop(f"The sdist is damaged or not a tar or zip archive ({exc.__class__.__name__}).") from None


def _zip_members(
    archive: Path, budget: _Budget, warnings: list[str], seen: Callable[[PurePosixPath], object]
) -> Iterator[tuple[PurePosixPath, IO[bytes]]]:
    try:
        with zipfile.ZipFile(archive) as bundle:
            for info in bundle.infolist():
                budget.member(info.file_size)
                if info.is_dir():
                    continue
                if info.flag_bits & 0x1:
                    _warn_once(warnings, "The sdist holds encrypted files; they were skipped.")
                    continue
                if stat.S_ISLNK(info.external_attr >> 16):
                    _warn_once(warnings, "The sdist holds links; they were skipped.")
                    continue
                relative = _safe_relative(info.filename)
                if relative is None:
                    _warn_once(warnings, "The sdist holds paths outside its folder; they were skipped.")
                    continue
                seen(relative)
                if info.file_size > budget.limits.max_file_bytes:
                    continue
                with bundle.open(info) as stream:
                    yield relative, stream
    except _DAMAGED as exc:
        raise _Stop(f"The sdist is damaged ({exc.__class__.__name__}); only part of it was read.") from None


def _copy(source: IO[bytes], destination: Path, budget: _Budget) -> None:
    """Copy at most ``max_file_bytes`` (a header can lie about a size), counting every byte."""
    try:
        destination.parent.mkdir(parents=True, exist_ok=True)
    except OSError:
        return  # a file of the same name is where a folder would go: this member is skipped
    if destination.exists():
        return  # a duplicate member: the first one stays
    remaining = budget.limits.max_file_bytes
    try:
        with destination.open("wb") as sink:
            while block := source.read(min(1 << 16, remaining + 1)):
                remaining -= len(block)
                budget.write(len(block))
                if remaining < 0:
                    break
                sink.write(block)
    except _DAMAGED as exc:
        destination.unlink(missing_ok=True)
        raise _Stop(f"The sdist is damaged ({exc.__class__.__name__}); only part of it was read.") from None
    if remaining < 0:
        destination.unlink(missing_ok=True)


def _keep_included(
    archive: Path, target: Path, names: set[PurePosixPath], budget: _Budget, warnings: list[str]
) -> None:
    """Unpack every other file a kept page includes, transitively: one more pass per level, if any."""
    pending = [p for p in target.rglob("*") if p.is_file()]
    for _ in range(_INCLUDE_ROUNDS):
        wanted = {
            name
            for page in pending
            for name in _include_targets(page, target)
            if name in names and not target.joinpath(*name.parts).exists()
        }
        if not wanted:
            return
        pending = []
        for relative, source in _members(archive, budget, warnings, lambda _name: None):
            if relative in wanted:
                budget.keep()
                destination = target.joinpath(*relative.parts)
                _copy(source, destination, budget)
                if destination.is_file():
                    pending.append(destination)
    _warn_once(warnings, f"Includes nest deeper than {_INCLUDE_ROUNDS} levels; deeper files were not kept.")


def _include_targets(page: Path, root: Path) -> Iterator[PurePosixPath]:
    try:
        with page.open("rb") as stream:
            text = stream.read(1 << 20).decode("utf-8", "replace")
    except OSError:
        return
    names: list[str] = []
    for match in _INCLUDE_LINE.finditer(text):
        names.append((match["rst"] or match["myst"] or match["snippet"] or "").strip())
    names.extend(match["path"] for match in _MARKDOWN_INCLUDE.finditer(text))
    for block in _SNIPPET_BLOCK.finditer(text):
        names.extend(line.strip() for line in block["body"].splitlines() if line.strip())
    here = PurePosixPath(page.relative_to(root).as_posix()).parent
    for name in names:
        name = re.sub(r"(:-?\d*)+$", "", name)  # snippet line ranges: file.py:3:8
        if not name or "://" in name:
            continue
        # Sphinx reads "/x" from the docs source folder; Markdown includes from where mkdocs runs
        # (the config's folder: some ancestor of the page's), so every ancestor is a candidate base.
        bases = (
            [PurePosixPath(), *(PurePosixPath(d) for d in DOC_TREES)] if name.startswith("/") else [here, *here.parents]
        )
        for base in bases:
            candidate = _normalized(base / name.lstrip("/"))
            if candidate is not None:
                yield candidate


def _normalized(path: PurePosixPath) -> PurePosixPath | None:
    """``a/b/../c`` → ``a/c``; None when the path climbs out of the sdist."""
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not parts:
                return None
            parts.pop()
        elif part not in (".", ""):
            parts.append(part)
    return PurePosixPath(*parts) if parts else None


def _drop_binary_pages(target: Path, warnings: list[str]) -> None:
    for path in sorted(target.rglob("*")):
        if not path.is_file() or path.suffix.lower() not in DOC_SUFFIXES:
            continue
        data = path.read_bytes()
        name = path.relative_to(target).as_posix()
        if b"\x00" in data:
            path.unlink()
            warnings.append(f"{name} is binary, not text; it was skipped.")
            continue
        try:
            data.decode("utf-8")
        except UnicodeDecodeError:
            warnings.append(f"{name} is not valid UTF-8; undecodable bytes read as U+FFFD.")


def _warn_once(warnings: list[str], message: str) -> None:
    if message not in warnings:
        warnings.append(message)
