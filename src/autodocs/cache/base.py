"""The ``Store`` protocol every cache backend implements, and what it reports.

Contract, whatever the backend:
* Documents are keyed by (normalized name, exact version) and immutable: a put of an
  existing key replaces it whole (same content), never tears it.
* Release lists are keyed by name and carry ``fetched_at``; freshness is the caller's call.
* Every write is atomic. A backend that finds its storage unreadable recovers (moves it
  aside and starts empty) rather than failing every call.
* Methods raise :class:`~autodocs.errors.CacheError` (retryable) for transient trouble.
"""

from __future__ import annotations

from typing import Protocol

from pydantic import BaseModel, Field

from autodocs.docs.model import PackageDocument
from autodocs.index.models import ReleaseList

__all__ = ["CacheStats", "Store"]


class CacheStats(BaseModel):
    backend: str
    location: str
    packages: int = Field(description="Distinct packages with anything cached.")
    documents: int = Field(description="Cached (package, exact version) documents.")
    release_lists: int
    size_bytes: int
    hits: int = Field(description="Cache hits since this process started.")
    misses: int = Field(description="Cache misses since this process started.")
    recovered_from_corruption: int = Field(default=0, description="Times a corrupt cache was moved aside.")


class Store(Protocol):
    async def open(self) -> None: ...

    async def close(self) -> None: ...

    async def get_document(self, name: str, version: str) -> PackageDocument | None: ...

    async def put_document(self, document: PackageDocument) -> None: ...

    async def get_release_list(self, name: str) -> ReleaseList | None: ...

    async def put_release_list(self, releases: ReleaseList) -> None: ...

    async def cached_versions(self, name: str) -> list[str]: ...

    async def known_names(self) -> list[str]: ...

    async def clear(self, name: str | None = None) -> int: ...

    async def stats(self) -> CacheStats: ...

    async def ping(self) -> None:
        """Raise :class:`~autodocs.errors.CacheError` unless the store answers a trivial query."""
        ...

    def size_bytes(self) -> int:
        """The store's size, cheaply (no query): for metrics."""
        ...
