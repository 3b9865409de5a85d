"""The resilient fetch path under injected faults: behaviour and exact upstream request counts."""

from __future__ import annotations

import asyncio
import email.utils
import time
from pathlib import Path

import pytest

from autodocs.deadline import deadline_scope
from autodocs.errors import CircuitOpen, UpstreamResponseInvalid, UpstreamTimeout, UpstreamUnavailable
from autodocs.index import IndexClient
from autodocs.index.breaker import CircuitBreaker, CircuitState
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex, Fault


def client(index: FakeIndex, tmp_path: Path, **overrides: object) -> IndexClient:
    return IndexClient(make_settings(index, tmp_path, **overrides))


async def warm_latency(index_client: IndexClient, count: int = 10) -> None:
    """Give the latency tracker enough samples to derive hedge delays and attempt limits."""
    for _ in range(count):
        await index_client.fetch_project("six")


async def test_503_with_retry_after_waits_at_least_that_long(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.status(503, retry_after="1"), times=1)
    index_client = client(fake_index, tmp_path, max_retry_delay=5.0)
    started = time.monotonic()
    await index_client.fetch_project("six")
    assert time.monotonic() - started >= 1.0
    assert fake_index.request_count == 2
    await index_client.aclose()


async def test_retry_after_as_http_date_is_honoured(fake_index: FakeIndex, tmp_path: Path) -> None:
    when = email.utils.formatdate(time.time() + 2, usegmt=True)
    fake_index.set_fault(Fault.status(429, retry_after=when), times=1)
    index_client = client(fake_index, tmp_path, max_retry_delay=5.0)
    started = time.monotonic()
    await index_client.fetch_project("six")
    assert time.monotonic() - started >= 0.9  # HTTP-dates have one-second resolution
    assert fake_index.request_count == 2
    await index_client.aclose()


async def test_retry_after_beyond_the_deadline_fails_at_once(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.status(503, retry_after="20"))
    index_client = client(fake_index, tmp_path, max_retry_delay=30.0)
    started = time.monotonic()
    with deadline_scope(2.0), pytest.raises(UpstreamUnavailable) as caught:
        await index_client.fetch_project("six")
    assert time.monotonic() - started < 1.0
    assert caught.value.to_dict()["retry_after_s"] == 20.0
    assert fake_index.request_count == 1
    await index_client.aclose()


async def test_a_hung_attempt_is_hedged_and_the_hedge_answers(fake_index: FakeIndex, tmp_path: Path) -> None:
    index_client = client(fake_index, tmp_path)
    await warm_latency(index_client)
    fake_index.reset()
    fake_index.set_fault(Fault.hang(), times=1)
    started = time.monotonic()
    releases, _ = await index_client.fetch_project("six")
    assert releases.name == "six"
    assert time.monotonic() - started < 1.0, "the hedge answers long before any timeout"
    assert fake_index.request_count == 2
    assert index_client.fetcher.hedges_sent == 1
    await index_client.aclose()


async def test_hang_then_close_is_retried(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.hang_then_close(0.05), times=1)
    index_client = client(fake_index, tmp_path)
    await index_client.fetch_project("six")
    assert fake_index.request_count == 2
    await index_client.aclose()


async def test_a_body_cut_short_every_time_gets_every_retry_then_a_clear_error(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    """Cut short is the connection failing mid-answer, as passing as a reset before it: it gets
    MAX_RETRY_ATTEMPTS, where a whole answer that is not JSON gets one retry."""
    fake_index.set_fault(Fault.truncated())
    index_client = client(fake_index, tmp_path, max_retry_attempts=3)
    with pytest.raises(UpstreamUnavailable) as caught:
        await index_client.fetch_project("six")
    assert "cut short" in caught.value.message
    assert fake_index.request_count == 4
    await index_client.aclose()


async def test_a_whole_answer_that_is_not_json_is_retried_once(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.invalid_json())
    index_client = client(fake_index, tmp_path, max_retry_attempts=3)
    with pytest.raises(UpstreamResponseInvalid):
        await index_client.fetch_project("six")
    assert fake_index.request_count == 2
    await index_client.aclose()


async def test_truncated_body_once_then_whole_succeeds(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.truncated(), times=1)
    index_client = client(fake_index, tmp_path)
    await index_client.fetch_project("six")
    assert fake_index.request_count == 2
    await index_client.aclose()


async def test_slow_drip_that_keeps_sending_completes(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.slow_drip(2048, 0.02), times=1)
    index_client = client(fake_index, tmp_path, attempt_timeout=1.0)
    releases, _ = await index_client.fetch_project("six")
    assert releases.name == "six"
    assert fake_index.count("/six/") >= 1
    await index_client.aclose()


async def test_index_that_hangs_forever_ends_within_the_deadline(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.hang())
    index_client = client(fake_index, tmp_path, attempt_timeout=10.0, request_timeout=2.0)
    started = time.monotonic()
    with deadline_scope(2.0), pytest.raises(UpstreamTimeout):
        await index_client.fetch_project("six")
    assert time.monotonic() - started < 3.0
    await index_client.aclose()


async def test_circuit_opens_fails_fast_probes_and_recovers(fake_index: FakeIndex, tmp_path: Path) -> None:
    index_client = client(
        fake_index, tmp_path, circuit_breaker_threshold=3, circuit_breaker_timeout=0.5, max_retry_attempts=0
    )
    fake_index.set_fault(Fault.status(503))
    for _ in range(3):
        with pytest.raises(UpstreamUnavailable):
            await index_client.fetch_project("six")
    assert fake_index.request_count == 3
    assert index_client.fetcher.breaker_states() == {"127.0.0.1": "open"}

    with pytest.raises(CircuitOpen) as caught:
        await index_client.fetch_project("six")
    assert fake_index.request_count == 3, "an open circuit sends nothing"
    assert 0 < caught.value.to_dict()["retry_after_s"] <= 0.5
    assert caught.value.retryable

    await asyncio.sleep(0.55)
    fake_index.clear_faults()
    await index_client.fetch_project("six")  # the half-open probe
    assert fake_index.request_count == 4
    assert index_client.fetcher.breaker_states() == {"127.0.0.1": "closed"}
    await index_client.aclose()


async def test_404s_do_not_open_the_circuit(fake_index: FakeIndex, tmp_path: Path) -> None:
    from autodocs.errors import PackageNotFound

    index_client = client(fake_index, tmp_path, circuit_breaker_threshold=2)
    for _ in range(5):
        with pytest.raises(PackageNotFound):
            await index_client.fetch_project("no-such-package-xyz")
    assert index_client.fetcher.breaker_states() == {"127.0.0.1": "closed"}
    await index_client.aclose()


def state_of(breaker: CircuitBreaker) -> CircuitState:
    return breaker.state


def test_breaker_half_open_admits_a_limited_number_of_probes() -> None:
    now = [0.0]
    changes: list[tuple[str, str]] = []
    breaker = CircuitBreaker(
        "h",
        minimum_calls=2,
        failure_rate=50,
        window=30,
        reset_timeout=10,
        half_open_probes=1,
        clock=lambda: now[0],
        on_change=lambda _, old, new: changes.append((old.value, new.value)),
    )
    breaker.record_failure()
    assert breaker.allow()
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN and not breaker.allow()
    assert breaker.retry_after() == 10
    now[0] = 10.0
    assert breaker.allow(), "the first probe goes through"
    assert not breaker.allow(), "a second concurrent probe does not"
    breaker.record_failure()
    assert breaker.state is CircuitState.OPEN, "a failed probe reopens"
    now[0] = 20.0
    assert breaker.allow()
    breaker.record_success()
    # read afresh: mypy keeps the OPEN narrowed by the assert above across the method calls
    assert state_of(breaker) is CircuitState.CLOSED and breaker.allow()
    assert changes == [
        ("closed", "open"),
        ("open", "half_open"),
        ("half_open", "open"),
        ("open", "half_open"),
        ("half_open", "closed"),
    ]


async def test_an_index_slower_than_the_first_attempt_limit_still_answers(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.latency_s = 2.5  # above the 2 s limit used before any answer has been seen
    index_client = client(fake_index, tmp_path, attempt_timeout=10.0, request_timeout=20.0)
    with deadline_scope(20.0):
        releases, _ = await index_client.fetch_project("six")
    assert releases.name == "six"
    await index_client.aclose()


async def test_a_bursts_quick_failures_do_not_open_the_circuit_while_its_answers_are_on_their_way(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    """A 503 comes back at once, an answer after the index's latency: the first 5 outcomes of a
    burst of 10 are its 5 failures. Counted alone they are 5 of 5; with the 5 requests still out
    counted as not failed yet, they show no more than that half may fail."""
    failing, answering = (
        ["six", "idna", "click", "flask", "rich"],
        ["attrs", "httpx", "requests", "urllib3", "pydantic"],
    )
    for name in failing:
        fake_index.set_fault(Fault.status(503), path_contains=f"/{name}/")
    fake_index.set_fault(Fault.latency(0.3))
    index_client = client(fake_index, tmp_path, max_retry_attempts=0, max_concurrent=10)
    outcomes = await asyncio.gather(
        *(index_client.fetch_project(name) for name in failing + answering), return_exceptions=True
    )
    assert [type(o).__name__ for o in outcomes[:5]] == ["UpstreamUnavailable"] * 5
    assert not any(isinstance(o, BaseException) for o in outcomes[5:]), outcomes[5:]
    assert index_client.fetcher.circuit_openings() == {"127.0.0.1": 0}
    await index_client.aclose()
