"""The fetcher's connection pool, counted from a loopback index's side (they kill the mutants
of ``JsonFetcher.__init__``'s pool limits: docs/mutation.md).

The request slots are the one bound on requests in flight (:mod:`autodocs.index.slots`): the
pool never makes a request a slot admitted wait. What the pool bounds is idle connections:
``MAX_CONCURRENT`` of them kept for reuse, each for ``INDEX_KEEPALIVE`` seconds. Each test has an
index of its own, so that no other test's connections are counted."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from autodocs.index.fetch import JsonFetcher
from autodocs.index.slots import RequestSlots
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex

#: Above httpx's default cap of 100 connections (a transport built without the fetcher's limits).
MANY = 110


@pytest.fixture
def index() -> Iterator[FakeIndex]:
    with FakeIndex() as own:
        yield own


async def settle(condition: Callable[[], bool], within: float) -> bool:
    """Whether ``condition`` holds within ``within`` seconds (asked every 10 ms)."""
    ends = time.monotonic() + within
    while not condition() and time.monotonic() < ends:
        await asyncio.sleep(0.01)
    return condition()


async def test_every_request_a_slot_admitted_reaches_the_index_at_once(index: FakeIndex, tmp_path: Path) -> None:
    """More slots than twice MAX_CONCURRENT (the calls' slots, patience slots and background
    work's own add up so) and than httpx's default pool: every admitted request is on the wire
    before the first answer, none waits for a connection."""
    url = index.add_file("pkg-1.0.tar.gz", b"abc")
    index.latency_s = 3.0  # no answer before every request is in
    fetcher = JsonFetcher(make_settings(index, tmp_path / "cache", max_concurrent=2), slots=RequestSlots(MANY))
    downloads = [asyncio.create_task(fetcher.download(url, tmp_path / f"pkg{n}", max_bytes=10)) for n in range(MANY)]
    try:
        await settle(lambda: index.request_count == MANY or any(d.done() for d in downloads), within=3.0)
        arrived, answered = index.request_count, sum(d.done() for d in downloads)
        sizes = await asyncio.gather(*downloads)
    finally:
        await fetcher.aclose()
    assert (arrived, answered) == (MANY, 0)
    assert sizes == [3] * MANY and index.connections == MANY


async def test_after_a_burst_max_concurrent_idle_connections_are_kept_for_reuse(
    index: FakeIndex, tmp_path: Path
) -> None:
    """30 requests end at once (more than httpx's default of 20 idle connections): 3 connections,
    MAX_CONCURRENT, stay open and the next request goes on one of them."""
    url = index.add_file("pkg-1.0.tar.gz", b"abc")
    index.latency_s = 0.5  # the 30 requests overlap: 30 connections
    fetcher = JsonFetcher(make_settings(index, tmp_path / "cache", max_concurrent=3), slots=RequestSlots(30))
    try:
        await asyncio.gather(*(fetcher.download(url, tmp_path / f"pkg{n}", max_bytes=10) for n in range(30)))
        opened = index.connections
        await settle(lambda: index.open_connections <= 3, within=5.0)
        kept = index.open_connections
        await fetcher.download(url, tmp_path / "again", max_bytes=10)
    finally:
        await fetcher.aclose()
    assert (opened, kept) == (30, 3)
    assert index.connections == 30, "the next request reuses a kept connection"


async def test_an_idle_connection_is_reused_within_index_keepalive_and_replaced_after_it(
    index: FakeIndex, tmp_path: Path
) -> None:
    """INDEX_KEEPALIVE=1: asked again after 0.3 s idle, the index is asked on the same
    connection; after 1.5 s idle, on a new one (httpx's own default would keep it 5 s)."""
    fetcher = JsonFetcher(make_settings(index, tmp_path / "cache", index_keepalive=1.0, max_retry_attempts=0))
    connections: list[int] = []
    try:
        for idle in (0.0, 0.3, 1.5):
            await asyncio.sleep(idle)
            await fetcher.get_json(f"{index.url}/six/json")
            connections.append(index.connections)
    finally:
        await fetcher.aclose()
    assert connections == [1, 1, 2]
