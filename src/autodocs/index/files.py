"""``file://`` Simple indexes (pip reads them too): an httpx transport over the local disk.

A ``file://`` URL of a folder means its ``index.html`` (as in pip's collector); a file is
streamed in chunks read off the event loop, so the fetch's size cap stops a large one before it
is read. ``Range`` requests are answered like an HTTP server's (206 with ``Content-Range``), so
a wheel's METADATA is read without reading the wheel. Only GET exists.

Who may use one: in stdio mode the user's own process reads the user's own files, so always;
in HTTP mode a client could otherwise aim the server at the host's disk, so only where the
operator set ``AUTODOCS_ALLOW_FILE_INDEXES`` (:func:`check_file_indexes`; an extra one from pip's
configuration is left out with a warning instead).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import httpx
import structlog

from autodocs.config import Settings
from autodocs.errors import ConfigError

__all__ = ["LocalIndexTransport", "check_file_indexes"]

log = structlog.get_logger(__name__)

_CHUNK = 256 * 1024
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")


def check_file_indexes(settings: Settings) -> Settings:
    """HTTP mode: the settings to serve with, ``file://`` indexes the operator did not allow left out.

    A local folder named by ``AUTODOCS_INDEX_URL``/``AUTODOCS_EXTRA_INDEX_URLS``, or as the index
    itself, refuses the start (:class:`ConfigError`): the operator chose it for this server. An
    extra one that came with pip's configuration (a wheel folder for installs, say) is left out
    with a warning: this machine's pip set-up is no reason for a docs server not to start."""
    if settings.allow_file_indexes:
        return settings
    urls = [settings.pypi_url, *settings.extra_index_urls]
    origins = settings.index_origins or [settings.index_origin]
    origins += [origins[-1]] * (len(urls) - len(origins))
    kept: list[tuple[str, str]] = []
    for position, (url, origin) in enumerate(zip(urls, origins, strict=True)):
        if not url.startswith("file:"):
            kept.append((url, origin))
        elif position == 0 or origin.startswith("AUTODOCS_"):
            raise ConfigError(
                f"The index {url} (from {origin}) is a local folder, which HTTP mode reads only when the "
                "operator allows it.",
                suggestions=[
                    "Set AUTODOCS_ALLOW_FILE_INDEXES=true to serve it, or set AUTODOCS_INDEX_URL to an http(s) index."
                ],
            )
        else:
            log.warning("index.file_index_skipped", index=url, origin=origin, reason="HTTP mode", setting=_ALLOW)
    if len(kept) == len(urls):
        return settings
    extras = kept[1:]
    return settings.model_copy(
        update={"extra_index_urls": [url for url, _ in extras], "index_origins": [origin for _, origin in kept]}
    )


_ALLOW = "AUTODOCS_ALLOW_FILE_INDEXES"


class LocalIndexTransport(httpx.AsyncBaseTransport):
    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        path = Path(unquote(urlsplit(str(request.url)).path))
        if request.method != "GET":
            return httpx.Response(405, request=request)
        if await asyncio.to_thread(path.is_dir):
            path = path / "index.html"
        try:
            size = (await asyncio.to_thread(os.stat, path)).st_size
        except OSError:
            return httpx.Response(404, request=request)
        kind = "text/html" if path.suffix == ".html" else "application/octet-stream"
        start, end, status = 0, size, 200
        wanted = _RANGE.match(request.headers.get("range", ""))
        headers = {"Content-Type": kind, "Accept-Ranges": "bytes"}
        if wanted is not None and size:
            first, last = wanted.groups()
            start = max(0, size - int(last)) if first == "" else min(int(first), size - 1)
            end = min(size, int(last) + 1) if first != "" and last else size
            status = 206
            headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
        headers["Content-Length"] = str(end - start)
        return httpx.Response(status, headers=headers, stream=_FileStream(path, start, end), request=request)


class _FileStream(httpx.AsyncByteStream):
    def __init__(self, path: Path, start: int, end: int) -> None:
        self._path, self._start, self._end = path, start, end

    async def __aiter__(self) -> AsyncIterator[bytes]:
        source = await asyncio.to_thread(self._path.open, "rb")
        try:
            await asyncio.to_thread(source.seek, self._start)
            left = self._end - self._start
            while left > 0:
                chunk = await asyncio.to_thread(source.read, min(_CHUNK, left))
                if not chunk:
                    break
                left -= len(chunk)
                yield chunk
        finally:
            await asyncio.to_thread(source.close)
