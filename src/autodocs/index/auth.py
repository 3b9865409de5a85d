"""Credentials for package indexes: each goes only to the host it was configured for.

Where they come from, as pip and uv read them: the user information of a configured index URL
(``AUTODOCS_INDEX_URL``, ``AUTODOCS_EXTRA_INDEX_URLS``), else ``~/.netrc``'s entry for the
request's host, else, when the ``keyring`` package is installed and a configured index answers
401, keyring's credential for that index's URL (asked once per index, off the event loop, as
pip asks it only after a 401). They are taken out of the URLs at start (:func:`without_credentials`), so no
URL the client builds, follows, resolves or logs (httpx logs each request's URL) ever carries
them; :class:`IndexCredentials` adds the ``Authorization`` header per request, by the
request's own scheme, host and port. A file link to another host gets none, and httpx drops
the header on a redirect to another origin.
"""

from __future__ import annotations

import asyncio
import importlib.util
from collections.abc import AsyncGenerator, Generator, Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

__all__ = ["IndexCredentials", "without_credentials"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_Origin = tuple[str, str, int]


def _keyring_credential(index_url: str) -> tuple[str, str] | None:
    """keyring's credential for an index, by its URL, else its host (pip's two look-ups)."""
    import keyring  # optional: installed by the operator when the index's credentials live there

    for service in (index_url, urlsplit(index_url).hostname or index_url):
        try:
            found = keyring.get_credential(service, None)
        except Exception:  # a broken keyring backend must not break the index client
            return None
        if found is not None:
            return found.username, found.password
    return None


def without_credentials(url: str) -> str:
    """``url`` with its user information removed (nothing else changes)."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


class IndexCredentials(httpx.Auth):
    """Basic credentials by origin (configured URLs first), else ``~/.netrc`` by host."""

    def __init__(self, urls: Iterable[str]) -> None:
        self._by_origin: dict[_Origin, tuple[str, str]] = {}
        self._indexes: dict[_Origin, str] = {}  # each configured index's origin -> its URL
        for url in urls:
            parts = urlsplit(url)
            if not parts.hostname:
                continue
            origin = (parts.scheme, parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme, 0))
            self._indexes.setdefault(origin, without_credentials(url))
            if parts.username is not None:
                self._by_origin.setdefault(origin, (unquote(parts.username), unquote(parts.password or "")))
        self._netrc = httpx.NetRCAuth(None) if (Path.home() / ".netrc").is_file() else None
        self._keyring = importlib.util.find_spec("keyring") is not None
        self._from_keyring: dict[_Origin, tuple[str, str] | None] = {}

    @property
    def configured(self) -> bool:
        return bool(self._by_origin) or self._netrc is not None or (self._keyring and bool(self._indexes))

    async def async_auth_flow(self, request: httpx.Request) -> AsyncGenerator[httpx.Request, httpx.Response]:
        url = request.url
        origin = (url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 0))
        learnt = self._from_keyring.get(origin)
        if learnt is not None and "authorization" not in request.headers:
            request = next(httpx.BasicAuth(*learnt).auth_flow(request))  # found after an earlier 401
        request = next(self.auth_flow(request))
        response = yield request
        if response.status_code != 401 or "authorization" in request.headers or origin not in self._indexes:
            return
        if not self._keyring:
            return
        if origin not in self._from_keyring:
            self._from_keyring[origin] = await asyncio.to_thread(_keyring_credential, self._indexes[origin])
        credentials = self._from_keyring[origin]
        if credentials is not None:
            yield next(httpx.BasicAuth(*credentials).auth_flow(request))

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        if "authorization" in request.headers:
            yield request
            return
        url = request.url
        credentials = self._by_origin.get((url.scheme, url.host, url.port or _DEFAULT_PORTS.get(url.scheme, 0)))
        if credentials is not None:
            yield from httpx.BasicAuth(*credentials).auth_flow(request)
        elif self._netrc is not None:
            yield from self._netrc.auth_flow(request)
        else:
            yield request
