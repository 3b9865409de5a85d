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
request's slot this way, before anyone queued. With no patience slot free the silent request
stays where it is (and its race gives it up by the observed limit, as a hedge). Connections in use stay within
twice ``MAX_CONCURRENT``, the connection pool's size.

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
    """One request's hold on the slots, from admission to the end of its request."""

    def __init__(self, slots: RequestSlots) -> None:
        self._slots = slots
        self.patient = False

    def wait_patiently(self) -> bool:
        """Move to a patience slot, freeing this slot for another request; False if none is free."""
        if not self.patient:
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
        takes that one if its holder can move to a patience slot.
        """
        if relieve is not None and self._free == 0 and not relieve.patient and self._patience_free > 0:
            self._patience_free -= 1
            relieve.patient = True  # its slot passes straight to the hedge
        else:
            await self._acquire(follow_up)
        held = Slot(self)
        try:
            yield held
        finally:
            if held.patient:
                self._patience_free += 1
            else:
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
