"""Request slots: follow-ups (hedges, retries) admitted first; patience slots for hedged requests."""

from __future__ import annotations

import asyncio

from autodocs.index.slots import RequestSlots


async def test_a_follow_up_is_admitted_before_first_requests_that_queued_earlier() -> None:
    slots = RequestSlots(1)
    admitted: list[str] = []

    async def request(name: str, *, follow_up: bool) -> None:
        async with slots.slot(follow_up=follow_up):
            admitted.append(name)

    async with slots.slot(follow_up=False):
        waiting = [asyncio.create_task(request("first", follow_up=False))]
        await asyncio.sleep(0)
        waiting.append(asyncio.create_task(request("hedge", follow_up=True)))
        await asyncio.sleep(0)
    await asyncio.gather(*waiting)
    assert admitted == ["hedge", "first"]


async def test_a_hedge_with_no_free_slot_takes_its_silent_requests_slot_at_once() -> None:
    slots = RequestSlots(1)
    async with slots.slot(follow_up=False) as silent:
        queued = asyncio.create_task(_hold(slots, follow_up=False))
        await asyncio.sleep(0)
        async with slots.slot(follow_up=True, relieve=silent):
            assert silent.patient, "the silent request now waits in a patience slot"
            assert not queued.done(), "the request that queued first still waits"
    await queued


async def test_a_cancelled_waiter_handed_a_slot_passes_it_on() -> None:
    slots = RequestSlots(1)
    async with slots.slot(follow_up=False):
        doomed = asyncio.create_task(_hold(slots, follow_up=True))
        await asyncio.sleep(0)
        survivor = asyncio.create_task(_hold(slots, follow_up=False))
        await asyncio.sleep(0)
    doomed.cancel()  # handed the slot as the block above ended, cancelled before it ran
    await asyncio.gather(doomed, return_exceptions=True)
    await asyncio.wait_for(survivor, 1.0)


async def _hold(slots: RequestSlots, *, follow_up: bool) -> None:
    async with slots.slot(follow_up=follow_up):
        await asyncio.sleep(0)
