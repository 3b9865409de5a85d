"""One resilient GET of a JSON document from the package index. The whole policy lives here.

What a caller can rely on, per :meth:`JsonFetcher.get_json` call:

* **Deadline.** Nothing runs past the current tool call's deadline (:mod:`autodocs.deadline`):
  not an attempt, not a backoff wait, not a ``Retry-After``.
* **Bounded concurrency.** At most ``MAX_CONCURRENT`` requests are in flight process-wide.
* **Attempts.** Each attempt's limit follows the index's recent time to first byte
  (:class:`~autodocs.index.latency.LatencyTracker`), so a hung connection costs about a second,
  not the whole budget; an attempt still silent past a few times the recent p95 is *hedged*
  (a second request races it; the loser is cancelled).
* **Retries** by stamina, by error kind: connection errors, resets, timeouts and 5xx are retried
  with exponential backoff and full jitter (``BASE_RETRY_DELAY`` .. ``MAX_RETRY_DELAY``, at most
  ``MAX_RETRY_ATTEMPTS`` retries); 429 and 503 wait for their ``Retry-After`` (capped at
  ``MAX_RETRY_DELAY``); an invalid or truncated body is retried once; 404 and other 4xx never.
  stamina because it is async-native, bounds attempts and total time, and its hook may return
  the wait — which is how ``Retry-After`` and full jitter are expressed.
* **Circuit breaker** per host (:mod:`autodocs.index.breaker`): while open, calls fail at once
  with :class:`~autodocs.errors.CircuitOpen` and ``retry_after_s``.
* **Caps.** Bodies are streamed and abandoned past ``MAX_UPSTREAM_BYTES``.
* Failures are :mod:`autodocs.errors` classes; URLs in messages have credentials masked.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
import urllib.parse
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping
from pathlib import Path
from typing import Any, TypeVar

import httpx
import stamina
import structlog

from autodocs import __version__, underway
from autodocs.config import Settings, mask_url
from autodocs.deadline import remaining
from autodocs.errors import (
    ArchiveTooLarge,
    AutoDocsError,
    CircuitOpen,
    RateLimited,
    UpstreamError,
    UpstreamResponseInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from autodocs.index.answers import Page, as_page, json_object
from autodocs.index.auth import IndexCredentials
from autodocs.index.breaker import CircuitBreaker, CircuitState
from autodocs.index.files import LocalIndexTransport
from autodocs.index.latency import LatencyTracker
from autodocs.index.tls import certificate_failure, index_ssl_context

__all__ = ["JsonFetcher", "NotFound"]

log = structlog.get_logger(__name__)
_T = TypeVar("_T")

#: A hedge timer firing later than this means the event loop is overloaded, not the index slow.
_MAX_LOOP_LAG_S = 0.05


# Retries are logged by the fetch itself (one structured event each, attempts numbered across
# the first attempt and stamina's), not by stamina's default warning-level hooks.
stamina.instrumentation.set_on_retry_hooks([])


class NotFound(Exception):
    """The index answered 404; the caller knows whether that means package or version."""


class JsonFetcher:
    def __init__(self, settings: Settings, *, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self._settings = settings
        self._semaphore = asyncio.Semaphore(settings.max_concurrent)
        self._breakers: dict[str, CircuitBreaker] = {}
        self._index_host = urllib.parse.urlsplit(settings.pypi_url).hostname or ""
        self.latency = LatencyTracker(settings.attempt_timeout)
        self.requests_sent = 0
        self.hedges_sent = 0
        self.retries = 0
        self.outcomes: Counter[str] = Counter()  # upstream requests by outcome (metrics read it)
        credentials = IndexCredentials([settings.pypi_url, *settings.extra_index_urls])  # index/auth.py
        limits = httpx.Limits(
            max_connections=settings.max_concurrent * 2,  # room for hedges racing hung requests
            max_keepalive_connections=settings.max_concurrent,
            keepalive_expiry=30.0,
        )
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.attempt_timeout, connect=min(settings.attempt_timeout, 10.0)),
            limits=limits,
            headers={"User-Agent": f"autodocs/{__version__}", "Accept": "application/json"},
            follow_redirects=True,
            max_redirects=5,
            auth=credentials if credentials.configured else None,
            verify=index_ssl_context(),  # the system's trust store, or SSL_CERT_FILE (index/tls.py)
            transport=transport,
            mounts={"file://": LocalIndexTransport()},  # file:// Simple indexes (index/files.py)
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def breaker_states(self) -> dict[str, str]:
        return {host: breaker.state.value for host, breaker in self._breakers.items()}

    def _breaker(self, host: str) -> CircuitBreaker:
        breaker = self._breakers.get(host)
        if breaker is None:
            breaker = CircuitBreaker(
                host,
                threshold=self._settings.circuit_breaker_threshold,
                reset_timeout=self._settings.circuit_breaker_timeout,
                on_change=_log_circuit_change,
            )
            self._breakers[host] = breaker
        return breaker

    async def get_json(self, url: str) -> dict[str, Any]:
        shown = mask_url(url)
        return await self._with_retries(url, shown, lambda retries: self._hedged(url, shown, retries, json_object))

    async def get_page(self, url: str, *, headers: Mapping[str, str] | None = None) -> Page:
        """Any document (a Simple API page, a metadata file, a byte range of a wheel), with
        the same policy as :meth:`get_json`; the caller decodes it."""
        shown = mask_url(url)
        return await self._with_retries(url, shown, lambda retries: self._hedged(url, shown, retries, as_page, headers))

    async def download(self, url: str, destination: Path, *, max_bytes: int) -> int:
        """Stream ``url`` into the file ``destination`` (created or truncated); returns its size.

        Same deadline, retries and breaker as :meth:`get_json`; no hedging (a second copy of a
        large file would double the transfer). Past ``max_bytes`` the transfer stops with
        :class:`~autodocs.errors.UpstreamResponseInvalid` and the partial file is removed. A file
        on another host than the index's (a CDN) gets no credentials (``.netrc``) and one retry at most.
        """
        shown = mask_url(url)
        try:
            return await self._with_retries(
                url, shown, lambda retries: self._download_once(url, shown, destination, max_bytes, retries)
            )
        except BaseException:
            await asyncio.to_thread(destination.unlink, missing_ok=True)
            raise

    async def _with_retries(self, url: str, shown: str, attempt_once: Callable[[int], Awaitable[_T]]) -> _T:
        settings = self._settings
        host = urllib.parse.urlsplit(url).hostname or ""  # a tenth of httpx.URL's cost
        breaker = self._breaker(host)
        retry_limit = settings.max_retry_attempts if host == self._index_host else min(1, settings.max_retry_attempts)
        retries_done = 0
        invalid_bodies = 0
        waited = 0.0

        def wait_before_retry(exc: Exception) -> bool | float:
            """stamina's hook: False stops; a number is the wait before the next attempt."""
            nonlocal retries_done, invalid_bodies, waited
            if not isinstance(exc, UpstreamError) or not exc.retryable or isinstance(exc, CircuitOpen):
                return False
            if retries_done >= retry_limit:
                return False  # that was the last attempt
            if isinstance(exc, UpstreamResponseInvalid):
                invalid_bodies += 1
                if invalid_bodies > 1:
                    return False
            retry_after = exc.details.get("retry_after_s")
            if retry_after is not None:
                wait = min(float(retry_after), settings.max_retry_delay)
            else:  # exponential backoff with full jitter
                wait = random.uniform(0, min(settings.max_retry_delay, settings.base_retry_delay * 2**retries_done))
            if wait >= remaining(settings.request_timeout):
                return False  # the deadline would pass while waiting: fail now, informatively
            retries_done += 1
            self.retries += 1
            log.info(
                "index.retry_scheduled",
                attempt=retries_done,
                wait_s=round(wait, 3),
                waited_s=round(waited, 3),
                cause=type(exc).__name__,
            )
            waited += wait
            return wait

        # The first attempt runs outside stamina: entering its retry loop costs about 0.12 ms of
        # CPU (measured on 2 cores) before the request can go out, and most requests succeed at
        # once. A failure worth retrying hands the rest over to it, after the first wait.
        try:
            return await self._attempt(breaker, attempt_once, 0)
        except Exception as exc:
            wait = wait_before_retry(exc)
            if wait is False:
                raise
        await asyncio.sleep(float(wait))
        retrying = stamina.retry_context(
            on=wait_before_retry,
            attempts=settings.max_retry_attempts,
            timeout=max(remaining(settings.request_timeout), 0.001),
        )
        async for attempt in retrying:
            with attempt:
                return await self._attempt(breaker, attempt_once, attempt.num)
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    async def _attempt(
        self, breaker: CircuitBreaker, attempt_once: Callable[[int], Awaitable[_T]], retries_before: int
    ) -> _T:
        """One attempt through the host's circuit breaker, its outcome recorded there."""
        if not breaker.allow():
            wait = breaker.retry_after()
            raise CircuitOpen(
                f"The package index at {breaker.name} failed {self._settings.circuit_breaker_threshold} times "
                f"in a row; AutoDocs is not calling it for {wait:.0f} s.",
                retry_after_s=round(wait, 1),
            )
        started_at = breaker.now()
        try:
            result = await attempt_once(retries_before)
        except (asyncio.CancelledError, RateLimited):
            breaker.record_neutral()  # says nothing about the host's health
            raise
        except UpstreamError as exc:
            if exc.retryable:
                breaker.record_failure(started_at)
            else:
                breaker.record_success()  # a definite answer (too large, 401): the host works
            raise
        except BaseException:
            breaker.record_success()  # 404 and other definite answers: the host works
            raise
        breaker.record_success()
        return result

    def _silence_limit(self, retries_before: int, left: float) -> float:
        """How long an attempt may hear nothing: the observed limit, doubled per retry, within
        ``ATTEMPT_TIMEOUT`` and the call's deadline."""
        limit = min(self.latency.attempt_timeout() * 2.0**retries_before, self._settings.attempt_timeout)
        return max(0.05, min(limit, left))

    async def _hedged(
        self,
        url: str,
        shown: str,
        retries_before: int,
        decode: Callable[[Page], _T],
        headers: Mapping[str, str] | None = None,
    ) -> _T:
        """One attempt; if it is silent past the hedge delay, race a second request against it.

        Each retry doubles the attempt's silence limit (up to ``ATTEMPT_TIMEOUT``): an index that
        is slow but healthy — slower than anything seen so far — still gets to answer.
        """
        left = remaining(self._settings.request_timeout)
        silence_limit = self._silence_limit(retries_before, left)
        hedge_after = self.latency.hedge_delay()
        loop = asyncio.get_running_loop()
        on_the_wire: asyncio.Future[None] = loop.create_future()
        first = asyncio.ensure_future(self._send(url, shown, silence_limit, decode, headers, on_the_wire))
        racers = {first}
        try:
            # The hedge clock starts when the request is sent, not while it waits for a slot:
            # a busy process must not mistake its own queue for a silent index.
            either: set[asyncio.Future[Any]] = {first, on_the_wire}
            try:
                await asyncio.wait(either, return_when=asyncio.FIRST_COMPLETED)
            finally:
                on_the_wire.cancel()
            if hedge_after is not None and hedge_after < left:
                on_wire_at = loop.time()
                done, _ = await asyncio.wait(racers, timeout=hedge_after)
                # Woken late: the event loop is busy, so the answer may be sitting unread in a
                # socket. The bottleneck is this process, and a hedge would only add load.
                lagging = loop.time() - on_wire_at - hedge_after > _MAX_LOOP_LAG_S
                if not done and not lagging:
                    self.hedges_sent += 1
                    racers.add(asyncio.ensure_future(self._send(url, shown, silence_limit, decode, headers)))
            if len(racers) == 1 and first.done():
                return first.result()  # answered before any hedge (the common case): no more waiting
            failure: BaseException | None = None
            while racers:
                done, racers = await asyncio.wait(racers, return_when=asyncio.FIRST_COMPLETED)
                for task in done:
                    error = task.exception()
                    if error is None:
                        return task.result()
                    if not _is_transient(error):
                        raise error
                    failure = failure or error
            assert failure is not None
            raise failure
        finally:
            pending = [task for task in racers if not task.done()]
            for task in pending:
                task.cancel()
            if pending:
                await asyncio.gather(*pending, return_exceptions=True)

    async def _send(
        self,
        url: str,
        shown: str,
        silence_limit: float,
        decode: Callable[[Page], _T],
        headers: Mapping[str, str] | None = None,
        on_the_wire: asyncio.Future[None] | None = None,
    ) -> _T:
        """One HTTP request; ``silence_limit`` is how long the index may send nothing."""
        try:
            result = await self._send_once(url, shown, silence_limit, decode, headers, on_the_wire)
        except BaseException as exc:
            self.outcomes[_outcome(exc)] += 1
            raise
        self.outcomes["ok"] += 1
        return result

    async def _send_once(
        self,
        url: str,
        shown: str,
        silence_limit: float,
        decode: Callable[[Page], _T],
        headers: Mapping[str, str] | None,
        on_the_wire: asyncio.Future[None] | None,
    ) -> _T:
        limits = httpx.Timeout(silence_limit, connect=min(silence_limit, 10.0))
        headers_seen = False
        underway.waiting()  # about to send, or to queue for a slot: either way, waiting now
        async with self._semaphore:
            if on_the_wire is not None and not on_the_wire.done():
                on_the_wire.set_result(None)
            self.requests_sent += 1
            started = time.monotonic()
            try:
                async with self._http.stream("GET", url, timeout=limits, headers=headers) as response:
                    headers_seen = True
                    self.latency.observe(time.monotonic() - started)
                    _raise_for_status(response, shown)
                    body = await self._read_capped(response, shown)
                    page = Page(
                        str(response.url),
                        response.status_code,
                        response.headers.get("content-type", ""),
                        response.headers.get("content-range"),
                        body,
                    )
            except httpx.TimeoutException:
                raise UpstreamTimeout(
                    f"The package index did not answer {shown} within {silence_limit:.1f} s."
                    if not headers_seen
                    else f"The package index stopped sending {shown} for {silence_limit:.1f} s."
                ) from None
            except httpx.TransportError as exc:
                if (untrusted := certificate_failure(exc, shown)) is not None:
                    raise untrusted from None
                if headers_seen:
                    raise UpstreamResponseInvalid(
                        f"The package index's answer for {shown} was cut short ({type(exc).__name__})."
                    ) from None
                raise UpstreamUnavailable(
                    f"Connection to the package index failed for {shown}: {type(exc).__name__}.",
                    suggestions=[
                        f"Check that AUTODOCS_INDEX_URL ({mask_url(self._settings.pypi_url)}) is reachable from here.",
                        "If it is, the index is having trouble: try again in a moment.",
                    ],
                ) from None
        # The slot is free: let a waiting request go out before this one's CPU work (parsing,
        # building the document) runs, or a burst of answers serializes the next requests.
        if self._semaphore.locked():  # someone is waiting for a slot
            await asyncio.sleep(0)
        return decode(page)

    async def _download_once(self, url: str, shown: str, destination: Path, max_bytes: int, retries_before: int) -> int:
        left = remaining(self._settings.request_timeout)
        silence_limit = self._silence_limit(retries_before, left)
        try:
            async with self._semaphore:
                self.requests_sent += 1
                try:
                    timeout = httpx.Timeout(silence_limit, connect=min(silence_limit, 10.0))
                    own = urllib.parse.urlsplit(url).hostname == self._index_host  # else: no .netrc credentials
                    auth = httpx.USE_CLIENT_DEFAULT if own else None
                    async with self._http.stream("GET", url, timeout=timeout, auth=auth) as response:
                        _raise_for_status(response, shown)
                        declared = response.headers.get("content-length")
                        if declared and declared.isdigit() and int(declared) > max_bytes:
                            raise _download_too_large(shown, max_bytes)
                        size = 0
                        with destination.open("wb") as sink:
                            async for chunk in response.aiter_bytes():
                                size += len(chunk)
                                if size > max_bytes:
                                    raise _download_too_large(shown, max_bytes)
                                sink.write(chunk)  # chunks are small; the page cache absorbs them
                except httpx.TimeoutException:
                    raise UpstreamTimeout(f"The download of {shown} stalled for {silence_limit:.1f} s.") from None
                except httpx.TransportError as exc:
                    if (untrusted := certificate_failure(exc, shown)) is not None:
                        raise untrusted from None
                    raise UpstreamUnavailable(f"The download of {shown} failed: {type(exc).__name__}.") from None
        except BaseException as exc:
            self.outcomes[_outcome(exc)] += 1
            raise
        self.outcomes["ok"] += 1
        return size

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


def _outcome(error: BaseException) -> str:
    if isinstance(error, NotFound):
        return "not_found"
    if isinstance(error, RateLimited):
        return "rate_limited"
    if isinstance(error, UpstreamTimeout):
        return "timeout"
    if isinstance(error, UpstreamResponseInvalid):
        return "invalid"
    if isinstance(error, UpstreamUnavailable):
        return "unavailable"
    if isinstance(error, asyncio.CancelledError):
        return "cancelled"
    return "error"


def _is_transient(error: BaseException) -> bool:
    return isinstance(error, UpstreamError) and error.retryable and not isinstance(error, RateLimited)


def _log_circuit_change(host: str, old: CircuitState, new: CircuitState) -> None:
    log.warning("index.circuit", host=host, old=old.value, new=new.value)


def _raise_for_status(response: httpx.Response, shown: str) -> None:
    status = response.status_code
    if status == 200 or status == 206:  # 206: the part of a file a range request asked for
        return
    if status == 404:
        raise NotFound
    retry_after = _parse_retry_after(response.headers.get("retry-after"))
    if status == 429:
        raise RateLimited(f"The package index rate-limited {shown} (429).", retry_after_s=retry_after)
    if status >= 500:
        raise UpstreamUnavailable(f"The package index answered {status} for {shown}.", retry_after_s=retry_after)
    raise UpstreamResponseInvalid(
        f"The package index answered {status} for {shown}.",
        retryable=False,
        suggestions=["Check the credentials for this index (in AUTODOCS_INDEX_URL or ~/.netrc)."]
        if status in (401, 403)
        else None,
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


def _download_too_large(shown: str, limit: int) -> AutoDocsError:
    return ArchiveTooLarge(f"{shown} is larger than {limit} bytes; the download was stopped and nothing was kept.")
