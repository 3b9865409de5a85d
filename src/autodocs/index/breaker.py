"""A circuit breaker per upstream host: stop calling a host that fails too often.

CLOSED → OPEN when, over the last ``window`` seconds, at least ``minimum_calls`` outcomes were
recorded and they show that the host fails at least ``failure_rate`` percent of its requests
(resilience4j's time-based sliding window, with its minimum number of calls).

"Show" is judged with 95% confidence: the lower bound of the Wilson score interval of the
window's failure rate must reach ``failure_rate``. Compared as is, the rate of a few outcomes
swings far from the host's: at 50% after 5 outcomes, a host failing a fifth of its requests
opened the circuit in 12% of 100-outcome windows and one failing 40% in 64%
(``bench/faults.py``'s ``flaky`` mix opened it within a second, and every call after failed
with ``CircuitOpen``). With the bound: 0% and 2%, while 5 failures of 5, 9 of 10 or 15 of 20
open it. A window of failures only opens it as soon as it holds ``minimum_calls``.

Requests still out count as not failed yet (``allow`` counts a request in flight until its
outcome is recorded). A 503 or a refused connection comes back at once while an answer takes
the index's latency, so a burst's first outcomes are its failures: counted alone, 5 quick 503s
of a burst of 10 to an index failing 30% of its requests opened the circuit (a loopback mix of
instant 503s and 200 ms answers did in 3 runs of 4).

OPEN fails fast for ``reset_timeout`` seconds; then HALF_OPEN lets ``half_open_probes`` requests
through at a time: one success closes the circuit (with an empty window), one failure opens it
again for another ``reset_timeout``.

A rate, not N in a row: a host that fails a fifth of its requests while answering the rest is
degraded, not down, and callers are better served by retries than by a closed door; a host
that fails every request still opens the circuit after ``minimum_calls`` of them. What counts
as a failure is the caller's decision (:mod:`autodocs.index.fetch`: only the host's own
failures); anything else is recorded as neutral and never enters the window.

The window is kept as ``_BUCKETS`` buckets of equal width (as resilience4j's per-second
buckets), so its memory is bounded whatever the traffic; outcomes leave it a bucket at a time.

Hand-written because the maintained async breakers do not fit: purgatory and pybreaker count
consecutive failures (no rate, no window), purgatory's half-open state admits every request
(no probe limit) and measures time with the wall clock, and neither can say how long until the
next probe, which our errors report as ``retry_after_s``.
"""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["CircuitBreaker", "CircuitState", "WindowCounts", "failure_rate_floor"]

#: The window's resolution: outcomes age out in steps of ``window / _BUCKETS``.
_BUCKETS = 10
#: The normal quantile of the confidence a failure rate is judged with (two-sided 95%).
_Z = 1.96


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


@dataclass(frozen=True)
class WindowCounts:
    """Outcomes recorded in the sliding window: all of them, and the failures among them."""

    calls: int
    failures: int


def failure_rate_floor(counts: WindowCounts) -> float:
    """The failure rate (0-1) the host has at least, with 95% confidence, from ``counts``: the
    lower bound of the Wilson score interval (0 for an empty window)."""
    if counts.calls <= 0:
        return 0.0
    n = counts.calls
    rate = counts.failures / n
    z2 = _Z * _Z
    spread = _Z * math.sqrt(rate * (1 - rate) / n + z2 / (4 * n * n))
    return (rate + z2 / (2 * n) - spread) / (1 + z2 / n)


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        minimum_calls: int,
        failure_rate: float,
        window: float,
        reset_timeout: float,
        half_open_probes: int = 1,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, CircuitState, CircuitState], None] | None = None,
    ) -> None:
        self.name = name
        self._minimum_calls = minimum_calls
        self._failure_rate = failure_rate
        self._window = window  # pragma: no mutate: never read (the bucket width is computed from window)
        self._bucket_width = window / _BUCKETS
        self._reset_timeout = reset_timeout
        self._probes_allowed = half_open_probes
        self._clock = clock
        self._on_change = on_change
        self._state = CircuitState.CLOSED
        self._buckets: deque[list[int]] = deque()  # [bucket number, calls, failures], oldest first
        self._opened_at = 0.0  # pragma: no mutate: read only when OPEN, and opening sets it
        self._probes_in_flight = 0  # pragma: no mutate: HALF_OPEN comes only after OPEN, which zeroes it
        self._in_flight = 0  # requests let through whose outcome is not recorded yet
        self.times_opened = 0
        #: The window when the circuit last opened (what the ``CircuitOpen`` message reports).
        self.opened_on = WindowCounts(0, 0)

    @property
    def state(self) -> CircuitState:
        return self._state_now()

    def _state_now(self) -> CircuitState:
        # Apart from the property because mutation testing (scripts/mutation.sh) skips decorated functions.
        if self._state is CircuitState.OPEN and self._clock() - self._opened_at >= self._reset_timeout:
            self._move(CircuitState.HALF_OPEN)
        return self._state

    def window_counts(self) -> WindowCounts:
        """The outcomes recorded within the last ``window`` seconds."""
        self._expire(self._bucket_now())
        return WindowCounts(sum(b[1] for b in self._buckets), sum(b[2] for b in self._buckets))

    def retry_after(self) -> float:
        """Seconds until a request may be let through again (0 when one may go now)."""
        state = self.state
        if state is CircuitState.OPEN:
            return max(0.0, self._reset_timeout - (self._clock() - self._opened_at))
        if state is CircuitState.HALF_OPEN and self._probes_in_flight >= self._probes_allowed:
            return min(1.0, self._reset_timeout)
        return 0.0

    def allow(self) -> bool:
        """Whether a request may go now (it is then in flight until its outcome is recorded); a
        HALF_OPEN admission counts as a probe in flight."""
        state = self.state
        if state is CircuitState.HALF_OPEN and self._probes_in_flight < self._probes_allowed:
            self._probes_in_flight += 1
        elif state is not CircuitState.CLOSED:
            return False
        self._in_flight += 1
        return True

    def in_flight(self) -> int:
        """Requests let through whose outcome is not recorded yet."""
        return self._in_flight

    def _settle(self) -> None:
        self._in_flight = max(0, self._in_flight - 1)

    def record_success(self) -> None:
        self._settle()
        if self._state is CircuitState.HALF_OPEN:
            self._move(CircuitState.CLOSED)
        elif self._state is CircuitState.CLOSED:
            self._count(failed=False)

    def record_failure(self) -> None:
        """A request's failure of the host itself; opens the circuit once the window shows the rate."""
        self._settle()
        self.record_silence()

    def record_silence(self) -> None:
        """A failure of the host seen by a whole race (every request silent past the host's
        limit), recorded once its requests have ended: it settles none of them."""
        if self._state is CircuitState.HALF_OPEN:
            self._open(WindowCounts(1, 1))
        elif self._state is CircuitState.CLOSED:
            self._count(failed=True)
            counts = self.window_counts()
            judged = WindowCounts(counts.calls + self._in_flight, counts.failures)  # what is out may yet succeed
            if counts.calls >= self._minimum_calls and (
                judged.failures == judged.calls or failure_rate_floor(judged) * 100 >= self._failure_rate
            ):
                self._open(counts)

    def record_neutral(self) -> None:
        """An outcome that says nothing about the host's health (cancelled, rate-limited, our own
        time limit): it stays out of the window, and frees a half-open probe."""
        self._settle()
        if self._state is CircuitState.HALF_OPEN:
            self._probes_in_flight = max(0, self._probes_in_flight - 1)

    def _bucket_now(self) -> int:
        return math.floor(self._clock() / self._bucket_width)

    def _expire(self, bucket: int) -> None:
        while self._buckets and self._buckets[0][0] <= bucket - _BUCKETS:
            self._buckets.popleft()

    def _count(self, *, failed: bool) -> None:
        bucket = self._bucket_now()
        self._expire(bucket)
        if not self._buckets or self._buckets[-1][0] != bucket:
            self._buckets.append([bucket, 0, 0])
        last = self._buckets[-1]
        last[1] += 1
        last[2] += failed

    def _open(self, counts: WindowCounts) -> None:
        self._opened_at = self._clock()
        self.times_opened += 1
        self.opened_on = counts
        self._move(CircuitState.OPEN)

    def _move(self, new: CircuitState) -> None:
        old, self._state = self._state, new
        if new is not CircuitState.HALF_OPEN:  # pragma: no mutate: probes count only in HALF_OPEN, entered from OPEN
            self._probes_in_flight = 0
        if new is not CircuitState.CLOSED:
            self._buckets.clear()  # a closed circuit starts from an empty window
        if old is not new and self._on_change is not None:
            self._on_change(self.name, old, new)
