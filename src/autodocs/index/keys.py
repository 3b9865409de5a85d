"""Which index an answer came from, as a key the caches file it under.

A private index and the public one may both have a ``foo``; so may the indexes a setting named
before it was changed. Every cache (the store's documents, release lists, API references and
search rows, the memos in front of them, the downloaded code) files what it keeps under the
index key of the client that answered, next to the package's name and version, so one
index's ``foo`` is never served as another's.

The key is the client's index URLs in order (the primary, then the extras), each without its
user information and trailing slashes, joined with one space: readable in listings, and it
never holds a credential. Kept apart from :mod:`autodocs.index.client` so the cache layer can
name the default key without importing the HTTP stack.
"""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

from autodocs.config import DEFAULT_INDEX_URL

__all__ = ["DEFAULT_INDEX_KEY", "index_key"]


def index_key(urls: Iterable[str]) -> str:
    """The cache key of a client asking ``urls`` in this order (module docstring)."""
    return " ".join(_without_userinfo(url).rstrip("/") for url in urls)


def _without_userinfo(url: str) -> str:
    if "@" not in url:
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


#: The key of the default configuration's index: the entries of a cache written before keys
#: existed are filed under it when the store is migrated.
DEFAULT_INDEX_KEY = index_key([DEFAULT_INDEX_URL])
