"""The process-wide request slots (``MAX_CONCURRENT``), follow-up requests served first.

A follow-up is a request for a call that already has one out or has tried once: a hedge racing
a silent request, or a retry. It goes before the first request of a call that has not started.
Served in arrival order instead, a hedge would queue behind every new call's first request
while the hung request it should relieve keeps its slot: with half the requests hanging, slots
fill with hung requests whose relief waits in line, and every call slows to the hung requests'
time limit. Served first, the hedge gets the next free slot, its call ends, and the call's hung
request is cancelled, freeing its slot too.

A request that has been hedged may also *wait patiently*: it leaves the ``MAX_CONCURRENT`` slots
for one of as many patience slots, so its hedge can have its slot while it keeps listening (an
index that has turned slow still answers it). A hedge that finds no free slot takes its silent
request's slot, before anyone queued: the silent request moves to a patience slot, or, with
none free, is *abandoned* (its request is cancelled, which is neutral for the host). A silent
request never keeps the slot its own hedge waits for: were it kept, a burst of hung first
requests would hold every slot while their hedges queue, and calls would wait on connections
that have hung until the host's silence limit.

Slots are the one bound on requests in flight: the calls' ``MAX_CONCURRENT`` and as many
patience slots, plus the slots background work has of its own (:mod:`autodocs.index.background`).
A fetcher's connection pool therefore has no cap (``max_connections=None`` in
:mod:`autodocs.index.fetch`): a request a slot admitted gets a connection at once. A cap there
would be a second queue behind the slots, first come first served, where a hedge admitted ahead
of everyone would wait behind a new call's request, or for an abandoned request's connection to
close. A cap that counted every kind of slot would have to follow every place that makes slots,
and could not bound the process anyway: each index client (:mod:`autodocs.index.pool`) has a pool
of its own. Idle connections are what the pool bounds: ``MAX_CONCURRENT`` kept for reuse, each
for ``INDEX_KEEPALIVE`` seconds.

Hand-written because the asyncio and anyio primitives (``Semaphore``, ``CapacityLimiter``) have
one first-come queue, and no maintained library offers admission by priority.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["RequestSlots", "Slot"]


class Slot:
    """One request's hold on the slots, from admission to the end of its request.

    ``patient``: it holds a patience slot now; ``abandoned``: it holds none, its slot went to
    its hedge and its request (``holder``) was cancelled.
    """

    def __init__(self, slots: RequestSlots, holder: asyncio.Task[object] | None) -> None:
        self._slots = slots
        self._holder = holder
        self.patient = False
        self.abandoned = False

    def abandon(self) -> None:
        """Give this slot up to the caller (a hedge) and cancel the request holding it."""
        self.abandoned = True
        if self._holder is not None:
            self._holder.cancel()

    def wait_patiently(self) -> bool:
        """Move to a patience slot, freeing this slot for another request; False if none is free."""
        if not self.patient and not self.abandoned:
            self.patient = self._slots.move_to_patience()
        return self.patient


class RequestSlots:
    def __init__(self, capacity: int) -> None:
        self._free = capacity
        self._patience_free = capacity
        self._follow_ups: deque[asyncio.Future[None]] = deque()
        self._firsts: deque[asyncio.Future[None]] = deque()

    def has_waiters(self) -> bool:
        """Whether a request is queued for a slot now."""
        return bool(self._follow_ups or self._firsts)

    @asynccontextmanager
    async def slot(self, *, follow_up: bool, relieve: Slot | None = None) -> AsyncIterator[Slot]:
        """Hold one slot for the block; ``follow_up`` requests are admitted before first requests.

        ``relieve``: the slot of the silent request a hedge races; with no slot free, the hedge
        takes that one: its holder moves to a patience slot, or is abandoned when none is free.
        """
        if relieve is not None and self._free == 0 and not relieve.patient and not relieve.abandoned:
            if self._patience_free > 0:  # its slot passes straight to the hedge
                self._patience_free -= 1
                relieve.patient = True
            else:
                relieve.abandon()
        else:
            await self._acquire(follow_up)
        held = Slot(self, asyncio.current_task())
        try:
            yield held
        finally:
            if held.patient:
                self._patience_free += 1
            elif not held.abandoned:
                self._release()

    def move_to_patience(self) -> bool:
        if self._patience_free == 0:
            return False
        self._patience_free -= 1
        self._release()
        return True

    async def _acquire(self, follow_up: bool) -> None:
        if self._free > 0 and not self.has_waiters():
            self._free -= 1
            return
        queue = self._follow_ups if follow_up else self._firsts
        granted: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        queue.append(granted)
        try:
            await granted
        except asyncio.CancelledError:
            if granted.done() and not granted.cancelled():
                self._release()  # handed a slot, then cancelled before it ran: pass the slot on
            else:
                with contextlib.suppress(ValueError):  # a release may have dropped it already
                    queue.remove(granted)
            raise

    def _release(self) -> None:
        for queue in (self._follow_ups, self._firsts):
            while queue:
                waiter = queue.popleft()
                if not waiter.done():
                    waiter.set_result(None)  # the slot passes straight to the waiter
                    return
        self._free += 1
