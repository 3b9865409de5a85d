"""Request slots: follow-ups (hedges, retries) admitted first; patience slots for hedged requests."""

from __future__ import annotations

import asyncio

from autodocs.index.slots import RequestSlots, Slot


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


async def test_with_no_patience_slot_free_a_hedge_takes_the_slot_and_the_silent_request_is_abandoned() -> None:
    slots = RequestSlots(1)  # one slot, one patience slot
    held: list[Slot] = []
    kept = asyncio.create_task(_hold_until_cancelled(slots, held))
    await asyncio.sleep(0)
    assert held[0].wait_patiently(), "the first silent request takes the patience slot"
    silent = asyncio.create_task(_hold_until_cancelled(slots, held))
    await asyncio.sleep(0)
    assert not held[1].wait_patiently(), "no patience slot left"
    async with asyncio.timeout(1.0), slots.slot(follow_up=True, relieve=held[1]):
        assert held[1].abandoned
        await asyncio.gather(silent, return_exceptions=True)
        assert silent.cancelled(), "the silent request is cancelled, not kept"
        assert not kept.done()
        assert not held[1].wait_patiently(), "an abandoned request holds no slot to move"
    kept.cancel()
    await asyncio.gather(kept, return_exceptions=True)
    async with asyncio.timeout(1.0), slots.slot(follow_up=False) as again:  # nothing lost, nothing doubled
        assert again.wait_patiently()
        async with slots.slot(follow_up=False) as other:
            assert not other.wait_patiently()
            assert not slots.has_waiters()


async def _hold_until_cancelled(slots: RequestSlots, held: list[Slot]) -> None:
    async with slots.slot(follow_up=False) as slot:
        held.append(slot)
        await asyncio.Event().wait()


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


async def test_a_request_queued_for_a_slot_is_a_waiter_whichever_its_kind() -> None:
    slots = RequestSlots(1)
    assert not slots.has_waiters()
    async with slots.slot(follow_up=False):
        for follow_up in (False, True):
            queued = asyncio.create_task(_hold(slots, follow_up=follow_up))
            await asyncio.sleep(0)
            assert slots.has_waiters()
            queued.cancel()
            await asyncio.gather(queued, return_exceptions=True)
            assert not slots.has_waiters()


async def _hold(slots: RequestSlots, *, follow_up: bool) -> None:
    async with slots.slot(follow_up=follow_up):
        await asyncio.sleep(0)


async def test_a_waiter_cancelled_as_the_slot_is_released_ends_cancelled_and_leaves_the_slot_free() -> None:
    slots = RequestSlots(1)
    async with slots.slot(follow_up=False):
        waiter = asyncio.create_task(_hold(slots, follow_up=False))
        await asyncio.sleep(0)
        waiter.cancel()  # its place in the queue is cancelled at once; the release below drops it
    await asyncio.gather(waiter, return_exceptions=True)
    assert waiter.cancelled()
    async with asyncio.timeout(1.0), slots.slot(follow_up=False) as slot:
        assert not slots.has_waiters() and slot.wait_patiently()
