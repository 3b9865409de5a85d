"""One resilient GET of a JSON document from the package index. The whole policy lives here.

What a caller can rely on, per :meth:`JsonFetcher.get_json` call:

* **Deadline.** Nothing runs past the current tool call's deadline (:mod:`autodocs.deadline`):
  not an attempt, not a backoff wait, not a ``Retry-After``.
* **Bounded concurrency.** Requests go through the process-wide slots (:mod:`autodocs.index.slots`:
  ``MAX_CONCURRENT``, as many for hung requests, background work's own; follow-ups go first).
* **Attempts.** Each attempt is a race (:mod:`autodocs.index.race`): a request silent past the
  hedge delay is *hedged* (another races it; the first answer wins, the rest are cancelled at
  once), and a request silent past a limit that follows the index's recent time to first byte
  (:class:`~autodocs.index.latency.LatencyTracker`) is given up and replaced, so a hung
  connection costs a fraction of a second, not the whole budget.
* **Retries** by stamina, by error kind: connection errors, resets, timeouts and 5xx are retried
  with exponential backoff and full jitter (``BASE_RETRY_DELAY`` .. ``MAX_RETRY_DELAY``, at most
  ``MAX_RETRY_ATTEMPTS`` retries); 429 and 503 wait for their ``Retry-After`` (capped at
  ``MAX_RETRY_DELAY``); an invalid or truncated body is retried once; 404 and other 4xx never.
  stamina because it is async-native, bounds attempts and total time, and its hook may return
  the wait — which is how ``Retry-After`` and full jitter are expressed.
* **Circuit breaker** per host (:mod:`autodocs.index.breaker`): while open, calls fail at once
  with :class:`~autodocs.errors.CircuitOpen` and ``retry_after_s``. Only the host's own failures
  count (:func:`~autodocs.index.race.record_outcome`): refused or reset connections, 5xx, and
  silence past ``CIRCUIT_BREAKER_SILENCE``; never our own limits, a lost hedge or a deadline.
* **Caps.** Bodies are streamed and abandoned past ``MAX_UPSTREAM_BYTES``.
* Failures are :mod:`autodocs.errors` classes; URLs in messages have credentials masked.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
import urllib.parse
import urllib.request
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

import httpx
import stamina
import structlog

from autodocs import __version__
from autodocs.config import Settings, mask_url
from autodocs.deadline import remaining
from autodocs.errors import (
    CircuitOpen,
    RateLimited,
    UpstreamError,
    UpstreamResponseInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from autodocs.index.answers import Page, as_page, download_too_large, json_object, too_large, too_many_redirects
from autodocs.index.auth import IndexCredentials
from autodocs.index.background import admission
from autodocs.index.breaker import CircuitBreaker, CircuitState
from autodocs.index.files import LocalIndexTransport
from autodocs.index.latency import LatencyTracker
from autodocs.index.race import Progress, circuit_open, race, record_outcome
from autodocs.index.resolver import HostResolver, ResolvedTransport
from autodocs.index.slots import RequestSlots
from autodocs.index.tls import certificate_failure, index_ssl_context

__all__ = ["JsonFetcher", "NotFound"]

log = structlog.get_logger(__name__)
_T = TypeVar("_T")


# Retries are logged by the fetch itself (one structured event each, attempts numbered across
# the first attempt and stamina's), not by stamina's default warning-level hooks.
stamina.instrumentation.set_on_retry_hooks([])


def _environment_names_proxy() -> bool:
    """Whether httpx would route requests through a proxy named by the environment (the
    same reading as httpx's: ``urllib.request.getproxies``, the http, https and all schemes)."""
    proxies = urllib.request.getproxies()
    return any(proxies.get(scheme) for scheme in ("http", "https", "all"))


class NotFound(Exception):
    """The index answered 404; the caller knows whether that means package or version."""


class JsonFetcher:
    def __init__(
        self,
        settings: Settings,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        index_urls: Sequence[str] | None = None,
        credential_urls: Sequence[str] = (),
        slots: RequestSlots | None = None,
    ) -> None:
        """``index_urls``: the indexes this fetcher serves (default: the settings'); ``credential_urls``:
        more operator credentials, as URL user information (:mod:`autodocs.index.env_credentials`);
        ``slots``: the process's request slots, when several fetchers share them."""
        self._settings = settings
        self._slots = slots if slots is not None else RequestSlots(settings.max_concurrent)
        self._breakers: dict[str, CircuitBreaker] = {}
        operator_urls = (settings.pypi_url, *settings.extra_index_urls)
        served = tuple(index_urls) if index_urls is not None else operator_urls
        #: The served indexes' hosts: they get credentials and the full retry budget.
        self._index_hosts = {urllib.parse.urlsplit(url).hostname or "" for url in served}
        #: Silence no healthy index reaches: past it, a call's requests count against the host.
        self._host_silence = min(settings.circuit_breaker_silence, settings.attempt_timeout)
        self.latency = LatencyTracker(self._host_silence)
        self.requests_sent = 0
        self.hedges_sent = 0
        self.retries = 0
        self.outcomes: Counter[str] = Counter()  # upstream requests by outcome (metrics read it)
        # Operator credentials first (by origin: each goes only to its own host), then the served
        # indexes' URLs, for which keyring is asked after a 401 (index/auth.py).
        credentials = IndexCredentials([*operator_urls, *credential_urls, *served])
        # No cap on connections: the request slots are the one bound (index/slots.py says why).
        limits = httpx.Limits(
            max_connections=None,
            max_keepalive_connections=settings.max_concurrent,  # idle ones kept for reuse
            keepalive_expiry=settings.index_keepalive,
        )
        verify = index_ssl_context()  # the system's trust store, or SSL_CERT_FILE (index/tls.py)
        #: Host names resolved once per host (index/resolver.py); None behind a proxy or a given transport.
        self.resolver: HostResolver | None = None
        if transport is None and not _environment_names_proxy():
            # httpx honours HTTP(S)_PROXY and friends only with its own transports, so behind a
            # proxy (which resolves names itself) those carry the requests.
            resolved = ResolvedTransport(httpx.AsyncHTTPTransport(verify=verify, limits=limits))
            self.resolver, transport = resolved.resolver, resolved
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(settings.attempt_timeout, connect=min(settings.attempt_timeout, 10.0)),
            limits=limits,
            headers={"User-Agent": f"autodocs/{__version__}", "Accept": "application/json"},
            follow_redirects=True,
            max_redirects=5,
            auth=credentials if credentials.configured else None,
            verify=verify,
            transport=transport,
            mounts={"file://": LocalIndexTransport()},  # file:// Simple indexes (index/files.py)
        )

    @property
    def slots(self) -> RequestSlots:
        """The request slots this fetcher admits through (several fetchers may share them)."""
        return self._slots

    async def aclose(self) -> None:
        await self._http.aclose()

    def breaker_states(self) -> dict[str, str]:
        return {host: breaker.state.value for host, breaker in self._breakers.items()}

    def circuit_openings(self) -> dict[str, int]:
        """How many times each host's circuit has opened."""
        return {host: breaker.times_opened for host, breaker in self._breakers.items()}

    def _breaker(self, host: str) -> CircuitBreaker:
        breaker = self._breakers.get(host)
        if breaker is None:
            breaker = CircuitBreaker(
                host,
                minimum_calls=self._settings.circuit_breaker_threshold,
                failure_rate=self._settings.circuit_breaker_failure_rate,
                window=self._settings.circuit_breaker_window,
                reset_timeout=self._settings.circuit_breaker_timeout,
                on_change=_log_circuit_change,
            )
            self._breakers[host] = breaker
        return breaker

    async def get_json(self, url: str) -> dict[str, Any]:
        shown = mask_url(url)
        return await self._with_retries(
            url, lambda breaker, retries: self._race(breaker, url, shown, retries, json_object)
        )

    async def get_page(self, url: str, *, headers: Mapping[str, str] | None = None) -> Page:
        """Any document (a Simple API page, a metadata file, a byte range of a wheel), with
        the same policy as :meth:`get_json`; the caller decodes it."""
        shown = mask_url(url)
        return await self._with_retries(
            url, lambda breaker, retries: self._race(breaker, url, shown, retries, as_page, headers)
        )

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
                url,
                lambda breaker, retries: self._download_once(breaker, url, shown, destination, max_bytes, retries),
            )
        except BaseException:
            await asyncio.to_thread(destination.unlink, missing_ok=True)
            raise

    async def _with_retries(self, url: str, attempt_once: Callable[[CircuitBreaker, int], Awaitable[_T]]) -> _T:
        settings = self._settings
        host = urllib.parse.urlsplit(url).hostname or ""  # a tenth of httpx.URL's cost
        breaker = self._breaker(host)
        retry_limit = settings.max_retry_attempts if host in self._index_hosts else min(1, settings.max_retry_attempts)
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
            return await attempt_once(breaker, 0)
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
                return await attempt_once(breaker, attempt.num)
        raise AssertionError("unreachable: stamina either returns or raises")  # pragma: no cover

    def _silence_limit(self, retries_before: int, left: float) -> float:
        """How long a download may hear nothing: the observed limit, doubled per retry, within
        the host's silence limit and the call's deadline."""
        limit = min(self.latency.attempt_timeout() * 2.0**retries_before, self._host_silence)
        return max(0.05, min(limit, left))

    async def _race(
        self,
        breaker: CircuitBreaker,
        url: str,
        shown: str,
        retries_before: int,
        decode: Callable[[Page], _T],
        headers: Mapping[str, str] | None = None,
    ) -> _T:
        """One attempt: requests raced until one answers (:mod:`autodocs.index.race`).

        Each retry doubles the limit at which a silent request is given up (up to the host's
        silence limit): an index that is slow but healthy — slower than anything seen so far —
        still gets to answer.
        """

        def give_up_after() -> float:
            return min(self.latency.attempt_timeout() * 2.0**retries_before, self._host_silence)

        def hedged() -> None:
            self.hedges_sent += 1

        return await race(
            lambda limit, follow_up, progress: self._send(url, shown, limit, follow_up, progress, decode, headers),
            breaker=breaker,
            latency=self.latency,
            host_silence=self._host_silence,
            give_up_after=give_up_after,
            left=remaining(self._settings.request_timeout),
            follow_up=retries_before > 0,
            shown=shown,
            window=self._settings.circuit_breaker_window,
            on_hedge=hedged,
        )

    async def _send(
        self,
        url: str,
        shown: str,
        silence_limit: float,
        follow_up: bool,
        progress: Progress,
        decode: Callable[[Page], _T],
        headers: Mapping[str, str] | None,
    ) -> _T:
        """One HTTP request; ``silence_limit`` is how long the index may send nothing."""
        try:
            result = await self._send_once(url, shown, silence_limit, follow_up, progress, decode, headers)
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
        follow_up: bool,
        progress: Progress,
        decode: Callable[[Page], _T],
        headers: Mapping[str, str] | None,
    ) -> _T:
        limits = httpx.Timeout(silence_limit, connect=min(silence_limit, 10.0))
        headers_seen = False
        async with admission(self._slots).slot(follow_up=follow_up, relieve=progress.relieve) as slot:
            progress.sent(slot)
            self.requests_sent += 1
            started = time.monotonic()
            try:
                async with self._http.stream("GET", url, timeout=limits, headers=headers) as response:
                    headers_seen = True
                    progress.headers()
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
            except httpx.TooManyRedirects:
                raise too_many_redirects(shown) from None
            except httpx.TimeoutException:
                # Never a caller's message: the race replaces a request that timed out (hence no mutants).
                raise UpstreamTimeout(
                    f"The package index did not answer {shown} within {silence_limit:.1f} s."  # pragma: no mutate
                    if not headers_seen  # pragma: no mutate: never reaches a caller (the comment above)
                    else f"The package index stopped sending {shown} for {silence_limit:.1f} s."
                ) from None
            except httpx.TransportError as exc:
                if (untrusted := certificate_failure(exc, shown)) is not None:
                    raise untrusted from None
                if headers_seen:  # the connection failed mid-answer: as passing as a reset before it
                    raise UpstreamUnavailable(
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
        if self._slots.has_waiters():
            await asyncio.sleep(0)
        return decode(page)

    async def _download_once(
        self, breaker: CircuitBreaker, url: str, shown: str, destination: Path, max_bytes: int, retries_before: int
    ) -> int:
        left = remaining(self._settings.request_timeout)
        silence_limit = self._silence_limit(retries_before, left)
        if not breaker.allow():
            raise circuit_open(breaker, self._settings.circuit_breaker_window)
        try:
            async with admission(self._slots).slot(follow_up=retries_before > 0):
                self.requests_sent += 1
                try:
                    own = urllib.parse.urlsplit(url).hostname in self._index_hosts  # else: no credentials at all
                    auth = httpx.USE_CLIENT_DEFAULT if own else None
                    async with self._http.stream(
                        "GET",  # pragma: no mutate: httpx upper-cases the method ("get" is the same request)
                        url,
                        timeout=httpx.Timeout(silence_limit, connect=min(silence_limit, 10.0)),
                        auth=auth,
                    ) as response:
                        _raise_for_status(response, shown)
                        declared = response.headers.get("content-length")
                        if declared and declared.isdigit() and int(declared) > max_bytes:
                            raise download_too_large(shown, max_bytes)
                        size = 0
                        with destination.open("wb") as sink:
                            async for chunk in response.aiter_bytes():
                                size += len(chunk)
                                if size > max_bytes:
                                    raise download_too_large(shown, max_bytes)
                                sink.write(chunk)  # chunks are small; the page cache absorbs them
                except httpx.TooManyRedirects:
                    raise too_many_redirects(shown) from None
                except httpx.TimeoutException:
                    raise UpstreamTimeout(f"The download of {shown} stalled for {silence_limit:.1f} s.") from None
                except httpx.TransportError as exc:
                    if (untrusted := certificate_failure(exc, shown)) is not None:
                        raise untrusted from None
                    raise UpstreamUnavailable(f"The download of {shown} failed: {type(exc).__name__}.") from None
        except BaseException as exc:
            self.outcomes[_outcome(exc)] += 1
            if isinstance(exc, UpstreamTimeout) and silence_limit >= self._host_silence:
                breaker.record_failure()  # silent past what a healthy index ever is
            else:
                record_outcome(breaker, exc)
            raise
        self.outcomes["ok"] += 1
        record_outcome(breaker, None)
        return size

    async def _read_capped(self, response: httpx.Response, shown: str) -> bytes:
        limit = self._settings.max_upstream_bytes
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large(shown, limit)
        chunks: list[bytes] = []
        size = 0
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > limit:
                raise too_large(shown, limit)
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
