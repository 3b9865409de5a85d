"""A circuit breaker per upstream host: stop calling a host that keeps failing.

CLOSED → OPEN after ``threshold`` consecutive failures; OPEN fails fast for ``reset_timeout``
seconds; then HALF_OPEN lets ``half_open_probes`` requests through at a time — one success
closes the circuit, one failure opens it again for another ``reset_timeout``.

"Consecutive" under concurrency: a failed attempt counts only if no attempt to the host has
succeeded since it began. Ten requests in flight to a host that hangs on half of them time out
together; while the other half keep succeeding the host is not down, and the circuit stays
closed. A host that answers nothing opens it after ``threshold`` failures, as it should.

Hand-written because the maintained async breakers do not fit: purgatory's half-open state
admits every request (no probe limit), it measures time with the wall clock, and it cannot say
how long until the next probe, which our errors report as ``retry_after_s``; pybreaker does not
count failures of async calls.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from enum import StrEnum

__all__ = ["CircuitBreaker", "CircuitState"]


class CircuitState(StrEnum):
    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        threshold: int,
        reset_timeout: float,
        half_open_probes: int = 1,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[str, CircuitState, CircuitState], None] | None = None,
    ) -> None:
        self.name = name
        self._threshold = threshold
        self._reset_timeout = reset_timeout
        self._probes_allowed = half_open_probes
        self._clock = clock
        self._on_change = on_change
        self._state = CircuitState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probes_in_flight = 0
        self._last_success = float("-inf")
        self.times_opened = 0

    @property
    def state(self) -> CircuitState:
        if self._state is CircuitState.OPEN and self._clock() - self._opened_at >= self._reset_timeout:
            self._move(CircuitState.HALF_OPEN)
        return self._state

    @property
    def consecutive_failures(self) -> int:
        return self._failures

    def retry_after(self) -> float:
        """Seconds until a request may be let through again (0 when one may go now)."""
        state = self.state
        if state is CircuitState.OPEN:
            return max(0.0, self._reset_timeout - (self._clock() - self._opened_at))
        if state is CircuitState.HALF_OPEN and self._probes_in_flight >= self._probes_allowed:
            return min(1.0, self._reset_timeout)
        return 0.0

    def allow(self) -> bool:
        """Whether a request may go now; a HALF_OPEN admission counts as a probe in flight."""
        state = self.state
        if state is CircuitState.CLOSED:
            return True
        if state is CircuitState.HALF_OPEN and self._probes_in_flight < self._probes_allowed:
            self._probes_in_flight += 1
            return True
        return False

    def now(self) -> float:
        """The breaker's clock: pass its value at an attempt's start to :meth:`record_failure`."""
        return self._clock()

    def record_success(self) -> None:
        self._last_success = self._clock()
        self._failures = 0
        if self._state is CircuitState.HALF_OPEN:
            self._probes_in_flight = max(0, self._probes_in_flight - 1)
            self._move(CircuitState.CLOSED)

    def record_failure(self, started_at: float | None = None) -> None:
        """An attempt failed; it counts unless the host has answered since ``started_at``."""
        if started_at is not None and self._last_success > started_at and self._state is CircuitState.CLOSED:
            return
        self._failures += 1
        if self._state is CircuitState.HALF_OPEN:
            self._probes_in_flight = max(0, self._probes_in_flight - 1)
            self._open()
        elif self._state is CircuitState.CLOSED and self._failures >= self._threshold:
            self._open()

    def record_neutral(self) -> None:
        """An attempt that says nothing about the host's health (cancelled, rate-limited)."""
        if self._state is CircuitState.HALF_OPEN:
            self._probes_in_flight = max(0, self._probes_in_flight - 1)

    def _open(self) -> None:
        self._opened_at = self._clock()
        self.times_opened += 1
        self._move(CircuitState.OPEN)

    def _move(self, new: CircuitState) -> None:
        old, self._state = self._state, new
        if new is not CircuitState.HALF_OPEN:
            self._probes_in_flight = 0
        if old is not new and self._on_change is not None:
            self._on_change(self.name, old, new)
