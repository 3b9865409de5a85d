"""The server's life: serving, draining, stopped — and every tool call in flight, explicitly.

Graceful shutdown asks three things of this object: say at once that we are draining (so
``/ready`` answers 503 and new calls are refused), wait until the calls in flight are done or
the shutdown timeout passes, then cancel what is left so those callers get a clear error
instead of a dropped connection.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["Lifecycle"]

#: How long calls cancelled at the drain deadline get to send their ShuttingDown answer.
_CANCELLED_ANSWER_S = 5.0


class Lifecycle:
    def __init__(self) -> None:
        self.started_at = time.time()
        self.draining = False
        self.shutdown_cancelled = False
        self._calls: set[asyncio.Task[object]] = set()
        self._requests = 0  # accepted MCP requests over HTTP, counted from the moment they arrive
        self._idle = asyncio.Event()
        self._idle.set()

    @property
    def in_flight(self) -> int:
        return max(len(self._calls), self._requests)

    @contextmanager
    def track_request(self) -> Iterator[None]:
        """Count an accepted request until its answer is sent (waited for on drain, not cancelled)."""
        self._requests += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._requests -= 1
            self._update_idle()

    def _update_idle(self) -> None:
        if not self._calls and self._requests == 0:
            self._idle.set()

    @contextmanager
    def track_call(self) -> Iterator[None]:
        """Register the current task as a tool call in flight for the duration of the block."""
        task = asyncio.current_task()
        if task is None:  # pragma: no cover - always inside a task under a server
            yield
            return
        self._calls.add(task)
        self._idle.clear()
        try:
            yield
        finally:
            self._calls.discard(task)
            self._update_idle()

    def start_draining(self) -> None:
        self.draining = True

    async def wait_idle(self, within: float) -> bool:
        """True when every call finished within ``within`` seconds."""
        try:
            async with asyncio.timeout(within):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def drain(self, within: float, *, settle: float = 0.0) -> int:
        """Wait up to ``within`` seconds for the calls in flight, then cancel what is left and give
        those calls a moment to send their shutdown error. Returns how many were cancelled.

        ``settle``: once idle, look again this much later, for a transport that reads a request a
        few loop turns before its call is tracked (stdio; HTTP counts requests on arrival).
        """
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while await self.wait_idle(max(0.0, deadline - loop.time())):
            if not settle:
                return 0
            await asyncio.sleep(settle)
            if self.in_flight == 0:
                return 0
        cancelled = self.cancel_remaining()
        await self.wait_idle(_CANCELLED_ANSWER_S)
        return cancelled

    def cancel_remaining(self) -> int:
        """Cancel the calls still running; they answer with a shutdown error. Returns how many."""
        self.shutdown_cancelled = True
        calls = list(self._calls)
        for task in calls:
            task.cancel("server shutting down")
        return len(calls)
