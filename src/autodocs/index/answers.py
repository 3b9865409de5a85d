"""An index's answer as the fetch hands it over (:class:`Page`), and the JSON decoding of it.

The fetch (:mod:`autodocs.index.fetch`) runs a decoder inside each attempt, so an answer that
does not decode counts as that attempt's failure (an invalid body is retried once).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pydantic_core

from autodocs.config import mask_url
from autodocs.errors import ArchiveTooLarge, AutoDocsError, UpstreamResponseInvalid

__all__ = ["Page", "as_page", "download_too_large", "json_object", "too_large", "too_many_redirects"]


@dataclass(frozen=True, slots=True)
class Page:
    """One answer as it came: the final URL (links resolve against it), status (200, or 206 for
    a range), the headers a caller reads, and the capped body."""

    url: str
    status: int
    content_type: str
    content_range: str | None
    body: bytes


_NOT_JSON = object()


def as_page(page: Page) -> Page:
    return page


def json_object(page: Page) -> dict[str, Any]:
    data = _parse_json(page.body)
    shown = mask_url(page.url)
    if data is _NOT_JSON:
        raise UpstreamResponseInvalid(f"The package index sent invalid JSON for {shown}.")
    if not isinstance(data, dict):
        raise UpstreamResponseInvalid(f"The package index's answer for {shown} is not a JSON object.")
    return data


def _parse_json(body: bytes) -> Any:
    """The decoded body, or ``_NOT_JSON``.

    pydantic-core's parser (already here with pydantic) reads a project page in half the time
    of :func:`json.loads`; the standard library still gets a say on what it refuses, since it
    also takes a byte-order mark or UTF-16, which an index could legally send.
    """
    try:
        return pydantic_core.from_json(body)
    except ValueError:
        pass
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


# -- answers that cannot be used (URLs in messages are masked by the caller) --


def too_many_redirects(shown: str) -> AutoDocsError:
    return UpstreamResponseInvalid(
        f"The package index redirected {shown} more than 5 times; it was not followed further.",
        retryable=False,
        suggestions=["Check the index URL (AUTODOCS_INDEX_URL): a proxy or login page may be redirecting in a loop."],
    )


def too_large(shown: str, limit: int) -> AutoDocsError:
    return UpstreamResponseInvalid(
        f"The package index's answer for {shown} is larger than {limit} bytes; it was not read.",
        retryable=False,
        suggestions=["Raise AUTODOCS_MAX_UPSTREAM_BYTES if this package's metadata is really that large."],
    )


def download_too_large(shown: str, limit: int) -> AutoDocsError:
    return ArchiveTooLarge(f"{shown} is larger than {limit} bytes; the download was stopped and nothing was kept.")
