"""Cache stores behind one protocol: SQLite (embedded default) and PostgreSQL (shared).

The stores are imported when one is opened, or when their names are first read from this
package (PEP 562): a SQLite-only install never imports psycopg (the PostgreSQL store needs the
``postgres`` extra), and naming the models (``CacheStats``, ``SearchHit``) imports no store, so
a server describes its tools before it imports SQLite (``server/service_slot.py``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from autodocs.cache.base import CacheEntry, CacheStats, DatabaseBusy, EntryPage, SearchEntry, SearchHit, Store
from autodocs.config import Settings
from autodocs.errors import ConfigError

if TYPE_CHECKING:
    from autodocs.cache.postgres import PoolLimits, PostgresStore
    from autodocs.cache.sqlite import SQLiteStore

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

_POSTGRES_NAMES = frozenset({"PoolLimits", "PostgresStore"})
_POSTGRES_DRIVER = frozenset({"psycopg", "psycopg_pool", "psycopg_binary", "psycopg_c"})


def __getattr__(name: str) -> object:
    """``SQLiteStore``, ``PoolLimits`` and ``PostgresStore``, imported on first use (PEP 562)."""
    if name == "SQLiteStore":
        from autodocs.cache.sqlite import SQLiteStore

        return SQLiteStore
    if name in _POSTGRES_NAMES:
        from autodocs.cache import postgres

        return getattr(postgres, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def open_store(settings: Settings) -> Store:
    """The store named by ``AUTODOCS_CACHE_URL`` (not yet opened).

    Raises :class:`ConfigError` for an unknown scheme, and for a PostgreSQL URL when the
    ``postgres`` extra is not installed.
    """
    url = settings.effective_cache_url
    if url.startswith("sqlite:///"):
        from autodocs.cache.sqlite import SQLiteStore

        return SQLiteStore(Path(url.removeprefix("sqlite:///")))
    if url.startswith(("postgresql://", "postgres://")):
        try:
            from autodocs.cache.postgres import PoolLimits, PostgresStore
        except ImportError as exc:
            # ``name`` is the missing module; None when psycopg itself failed to load (no libpq).
            if exc.name is not None and exc.name.partition(".")[0] not in _POSTGRES_DRIVER:
                raise
            raise ConfigError(
                f"AUTODOCS_CACHE_URL names a PostgreSQL cache, but its driver cannot be imported ({exc}).",
                suggestions=[
                    "Install the PostgreSQL extra: pip install 'autodocs[postgres]'",
                    "Or leave AUTODOCS_CACHE_URL unset to use the embedded SQLite cache.",
                ],
            ) from exc
        return PostgresStore(url, PoolLimits.from_settings(settings))
    raise ConfigError(f"Unsupported AUTODOCS_CACHE_URL scheme in {url.split(':', 1)[0]!r}.")
