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
from autodocs.errors import UpstreamResponseInvalid

__all__ = ["Page", "as_page", "json_object"]


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
