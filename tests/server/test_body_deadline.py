"""BodyDeadline: how long the next chunk of a request body may take (the clock is passed in)."""

from __future__ import annotations

from autodocs.server.connections import BodyDeadline, ConnectionLimits

LIMITS = ConnectionLimits(header_timeout=10, body_timeout=10, keep_alive_timeout=5, max_connections=10)


def test_a_silent_body_gets_the_body_timeout_and_no_more() -> None:
    deadline = BodyDeadline(LIMITS, now=0.0)
    assert deadline.wait_at_most(0.0) == 10
    assert deadline.wait_at_most(4.0) == 6  # the whole body is on the clock too


def test_a_trickle_of_one_byte_every_two_seconds_runs_out_at_about_the_body_timeout() -> None:
    deadline = BodyDeadline(LIMITS, now=0.0)
    now = 0.0
    while deadline.wait_at_most(now) >= 2:
        now += 2
        deadline.received(1)
    assert 8 <= now <= 10.1


def test_a_steady_body_faster_than_the_minimum_rate_never_runs_out() -> None:
    deadline = BodyDeadline(LIMITS, now=0.0)
    for second in range(1, 120):
        deadline.received(1000)  # 1 kB/s, twice the minimum rate
        assert deadline.wait_at_most(float(second)) == 10
