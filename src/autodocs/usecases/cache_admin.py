"""The cache administration use cases: statistics, listing, pruning and refreshing.

Each first waits for the cache writes queued so far (:mod:`.machinery.writebehind`), so what
this process has just fetched counts. Pruning or clearing also forgets what the memory memos
hold (``forget``), so nothing the store has dropped is served from memory.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from autodocs.cache import CacheStats, Store
from autodocs.cache.base import EntryPage
from autodocs.config import Settings
from autodocs.index import normalize_package_name
from autodocs.sources.archives import downloaded_code_bytes
from autodocs.usecases.machinery.writebehind import WriteBehind
from autodocs.usecases.replies import PruneResult, RefreshResult

__all__ = ["CacheAdmin"]


class CacheAdmin:
    """``forget(name)`` drops what memory holds of ``name`` (None: of all)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        writes: WriteBehind,
        lookups: Callable[[], tuple[int, int]],
        forget: Callable[[str | None], None],
    ) -> None:
        self._settings = settings
        self._store = store
        self._writes = writes
        self._lookups = lookups
        self._forget = forget

    async def stats(self) -> CacheStats:
        """Hits and misses: this process's document lookups answered from memory or the store,
        or not; sizes: the store's own, and apart, the code downloaded for API references."""
        await self._writes.flush()  # count what this process has just cached, too
        stats, code = await asyncio.gather(
            self._store.stats(), asyncio.to_thread(downloaded_code_bytes, self._settings.cache_dir)
        )
        hits, misses = self._lookups()
        return stats.model_copy(update={"hits": hits, "misses": misses, "downloaded_code_bytes": code})

    async def prune(self) -> PruneResult:
        """Drop versions beyond MAX_VERSIONS per package and entries unused for CLEANUP_DAYS."""
        await self._writes.flush()
        removed = await self._store.prune(
            max_versions=self._settings.max_versions, unused_days=self._settings.cleanup_days
        )
        if removed:
            self._forget(None)
        return PruneResult(
            removed_entries=removed,
            max_versions=self._settings.max_versions,
            cleanup_days=self._settings.cleanup_days,
        )

    async def list(self, *, cursor: str | None = None, limit: int = 100) -> EntryPage:
        """One page of what the cache holds; pass next_cursor for the next page."""
        await self._writes.flush()
        return await self._store.list_entries(cursor=cursor, limit=limit)

    async def refresh(self, package_name: str | None = None) -> RefreshResult:
        """Forget cached entries (one package, or all) so the next call asks the index again."""
        if package_name is None:
            await self._writes.flush()
            removed = await self._store.clear()
            self._forget(None)
            return RefreshResult(scope="all", removed_entries=removed, message="The whole cache was cleared.")
        name = normalize_package_name(package_name)
        await self._writes.flush()
        removed = await self._store.clear(name)
        self._forget(name)
        return RefreshResult(
            scope=name,
            removed_entries=removed,
            message=f"Cleared {removed} cached entries of {name!r}; the next request fetches fresh data.",
        )
