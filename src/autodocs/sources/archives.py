"""A release's code from the package index: one wheel (or sdist) downloaded once, unpacked, never installed.

Which file: a pure-Python wheel first (its ``.py`` files are the code), then any other wheel
(compiled packages ship ``.pyi`` stubs or Python parts beside their extensions), then the sdist.
Its size is checked against ``MAX_WHEEL_BYTES`` from the index's listing before a byte is
fetched, and again while streaming; the SHA-256 the index lists is verified (a file listed without
one is accepted, and every reference read from it says so).

Unpacking keeps only what static analysis reads (``.py``, ``.pyi``, ``py.typed`` and the
distribution's metadata), refuses absolute paths, ``..`` and links, and caps the unpacked
total, so a hostile archive can neither escape the folder nor fill the disk. The number of
entries is capped too (``MAX_ARCHIVE_ENTRIES``): a zip is refused from its end record before its
list of entries is parsed (:mod:`autodocs.sources.zip_directory`), a tar stops at the cap. It goes into a
temporary folder renamed into place at the end: the cache folder either holds a complete
tree or nothing, and concurrent processes racing for the same release both end up with one.
A work folder removed under the fetch (the cache folder cleared meanwhile) ends it with a
retryable ``CacheError``; removing what is left of the folder never adds an error of its own.
The folder is named after the release and, for any index but the default configuration's, a
digest of the index key (:mod:`autodocs.index.keys`): two indexes' ``foo`` 1.0 never share one.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import re
import shutil
import tarfile
import tempfile
import zipfile
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from packaging.utils import canonicalize_name

from autodocs.errors import (
    ArchiveTooLarge,
    CacheError,
    CodeUnavailable,
    TooManyArchiveEntries,
    UpstreamResponseInvalid,
)
from autodocs.index.keys import DEFAULT_INDEX_KEY
from autodocs.index.models import DistFile
from autodocs.sources.zip_directory import read_zip_directory

if TYPE_CHECKING:
    from autodocs.index.fetch import JsonFetcher

__all__ = ["UNVERIFIED_MARKER", "choose_archive", "downloaded_code_bytes", "fetch_release_code", "release_code_dir"]

#: Written into an unpacked tree whose archive the index listed without a SHA-256 (its file name inside).
UNVERIFIED_MARKER = ".autodocs-unverified"

_KEPT_SUFFIXES = (".py", ".pyi")
_KEPT_NAMES = ("py.typed", "METADATA", "PKG-INFO", "top_level.txt", "RECORD")
#: Unpacked bytes allowed per archive byte (source compresses about 4-8x; this leaves room).
_EXPANSION_LIMIT = 20
#: A segment longer than a file name may be (NAME_MAX, 255 bytes), or a member path so long that
#: its full path could pass PATH_MAX (4096) under the cache folder, is skipped, not an OSError.
_SAFE_SEGMENT = re.compile(r"^[A-Za-z0-9_.+-]{1,255}$")
_MAX_MEMBER_PATH = 1024


def release_code_dir(cache_dir: Path, index_key: str, name: str, version: str) -> Path:
    """Where the unpacked code of (name, version) from the index ``index_key`` lives; it exists
    only once complete. The default configuration's index keeps the folder names of the time
    before index keys (``name-version``), so code downloaded then is still used."""
    safe_version = re.sub(r"[^A-Za-z0-9_.+!-]", "_", version)
    folder = f"{canonicalize_name(name)}-{safe_version}"
    if index_key != DEFAULT_INDEX_KEY:
        folder += "@" + hashlib.sha256(index_key.encode()).hexdigest()[:16]
    return cache_dir / "code" / folder


def choose_archive(files: tuple[DistFile, ...]) -> DistFile | None:
    """The file whose contents best show the release's API (see the module docstring)."""
    wheels = [f for f in files if f.filename.endswith(".whl") and not f.yanked]
    pure = [f for f in wheels if f.filename.endswith(("-none-any.whl", "-abi3-none-any.whl"))]
    if pure:
        return pure[0]
    if wheels:
        # Prefer a Linux x86-64 CPython build (the most common), then the smallest.
        return min(wheels, key=lambda f: ("manylinux" not in f.filename or "x86_64" not in f.filename, f.size or 0))
    sdists = [f for f in files if f.filename.endswith((".tar.gz", ".zip")) and not f.yanked]
    return sdists[0] if sdists else None


async def fetch_release_code(
    fetcher: JsonFetcher, files: tuple[DistFile, ...], destination: Path, *, max_bytes: int, max_entries: int
) -> DistFile:
    """Download and unpack the best archive of a release into ``destination`` (see module docs)."""
    from autodocs.index.fetch import NotFound  # the fetcher's module, loaded by whoever built it

    chosen = choose_archive(files)
    if chosen is None:
        raise CodeUnavailable(
            f"The package index lists no wheel or source archive for {destination.name}.",
        )
    if chosen.size is not None and chosen.size > max_bytes:
        raise ArchiveTooLarge(
            f"{chosen.filename} is {chosen.size} bytes, above AUTODOCS_MAX_WHEEL_BYTES ({max_bytes}); "
            "it was not downloaded."
        )
    destination.parent.mkdir(parents=True, exist_ok=True)
    workdir = Path(tempfile.mkdtemp(prefix=f".{destination.name}.", dir=destination.parent))
    try:
        archive = workdir / "archive"  # pragma: no mutate: any name does inside the private work folder
        try:
            await fetcher.download(chosen.url, archive, max_bytes=max_bytes)
        except NotFound:
            raise CodeUnavailable(
                f"The package index lists {chosen.filename}, but its URL answered 404; nothing was downloaded."
            ) from None
        await asyncio.to_thread(_verify_and_unpack, archive, chosen, workdir / "tree", max_entries)
        await asyncio.to_thread(_move_into_place, workdir / "tree", destination)
    except OSError:
        if await asyncio.to_thread(workdir.is_dir):
            raise
        raise CacheError(  # the cache folder was cleared (or moved) under the download
            f"The work folder for {destination.name}'s code vanished while it was being fetched; nothing was kept.",
            suggestions=["Ask again: the code is fetched anew (was the cache folder being cleared?)."],
        ) from None
    finally:
        await asyncio.to_thread(shutil.rmtree, workdir, True)
    return chosen


def _move_into_place(tree: Path, destination: Path) -> None:
    try:
        os.rename(tree, destination)
    except OSError:
        if not destination.is_dir():  # not a lost race with another process: a real failure
            raise


def _verify_and_unpack(archive: Path, chosen: DistFile, target: Path, max_entries: int) -> None:
    if chosen.sha256:
        digest = hashlib.sha256()
        with archive.open("rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        if digest.hexdigest() != chosen.sha256.lower():
            raise UpstreamResponseInvalid(
                f"{chosen.filename} does not match the SHA-256 the package index lists; it was discarded."
            )
    target.mkdir()
    if not chosen.sha256:  # accepted, as installers do; the reply says it was not verified
        (target / UNVERIFIED_MARKER).write_bytes(chosen.filename.encode())  # read back as UTF-8 (sources/code.py)
    budget = max(archive.stat().st_size * _EXPANSION_LIMIT, 1 << 20)
    if chosen.filename.endswith(".whl") or chosen.filename.endswith(".zip"):
        _unpack_zip(archive, target, budget, max_entries, strip_first=chosen.filename.endswith(".zip"))
    else:
        _unpack_tar(archive, target, budget, max_entries)


def _kept(path: PurePosixPath) -> bool:
    return path.suffix in _KEPT_SUFFIXES or path.name in _KEPT_NAMES


def _safe_relative(raw: str, strip_first: bool) -> PurePosixPath | None:
    if len(raw) > _MAX_MEMBER_PATH:
        return None
    path = PurePosixPath(raw.replace("\\", "/"))
    parts = path.parts[1:] if strip_first else path.parts
    if not parts or path.is_absolute() or any(p in ("..", ".", "") or not _SAFE_SEGMENT.match(p) for p in parts):
        return None
    if strip_first and parts[0] == "src":  # src layout: the importable packages live one level down
        parts = parts[1:]
    return PurePosixPath(*parts) if parts else None


def _output_path(target: Path, relative: PurePosixPath) -> Path | None:
    """Where a member is written, its folders made; None when a file and a folder of the same
    name clash (a hostile archive's ``a.py`` and ``a.py/b.py``): that member is skipped."""
    out = target.joinpath(*relative.parts)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        return None
    return None if out.is_dir() else out


def _too_many(what: str, max_entries: int) -> TooManyArchiveEntries:
    return TooManyArchiveEntries(f"{what}, above AUTODOCS_MAX_ARCHIVE_ENTRIES ({max_entries}); it was discarded.")


def _unpack_zip(archive: Path, target: Path, budget: int, max_entries: int, *, strip_first: bool) -> None:
    directory = read_zip_directory(archive)  # before zipfile, which parses every entry on open
    if directory is None:
        raise UpstreamResponseInvalid("The downloaded archive is not a valid zip file (no end record).")
    if directory.could_hold_more_than(max_entries):
        what = f"The archive lists {directory.entries} files in a {directory.size}-byte directory"
        raise _too_many(what, max_entries)
    try:
        with zipfile.ZipFile(archive) as bundle:
            members = bundle.infolist()
            if len(members) > max_entries:
                raise _too_many(f"The archive lists {len(members)} files", max_entries)
            written = 0
            for member in members:
                if member.is_dir():
                    continue
                relative = _safe_relative(member.filename, strip_first)
                if relative is None or not _kept(relative):
                    continue
                written += member.file_size
                if written > budget:
                    raise ArchiveTooLarge("The archive unpacks to far more than its size; it was discarded.")
                out = _output_path(target, relative)
                if out is None:
                    continue
                with bundle.open(member) as source, out.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise UpstreamResponseInvalid(f"The downloaded archive is not a valid zip file ({exc}).") from None


def _unpack_tar(archive: Path, target: Path, budget: int, max_entries: int) -> None:
    try:
        with tarfile.open(archive, "r:*") as bundle:
            written = 0
            for count, member in enumerate(bundle, start=1):  # tarfile reads one header per step
                if count > max_entries:
                    raise _too_many(f"The archive holds more than {max_entries} files", max_entries)
                if not member.isfile():  # links, devices and folders are never created
                    continue
                relative = _safe_relative(member.name, strip_first=True)
                if relative is None or not _kept(relative):
                    continue
                written += member.size
                if written > budget:
                    raise ArchiveTooLarge("The archive unpacks to far more than its size; it was discarded.")
                source = bundle.extractfile(member)
                if source is None:
                    continue  # pragma: no mutate: unreachable, never None for a regular file (isfile above)
                out = _output_path(target, relative)
                if out is None:
                    source.close()
                    continue
                with source, out.open("wb") as sink:
                    shutil.copyfileobj(source, sink)
    except (tarfile.TarError, EOFError, OSError) as exc:
        if isinstance(exc, OSError) and not isinstance(exc, EOFError) and exc.errno is not None:
            raise
        raise UpstreamResponseInvalid(f"The downloaded archive is not a valid tar file ({exc}).") from None


def downloaded_code_bytes(cache_dir: Path) -> int:
    """Bytes of every release's code unpacked under ``cache_dir`` (apart from the store's size).

    Walks the files (links are not followed): call it off the event loop.
    """
    total = 0
    for folder, _, names in os.walk(cache_dir / "code"):
        for name in names:
            with contextlib.suppress(OSError):  # a folder being replaced or removed meanwhile
                total += os.lstat(os.path.join(folder, name)).st_size
    return total
