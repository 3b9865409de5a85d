"""The circuit breaker's rules on an injected clock: a failure rate over a sliding window."""

from __future__ import annotations

from autodocs.index.breaker import CircuitBreaker, CircuitState, WindowCounts


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def breaker(clock: Clock, *, minimum_calls: int = 5, failure_rate: float = 50, window: float = 10) -> CircuitBreaker:
    return CircuitBreaker(
        "h", minimum_calls=minimum_calls, failure_rate=failure_rate, window=window, reset_timeout=30, clock=clock
    )


def test_the_circuit_opens_when_the_failure_rate_reaches_the_limit() -> None:
    subject = breaker(Clock())
    for _ in range(3):
        subject.record_success()
    subject.record_failure()
    subject.record_failure()
    assert subject.state is CircuitState.CLOSED, "2 failures of 5 calls: 40%"
    subject.record_failure()
    assert subject.state is CircuitState.OPEN, "3 failures of 6 calls: 50%"
    assert subject.opened_on == WindowCounts(calls=6, failures=3)


def test_fewer_calls_than_the_minimum_never_open_the_circuit() -> None:
    subject = breaker(Clock(), minimum_calls=5)
    for _ in range(4):
        subject.record_failure()
    assert subject.state is CircuitState.CLOSED, "4 failures in a row, but only 4 calls"
    subject.record_failure()
    assert subject.state is CircuitState.OPEN


def test_a_host_failing_a_fifth_of_its_calls_keeps_the_circuit_closed() -> None:
    subject = breaker(Clock())
    for _ in range(40):
        for _ in range(4):
            subject.record_success()
        subject.record_failure()
    assert subject.state is CircuitState.CLOSED
    assert subject.window_counts() == WindowCounts(calls=200, failures=40)


def test_failures_older_than_the_window_no_longer_count() -> None:
    clock = Clock()
    subject = breaker(clock, window=10)
    for _ in range(4):
        subject.record_failure()
    clock.now = 10.0
    assert subject.window_counts() == WindowCounts(0, 0)
    subject.record_failure()
    assert subject.state is CircuitState.CLOSED, "one failure in the window, below the minimum"


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
    assert subject.state is CircuitState.CLOSED


def test_a_closed_circuit_starts_from_an_empty_window() -> None:
    clock = Clock()
    subject = breaker(clock, minimum_calls=2, window=60)  # longer than the open time (30 s)
    subject.record_failure()
    subject.record_failure()
    assert subject.state is CircuitState.OPEN
    clock.now = 30.0
    assert subject.allow()
    subject.record_success()
    assert subject.state is CircuitState.CLOSED
    subject.record_failure()
    assert subject.state is CircuitState.CLOSED, "the failures before the circuit opened are forgotten"
