"""How observed answer times set the hedge delay and the give-up limit, one rule per test
(they kill the mutants of autodocs.index.latency: docs/mutation.md)."""

from __future__ import annotations

import pytest

from autodocs.index.latency import INITIAL_HEDGE_DELAY_S, LatencyTracker


def tracker_with(samples: list[float], ceiling: float = 10.0) -> LatencyTracker:
    tracker = LatencyTracker(ceiling)
    for seconds in samples:
        tracker.observe(seconds)
    return tracker


def hundredths(count: int) -> list[float]:
    """0.01, 0.02, ... count/100 s, in an order that is not sorted."""
    return [index / 100 for index in reversed(range(1, count + 1))]


def test_before_any_answer_a_request_is_hedged_after_the_initial_delay() -> None:
    assert LatencyTracker(10.0).hedge_delay() == INITIAL_HEDGE_DELAY_S


def test_before_any_answer_the_hedge_delay_is_at_most_half_the_ceiling() -> None:
    assert LatencyTracker(1.0).hedge_delay() == 0.5


def test_before_any_answer_a_request_is_given_up_only_at_the_ceiling() -> None:
    assert LatencyTracker(7.0).attempt_timeout() == 7.0


def test_the_tracker_is_measured_once_an_answer_is_seen() -> None:
    tracker = LatencyTracker(10.0)
    assert not tracker.measured
    tracker.observe(0.1)
    assert tracker.measured


def test_with_few_answers_the_slowest_sets_both_limits() -> None:
    tracker = tracker_with([0.1, 0.3, 0.2])
    assert tracker.hedge_delay() == pytest.approx(0.9)
    assert tracker.attempt_timeout() == pytest.approx(1.8)


def test_the_hedge_delay_is_three_times_the_p95() -> None:
    assert tracker_with(hundredths(100)).hedge_delay() == pytest.approx(3 * 0.96)


def test_the_attempt_limit_is_six_times_the_p99() -> None:
    # 200 answers of 0.001 .. 0.200 s: the p99 is the 199th, 0.199 s (not the slowest).
    tracker = tracker_with([index / 1000 for index in range(200, 0, -1)])
    assert tracker.attempt_timeout() == pytest.approx(6 * 0.199)


def test_of_21_answers_the_p99_is_the_slowest_and_the_p95_the_slowest_but_one() -> None:
    tracker = tracker_with(hundredths(21))
    assert tracker.attempt_timeout() == pytest.approx(6 * 0.21)
    assert tracker.hedge_delay() == pytest.approx(3 * 0.20)


def test_fast_answers_meet_the_default_floors() -> None:
    tracker = tracker_with([0.01] * 20)
    assert tracker.hedge_delay() == 0.2
    assert tracker.attempt_timeout() == 0.5


def test_the_floors_can_be_set() -> None:
    tracker = LatencyTracker(10.0, hedge_floor=0.3, timeout_floor=0.7)
    for _ in range(20):
        tracker.observe(0.01)
    assert tracker.hedge_delay() == 0.3
    assert tracker.attempt_timeout() == 0.7


def test_slow_answers_meet_the_ceilings() -> None:
    tracker = tracker_with([4.0] * 20, ceiling=10.0)
    assert tracker.hedge_delay() == 5.0, "half the ceiling"
    assert tracker.attempt_timeout() == 10.0


def test_new_answers_move_the_limits_after_they_were_computed() -> None:
    tracker = tracker_with([0.1] * 10)
    assert tracker.attempt_timeout() == pytest.approx(0.6)
    for _ in range(100):
        tracker.observe(1.0)
    assert tracker.attempt_timeout() == pytest.approx(6.0)


def test_only_the_last_256_answers_count() -> None:
    tracker = tracker_with([1.0] * 30 + [0.01] * 256)
    assert tracker.attempt_timeout() == 0.5
    assert tracker.hedge_delay() == 0.2
