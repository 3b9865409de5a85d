"""What the cache holds of a package, read for every package that asks at once in one round trip.

A cold project context resolves a hundred packages concurrently; each used to ask the store
twice (its release list, then its document) and miss twice. Those reads queue on the store's
one reader thread (or pool), behind the CPU work of the packages already answered: measured in
``bench/cold_context.py``, a miss waited 11-60 ms (median), longer than the index's answer.
:class:`CachedStates` gathers the names asked for in the same turn of the event loop and reads
them with one :meth:`~autodocs.cache.base.Store.cached_state` call (the pattern is often
called a data loader; no library offers it for asyncio, and it is twenty lines).

Names are asked for with the key of the index that answers them (:mod:`autodocs.index.keys`);
a batch holding names of several indexes reads the store once per index.

A failed read answers "nothing cached" for every name in the batch, with a warning: the
caller then asks the index, as it would after a miss.
"""

from __future__ import annotations

import asyncio

import structlog

from autodocs.cache.base import CachedState, Store
from autodocs.errors import CacheError

__all__ = ["CachedStates"]

log = structlog.get_logger(__name__)

_NOTHING = CachedState()
#: (index key, name): what one caller waits for.
_Key = tuple[str, str]


class CachedStates:
    """Batched, uncached reads of :class:`CachedState`: each call sees the store as it is now."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._waiting: dict[_Key, asyncio.Future[CachedState]] = {}
        self._reader: asyncio.Task[None] | None = None
        self.batches = 0  # reads issued (tests and benchmarks check the batching)

    async def get(self, index_key: str, name: str) -> CachedState:
        key = (index_key, name)
        future = self._waiting.get(key)
        if future is None:
            future = asyncio.get_running_loop().create_future()
            self._waiting[key] = future
            if self._reader is None or self._reader.done():
                self._reader = asyncio.ensure_future(self._read_batches())
                self._reader.add_done_callback(self._reader_done)
        # Shielded: a caller that gives up must not cancel the read the others wait for.
        return await asyncio.shield(future)

    async def _read(self, index_key: str, names: list[str]) -> dict[str, CachedState]:
        """The store's answer; ``{}`` (nothing cached) with a warning when it cannot give one."""
        try:
            return await self._store.cached_state(index_key, names)
        except CacheError as exc:
            log.warning("cache.read_failed", error=exc.type_name, message=exc.message, names=len(names))
        except Exception as exc:  # a store bug must not leave callers waiting forever
            log.warning("cache.read_failed", error=repr(exc), names=len(names))
        return {}

    async def _read_batches(self) -> None:
        reading: dict[_Key, asyncio.Future[CachedState]] = {}
        try:
            await asyncio.sleep(0)  # callers started in this turn of the loop join the first batch
            while self._waiting:
                reading, self._waiting = self._waiting, {}
                by_index: dict[str, list[str]] = {}
                for index_key, name in reading:
                    by_index.setdefault(index_key, []).append(name)
                for index_key, names in by_index.items():
                    self.batches += 1
                    states = await self._read(index_key, names)
                    _answer({(index_key, name): reading.pop((index_key, name)) for name in names}, states)
        finally:  # cancelled during a read (shutdown): its callers get "nothing cached"
            _answer(reading, {})

    def _reader_done(self, task: asyncio.Task[None]) -> None:
        """A reader cancelled before it could drain the queue (even before it started) leaves
        nobody waiting; a newer reader, if one started since, serves the queue instead."""
        if task is self._reader and task.cancelled():
            waiting, self._waiting = self._waiting, {}
            _answer(waiting, {})


def _answer(batch: dict[_Key, asyncio.Future[CachedState]], states: dict[str, CachedState]) -> None:
    for (_, name), future in batch.items():
        if not future.done():
            future.set_result(states.get(name, _NOTHING))
