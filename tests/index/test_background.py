"""Background work's index requests go through slots of their own, never the calls' ones."""

from __future__ import annotations

import asyncio
from pathlib import Path

from autodocs.index.background import admission, background_requests
from autodocs.index.fetch import JsonFetcher
from autodocs.index.slots import RequestSlots
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex, Fault


async def test_inside_the_block_requests_use_its_slots_and_tasks_it_starts_inherit_them() -> None:
    calls, background = RequestSlots(1), RequestSlots(1)
    assert admission(calls) is calls
    with background_requests(background):
        assert admission(calls) is background
        assert await asyncio.ensure_future(asyncio.sleep(0, result=admission(calls))) is background
    assert admission(calls) is calls


async def test_a_background_request_goes_out_while_every_call_slot_is_held(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.add_project("held", {"info": {"name": "held", "version": "1.0"}, "releases": {}, "urls": []})
    fake_index.add_project("quick", {"info": {"name": "quick", "version": "1.0"}, "releases": {}, "urls": []})
    fake_index.set_fault(Fault.latency(3.0), path_contains="/held/")
    fetcher = JsonFetcher(make_settings(fake_index, tmp_path / "cache", max_concurrent=1, max_retry_attempts=0))
    try:
        holder = asyncio.ensure_future(fetcher.get_json(f"{fake_index.url}/held/json"))  # the one call slot, 3 s
        await asyncio.sleep(0.2)
        with background_requests(RequestSlots(1)):
            found = await asyncio.wait_for(fetcher.get_json(f"{fake_index.url}/quick/json"), timeout=1.5)
        assert found["info"]["name"] == "quick"
        queued = asyncio.ensure_future(fetcher.get_json(f"{fake_index.url}/quick/json"))  # a call: waits its turn
        await asyncio.sleep(0.5)
        assert not queued.done(), "outside the block the request waits for the call slot"
        await asyncio.gather(holder, queued)
    finally:
        await fetcher.aclose()
