"""The circuit breaker's rules, one per test, on an injected clock (they kill its mutants:
docs/mutation.md). tests/index/test_breaker.py has the failure-rate window's main cases."""

from __future__ import annotations

import tracemalloc

from autodocs.index.breaker import CircuitBreaker, CircuitState, WindowCounts

Change = tuple[str, CircuitState, CircuitState]


class Clock:
    def __init__(self, now: float = 100.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def state(subject: CircuitBreaker) -> CircuitState:
    """The breaker's state read afresh (mypy would otherwise keep an earlier assert's narrowing)."""
    return subject.state


def breaker(
    clock: Clock,
    *,
    minimum_calls: int = 2,
    failure_rate: float = 50,
    window: float = 10,
    reset_timeout: float = 30,
    half_open_probes: int | None = None,
    changes: list[Change] | None = None,
) -> CircuitBreaker:
    def on_change(name: str, old: CircuitState, new: CircuitState) -> None:
        if changes is not None:
            changes.append((name, old, new))

    extra = {} if half_open_probes is None else {"half_open_probes": half_open_probes}
    return CircuitBreaker(
        "index.example",
        minimum_calls=minimum_calls,
        failure_rate=failure_rate,
        window=window,
        reset_timeout=reset_timeout,
        clock=clock,
        on_change=on_change,
        **extra,
    )


def open_circuit(subject: CircuitBreaker, failures: int = 2) -> None:
    for _ in range(failures):
        subject.record_failure()
    assert state(subject) is CircuitState.OPEN


def half_open(subject: CircuitBreaker, clock: Clock, reset_timeout: float = 30) -> None:
    open_circuit(subject)
    clock.now += reset_timeout
    assert state(subject) is CircuitState.HALF_OPEN


def test_a_new_breaker_is_closed_and_lets_requests_through_at_once() -> None:
    subject = breaker(Clock())
    assert state(subject) is CircuitState.CLOSED
    assert subject.allow()
    assert subject.retry_after() == 0.0


def test_a_new_breaker_has_never_opened() -> None:
    subject = breaker(Clock())
    assert subject.times_opened == 0
    assert subject.opened_on == WindowCounts(0, 0)


def test_times_opened_counts_each_opening() -> None:
    clock = Clock()
    subject = breaker(clock)
    half_open(subject, clock)
    assert subject.allow()
    subject.record_failure()
    assert subject.times_opened == 2


def test_an_open_circuit_refuses_requests() -> None:
    subject = breaker(Clock())
    open_circuit(subject)
    assert not subject.allow()


def test_retry_after_counts_down_the_open_time() -> None:
    clock = Clock(100.0)
    subject = breaker(clock, reset_timeout=30)
    open_circuit(subject)
    clock.now = 110.0
    assert subject.retry_after() == 20.0


def test_in_the_last_second_of_the_open_time_retry_after_is_what_is_left() -> None:
    clock = Clock(100.0)
    subject = breaker(clock, reset_timeout=30)
    open_circuit(subject)
    clock.now = 129.75
    assert subject.retry_after() == 0.25


def test_the_circuit_stays_open_until_reset_timeout_has_passed() -> None:
    clock = Clock(100.0)
    subject = breaker(clock, reset_timeout=30)
    open_circuit(subject)
    clock.now = 129.9
    assert state(subject) is CircuitState.OPEN
    clock.now = 130.0
    assert state(subject) is CircuitState.HALF_OPEN


def test_retry_after_is_zero_when_a_probe_may_go() -> None:
    clock = Clock()
    subject = breaker(clock)
    half_open(subject, clock)
    assert subject.retry_after() == 0.0


def test_a_half_open_circuit_admits_one_probe_by_default() -> None:
    clock = Clock()
    subject = breaker(clock)
    half_open(subject, clock)
    assert subject.allow()
    assert not subject.allow()


def test_half_open_probes_sets_how_many_probes_go_at_once() -> None:
    clock = Clock()
    subject = breaker(clock, half_open_probes=2)
    half_open(subject, clock)
    assert [subject.allow() for _ in range(3)] == [True, True, False]


def test_while_the_probe_is_out_retry_after_is_one_second() -> None:
    clock = Clock()
    subject = breaker(clock, reset_timeout=30)
    half_open(subject, clock)
    subject.allow()
    assert subject.retry_after() == 1.0


def test_while_the_probe_is_out_retry_after_never_exceeds_reset_timeout() -> None:
    clock = Clock()
    subject = breaker(clock, reset_timeout=0.5)
    half_open(subject, clock, reset_timeout=0.5)
    subject.allow()
    assert subject.retry_after() == 0.5


def test_a_probe_that_succeeds_closes_the_circuit() -> None:
    clock = Clock()
    subject = breaker(clock)
    half_open(subject, clock)
    subject.allow()
    subject.record_success()
    assert state(subject) is CircuitState.CLOSED
    assert subject.allow()


def test_a_probe_that_fails_opens_the_circuit_for_another_reset_timeout() -> None:
    clock = Clock()
    subject = breaker(clock, reset_timeout=30)
    half_open(subject, clock)
    subject.allow()
    subject.record_failure()
    assert state(subject) is CircuitState.OPEN
    assert subject.retry_after() == 30.0
    assert subject.opened_on == WindowCounts(calls=1, failures=1)


def test_a_neutral_probe_outcome_frees_its_slot() -> None:
    clock = Clock()
    subject = breaker(clock)
    half_open(subject, clock)
    assert subject.allow()
    subject.record_neutral()
    assert state(subject) is CircuitState.HALF_OPEN
    assert subject.allow()


def test_each_neutral_outcome_frees_exactly_one_probe_slot() -> None:
    clock = Clock()
    subject = breaker(clock, half_open_probes=2)
    half_open(subject, clock)
    subject.allow()
    subject.allow()
    subject.record_neutral()
    assert [subject.allow(), subject.allow()] == [True, False]


def test_a_neutral_outcome_with_no_probe_out_frees_nothing_extra() -> None:
    clock = Clock()
    subject = breaker(clock)
    half_open(subject, clock)
    subject.record_neutral()
    assert [subject.allow(), subject.allow()] == [True, False]


def test_on_change_hears_each_transition_with_the_breakers_name() -> None:
    clock = Clock()
    changes: list[Change] = []
    subject = breaker(clock, changes=changes)
    half_open(subject, clock)
    subject.allow()
    subject.record_success()
    assert changes == [
        ("index.example", CircuitState.CLOSED, CircuitState.OPEN),
        ("index.example", CircuitState.OPEN, CircuitState.HALF_OPEN),
        ("index.example", CircuitState.HALF_OPEN, CircuitState.CLOSED),
    ]


def test_outcomes_age_out_over_any_window_length() -> None:
    clock = Clock(0.0)
    subject = breaker(clock, minimum_calls=5, window=60)  # buckets of 6 s
    subject.record_failure()
    clock.now = 59.0
    assert subject.window_counts() == WindowCounts(1, 1)
    clock.now = 60.0
    assert subject.window_counts() == WindowCounts(0, 0)


def test_a_failure_rate_just_below_the_limit_keeps_the_circuit_closed() -> None:
    subject = breaker(Clock(), minimum_calls=5, failure_rate=50)
    for _ in range(51):
        subject.record_success()
    for _ in range(50):
        subject.record_failure()
    assert subject.window_counts() == WindowCounts(calls=101, failures=50)
    assert state(subject) is CircuitState.CLOSED, "50 of 101 is 49.5%"


def test_opening_the_circuit_empties_the_window() -> None:
    subject = breaker(Clock())
    open_circuit(subject)
    assert subject.window_counts() == WindowCounts(0, 0)


def test_the_window_memory_stays_bounded_under_heavy_traffic() -> None:
    subject = breaker(Clock(), minimum_calls=1_000_000)
    subject.record_success()  # the first bucket, allocated before measuring
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20_000):
            subject.record_success()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert subject.window_counts() == WindowCounts(20_001, 0)
    assert grown < 100_000, f"{grown} bytes for 20,000 outcomes within one bucket"
