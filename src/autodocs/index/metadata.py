"""A release's core metadata from its files: the PEP 658 file, the wheel's METADATA, the sdist's PKG-INFO.

The chain, cheapest first (:func:`read_release_metadata`):

1. **The ``.metadata`` file** next to a wheel (PEP 658/714): one request, checked against the
   hash the listing gives. A 404 there is not the end: the index listed it wrongly, so go on.
2. **METADATA inside the wheel, by range requests**: the zip's tail (its central directory,
   and usually the ``.dist-info`` files, which wheels store last), then that one member if
   the tail did not hold it. The zip is read by :mod:`zipfile` over a sparse file of the
   fetched ranges (:class:`_Ranges`); a read outside them names the range to fetch next. An
   index that ignores ``Range`` sends the whole wheel (capped at ``MAX_UPSTREAM_BYTES``) and
   is not asked for ranges again. Metadata read this way cannot be checked against the wheel's
   hash (the wheel is never whole here): it is documentation, never executed.
3. **PKG-INFO of the sdist**, downloaded within the same cap.

:mod:`packaging.metadata` parses the email-format metadata (leniently: ``parse_email`` keeps
what it can read, as an index does), and the result takes the shape of the JSON API's ``info``.
"""

from __future__ import annotations

import hashlib
import io
import re
import tarfile
import zipfile
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from packaging.metadata import parse_email

from autodocs.errors import UpstreamResponseInvalid
from autodocs.index.answers import Page
from autodocs.index.capabilities import IndexCapabilities
from autodocs.index.fetch import NotFound
from autodocs.index.models import DistFile

__all__ = ["info_from_core_metadata", "read_release_metadata"]

log = structlog.get_logger(__name__)

GetPage = Callable[..., Awaitable[Page]]

#: The first range asked of a wheel: its end, where the central directory and (in practice)
#: the ``.dist-info`` files are. Big enough for most wheels' whole dist-info, small to send.
TAIL_BYTES = 64 * 1024
#: Room asked for past a member's known sizes: its local header's name and extra field.
_HEADER_SLACK = 1024
_MAX_RANGE_ROUNDS = 4
_CONTENT_RANGE = re.compile(r"bytes (\d+)-(\d+)/(\d+)")


def info_from_core_metadata(data: bytes) -> dict[str, Any]:
    """Core metadata (METADATA, PKG-INFO, a ``.metadata`` file) as the JSON API's ``info`` keys."""
    raw, _unparsed = parse_email(data)
    keywords = raw.get("keywords")
    return {
        "name": raw.get("name"),
        "version": raw.get("version"),
        "summary": raw.get("summary"),
        "description": raw.get("description"),
        "description_content_type": raw.get("description_content_type"),
        "home_page": raw.get("home_page"),
        "project_urls": raw.get("project_urls") or {},
        "requires_dist": raw.get("requires_dist") or [],
        "requires_python": raw.get("requires_python"),
        "license": raw.get("license"),
        "license_expression": raw.get("license_expression"),
        "classifiers": raw.get("classifiers") or [],
        "author": raw.get("author"),
        "author_email": raw.get("author_email"),
        "keywords": ",".join(keywords) if keywords else None,
        "docs_url": None,
    }


async def read_release_metadata(
    get_page: GetPage, files: tuple[DistFile, ...], capabilities: IndexCapabilities
) -> dict[str, Any]:
    """The core metadata of the release whose ``files`` these are, cheapest source first."""
    wheels = [f for f in files if f.filename.endswith(".whl")]
    for wheel in (w for w in wheels if w.metadata):
        try:
            page = await get_page(wheel.metadata_url)
        except NotFound:
            log.info("index.metadata_file_missing", file=wheel.filename)
            continue
        if wheel.metadata_sha256 and hashlib.sha256(page.body).hexdigest() != wheel.metadata_sha256:
            raise UpstreamResponseInvalid(
                f"The metadata file of {wheel.filename} does not match the hash the package index lists.",
                retryable=False,
            )
        return info_from_core_metadata(page.body)
    if wheels:
        return info_from_core_metadata(await _wheel_member(get_page, wheels[0], capabilities))
    for sdist in files:
        if sdist.filename.endswith((".tar.gz", ".zip")):
            page = await get_page(sdist.url)
            return info_from_core_metadata(_sdist_pkg_info(page.body, sdist.filename))
    raise UpstreamResponseInvalid(
        "The package index lists no wheel or sdist for this release, so its metadata cannot be read.",
        retryable=False,
        suggestions=["Ask for another version; this one has no files on the index."],
    )


async def _wheel_member(get_page: GetPage, wheel: DistFile, capabilities: IndexCapabilities) -> bytes:
    """The wheel's ``*.dist-info/METADATA``: by ranges where the index serves them, else whole."""
    if capabilities.ranges is False:
        return _metadata_of(zipfile.ZipFile(io.BytesIO((await get_page(wheel.url)).body)), wheel)
    page = await get_page(wheel.url, headers={"Range": f"bytes=-{TAIL_BYTES}"})
    found = _CONTENT_RANGE.fullmatch(page.content_range or "")
    if page.status != 206 or found is None:
        if len(page.body) > TAIL_BYTES:  # the whole of a bigger file: ranges are ignored here
            capabilities.learn("ranges", False)
        return _metadata_of(zipfile.ZipFile(io.BytesIO(page.body)), wheel)
    capabilities.learn("ranges", True)
    ranges = _Ranges(int(found[3]))
    ranges.add(int(found[1]), page.body)
    for _ in range(_MAX_RANGE_ROUNDS):
        try:
            bundle = zipfile.ZipFile(ranges)
            member = bundle.getinfo(_metadata_name(bundle, wheel))
            # The member's local header, its name and extra field, then its data.
            needed = (member.header_offset, member.header_offset + 30 + len(member.orig_filename) + _HEADER_SLACK)
            ranges.require(needed[0], min(ranges.size, needed[1] + member.compress_size))
            return _metadata_of(bundle, wheel)
        except _Missing as missing:
            start, end = missing.start, missing.end - 1
        page = await get_page(wheel.url, headers={"Range": f"bytes={start}-{end}"})
        found = _CONTENT_RANGE.fullmatch(page.content_range or "")
        if page.status != 206 or found is None:
            return _metadata_of(zipfile.ZipFile(io.BytesIO(page.body)), wheel)
        ranges.add(int(found[1]), page.body)
    raise UpstreamResponseInvalid(f"{wheel.filename} could not be read by ranges.", retryable=False)


def _metadata_name(bundle: zipfile.ZipFile, wheel: DistFile) -> str:
    names = [n for n in bundle.namelist() if n.count("/") == 1 and n.endswith(".dist-info/METADATA")]
    if not names:
        raise UpstreamResponseInvalid(f"{wheel.filename} has no .dist-info/METADATA.", retryable=False)
    return names[0]


def _metadata_of(bundle: zipfile.ZipFile, wheel: DistFile) -> bytes:
    try:
        member = bundle.getinfo(_metadata_name(bundle, wheel))
        if member.file_size > 16 * 1024 * 1024:
            raise UpstreamResponseInvalid(f"The METADATA of {wheel.filename} is implausibly large.", retryable=False)
        return bundle.read(member)
    except (zipfile.BadZipFile, EOFError) as exc:
        raise UpstreamResponseInvalid(f"{wheel.filename} is not a valid wheel ({exc}).", retryable=False) from None


def _sdist_pkg_info(body: bytes, filename: str) -> bytes:
    """``<name>-<version>/PKG-INFO`` of an sdist (the top folder's, not a vendored one's)."""
    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(body)) as bundle:
                names = [n for n in bundle.namelist() if n.count("/") == 1 and n.endswith("/PKG-INFO")]
                if names:
                    return bundle.read(names[0])
        else:
            with tarfile.open(fileobj=io.BytesIO(body), mode="r:*") as bundle:
                for member in bundle:
                    if member.isfile() and member.name.count("/") == 1 and member.name.endswith("/PKG-INFO"):
                        source = bundle.extractfile(member)
                        if source is not None:
                            return source.read()
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as exc:
        raise UpstreamResponseInvalid(f"{filename} is not a valid archive ({exc}).", retryable=False) from None
    raise UpstreamResponseInvalid(f"{filename} has no PKG-INFO.", retryable=False)


class _Missing(Exception):
    """A read fell outside the ranges fetched so far (not an OSError: zipfile must not swallow it)."""

    def __init__(self, start: int, end: int) -> None:
        super().__init__(start, end)
        self.start, self.end = start, end


class _Ranges(io.RawIOBase):
    """A read-only, seekable file of ``size`` bytes of which only some ranges are known."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size
        self._position = 0
        self._pieces: list[tuple[int, bytes]] = []

    def add(self, start: int, data: bytes) -> None:
        self._pieces.append((start, data))

    def require(self, start: int, end: int) -> None:
        """Raise :class:`_Missing` unless ``[start, end)`` is known."""
        if not any(p <= start and end <= p + len(data) for p, data in self._pieces):
            raise _Missing(start, end)

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self.size}[whence]
        self._position = max(0, base + offset)
        return self._position

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer).cast("B")
        want = min(len(view), self.size - self._position)
        if want <= 0:
            return 0
        start, end = self._position, self._position + want
        for piece_start, data in self._pieces:
            if piece_start <= start and end <= piece_start + len(data):
                view[:want] = data[start - piece_start : end - piece_start]
                self._position = end
                return want
        raise _Missing(start, end)
