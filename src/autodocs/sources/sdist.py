"""A release's sdist from the package index, for its docs set: chosen, size-capped, downloaded, verified.

The docs set reads the sdist (the wheel carries no docs folder), so a release can cost two
downloads: its wheel for the API reference (:mod:`autodocs.sources.archives`), its sdist here.
The file comes from the release's file list the index layer already reads (JSON API ``urls`` or
the Simple API page), is refused before a byte is fetched when its listed size is above
``AUTODOCS_MAX_SDIST_BYTES``, is streamed through the same fetch policy (deadline, retries,
breaker, credentials, TLS) with that cap, and is checked against the SHA-256 the index lists.

Nothing here raises for a release that simply has no usable sdist: :func:`fetch_sdist` returns
a :class:`SdistFetch` whose ``reason`` says why (none listed, over the cap, a 404: asking again
cannot help). Upstream trouble (timeouts, 5xx, a file that does not match its listed hash) is
raised as the index layer's errors: the caller decides.
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autodocs.errors import ArchiveTooLarge, UpstreamResponseInvalid
from autodocs.index.models import DistFile

if TYPE_CHECKING:
    from autodocs.index.fetch import JsonFetcher

__all__ = ["SDIST_SUFFIXES", "SdistFetch", "choose_sdist", "fetch_sdist"]

SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2", ".tgz")


@dataclass(frozen=True, slots=True)
class SdistFetch:
    """The downloaded sdist (``path``), or why there is none (``reason``)."""

    path: Path | None
    filename: str = ""
    reason: str = ""
    warnings: tuple[str, ...] = ()


def choose_sdist(files: tuple[DistFile, ...]) -> DistFile | None:
    """The release's sdist: one not yanked first, a ``.tar.gz`` (PEP 625) before other formats."""
    sdists = [f for f in files if f.packagetype == "sdist" or f.filename.endswith(SDIST_SUFFIXES)]
    sdists = [f for f in sdists if not f.filename.endswith(".whl")]
    if not sdists:
        return None
    return min(sdists, key=lambda f: (f.yanked, not f.filename.endswith(".tar.gz"), f.filename))


async def fetch_sdist(
    fetcher: JsonFetcher, files: tuple[DistFile, ...], workdir: Path, *, max_bytes: int
) -> SdistFetch:
    """Download the release's sdist into ``workdir`` (an existing folder the caller removes)."""
    from autodocs.index.fetch import NotFound  # the fetcher's module, loaded by whoever built it

    chosen = choose_sdist(files)
    if chosen is None:
        return SdistFetch(None, reason="the package index lists no sdist for this release")
    too_large = f"the sdist {chosen.filename} is over AUTODOCS_MAX_SDIST_BYTES ({max_bytes} bytes)"
    if chosen.size is not None and chosen.size > max_bytes:
        return SdistFetch(None, chosen.filename, f"{too_large}: {chosen.size} bytes; it was not downloaded")
    archive = workdir / ("sdist.zip" if chosen.filename.endswith(".zip") else "sdist.tar")
    try:
        await fetcher.download(chosen.url, archive, max_bytes=max_bytes)
    except ArchiveTooLarge:
        return SdistFetch(None, chosen.filename, f"{too_large}; the download was stopped")
    except NotFound:
        return SdistFetch(None, chosen.filename, f"the index lists {chosen.filename}, but its URL answered 404")
    if chosen.sha256 and not await asyncio.to_thread(_matches, archive, chosen.sha256):
        await asyncio.to_thread(archive.unlink, True)
        raise UpstreamResponseInvalid(
            f"{chosen.filename} does not match the SHA-256 the package index lists; it was discarded."
        )
    unverified = () if chosen.sha256 else (f"{chosen.filename} was not verified: the index lists no SHA-256 for it.",)
    return SdistFetch(archive, chosen.filename, warnings=unverified)


def _matches(path: Path, sha256: str) -> bool:
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest() == sha256.lower()
