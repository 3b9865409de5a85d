"""The circuit breaker's rules on an injected clock: a failure rate over a sliding window."""

from __future__ import annotations

import math

import pytest

from autodocs.index.breaker import CircuitBreaker, CircuitState, WindowCounts, failure_rate_floor


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def state(subject: CircuitBreaker) -> CircuitState:
    """The breaker's state read afresh (mypy would otherwise keep an earlier assert's narrowing)."""
    return subject.state


def breaker(clock: Clock, *, minimum_calls: int = 5, failure_rate: float = 50, window: float = 10) -> CircuitBreaker:
    return CircuitBreaker(
        "h", minimum_calls=minimum_calls, failure_rate=failure_rate, window=window, reset_timeout=30, clock=clock
    )


def test_the_circuit_opens_once_the_window_shows_the_failure_rate_with_95_percent_confidence() -> None:
    subject = breaker(Clock())
    for _ in range(2):
        subject.record_success()
    for _ in range(8):
        subject.record_failure()
    assert state(subject) is CircuitState.CLOSED, "8 failures of 10 calls: at least 49.0% failing, not 50%"
    subject.record_failure()
    assert state(subject) is CircuitState.OPEN, "9 failures of 11 calls: at least 51.8% failing"
    assert subject.opened_on == WindowCounts(calls=11, failures=9)


def test_a_few_unlucky_outcomes_of_a_degraded_host_do_not_open_the_circuit() -> None:
    """3 failures of the first 5 (60%), from a host failing far fewer: a closed door would fail
    every call for CIRCUIT_BREAKER_TIMEOUT, where retries serve them."""
    subject = breaker(Clock())
    for outcome in (False, True, False, True, False):
        subject.record_success() if outcome else subject.record_failure()
    assert subject.window_counts() == WindowCounts(calls=5, failures=3)
    assert state(subject) is CircuitState.CLOSED


def test_a_window_of_failures_only_opens_the_circuit_at_the_minimum_whatever_the_confidence() -> None:
    subject = breaker(Clock(), minimum_calls=2)
    subject.record_failure()
    assert state(subject) is CircuitState.CLOSED
    subject.record_failure()
    assert state(subject) is CircuitState.OPEN, "2 of 2 failed (a floor of 34%, below 50%)"


def test_a_lower_failure_rate_opens_the_circuit_on_fewer_failures() -> None:
    subject = breaker(Clock(), failure_rate=20)
    for _ in range(8):
        subject.record_success()
    for _ in range(5):
        subject.record_failure()
    assert state(subject) is CircuitState.CLOSED, "5 of 13: at least 17.7% failing"
    subject.record_failure()
    assert state(subject) is CircuitState.OPEN, "6 of 14: at least 21.4% failing"


def _wilson_floor(failures: int, calls: int) -> float:
    """The Wilson score interval's lower bound in its other textbook form (z = 1.96)."""
    z, p = 1.96, failures / calls
    return (2 * calls * p + z * z - z * math.sqrt(z * z + 4 * calls * p * (1 - p))) / (2 * (calls + z * z))


@pytest.mark.parametrize(
    ("failures", "calls", "floor"),
    [(5, 5, 0.5655), (8, 10, 0.4902), (9, 10, 0.5958), (1, 10, 0.0179), (10, 100, 0.0552), (0, 7, 0.0), (1, 1, 0.2065)],
)
def test_the_failure_rate_floor_is_the_wilson_lower_bound_at_95_percent(
    failures: int, calls: int, floor: float
) -> None:
    assert failure_rate_floor(WindowCounts(calls, failures)) == pytest.approx(floor, abs=5e-5)
    assert failure_rate_floor(WindowCounts(calls, failures)) == pytest.approx(_wilson_floor(failures, calls))


def _one_success_then_failures(subject: CircuitBreaker, failures: int) -> None:
    subject.record_success()
    for _ in range(failures):
        subject.record_failure()


def test_a_floor_exactly_at_the_failure_rate_opens_the_circuit() -> None:
    exactly = failure_rate_floor(WindowCounts(calls=10, failures=9)) * 100
    subject = breaker(Clock(), failure_rate=exactly)
    _one_success_then_failures(subject, 9)
    assert state(subject) is CircuitState.OPEN


def test_a_floor_just_below_the_failure_rate_keeps_the_circuit_closed() -> None:
    subject = breaker(Clock(), failure_rate=59.7)  # 9 of 10 show at least 59.58%
    _one_success_then_failures(subject, 9)
    assert state(subject) is CircuitState.CLOSED


def test_an_empty_window_shows_no_failure_rate() -> None:
    assert failure_rate_floor(WindowCounts(0, 0)) == 0.0


def test_fewer_calls_than_the_minimum_never_open_the_circuit() -> None:
    subject = breaker(Clock(), minimum_calls=5)
    for _ in range(4):
        subject.record_failure()
    assert state(subject) is CircuitState.CLOSED, "4 failures in a row, but only 4 calls"
    subject.record_failure()
    assert state(subject) is CircuitState.OPEN


def test_a_host_failing_a_fifth_of_its_calls_keeps_the_circuit_closed() -> None:
    subject = breaker(Clock())
    for _ in range(40):
        for _ in range(4):
            subject.record_success()
        subject.record_failure()
    assert state(subject) is CircuitState.CLOSED
    assert subject.window_counts() == WindowCounts(calls=200, failures=40)


def test_failures_older_than_the_window_no_longer_count() -> None:
    clock = Clock()
    subject = breaker(clock, window=10)
    for _ in range(4):
        subject.record_failure()
    clock.now = 10.0
    assert subject.window_counts() == WindowCounts(0, 0)
    subject.record_failure()
    assert state(subject) is CircuitState.CLOSED, "one failure in the window, below the minimum"


def test_the_window_slides_a_bucket_at_a_time() -> None:
    clock = Clock()
    subject = breaker(clock, window=10)
    subject.record_failure()
    clock.now = 5.0
    subject.record_failure()
    clock.now = 9.5
    assert subject.window_counts().failures == 2
    clock.now = 10.5
    assert subject.window_counts().failures == 1, "the first has left, the second has not"


def test_neutral_outcomes_never_enter_the_window() -> None:
    subject = breaker(Clock(), minimum_calls=2)
    for _ in range(10):
        subject.record_neutral()
    subject.record_failure()
    assert subject.window_counts() == WindowCounts(1, 1)
    assert state(subject) is CircuitState.CLOSED


def test_a_closed_circuit_starts_from_an_empty_window() -> None:
    clock = Clock()
    subject = breaker(clock, minimum_calls=2, window=60)  # longer than the open time (30 s)
    subject.record_failure()
    subject.record_failure()
    assert state(subject) is CircuitState.OPEN
    clock.now = 30.0
    assert subject.allow()
    subject.record_success()
    assert state(subject) is CircuitState.CLOSED
    subject.record_failure()
    assert state(subject) is CircuitState.CLOSED, "the failures before the circuit opened are forgotten"


def test_requests_still_out_count_as_not_failed_yet() -> None:
    subject = breaker(Clock())
    for _ in range(10):
        assert subject.allow()
    for _ in range(8):
        subject.record_failure()
    assert state(subject) is CircuitState.CLOSED, "8 of 10 failed, 2 still out: at least 49.0% failing"
    subject.record_failure()
    assert state(subject) is CircuitState.OPEN, "9 of 10 failed, 1 still out: at least 59.6% failing"
    assert subject.opened_on == WindowCounts(calls=9, failures=9)


def test_a_window_of_failures_opens_at_the_minimum_only_with_nothing_still_out() -> None:
    subject = breaker(Clock(), minimum_calls=2)
    for _ in range(3):
        subject.allow()
    subject.record_failure()
    subject.record_failure()
    assert state(subject) is CircuitState.CLOSED, "2 of 2 failed, but a third is still out"
    subject.record_failure()
    assert state(subject) is CircuitState.OPEN


def test_in_flight_counts_what_allow_lets_through_until_its_outcome_is_recorded() -> None:
    subject = breaker(Clock())
    for _ in range(3):
        subject.allow()
    assert subject.in_flight() == 3
    subject.record_success()
    subject.record_neutral()
    subject.record_failure()
    assert subject.in_flight() == 0
    subject.record_neutral()
    assert subject.in_flight() == 0, "never below zero"


def test_a_silence_counts_a_failure_and_settles_no_request() -> None:
    subject = breaker(Clock())
    subject.allow()
    subject.record_silence()
    assert subject.in_flight() == 1
    assert subject.window_counts() == WindowCounts(calls=1, failures=1)


def test_an_open_circuit_lets_nothing_through_and_adds_nothing_in_flight() -> None:
    subject = breaker(Clock(), minimum_calls=1)
    subject.record_failure()
    assert state(subject) is CircuitState.OPEN
    assert not subject.allow()
    assert subject.in_flight() == 0


def test_a_half_open_probe_is_in_flight_too() -> None:
    clock = Clock()
    subject = breaker(clock, minimum_calls=1)
    subject.record_failure()
    clock.now = 30.0
    assert subject.allow()
    assert subject.in_flight() == 1
    assert not subject.allow(), "one probe at a time"
    assert subject.in_flight() == 1
