"""One attempt of the fetch policy: requests for one URL raced until one answers (hedging).

Hedges supply both speed and patience. The first request is kept while others race it, so a
slow index still answers it; another request goes out when those out have been silent past the
hedge delay (:class:`~autodocs.index.latency.LatencyTracker`), so a hung one costs a hedge
delay, not the deadline. What a caller can rely on:

* **The hedge clock starts on the wire**, when a request has its slot, never while it queues:
  a busy process must not mistake its own queue for a silent index.
* **At most** ``_RACING`` **requests at once, ``_REQUESTS`` in all.** Hedges are follow-ups
  (:mod:`autodocs.index.slots`): admitted before new calls' first requests.
* **Patience.** The race's first request is kept up to the host's silence limit, so an index
  that has turned slow (slower than any answer seen) still answers it, and its answer teaches
  the latency tracker the new normal. Once hedged it waits in a patience slot
  (:mod:`autodocs.index.slots`), leaving its ``MAX_CONCURRENT`` slot to the hedge; with none
  free it is given up by the observed limit like a hedge, and abandoned at once when its
  hedge finds no free slot (a hung request never holds the slot its relief waits for).
* **Hedges rotate while the first request is kept.** The kept request supplies the patience,
  so a hedge only has to be quick: when the next hedge is due (the newest request silent for
  a hedge delay) and the race is full, the oldest hedge is given up to make room. A race thus
  makes a fresh try every hedge delay, not every give-up limit, and a hung hedge holds its
  slot for a hedge delay only: with half the requests hanging, about six tries fit in a
  deadline of a few seconds. Not before any answer has been seen: "quick" is not known yet,
  and an index that is merely slow would be sent a request every hedge delay.
* **A hedge silent past the observed limit is given up** (AutoDocs' own limit: neutral for
  the breaker); its slot is freed and another request takes its place at once, so retries
  overlap with the hedges instead of queuing after them.
* **The first answer wins**; every other request is cancelled at once, freeing its slot.
* **A host error** (5xx, reset, a body cut short) stops further hedges, and the first request
  is no longer kept past the observed limit; the race ends with the error when no other
  request is still out (the retry policy then backs off).
* **Silence past the host's limit** (``CIRCUIT_BREAKER_SILENCE``): when no request of the race
  has heard a byte that long after the first went out, the host has failed. That is recorded
  once on its breaker and the race ends with :class:`~autodocs.errors.UpstreamTimeout`.
* **Lag.** A hedge timer firing late means the event loop is busy: the answer may be sitting
  unread in a socket, and a hedge would add load. A hedge is postponed by one hedge delay,
  once per race; later hedges go whatever the lag, so no call keeps waiting on a hung connection.
* **Deadline.** The race never outlives the call's deadline; ending there is neutral.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from autodocs.errors import CircuitOpen, RateLimited, UpstreamError, UpstreamTimeout
from autodocs.index.breaker import CircuitBreaker
from autodocs.index.latency import LatencyTracker
from autodocs.index.slots import Slot

__all__ = ["Progress", "circuit_open", "race", "record_outcome"]

_T = TypeVar("_T")

#: Requests of one race out at once: the first and one hedge.
_RACING = 2
#: Requests of one race in all; with half the requests hanging, 10 leave a miss rate of 0.1%.
_REQUESTS = 10
#: A hedge timer firing later than this means the event loop is overloaded, not the index slow.
MAX_LOOP_LAG_S = 0.05
#: While latency is unmeasured, re-read the hedge delay this often (the first answers set it).
_UNMEASURED_POLL_S = 0.25
#: A time this close is reached: asyncio fires timers up to its clock's resolution early.
_SLACK = 0.001


class Progress:
    """What one request tells its race: on the wire (a slot held, the request sent), answering."""

    def __init__(self, wake: Callable[[], None], relieve: Slot | None = None) -> None:
        self.sent_at: float | None = None
        self.slot: Slot | None = None  # pragma: no mutate: read only once on the wire, after sent() set it
        self.relieve = relieve  # a hedge's silent request, whose slot it may take (autodocs.index.slots)
        self.answering = False
        self._wake = wake

    def sent(self, slot: Slot) -> None:
        self.sent_at = asyncio.get_running_loop().time()
        self.slot = slot
        self._wake()

    def headers(self) -> None:
        self.answering = True
        self._wake()


#: One request of a race: (the slot silence limit, whether it is a follow-up, its progress) → answer.
Send = Callable[[float, bool, Progress], Awaitable[_T]]


def record_outcome(breaker: CircuitBreaker, error: BaseException | None) -> None:
    """Record one request's outcome: only the host's own failures count against it.

    Failures: refused or reset connections and 5xx (:class:`UpstreamUnavailable`), a body cut
    short or not JSON. Neutral: cancellation (a lost hedge, the caller gone), 429 (the host
    works, it is pacing us) and timeouts, which are AutoDocs' own limits or the call's deadline
    (the host's silence counts through the race, past ``CIRCUIT_BREAKER_SILENCE``). Anything
    else (200, 404, 401, too large) is an answer: the host works.
    """
    if error is None:
        breaker.record_success()
    elif isinstance(error, asyncio.CancelledError | RateLimited | UpstreamTimeout):
        breaker.record_neutral()
    elif isinstance(error, UpstreamError) and error.retryable:
        breaker.record_failure()
    else:
        breaker.record_success()


def circuit_open(breaker: CircuitBreaker, window: float) -> CircuitOpen:
    wait = breaker.retry_after()
    counts = breaker.opened_on
    return CircuitOpen(
        f"The package index at {breaker.name} failed {counts.failures} of its last {counts.calls} calls "
        f"(within {window:.0f} s); AutoDocs is not calling it for {wait:.1f} s.",
        retry_after_s=round(wait, 1),
    )


@dataclass(eq=False)
class _Request(Generic[_T]):
    task: asyncio.Task[_T]
    progress: Progress
    postponed: bool = False  # its hedge was put off once, for a busy event loop
    patient: bool = False  # the race's first request: kept up to the host's silence limit


async def race(
    send: Send[_T],
    *,
    breaker: CircuitBreaker,
    latency: LatencyTracker,
    host_silence: float,
    give_up_after: Callable[[], float],
    left: float,
    follow_up: bool,
    shown: str,
    window: float,
    on_hedge: Callable[[], None],
    lateness: Callable[[float], float] | None = None,
) -> _T:
    """Race requests made by ``send`` until one answers (module docstring).

    ``give_up_after()`` is the current limit of one request's silence (read again as answers
    come), ``left`` the seconds to the call's deadline, ``follow_up`` whether even the first
    request goes before new calls' requests (a retry). ``lateness(target)``: how late a timed
    wait that was to end at the loop time ``target`` ended (default: the loop's clock says);
    tests inject it to run the loop late on demand.
    """
    loop = asyncio.get_running_loop()
    late = lateness or (lambda target: loop.time() - target)
    ends_at = loop.time() + left
    woken: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not woken.done():
            woken.set_result(None)

    racing: list[_Request[_T]] = []
    launched = 0
    host_error: BaseException | None = None
    first_sent_at: float | None = None
    heard = False
    silent = False  # every request went unanswered past the host's silence limit
    lagging = False  # the last wait ended later than asked: the event loop is busy
    postponed = False  # a hedge was put off once, for a busy event loop

    def launch(*, hedge: bool) -> None:
        nonlocal launched
        patient = next((r for r in racing if r.patient), None)
        progress = Progress(wake, patient.progress.slot if patient is not None else None)
        limit = max(0.05, min(host_silence, ends_at - loop.time()))
        task = asyncio.ensure_future(_recorded(send(limit, follow_up or hedge, progress), breaker))
        task.add_done_callback(lambda _: wake())
        racing.append(_Request(task, progress, patient=launched == 0))
        launched += 1
        if hedge:
            on_hedge()

    if not breaker.allow():
        raise circuit_open(breaker, window)
    launch(hedge=False)
    try:
        while True:
            now = loop.time() + _SLACK
            for request in [r for r in racing if r.task.done()]:
                racing.remove(request)
                if request.task.cancelled():
                    continue  # abandoned to its hedge (autodocs.index.slots)
                error = request.task.exception()
                if error is None:
                    return request.task.result()
                if not isinstance(error, UpstreamError) or not error.retryable or isinstance(error, RateLimited):
                    raise error  # a definite answer, or a pace to keep: no more requests
                if isinstance(error, UpstreamTimeout):
                    continue  # a request's own limit: another may take its place
                host_error = host_error or error
            sent = [r.progress.sent_at for r in racing if r.progress.sent_at is not None]
            if first_sent_at is None and sent:
                first_sent_at = min(sent)
            heard = heard or any(r.progress.answering for r in racing)
            if now >= ends_at:
                raise UpstreamTimeout(f"The package index did not answer {shown} within the call's deadline.")
            if first_sent_at is not None and not heard and now - first_sent_at >= host_silence:
                silent = True  # counted against the host once its requests are withdrawn (below)
                raise UpstreamTimeout(f"The package index did not answer {shown} for {host_silence:.1f} s.")
            wake_at = [ends_at]
            if first_sent_at is not None and not heard:
                wake_at.append(first_sent_at + host_silence)
            # Once its hedge is on the wire, the first request waits in a patience slot, or is no longer kept.
            hedge_sent = sum(r.progress.sent_at is not None for r in racing) > 1
            for request in racing:
                slot = request.progress.slot
                if request.patient and hedge_sent and slot is not None and not slot.wait_patiently():
                    request.patient = False
            # Requests silent past the observed limit are given up: they free their slots.
            limit = give_up_after()
            for request in list(racing):
                sent_at = request.progress.sent_at
                if sent_at is None or request.progress.answering or (request.patient and host_error is None):
                    continue  # after a host error, a retry with backoff beats waiting on silence
                if now - sent_at >= limit:
                    request.task.cancel()
                    racing.remove(request)
                else:
                    wake_at.append(sent_at + limit)
            if not racing and (host_error is not None or launched >= _REQUESTS):
                raise host_error or UpstreamTimeout(f"The package index did not answer {shown} in {launched} requests.")
            # An answer that stalled after its headers leaves nothing racing: send another at once.
            stalled = heard and not racing
            # While the first request is kept, the oldest hedge makes room for the next one.
            rotating = latency.measured and any(r.patient for r in racing)
            rotated = next((r for r in racing if not r.patient), None) if rotating else None
            room = len(racing) < _RACING or rotated is not None
            can_hedge = host_error is None and (stalled or not heard) and launched < _REQUESTS and room
            if can_hedge and all(r.progress.sent_at is not None for r in racing):
                delay = latency.hedge_delay()
                newest = max(racing, key=lambda r: r.progress.sent_at or 0.0, default=None)
                due = now
                if newest is not None and newest.progress.sent_at is not None:
                    due = newest.progress.sent_at + delay * (2 if newest.postponed else 1)
                if now < due:
                    wake_at.append(due)
                elif newest is not None and lagging and not postponed:
                    newest.postponed = postponed = True  # woken late: give an answer sitting in a socket its turn
                    wake_at.append(now + delay)
                elif breaker.allow():  # in a half-open circuit, the probe goes alone
                    if len(racing) >= _RACING and rotated is not None:
                        rotated.task.cancel()  # given up: AutoDocs' own limit, neutral for the host
                        racing.remove(rotated)
                    launch(hedge=True)
                    continue
                elif not racing:
                    raise circuit_open(breaker, window)  # opened since this race began
                if not latency.measured:
                    wake_at.append(now + _UNMEASURED_POLL_S)
            # No request can have finished since the top of the loop (nothing awaited): the
            # next one to finish, or to go on the wire, sets this future.
            woken = loop.create_future()
            target = min(wake_at)
            await asyncio.wait([woken], timeout=max(0.0, target - loop.time()))
            lagging = not woken.done() and late(target) > MAX_LOOP_LAG_S
    finally:
        pending = [r.task for r in racing if not r.task.done()]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        if silent:
            breaker.record_silence()


async def _recorded(request: Awaitable[_T], breaker: CircuitBreaker) -> _T:
    try:
        result = await request
    except BaseException as error:
        record_outcome(breaker, error)
        raise
    record_outcome(breaker, None)
    return result
