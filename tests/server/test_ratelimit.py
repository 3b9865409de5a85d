"""Inbound rate limiting: per-client token buckets in a table of bounded size."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from autodocs.server.ratelimit import RateLimiter


def test_burst_then_refill() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=lambda: now[0])
    assert all(limiter.acquire("a") == 0.0 for _ in range(60))
    wait = limiter.acquire("a")
    assert 0.9 < wait <= 1.0
    assert limiter.acquire("b") == 0.0, "clients do not share a bucket"
    now[0] += 1.0
    assert limiter.acquire("a") == 0.0


def test_table_stays_bounded_whatever_the_number_of_clients() -> None:
    limiter = RateLimiter(60, max_clients=1000)
    for index in range(100_000):
        limiter.acquire(f"client-{index}")
    assert len(limiter) == 1000


def test_least_recently_seen_client_is_evicted_first() -> None:
    limiter = RateLimiter(1, max_clients=2)
    limiter.acquire("old")
    limiter.acquire("busy")
    limiter.acquire("busy")  # busy is now out of tokens and most recent
    limiter.acquire("new")  # evicts "old"
    assert limiter.acquire("busy") > 0, "busy kept its (empty) bucket"


def clock_at(now: list[float]) -> Callable[[], float]:
    return lambda: now[0]


def test_a_new_client_starts_with_a_full_bucket() -> None:
    limiter = RateLimiter(3, clock=clock_at([0.0]))
    assert [limiter.acquire("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert limiter.acquire("a") > 0.0


def test_the_last_whole_token_is_granted() -> None:
    limiter = RateLimiter(2, clock=clock_at([0.0]))
    limiter.acquire("a")
    assert limiter.acquire("a") == 0.0


def test_tokens_refill_at_per_minute_over_sixty_per_second() -> None:
    now = [0.0]
    limiter = RateLimiter(30, clock=clock_at(now))
    for _ in range(30):
        limiter.acquire("a")
    now[0] = 2.0  # 30 a minute: one token every 2 s
    assert limiter.acquire("a") == 0.0
    assert limiter.acquire("a") > 0.0


def test_a_bucket_never_holds_more_than_per_minute_tokens() -> None:
    now = [0.0]
    limiter = RateLimiter(2, clock=clock_at(now))
    limiter.acquire("a")
    now[0] = 3600.0
    assert [limiter.acquire("a") for _ in range(3)][2] > 0.0


def test_wait_is_the_time_until_the_next_whole_token() -> None:
    now = [0.0]
    limiter = RateLimiter(30, clock=clock_at(now))
    for _ in range(30):
        limiter.acquire("a")
    now[0] = 1.0  # half a token back, at one token every 2 s
    assert limiter.acquire("a") == pytest.approx(1.0)


def test_a_refused_call_takes_no_token() -> None:
    now = [0.0]
    limiter = RateLimiter(60, clock=clock_at(now))
    for _ in range(60):
        limiter.acquire("a")
    assert limiter.acquire("a") == pytest.approx(1.0)
    assert limiter.acquire("a") == pytest.approx(1.0)


def test_rejected_counts_each_refused_call_and_no_other() -> None:
    limiter = RateLimiter(1, clock=clock_at([0.0]))
    assert limiter.rejected == 0
    limiter.acquire("a")
    assert limiter.rejected == 0
    limiter.acquire("a")
    limiter.acquire("a")
    assert limiter.rejected == 2


def test_per_minute_is_the_configured_rate() -> None:
    assert RateLimiter(45).per_minute == 45


def test_the_table_holds_exactly_max_clients() -> None:
    limiter = RateLimiter(1, max_clients=3, clock=clock_at([0.0]))
    for client in "abc":
        limiter.acquire(client)
    assert len(limiter) == 3


def test_the_default_table_holds_ten_thousand_clients() -> None:
    limiter = RateLimiter(1, clock=clock_at([0.0]))
    for index in range(10_001):
        limiter.acquire(f"client-{index}")
    assert len(limiter) == 10_000


def test_the_evicted_client_is_the_least_recent_not_the_newest() -> None:
    limiter = RateLimiter(1, max_clients=2, clock=clock_at([0.0]))
    for client in ("a", "b", "c"):  # each now holds an empty bucket; "c" evicts "a"
        limiter.acquire(client)
    assert limiter.acquire("a") == 0.0, "a was forgotten, so it comes back with a full bucket"
    assert limiter.acquire("c") > 0.0, "the newest client kept its empty bucket"
