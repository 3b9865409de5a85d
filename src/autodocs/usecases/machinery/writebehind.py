"""Write-behind: cache writes run after the reply that caused them, one at a time.

One writer task drains the queue, after a short pause (``_WRITE_DELAY_S``) that lets the
reply which queued the write go out first. While calls are running (:meth:`WriteBehind.call`),
queued writes wait up to ``_MAX_WRITE_DEFER_S`` so that serializing and indexing documents
does not compete with the calls for the CPU; they run once it is quiet, or at once when
someone flushes. A failed write costs a warning and a later cache miss, never the reply. At
close the queue gets ``SHUTDOWN_TIMEOUT`` to land; what is still queued then is dropped (a
later miss, never a half-written entry).
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager

import anyio
import structlog

__all__ = ["WriteBehind"]

log = structlog.get_logger(__name__)

#: Cache writes wait this long so that the reply which caused them is sent first.
_WRITE_DELAY_S = 0.005
#: While calls are running, queued cache writes wait (up to this long) so that serializing and
#: indexing documents does not compete with the calls for the CPU; they run once it is quiet.
_MAX_WRITE_DEFER_S = 2.0
_WRITE_DEFER_POLL_S = 0.02


class WriteBehind:
    """The queue of cache writes, its one writer task, and the count of calls running now."""

    def __init__(self) -> None:
        self._pending: deque[Callable[[], Awaitable[None]]] = deque()
        self._writer: asyncio.Task[None] | None = None
        self._active_calls = 0
        self._flushing = 0

    def queue(self, write: Callable[[], Awaitable[None]]) -> None:
        """Run ``write`` after the reply; :meth:`flush` waits for it."""
        self._pending.append(write)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.ensure_future(self._drain())

    @contextmanager
    def call(self) -> Iterator[None]:
        """Mark a call as running (queued writes wait for quiet while any is)."""
        self._active_calls += 1
        try:
            yield
        finally:
            self._active_calls -= 1

    async def flush(self) -> None:
        """Wait until every write queued so far is done."""
        self._flushing += 1
        try:
            while self._writer is not None and not self._writer.done():
                await asyncio.shield(self._writer)
        finally:
            self._flushing -= 1

    async def flush_before_close(self, within: float) -> None:
        """:meth:`flush`, for at most ``within`` seconds: a store that has stopped answering
        must not hold the process past its grace period. Writes still queued then are dropped."""
        with anyio.move_on_after(within):
            await self.flush()
            return
        writer, self._writer = self._writer, None
        queued = len(self._pending)
        self._pending.clear()
        if writer is not None:
            writer.cancel()  # the write underway is rolled back, not left half-done
            await asyncio.gather(writer, return_exceptions=True)
        log.warning("cache.writes_dropped", queued=queued, waited_s=within)

    async def _drain(self) -> None:
        await asyncio.sleep(_WRITE_DELAY_S)
        while self._pending:
            waited = 0.0
            while self._active_calls and not self._flushing and waited < _MAX_WRITE_DEFER_S:
                await asyncio.sleep(_WRITE_DEFER_POLL_S)
                waited += _WRITE_DEFER_POLL_S
            write = self._pending.popleft()
            try:
                await write()
            except Exception as exc:
                log.warning("cache.write_failed", error=repr(exc))
