"""The package-index client: one shared ``httpx.AsyncClient``, bounded and retried.

What callers can rely on:

* Names are validated and normalized before a URL exists (:mod:`autodocs.index.names`).
* At most ``MAX_CONCURRENT`` requests are in flight process-wide, each attempt limited by
  ``ATTEMPT_TIMEOUT`` and the whole call by ``REQUEST_TIMEOUT``.
* Bodies are streamed and abandoned past ``MAX_UPSTREAM_BYTES``.
* Failures arrive as :mod:`autodocs.errors` classes, never as httpx exceptions.
* Transient failures (connection errors, timeouts, 5xx, 429) are retried by stamina with
  jittered exponential backoff; a 429's ``Retry-After`` is honoured (capped at
  ``MAX_RETRY_DELAY``). 404 and other 4xx are never retried; invalid JSON is retried once.
  stamina was chosen because it is async-native, bounds both attempts and total time, and
  its hook may return the wait, which is what ``Retry-After`` needs.
* Credentials in ``PYPI_URL`` or ``~/.netrc`` are used, and never appear in errors or logs.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import time
from pathlib import Path
from typing import Any

import httpx
import stamina
import structlog

from autodocs import __version__
from autodocs.config import Settings, mask_url
from autodocs.errors import (
    AutoDocsError,
    PackageNotFound,
    RateLimited,
    UpstreamError,
    UpstreamResponseInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
    VersionNotFound,
)
from autodocs.index.models import Release, ReleaseList, VersionMetadata
from autodocs.index.names import normalize_package_name, validate_version_string

__all__ = ["IndexClient"]

log = structlog.get_logger(__name__)


class _NotFound(Exception):
    """The index answered 404; the caller knows whether that means package or version."""


class IndexClient:
    """Fetches release lists and version metadata from the package index's JSON API."""

    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self._base = settings.pypi_url
        self._semaphore = asyncio.Semaphore(settings.max_concurrent)
        auth: httpx.Auth | None = None
        if "@" not in httpx.URL(self._base).netloc.decode("ascii", "replace") and (Path.home() / ".netrc").is_file():
            auth = httpx.NetRCAuth(None)
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.attempt_timeout, connect=min(settings.attempt_timeout, 10.0)),
            limits=httpx.Limits(
                max_connections=settings.max_concurrent,
                max_keepalive_connections=settings.max_concurrent,
                keepalive_expiry=30.0,
            ),
            headers={"User-Agent": f"autodocs/{__version__}", "Accept": "application/json"},
            follow_redirects=True,
            max_redirects=5,
            auth=auth,
            transport=transport,
        )
        self.requests_sent = 0

    async def aclose(self) -> None:
        await self._http.aclose()

    async def fetch_project(self, name: str) -> tuple[ReleaseList, VersionMetadata]:
        """The project's release list and the latest version's metadata (one request)."""
        normalized = normalize_package_name(name)
        try:
            data = await self._get_json(f"{self._base}/{normalized}/json")
        except _NotFound:
            raise PackageNotFound(f"The package index has no package named {normalized!r}.") from None
        info = _expect_dict(data.get("info"), "info")
        releases = _parse_releases(data.get("releases"))
        latest = str(info.get("version") or "")
        release_list = ReleaseList(name=normalized, latest=latest, releases=releases, fetched_at=time.time())
        return release_list, VersionMetadata.from_info(info)

    async def fetch_version(self, name: str, version: str) -> VersionMetadata:
        """Metadata of one exact version; :class:`VersionNotFound` when the index has no such page."""
        normalized = normalize_package_name(name)
        validate_version_string(version)
        try:
            data = await self._get_json(f"{self._base}/{normalized}/{version}/json")
        except _NotFound:
            raise VersionNotFound(f"The package index has no version {version} of {normalized!r}.") from None
        return VersionMetadata.from_info(_expect_dict(data.get("info"), "info"))

    async def _get_json(self, url: str) -> dict[str, Any]:
        settings = self._settings
        invalid_json_seen = 0

        def should_retry(exc: Exception) -> bool | float:
            nonlocal invalid_json_seen
            if isinstance(exc, RateLimited):
                retry_after = exc.details.get("retry_after_s")
                return min(float(retry_after), settings.max_retry_delay) if retry_after is not None else True
            if isinstance(exc, UpstreamResponseInvalid):
                invalid_json_seen += 1
                return exc.retryable and invalid_json_seen == 1
            return isinstance(exc, UpstreamError) and exc.retryable

        retrying = stamina.retry_context(
            on=should_retry,
            attempts=settings.max_retry_attempts + 1,
            timeout=settings.request_timeout,
            wait_initial=settings.base_retry_delay,
            wait_max=settings.max_retry_delay,
            wait_jitter=settings.base_retry_delay,
        )
        async for attempt in retrying:
            with attempt:
                if attempt.num > 1:
                    log.info("index.retry", url=mask_url(url), attempt=attempt.num)
                return await self._attempt(url)
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    async def _attempt(self, url: str) -> dict[str, Any]:
        shown = mask_url(url)
        async with self._semaphore:
            self.requests_sent += 1
            try:
                async with self._http.stream("GET", url) as response:
                    _raise_for_status(response, shown)
                    body = await self._read_capped(response, shown)
            except httpx.TimeoutException:
                raise UpstreamTimeout(
                    f"The package index did not answer {shown} within {self._settings.attempt_timeout:g} s."
                ) from None
            except httpx.TransportError as exc:
                raise UpstreamUnavailable(
                    f"Connection to the package index failed for {shown}: {type(exc).__name__}.",
                    suggestions=[
                        f"Check that AUTODOCS_PYPI_URL ({mask_url(self._base)}) is reachable from here.",
                        "If it is, the index is having trouble: try again in a moment.",
                    ],
                ) from None
        # The slot is free: let a waiting request go out before this one's CPU work (parsing,
        # building the document) runs, or a burst of answers serializes the next requests.
        await asyncio.sleep(0)
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            raise UpstreamResponseInvalid(f"The package index sent invalid JSON for {shown}.") from None
        return _expect_dict(data, "response")

    async def _read_capped(self, response: httpx.Response, shown: str) -> bytes:
        limit = self._settings.max_upstream_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise _too_large(shown, limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise _too_large(shown, limit)
            chunks.append(chunk)
        return b"".join(chunks)


def _raise_for_status(response: httpx.Response, shown: str) -> None:
    status = response.status_code
    if status == 200:
        return
    if status == 404:
        raise _NotFound
    if status == 429:
        retry_after = _parse_retry_after(response.headers.get("retry-after"))
        raise RateLimited(f"The package index rate-limited {shown} (429).", retry_after_s=retry_after)
    if status >= 500:
        raise UpstreamUnavailable(f"The package index answered {status} for {shown}.")
    raise UpstreamResponseInvalid(
        f"The package index answered {status} for {shown}.",
        retryable=False,
        suggestions=["Check AUTODOCS_PYPI_URL and its credentials."] if status in (401, 403) else None,
    )


def _parse_retry_after(value: str | None) -> float | None:
    """``Retry-After`` as seconds from now: delta-seconds or an HTTP-date (RFC 9110)."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


def _too_large(shown: str, limit: int) -> AutoDocsError:
    return UpstreamResponseInvalid(
        f"The package index's answer for {shown} is larger than {limit} bytes; it was not read.",
        retryable=False,
        suggestions=["Raise AUTODOCS_MAX_UPSTREAM_BYTES if this package's metadata is really that large."],
    )


def _expect_dict(value: Any, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise UpstreamResponseInvalid(f"The package index's {what} is not a JSON object.", retryable=False)
    return value


def _parse_releases(raw: Any) -> tuple[Release, ...]:
    if not isinstance(raw, dict):
        return ()
    releases = []
    for version, files in raw.items():
        files = files if isinstance(files, list) else []
        first = files[0] if files and isinstance(files[0], dict) else {}
        yanked = bool(files) and all(isinstance(f, dict) and f.get("yanked") for f in files)
        upload_times = [f.get("upload_time_iso_8601") for f in files if isinstance(f, dict)]
        releases.append(
            Release(
                version=str(version),
                yanked=yanked,
                yanked_reason=first.get("yanked_reason") if yanked else None,
                requires_python=first.get("requires_python"),
                upload_time=min((t for t in upload_times if isinstance(t, str)), default=None),
                has_files=bool(files),
            )
        )
    return tuple(releases)
