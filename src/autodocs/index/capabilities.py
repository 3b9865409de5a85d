"""What one package index serves, learnt from its answers and then relied on.

Each fact starts unknown (``None``) unless the configured URL's shape says it, and is set
the first time an answer shows it: a JSON API project page that parses (``json_api``), a
per-version page that 404s for a version the index lists (``version_pages``), a Simple API
page (``simple_api``), a ``206 Partial Content`` to a range request (``ranges``). Once known,
a pinned package costs at most 2 round trips where the index has PEP 658 files, 3 without.

Where the JSON API and the Simple API live is derived from the one configured URL
(:func:`index_endpoints`): a JSON API base ``…/pypi`` has its Simple API at ``…/simple``,
and the other way round; any other URL is taken as a Simple API URL, probed for a JSON API
only where the shape says one may be.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import structlog

from autodocs.config import mask_url

__all__ = ["IndexCapabilities", "IndexEndpoints", "index_endpoints"]

log = structlog.get_logger(__name__)

Capability = Literal["json_api", "version_pages", "simple_api", "ranges"]


@dataclass(frozen=True, slots=True)
class IndexEndpoints:
    """The configured URL, the JSON API base (None: the index has none) and the Simple API URL."""

    configured: str
    json_base: str | None
    simple_url: str

    def json_project_url(self, name: str) -> str:
        return f"{self.json_base}/{name}/json"

    def json_version_url(self, name: str, version: str) -> str:
        return f"{self.json_base}/{name}/{version}/json"

    def simple_project_url(self, name: str) -> str:
        return f"{self.simple_url}/{name}/"  # PEP 503: the trailing slash is part of the URL


def index_endpoints(url: str) -> IndexEndpoints:
    """Both APIs' places from one URL (see the module docstring); ``url`` has no trailing slash."""
    url = url.rstrip("/")
    if url.startswith("file:"):  # a folder of Simple API pages has no JSON API
        # httpx takes a URL without a host for a relative one: name the local host.
        local = "file://localhost" + url[len("file://") :] if url.startswith("file:///") else url
        return IndexEndpoints(url, None, local)
    if url.endswith("/pypi"):
        return IndexEndpoints(url, url, url[: -len("/pypi")] + "/simple")
    if url.endswith("/simple"):
        return IndexEndpoints(url, url[: -len("/simple")] + "/pypi", url)
    return IndexEndpoints(url, None, url)


@dataclass
class IndexCapabilities:
    """The facts learnt about one index (see the module docstring). Mutated in place, logged once."""

    index: str
    json_api: bool | None = None
    version_pages: bool | None = None
    simple_api: bool | None = None
    ranges: bool | None = None

    @classmethod
    def for_endpoints(cls, endpoints: IndexEndpoints) -> IndexCapabilities:
        """A JSON API base is trusted to be one until it answers otherwise; a Simple API URL's
        sibling JSON API is probed; a URL of neither shape has no JSON API."""
        if endpoints.json_base is None:
            return cls(mask_url(endpoints.configured), json_api=False, version_pages=False)
        json_api = True if endpoints.json_base == endpoints.configured else None
        return cls(mask_url(endpoints.configured), json_api=json_api)

    def learn(self, capability: Capability, value: bool) -> None:
        if getattr(self, capability) is not value:
            setattr(self, capability, value)
            log.info("index.capability", index=self.index, capability=capability, value=value)
