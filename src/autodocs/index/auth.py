"""Credentials for package indexes: each goes only to the host it was configured for.

Where they come from, as pip and uv read them: the user information of a configured index URL
(``AUTODOCS_INDEX_URL``, ``AUTODOCS_EXTRA_INDEX_URLS``), else ``~/.netrc``'s entry for the
request's host. They are taken out of the URLs at start (:func:`without_credentials`), so no
URL the client builds, follows, resolves or logs (httpx logs each request's URL) ever carries
them; :class:`IndexCredentials` adds the ``Authorization`` header per request, by the
request's own scheme, host and port. A file link to another host gets none, and httpx drops
the header on a redirect to another origin.
"""

from __future__ import annotations

from collections.abc import Generator, Iterable
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

import httpx

__all__ = ["IndexCredentials", "without_credentials"]

_DEFAULT_PORTS = {"http": 80, "https": 443}


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
        self._by_origin: dict[tuple[str, str, int], tuple[str, str]] = {}
        for url in urls:
            parts = urlsplit(url)
            if parts.username is not None and parts.hostname:
                origin = (parts.scheme, parts.hostname, parts.port or _DEFAULT_PORTS.get(parts.scheme, 0))
                self._by_origin.setdefault(origin, (unquote(parts.username), unquote(parts.password or "")))
        self._netrc = httpx.NetRCAuth(None) if (Path.home() / ".netrc").is_file() else None

    @property
    def configured(self) -> bool:
        return bool(self._by_origin) or self._netrc is not None

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
