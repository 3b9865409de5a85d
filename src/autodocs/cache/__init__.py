"""Cache stores behind one protocol: SQLite (embedded default) and PostgreSQL (shared)."""

from __future__ import annotations

from pathlib import Path

from autodocs.cache.base import CacheEntry, CacheStats, DatabaseBusy, EntryPage, SearchEntry, SearchHit, Store
from autodocs.cache.postgres import PoolLimits, PostgresStore
from autodocs.cache.sqlite import SQLiteStore
from autodocs.config import Settings
from autodocs.errors import ConfigError

__all__ = [
    "CacheEntry",
    "CacheStats",
    "DatabaseBusy",
    "EntryPage",
    "PoolLimits",
    "PostgresStore",
    "SQLiteStore",
    "SearchEntry",
    "SearchHit",
    "Store",
    "open_store",
]


def open_store(settings: Settings) -> Store:
    """The store named by ``AUTODOCS_CACHE_URL`` (not yet opened)."""
    url = settings.effective_cache_url
    if url.startswith("sqlite:///"):
        return SQLiteStore(Path(url.removeprefix("sqlite:///")))
    if url.startswith(("postgresql://", "postgres://")):
        return PostgresStore(url, PoolLimits.from_settings(settings))
    raise ConfigError(f"Unsupported AUTODOCS_CACHE_URL scheme in {url.split(':', 1)[0]!r}.")
