"""Cache stores behind one protocol: SQLite (embedded default) and PostgreSQL (shared).

The PostgreSQL store (and its driver) is imported on first use (PEP 562): a server on the
embedded store never loads it (``bench/startup.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from autodocs.cache.base import CacheEntry, CacheStats, DatabaseBusy, EntryPage, SearchEntry, SearchHit, Store
from autodocs.cache.sqlite import SQLiteStore
from autodocs.config import Settings
from autodocs.errors import ConfigError

if TYPE_CHECKING:
    from autodocs.cache.postgres import PoolLimits, PostgresStore

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
        from autodocs.cache.postgres import PoolLimits, PostgresStore

        return PostgresStore(url, PoolLimits.from_settings(settings))
    raise ConfigError(f"Unsupported AUTODOCS_CACHE_URL scheme in {url.split(':', 1)[0]!r}.")


def __getattr__(name: str) -> Any:
    if name in ("PoolLimits", "PostgresStore"):
        from autodocs.cache import postgres

        return getattr(postgres, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
