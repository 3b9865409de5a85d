"""Host names resolved once and shared: a burst of new connections costs one DNS lookup per host.

A cold 100-package context opens tens of connections to the index and its file host at once.
httpx (httpcore) resolves the name again for every new connection, and many resolvers drop
part of such a burst: Docker's and Kubernetes' resolvers are known for it, and each dropped
query costs the resolver's retry timeout, 5 s with glibc's defaults. Measured on the machine
these sessions run on: 10 concurrent lookups answered at once, 20 had four wait 5 s, 40 all
waited 5 s — long enough for every request of a cold context to look like a silent index.
(The aiohttp engine AutoDocs used before had a DNS cache of its own, so this appeared when
httpx's own transport took over.)

httpx has no resolver setting (encode/httpx#1319), so :class:`ResolvedTransport` wraps the
transport and sends each request to an address from :class:`HostResolver` instead, using only
public httpx API: the URL's host becomes the address, the ``Host`` header stays the name, and
the ``sni_hostname`` request extension makes TLS check the certificate against the name. The
connection pool then keys connections by address, which changes nothing else.

* One lookup per host at a time, shared by every caller (a cancelled caller does not cancel it).
* Answers are kept :data:`_TTL_S` seconds; a failed lookup is not kept.
* An address that refuses a connection is forgotten, so the next attempt resolves again; the
  request itself fails as before and the fetch policy retries it.
* IP literals, non-HTTP schemes and requests that go through a proxy (httpx mounts its own
  proxy transports; the proxy resolves) are passed on untouched.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import time
from collections.abc import Awaitable, Callable

import httpx

__all__ = ["HostResolver", "ResolvedTransport"]

#: How long a lookup's answer is used (aiohttp's default was 10 s; indexes rarely move).
_TTL_S = 60.0
#: Hosts remembered at most (an index and its file host in practice).
_MAX_HOSTS = 256

Lookup = Callable[[str, int], Awaitable[list[str]]]


async def _system_lookup(host: str, port: int) -> list[str]:
    """The system resolver's addresses for ``host`` (getaddrinfo, off the event loop)."""
    infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


class HostResolver:
    """Addresses of host names, looked up once per host at a time and kept for a while."""

    def __init__(
        self, lookup: Lookup = _system_lookup, *, ttl: float = _TTL_S, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._lookup = lookup
        self._ttl = ttl
        self._clock = clock
        self._known: dict[tuple[str, int], tuple[float, list[str]]] = {}
        self._underway: dict[tuple[str, int], asyncio.Task[list[str]]] = {}
        self.lookups = 0

    async def addresses(self, host: str, port: int) -> list[str]:
        key = (host, port)
        known = self._known.get(key)
        if known is not None and self._clock() < known[0]:
            return known[1]
        task = self._underway.get(key)
        if task is None:
            task = asyncio.ensure_future(self._resolve(key))
            self._underway[key] = task
        return await asyncio.shield(task)

    def forget(self, host: str, port: int, address: str) -> None:
        """Drop ``address`` (it refused a connection); the host is looked up again when none is left."""
        known = self._known.get((host, port))
        if known is not None:
            left = [kept for kept in known[1] if kept != address]
            if left:
                self._known[(host, port)] = (known[0], left)
            else:
                del self._known[(host, port)]

    async def _resolve(self, key: tuple[str, int]) -> list[str]:
        try:
            self.lookups += 1
            found = await self._lookup(*key)
            if not found:
                raise OSError(f"no address for {key[0]}")
            if len(self._known) >= _MAX_HOSTS:
                self._known.clear()
            self._known[key] = (self._clock() + self._ttl, found)
            return found
        finally:
            del self._underway[key]


class ResolvedTransport(httpx.AsyncBaseTransport):
    """``inner`` with each request sent to an address :class:`HostResolver` found (see module docs)."""

    def __init__(self, inner: httpx.AsyncBaseTransport, resolver: HostResolver | None = None) -> None:
        self._inner = inner
        self.resolver = resolver or HostResolver()

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        host = url.host
        if url.scheme not in ("http", "https") or not host or _is_ip_literal(host):
            return await self._inner.handle_async_request(request)
        port = url.port or (443 if url.scheme == "https" else 80)
        try:
            addresses = await self.resolver.addresses(host, port)
        except OSError as exc:
            raise httpx.ConnectError(f"cannot resolve {host}: {exc}", request=request) from exc
        address = addresses[0]
        routed = httpx.Request(
            request.method,
            url.copy_with(host=address),
            headers=request.headers,  # Host: the name, as httpx set it from the URL
            stream=request.stream,
            extensions={**request.extensions, "sni_hostname": host},
        )
        try:
            return await self._inner.handle_async_request(routed)
        except httpx.ConnectError:
            self.resolver.forget(host, port, address)
            raise

    async def aclose(self) -> None:
        await self._inner.aclose()


def _is_ip_literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True
