"""Inbound rate limiting: per-client token buckets in a table of bounded size."""

from __future__ import annotations

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
