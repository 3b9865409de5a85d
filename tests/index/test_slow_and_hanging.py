"""Slow and hanging indexes: what counts against the host, hedges that supply speed and patience.

Short variants of the scenarios of ``bench/faults.py`` (latencies and limits scaled down
through settings); each test names the rule it holds.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from autodocs.deadline import deadline_scope
from autodocs.errors import (
    CircuitOpen,
    RateLimited,
    UpstreamError,
    UpstreamResponseInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from autodocs.index import IndexClient
from autodocs.index.breaker import CircuitBreaker, CircuitState
from autodocs.index.fetch import NotFound
from autodocs.index.race import record_outcome
from tests.conftest import make_settings
from tests.support.fake_index import DEFAULT_DATA_DIR, FakeIndex, Fault

NAMES = sorted(json.loads((DEFAULT_DATA_DIR / "MANIFEST.json").read_text())["projects"])


@pytest.mark.parametrize(
    ("error", "counted"),
    [
        (UpstreamUnavailable("refused, reset or 5xx"), "failure"),
        (UpstreamResponseInvalid("not JSON"), "failure"),
        (UpstreamTimeout("our limit, or the call's deadline"), "neutral"),
        (asyncio.CancelledError(), "neutral"),
        (RateLimited("429"), "neutral"),
        (UpstreamResponseInvalid("too large", retryable=False), "success"),
        (NotFound(), "success"),
        (None, "success"),
    ],
)
def test_only_the_hosts_own_failures_count_against_it(error: BaseException | None, counted: str) -> None:
    breaker = CircuitBreaker("h", minimum_calls=1, failure_rate=50, window=60, reset_timeout=60)
    record_outcome(breaker, error)
    counts = breaker.opened_on if breaker.state is CircuitState.OPEN else breaker.window_counts()
    assert {(0, 0): "neutral", (1, 0): "success", (1, 1): "failure"}[(counts.calls, counts.failures)] == counted


def client(index: FakeIndex, tmp_path: Path, **overrides: object) -> IndexClient:
    return IndexClient(make_settings(index, tmp_path, **overrides))


async def warm_latency(index_client: IndexClient, count: int = 10) -> None:
    for _ in range(count):
        await index_client.fetch_project("six")


async def timed_fetch(index_client: IndexClient, name: str, deadline: float) -> float:
    started = time.monotonic()
    with deadline_scope(deadline):
        await index_client.fetch_project(name)
    return time.monotonic() - started


async def test_a_slow_but_answering_index_never_opens_the_circuit(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.latency_s = 1.3  # past the 1 s hedge delay used before any answer: hedges go out and lose
    index_client = client(
        fake_index, tmp_path, max_concurrent=4, circuit_breaker_threshold=2, circuit_breaker_silence=2.5
    )
    durations = await asyncio.gather(*(timed_fetch(index_client, name, 10.0) for name in NAMES[:12]))
    assert index_client.fetcher.breaker_states() == {"127.0.0.1": "closed"}
    assert index_client.fetcher.hedges_sent > 0
    assert max(durations) < 3 * 1.3 + 1.0, "3x MAX_CONCURRENT calls: three rounds of the latency"
    await index_client.aclose()


async def test_one_call_to_a_slow_index_takes_its_latency_not_a_give_up_and_a_retry(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.latency_s = 1.3
    index_client = client(fake_index, tmp_path, circuit_breaker_silence=2.5)
    assert await timed_fetch(index_client, "six", 10.0) < 1.3 + 0.5
    assert fake_index.request_count == 2, "the first request and its hedge; no retry"
    await index_client.aclose()


async def test_an_index_that_turned_slow_is_answered_and_our_give_ups_do_not_count(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    index_client = client(fake_index, tmp_path, circuit_breaker_threshold=2, circuit_breaker_silence=2.5)
    await warm_latency(index_client)  # hedge after 0.2 s, give hedges up after 0.5 s
    fake_index.latency_s = 1.2
    durations = await asyncio.gather(*(timed_fetch(index_client, name, 10.0) for name in NAMES[:4]))
    assert max(durations) < 1.2 + 0.7, "the first request of each call was kept and answered"
    assert index_client.fetcher.breaker_states() == {"127.0.0.1": "closed"}
    await index_client.aclose()


async def test_an_index_that_accepts_connections_and_never_answers_opens_the_circuit(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.set_fault(Fault.hang())
    index_client = client(
        fake_index, tmp_path, circuit_breaker_threshold=3, circuit_breaker_silence=0.5, max_retry_attempts=0
    )
    calls = 0
    with pytest.raises(CircuitOpen):
        for calls in range(1, 5):  # noqa: B007 - the count is the point
            with pytest.raises(UpstreamTimeout):
                await timed_fetch(index_client, "six", 1.5)  # three times the silence limit
    assert calls == 4, "three calls silent past the limit open the circuit; the fourth fails at once"
    await index_client.aclose()


async def test_give_ups_at_the_calls_deadline_do_not_count_against_the_host(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.set_fault(Fault.hang())
    index_client = client(fake_index, tmp_path, circuit_breaker_threshold=1, max_retry_attempts=0)
    for _ in range(3):
        with pytest.raises(UpstreamTimeout):
            await timed_fetch(index_client, "six", 0.8)  # shorter than the 5 s silence limit
    assert index_client.fetcher.breaker_states() == {"127.0.0.1": "closed"}
    await index_client.aclose()


async def test_before_any_answer_a_silent_first_request_is_hedged_after_one_second(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.set_fault(Fault.hang(), times=1)
    index_client = client(fake_index, tmp_path)
    took = await timed_fetch(index_client, "six", 10.0)
    assert 0.95 <= took < 1.6
    assert (fake_index.request_count, index_client.fetcher.hedges_sent) == (2, 1)
    await index_client.aclose()


async def test_a_winning_hedge_cancels_the_hung_request_at_once_and_frees_its_slot(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    index_client = client(fake_index, tmp_path, max_concurrent=1)
    await warm_latency(index_client)
    fake_index.set_fault(Fault.hang(), times=1)
    hedged = asyncio.create_task(timed_fetch(index_client, "six", 10.0))
    await asyncio.sleep(0.05)  # the hung request holds the only slot
    queued = await timed_fetch(index_client, "idna", 10.0)
    assert await hedged < 0.45, "the call ended with its hedge's answer"
    assert queued < 0.45, "the queued call did not wait for the hung request's limit (0.5 s)"
    await asyncio.sleep(0.3)
    assert fake_index.hanging == 0, "the hung request was cancelled when its hedge won"
    await index_client.aclose()


async def test_hedges_and_retries_overlap_so_a_short_deadline_holds_six_tries(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    index_client = client(fake_index, tmp_path)
    await warm_latency(index_client)
    fake_index.reset()
    fake_index.set_fault(Fault.hang(), times=5)
    await timed_fetch(index_client, "six", 3.0)
    assert fake_index.request_count == 6
    await index_client.aclose()


async def test_with_half_the_requests_hanging_a_short_deadline_completes_97_percent(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    index_client = client(fake_index, tmp_path)
    await warm_latency(index_client)
    fake_index.set_fault(Fault.hang(), probability=0.5)

    async def completes(name: str) -> bool:
        try:
            await timed_fetch(index_client, name, 4.0)
        except UpstreamError:
            return False
        return True

    done = await asyncio.gather(*(completes(name) for name in NAMES[:40]))
    assert sum(done) >= 39
    assert index_client.fetcher.breaker_states() == {"127.0.0.1": "closed"}
    await index_client.aclose()


async def test_a_late_hedge_timer_postpones_the_hedge_but_never_drops_it(fake_index: FakeIndex, tmp_path: Path) -> None:
    index_client = client(fake_index, tmp_path)
    await warm_latency(index_client)
    fake_index.set_fault(Fault.hang(), times=1)
    call = asyncio.create_task(timed_fetch(index_client, "six", 4.0))
    await asyncio.sleep(0.1)
    time.sleep(0.35)  # the event loop is stuck past the hedge's time
    assert await call < 2.0, "hedged after all, not left waiting on the hung connection"
    assert index_client.fetcher.hedges_sent == 1
    await index_client.aclose()


async def test_calls_succeed_again_within_the_open_time_after_the_index_returns(tmp_path: Path) -> None:
    with FakeIndex() as index:
        index_client = client(
            index, tmp_path, circuit_breaker_threshold=2, circuit_breaker_timeout=0.5, max_retry_attempts=0
        )
        await index_client.fetch_project("six")
        index.go_down()
        failures: set[str] = set()
        stop_at = time.monotonic() + 2.2  # probes fail and reopen the circuit several times
        while time.monotonic() < stop_at:
            try:
                await index_client.fetch_project("six")
            except UpstreamError as exc:
                failures.add(type(exc).__name__)
            await asyncio.sleep(0.05)
        assert failures == {"UpstreamUnavailable", "CircuitOpen"}
        index.come_back()
        back_at = time.monotonic()
        while True:
            try:
                await index_client.fetch_project("six")
                break
            except UpstreamError:
                assert time.monotonic() - back_at < 0.5 + 0.5, "within the open time (and a probe) of its return"
                await asyncio.sleep(0.05)
        await index_client.aclose()


async def test_after_a_host_error_the_race_does_not_wait_on_a_silent_request(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    index_client = client(fake_index, tmp_path)
    await warm_latency(index_client)
    fake_index.reset()
    fake_index.set_fault(Fault.hang(), times=1)
    fake_index.set_fault(Fault.status(503), times=1)  # the hedge's answer
    assert await timed_fetch(index_client, "six", 10.0) < 1.5, "retried after the 503, not after 5 s of silence"
    assert fake_index.request_count == 3
    await index_client.aclose()


async def test_a_project_context_with_half_the_requests_hanging_completes_97_percent_within_5_seconds(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    """Two rounds of a 40-package context at a 5 s deadline: 38 packages whose requests hang
    half of the time, and 2 whose requests all hang, queued last. The index's recent answers
    have a tail (the give-up limit, 6 x p99, is 1.2 s; the hedge delay 0.2 s). The 38 complete
    >= 97%, and each of the 2 still gets 6 tries (about 6 give 97-98% under half hangs; one
    try per give-up limit made 5): a race's tries overlap instead of queuing behind each
    other's give-up limits, and hung requests do not hold the slots their hedges wait for."""
    from autodocs.service import AutoDocsService

    half, doomed = NAMES[:38], NAMES[38:40]
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("\n".join(half + doomed) + "\n")
    completed = 0
    tries: list[int] = []
    for round_ in range(2):
        fake_index.reset()
        for name in doomed:
            fake_index.set_fault(Fault.hang(), path_contains=f"/{name}/")
        fake_index.set_fault(Fault.hang(), probability=0.5)
        settings = make_settings(fake_index, tmp_path / f"cache{round_}", request_timeout=5.0)
        started = time.monotonic()
        async with AutoDocsService.running(settings) as service:
            for seconds in [0.02] * 97 + [0.2] * 3:  # answers seen lately: 20 ms, with a 3% tail at 200 ms
                service.index.fetcher.latency.observe(seconds)
            result = await service.project_context(str(project))
            circuit = service.index.fetcher.breaker_states()
        assert time.monotonic() - started < 5.0 + 2.0
        assert circuit == {"127.0.0.1": "closed"}
        completed += sum(page.name in half for page in result.succeeded)
        tries += [sum(f"/{name}/" in path for _, path in fake_index.requests) for name in doomed]
    assert completed >= 0.97 * 2 * len(half), f"{completed} of {2 * len(half)}"
    assert min(tries) >= 6, f"tries of a package whose requests all hang: {tries}"
