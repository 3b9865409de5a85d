"""Per-plan index clients: one per distinct plan, reused, evicted least recently used, closed.

Connections are counted where they end: on the loopback index, which sees a client's
keep-alive connections until that client closes them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autodocs.config import Settings
from autodocs.index.pool import IndexClients
from autodocs.index.slots import RequestSlots
from tests.conftest import make_settings
from tests.support.dists import FixtureProject
from tests.support.fake_index import FakeIndex


@pytest.fixture(scope="module")
def indexes(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[FakeIndex]]:
    servers = [FakeIndex(data_dir=tmp_path_factory.mktemp("empty")).start() for _ in range(3)]
    for server in servers:
        server.registry.add(FixtureProject("tinylib", "1.0.0"))
    yield servers
    for server in servers:
        server.stop()


@pytest.fixture
def settings(indexes: list[FakeIndex], tmp_path: Path) -> Settings:
    return make_settings(indexes[0], tmp_path / "cache")


async def wait_until_closed(index: FakeIndex, within: float = 5.0) -> int:
    """The index's open connections once they have drained (the server notices a close at once)."""
    deadline = time.monotonic() + within
    while index.open_connections and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return index.open_connections


async def test_a_plan_gets_one_client_that_later_calls_reuse(settings: Settings, indexes: list[FakeIndex]) -> None:
    clients = IndexClients(settings, slots=RequestSlots(4), capacity=2)
    plan = (indexes[1].simple_url,)
    async with clients.lease(plan) as first:
        await first.fetch_project("tinylib")
    async with clients.lease(plan) as second:
        await second.fetch_project("tinylib")
    assert second is first and clients.built == 1
    await clients.aclose()


async def test_the_least_recently_used_client_is_closed_with_its_connections(
    settings: Settings, indexes: list[FakeIndex]
) -> None:
    clients = IndexClients(settings, slots=RequestSlots(4), capacity=2)
    for index in indexes:  # three plans, room for two: the first one's client goes
        async with clients.lease((index.simple_url,)) as client:
            await client.fetch_project("tinylib")
    assert (len(clients), clients.built, clients.closed) == (2, 3, 1)
    assert await wait_until_closed(indexes[0]) == 0, "the evicted client's keep-alive connection is closed"
    assert indexes[1].open_connections == 1 and indexes[2].open_connections == 1  # still kept for reuse
    await clients.aclose()
    assert clients.closed == 3
    assert [await wait_until_closed(index) for index in indexes] == [0, 0, 0]


async def test_a_client_evicted_while_a_call_uses_it_is_closed_when_the_call_ends(
    settings: Settings, indexes: list[FakeIndex]
) -> None:
    clients = IndexClients(settings, slots=RequestSlots(4), capacity=1)
    async with clients.lease((indexes[0].simple_url,)) as busy:
        async with clients.lease((indexes[1].simple_url,)) as other:
            await other.fetch_project("tinylib")
        assert clients.closed == 0, "in use: not closed under the call"
        releases, _ = await busy.fetch_project("tinylib")  # still works after its eviction
        assert releases.name == "tinylib"
    assert clients.closed == 1 and await wait_until_closed(indexes[0]) == 0
    await clients.aclose()
    assert clients.closed == 2 and await wait_until_closed(indexes[1]) == 0


async def test_every_plan_client_shares_the_process_request_slots(settings: Settings, indexes: list[FakeIndex]) -> None:
    slots = RequestSlots(2)
    clients = IndexClients(settings, slots=slots, capacity=4)
    async with clients.lease((indexes[1].simple_url,)) as one, clients.lease((indexes[2].simple_url,)) as two:
        assert one is not two and one.fetcher.slots is slots and two.fetcher.slots is slots
    await clients.aclose()


async def test_a_service_closes_its_plan_clients_on_shutdown(settings: Settings, indexes: list[FakeIndex]) -> None:
    from autodocs.service import AutoDocsService

    async with AutoDocsService.running(settings) as service:
        async with service.index_clients.lease((indexes[2].simple_url,)) as client:
            await client.fetch_project("tinylib")
        assert indexes[2].open_connections == 1
    assert service.index_clients.closed == 1 and await wait_until_closed(indexes[2]) == 0


async def test_clients_leased_at_once_beyond_capacity_all_serve_their_calls_then_close(
    settings: Settings, indexes: list[FakeIndex]
) -> None:
    clients = IndexClients(settings, slots=RequestSlots(4), capacity=1)

    async def call(index: FakeIndex) -> str:
        async with clients.lease((index.simple_url,)) as client:
            await asyncio.sleep(0)  # the others lease (and evict) meanwhile
            releases, _ = await client.fetch_project("tinylib")
            return releases.latest

    assert await call(indexes[0]) == "1.0.0"  # kept: the next lease must close it, which awaits
    assert list(await asyncio.gather(call(indexes[1]), call(indexes[2]))) == ["1.0.0"] * 2
    assert (len(clients), clients.closed) == (1, 2)
    await clients.aclose()
    assert [await wait_until_closed(index) for index in indexes] == [0, 0, 0]
