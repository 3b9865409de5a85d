"""The race's timing rules on the event loop's own clock, fast-forwarded (looptime): exact timelines.

The race takes every time from the running loop (``loop.time()``, ``asyncio.wait``), so a
looptime loop injects the clock: sleeps take no real time and every figure below is exact.
The index is a script of per-request answer times (``None``: silent until given up).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Sequence
from typing import Any, TypeVar

import looptime
import pytest

from autodocs.errors import CircuitOpen, RateLimited, UpstreamError, UpstreamResponseInvalid, UpstreamTimeout
from autodocs.index.breaker import CircuitBreaker, WindowCounts
from autodocs.index.latency import LatencyTracker
from autodocs.index.race import MAX_LOOP_LAG_S, Progress, Send, circuit_open, race
from autodocs.index.slots import RequestSlots

_T = TypeVar("_T")


def in_loop_time(main: Coroutine[Any, Any, _T]) -> _T:
    loop = looptime.new_event_loop(start=0.0)
    try:
        return loop.run_until_complete(main)
    finally:
        loop.close()


class ScriptedIndex:
    """Per request: seconds to its answer, (seconds to its headers, seconds more to its body
    or None for a body that stalls), or None (silent)."""

    def __init__(self, answers: Sequence[float | tuple[float, float | None] | None], slots: int = 10) -> None:
        self.answers = list(answers)
        self.slots = RequestSlots(slots)
        self.sent_at: list[float] = []

    async def send(self, limit: float, follow_up: bool, progress: Progress) -> float:
        answer = self.answers.pop(0) if self.answers else None
        answer_in, body_in = answer if isinstance(answer, tuple) else (answer, 0.0)
        loop = asyncio.get_running_loop()
        async with self.slots.slot(follow_up=follow_up, relieve=progress.relieve) as slot:
            progress.sent(slot)
            self.sent_at.append(round(loop.time(), 6))
            if answer_in is None or answer_in > limit:
                await asyncio.sleep(limit)
                raise UpstreamTimeout("silent")
            await asyncio.sleep(answer_in)
            progress.headers()
            if body_in is None:  # the body stalls: given up by the request's own limit
                await asyncio.sleep(limit)
                raise UpstreamTimeout("stalled")
            await asyncio.sleep(body_in)
            return round(loop.time(), 6)


async def run_race(
    index: ScriptedIndex,
    *,
    samples: tuple[float, ...] = (),
    host_silence: float = 5.0,
    left: float = 10.0,
    breaker: CircuitBreaker | None = None,
    lateness: Callable[[float], float] | None = None,
) -> float:
    tracker = LatencyTracker(host_silence)
    for sample in samples:
        tracker.observe(sample)
    return await race(
        index.send,
        breaker=breaker or quiet_breaker(),
        latency=tracker,
        host_silence=host_silence,
        give_up_after=tracker.attempt_timeout,
        left=left,
        follow_up=False,
        shown="u",
        window=60,
        on_hedge=lambda: None,
        lateness=lateness,
    )


def latency_of(samples: Sequence[float], host_silence: float = 5.0) -> LatencyTracker:
    tracker = LatencyTracker(host_silence)
    for sample in samples:
        tracker.observe(sample)
    return tracker


def quiet_breaker() -> CircuitBreaker:
    """A breaker that records but never opens (its minimum is out of reach)."""
    return CircuitBreaker("h", minimum_calls=1000, failure_rate=50, window=600, reset_timeout=60)


FAST = (0.02,) * 20  # a measured index answering in 20 ms: hedge after 0.2 s, give hedges up after 0.5 s


def test_before_any_answer_a_silent_request_is_hedged_after_one_second() -> None:
    index = ScriptedIndex([None, 0.0])
    assert in_loop_time(run_race(index)) == 1.0
    assert index.sent_at == [0.0, 1.0]


def test_once_measured_the_hedge_waits_three_times_the_p95() -> None:
    index = ScriptedIndex([None, 0.0])
    assert in_loop_time(run_race(index, samples=(0.1,) * 20)) == pytest.approx(0.3)


def test_while_the_first_request_is_kept_a_fresh_hedge_goes_every_hedge_delay() -> None:
    index = ScriptedIndex([None] * 5 + [0.0])
    assert in_loop_time(run_race(index, samples=FAST)) == pytest.approx(1.0), "six tries in one second"
    assert index.sent_at == pytest.approx([0.0, 0.2, 0.4, 0.6, 0.8, 1.0])


def test_before_any_answer_the_hedge_is_kept_too_so_a_slow_index_gets_no_third_request() -> None:
    index = ScriptedIndex([2.5, 2.5, 0.0])
    assert in_loop_time(run_race(index)) == 2.5
    assert index.sent_at == [0.0, 1.0]


def test_the_first_request_is_kept_for_an_index_that_turned_slow() -> None:
    breaker = quiet_breaker()
    index = ScriptedIndex([3.0])  # then every hedge is silent
    assert in_loop_time(run_race(index, samples=FAST, breaker=breaker)) == 3.0
    assert breaker.window_counts() == WindowCounts(calls=1, failures=0), "hedges given up are neutral"


def test_a_race_silent_past_the_host_limit_is_one_failure_of_the_host() -> None:
    breaker = quiet_breaker()
    index = ScriptedIndex([])

    async def main() -> float:
        with pytest.raises(UpstreamTimeout, match=r"did not answer u for 5\.0 s"):
            await run_race(index, samples=FAST, breaker=breaker)
        return asyncio.get_running_loop().time()

    assert in_loop_time(main()) == pytest.approx(5.0)
    assert breaker.window_counts() == WindowCounts(calls=1, failures=1)
    assert len(index.sent_at) == 10, "the requests of one race are capped"


def test_the_calls_deadline_ends_the_race_without_counting() -> None:
    breaker = quiet_breaker()

    async def main() -> float:
        with pytest.raises(UpstreamTimeout):
            await run_race(ScriptedIndex([]), left=2.0, breaker=breaker)
        return asyncio.get_running_loop().time()

    assert in_loop_time(main()) == pytest.approx(2.0)
    assert breaker.window_counts() == WindowCounts(0, 0)


def test_with_every_slot_held_by_a_silent_request_the_hedge_takes_it() -> None:
    index = ScriptedIndex([None, 0.0], slots=1)
    assert in_loop_time(run_race(index, samples=FAST)) == pytest.approx(0.2)


def test_with_every_slot_and_patience_slot_held_the_hedge_abandons_its_silent_request() -> None:
    index = ScriptedIndex([None, 0.0], slots=1)

    async def main() -> float:
        moved = asyncio.Event()

        async def another_calls_kept_request() -> None:
            async with index.slots.slot(follow_up=False) as slot:
                assert slot.wait_patiently()
                moved.set()
                await asyncio.sleep(60)

        holder = asyncio.create_task(another_calls_kept_request())
        await moved.wait()
        try:
            return await run_race(index, samples=FAST)
        finally:
            holder.cancel()

    assert in_loop_time(main()) == pytest.approx(0.2), "answered by the hedge, not failed by the abandoned request"
    assert index.sent_at == pytest.approx([0.0, 0.2])


def test_the_first_answers_set_the_limits_before_there_are_enough_for_a_tail() -> None:
    tracker = LatencyTracker(5.0)
    assert (tracker.hedge_delay(), tracker.attempt_timeout()) == (1.0, 5.0), "before any answer"
    for seconds in (0.02, 0.03, 0.25):
        tracker.observe(seconds)
    assert tracker.hedge_delay() == pytest.approx(0.75), "three times the slowest answer so far"
    assert tracker.attempt_timeout() == pytest.approx(1.5), "six times the slowest answer so far"


def test_an_answer_that_has_begun_is_neither_hedged_nor_failed_for_silence() -> None:
    breaker = quiet_breaker()
    index = ScriptedIndex([(0.1, 6.0)])  # headers at 0.1 s, the body 6 s later: past the host's limit
    assert in_loop_time(run_race(index, samples=FAST, breaker=breaker)) == pytest.approx(6.1)
    assert index.sent_at == [0.0], "no hedge: the index is answering"
    assert breaker.window_counts() == WindowCounts(calls=1, failures=0)


def test_a_rotated_hedge_frees_its_slot_and_its_replacement_waits_before_first_requests() -> None:
    """The slot a rotated hedge frees goes to whoever waits (here another call's first request:
    hung requests do not keep new calls out); its replacement then waits as a follow-up, so it
    goes before first requests that queued before it."""
    index = ScriptedIndex([None, None, 0.0], slots=1)

    async def main() -> tuple[float, list[float]]:
        admitted: list[float] = []

        async def another_calls_first_request(queue_at: float) -> None:
            await asyncio.sleep(queue_at)  # queues while the race's first hedge holds the slot
            async with index.slots.slot(follow_up=False):
                admitted.append(asyncio.get_running_loop().time())
                await asyncio.sleep(1.0)

        others = [asyncio.create_task(another_calls_first_request(at)) for at in (0.3, 0.35)]
        answered = await run_race(index, samples=FAST)
        await asyncio.gather(*others)
        return answered, admitted

    answered, admitted = in_loop_time(main())
    assert index.sent_at == pytest.approx([0.0, 0.2, 1.4])
    assert answered == pytest.approx(1.4)
    assert admitted == pytest.approx([0.4, 1.4])


def test_an_open_circuit_says_how_many_calls_failed_and_for_how_long_it_stays_open() -> None:
    now = [100.0]
    breaker = CircuitBreaker(
        "index.example", minimum_calls=2, failure_rate=50, window=60, reset_timeout=30, clock=lambda: now[0]
    )
    breaker.record_failure()
    breaker.record_failure()
    now[0] += 12.34
    error = circuit_open(breaker, 60)
    assert str(error).startswith(
        "The package index at index.example failed 2 of its last 2 calls (within 60 s); "
        "AutoDocs is not calling it for 17.7 s."
    )
    assert error.details["retry_after_s"] == 17.7


async def _held_patiently(index: ScriptedIndex, count: int) -> list[asyncio.Task[None]]:
    """``count`` other calls' kept requests, each moved to a patience slot."""
    moved = asyncio.Event()

    async def kept() -> None:
        async with index.slots.slot(follow_up=False) as slot:
            assert slot.wait_patiently()
            moved.set()
            await asyncio.sleep(60)

    holders = []
    for _ in range(count):
        moved.clear()
        holders.append(asyncio.create_task(kept()))
        await moved.wait()
    return holders


def test_once_its_hedge_is_out_the_first_request_moves_to_a_patience_slot_freeing_its_slot() -> None:
    index = ScriptedIndex([None, None, 0.0], slots=2)

    async def main() -> float:
        async def another_calls_first_request() -> float:
            await asyncio.sleep(0.3)  # both slots were taken at 0.2: the first request's and its hedge's
            async with index.slots.slot(follow_up=False):
                return asyncio.get_running_loop().time()

        other = asyncio.create_task(another_calls_first_request())
        await run_race(index, samples=FAST)
        return await other

    assert in_loop_time(main()) == pytest.approx(0.3), "admitted at once: the first request left its slot"


def test_with_no_patience_slot_free_the_first_request_is_given_up_by_the_observed_limit() -> None:
    index = ScriptedIndex([None, None, 0.0], slots=2)

    async def main() -> float:
        holders = await _held_patiently(index, 2)
        try:
            return await run_race(index, samples=FAST)
        finally:
            for holder in holders:
                holder.cancel()

    assert in_loop_time(main()) == pytest.approx(0.5)
    assert index.sent_at == pytest.approx([0.0, 0.2, 0.5]), "not kept: given up at 0.5 s, then replaced"


def test_a_circuit_opened_while_an_answer_stalled_ends_the_race_with_circuit_open() -> None:
    breaker = CircuitBreaker("h", minimum_calls=1, failure_rate=50, window=60, reset_timeout=60)
    index = ScriptedIndex([(0.1, None)])  # headers, then a body that stalls until its limit (5 s)

    async def main() -> float:
        async def another_call_fails() -> None:
            await asyncio.sleep(1.0)
            breaker.record_failure()

        other = asyncio.create_task(another_call_fails())
        with pytest.raises(CircuitOpen):
            await run_race(index, samples=FAST, breaker=breaker)
        await other
        return asyncio.get_running_loop().time()

    assert in_loop_time(main()) == pytest.approx(5.1), "when the stalled answer is given up, not at the deadline"


def test_while_unmeasured_the_race_rereads_the_hedge_delay_as_other_answers_come() -> None:
    tracker = LatencyTracker(5.0)
    index = ScriptedIndex([None, 0.0])

    async def main() -> float:
        async def other_calls_answer() -> None:
            await asyncio.sleep(0.1)
            for _ in range(10):
                tracker.observe(0.02)  # the hedge delay is now 0.2 s

        other = asyncio.create_task(other_calls_answer())
        answered = await race(
            index.send,
            breaker=quiet_breaker(),
            latency=tracker,
            host_silence=5.0,
            give_up_after=tracker.attempt_timeout,
            left=10.0,
            follow_up=False,
            shown="u",
            window=60,
            on_hedge=lambda: None,
        )
        await other
        return answered

    assert in_loop_time(main()) == pytest.approx(0.25, abs=0.002), "hedged at the next re-read, not after 1 s"


def test_an_answer_stalled_after_its_headers_is_given_up_by_the_hosts_silence_limit_and_sent_again() -> None:
    index = ScriptedIndex([(0.1, None), 0.0])  # headers at 0.1 s, then nothing; the next request answers
    answered = in_loop_time(run_race(index, samples=FAST, host_silence=0.5))
    assert answered == pytest.approx(0.6), "stalled 0.5 s after its headers, then sent again at once"
    assert index.sent_at == pytest.approx([0.0, 0.6])


def late_at(*targets: float) -> Callable[[float], float]:
    """The event loop runs 0.1 s late (past ``MAX_LOOP_LAG_S``) for the timed waits meant to end
    at ``targets``, on time for every other."""
    return lambda target: 0.1 if any(target == pytest.approx(t, abs=0.002) for t in targets) else 0.0


def test_a_hedge_due_while_the_event_loop_runs_late_is_put_off_by_one_hedge_delay() -> None:
    index = ScriptedIndex([None, 0.0])  # unmeasured: hedge after 1 s, the race re-reads every 0.25 s
    assert in_loop_time(run_race(index, lateness=late_at(1.0))) == pytest.approx(2.0)
    assert index.sent_at == pytest.approx([0.0, 2.0]), "not at 1.25 s, the next re-read"


def test_a_hedge_is_put_off_once_per_race_however_late_the_event_loop_runs() -> None:
    index = ScriptedIndex([None, None, 0.0])
    answered = in_loop_time(run_race(index, samples=FAST, lateness=lambda target: 0.1))
    # Put off at 0.2 s by one hedge delay from then (the race reads its clock 1 ms ahead), never again.
    assert index.sent_at == pytest.approx([0.0, 0.401, 0.601], abs=1e-6)
    assert answered == pytest.approx(0.601, abs=1e-6)


def test_an_event_loop_late_by_no_more_than_the_allowed_lag_puts_no_hedge_off() -> None:
    index = ScriptedIndex([None, 0.0])
    assert in_loop_time(run_race(index, samples=FAST, lateness=lambda target: MAX_LOOP_LAG_S)) == pytest.approx(0.2)


def test_an_answer_that_ends_in_the_same_turn_as_its_abandoned_request_is_returned_at_once() -> None:
    """A hedge that finds no slot free abandons its silent request (cancelled) and, here, answers
    without awaiting anything: both end before the race looks again, the abandoned one first."""
    index = ScriptedIndex([None], slots=1)

    async def send(limit: float, follow_up: bool, progress: Progress) -> float:
        if index.answers:  # the first request: silent
            return await index.send(limit, follow_up, progress)
        async with index.slots.slot(follow_up=follow_up, relieve=progress.relieve) as slot:
            progress.sent(slot)
            progress.headers()
            return asyncio.get_running_loop().time()

    async def main() -> float:
        holders = await _held_patiently(index, 1)
        try:
            await race(
                send,
                breaker=quiet_breaker(),
                latency=latency_of(FAST),
                host_silence=5.0,
                give_up_after=lambda: 0.5,
                left=10.0,
                follow_up=False,
                shown="u",
                window=60,
                on_hedge=lambda: None,
            )
            return asyncio.get_running_loop().time()
        finally:
            for holder in holders:
                holder.cancel()

    assert in_loop_time(main()) == pytest.approx(0.2), "returned when the answer came, not at the next timer"


async def _race_scripted(send: Send[float], *, samples: Sequence[float] = ()) -> float:
    """Race ``send`` with a 5 s host limit and a 10 s deadline; returns the loop time it ended at."""
    await race(
        send,
        breaker=quiet_breaker(),
        latency=latency_of(samples),
        host_silence=5.0,
        give_up_after=lambda: 0.5,
        left=10.0,
        follow_up=False,
        shown="u",
        window=60,
        on_hedge=lambda: None,
    )
    return asyncio.get_running_loop().time()


@pytest.mark.parametrize(
    "refusal",
    [RateLimited("429", retry_after_s=1.0), UpstreamResponseInvalid("401", retryable=False)],
    ids=["a pace to keep", "a definite answer"],
)
def test_a_pace_to_keep_or_a_definite_answer_ends_the_race_at_once(refusal: UpstreamError) -> None:
    sent: list[float] = []

    async def send(limit: float, follow_up: bool, progress: Progress) -> float:
        loop = asyncio.get_running_loop()
        async with RequestSlots(2).slot(follow_up=follow_up) as slot:
            progress.sent(slot)
            sent.append(loop.time())
            if len(sent) == 1:
                await asyncio.sleep(limit)  # the first request is silent
                raise UpstreamTimeout("silent")
            progress.headers()
            raise refusal

    async def main() -> float:
        with pytest.raises(type(refusal)):
            await _race_scripted(send, samples=FAST)
        return asyncio.get_running_loop().time()

    assert in_loop_time(main()) == pytest.approx(0.2), "when the hedge is refused, not when the first is given up"
    assert sent == pytest.approx([0.0, 0.2])


def test_an_answer_that_ends_in_the_same_turn_as_a_request_timing_out_is_returned_at_once() -> None:
    """The first request's own limit ends it at 1.4 s, when its hedge (sent at 1 s) answers."""

    async def send(limit: float, follow_up: bool, progress: Progress) -> float:
        loop = asyncio.get_running_loop()
        async with RequestSlots(2).slot(follow_up=follow_up) as slot:
            progress.sent(slot)
            first = loop.time() == 0.0
            await asyncio.sleep(0.4 if not first else 1.4)
            if first:
                raise UpstreamTimeout("the request's own limit")
            progress.headers()
            return loop.time()

    assert in_loop_time(_race_scripted(send)) == pytest.approx(1.4), "returned when the answer came"


def test_a_race_whose_every_answer_stalls_ends_after_its_tenth_request_not_at_the_deadline() -> None:
    index = ScriptedIndex([(0.1, None)] * 10)  # headers at 0.1 s, then nothing until the request's own limit

    async def main() -> float:
        with pytest.raises(UpstreamTimeout, match=r"^The package index did not answer u in 10 requests\.$"):
            await run_race(index, samples=FAST, host_silence=0.5)
        return asyncio.get_running_loop().time()

    assert in_loop_time(main()) == pytest.approx(6.0), "ten requests of 0.6 s each"
    assert len(index.sent_at) == 10


def test_a_hedge_silent_past_the_limit_is_given_up_while_the_first_request_is_kept() -> None:
    """Unmeasured (no rotation): the hedge sent at 1 s is given up at 1.5 s and replaced at once."""
    index = ScriptedIndex([None, None, 0.0])

    async def main() -> float:
        await race(
            index.send,
            breaker=quiet_breaker(),
            latency=latency_of(()),
            host_silence=5.0,
            give_up_after=lambda: 0.5,
            left=10.0,
            follow_up=False,
            shown="u",
            window=60,
            on_hedge=lambda: None,
        )
        return asyncio.get_running_loop().time()

    assert in_loop_time(main()) == pytest.approx(1.5)
    assert index.sent_at == pytest.approx([0.0, 1.0, 1.5])
