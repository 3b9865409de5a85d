"""Read-ahead: a docs call starts resolving as soon as its message is read, and the call takes over.

Against the loopback fake index and a real SQLite cache; the last tests go through
``autodocs serve`` with the SDK's stdio client.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import stdio_client

from autodocs.config import Settings
from autodocs.errors import PackageNotFound
from autodocs.service import AutoDocsService
from tests.support.fake_index import FakeIndex, Fault
from tests.support.tool_results import tool_error
from tests.test_mcp_stdio import server_params


def call_line(tool: str, arguments: dict[str, Any], request_id: int = 7) -> str:
    message = {
        "jsonrpc": "2.0",
        "id": request_id,
        "method": "tools/call",
        "params": {"name": tool, "arguments": arguments},
    }
    return json.dumps(message) + "\n"


async def requests_arrived(index: FakeIndex, count: int) -> None:
    """Until the fake index has seen ``count`` requests (they arrive on its own threads)."""
    with anyio.fail_after(5):
        while index.request_count < count:
            await asyncio.sleep(0.005)


async def test_the_call_takes_over_the_read_ahead_with_one_index_request(
    service: AutoDocsService, fake_index: FakeIndex
) -> None:
    started = service.read_ahead("requests", None)
    assert started is not None
    await asyncio.wait_for(started, 5)  # resolves once the index request is on its way
    await asyncio.shield(service.read_aheads.pending("requests", None))  # and now it is done
    page = await service.get_package_docs("requests")  # its outcome: fetched for this call
    assert page.source == "index"
    assert fake_index.request_count == 1
    assert service.cached_states.batches == 0  # one message at a time: its store read is not batched
    assert (await service.get_package_docs("requests")).source == "cache"
    assert fake_index.request_count == 1


async def test_a_pinned_read_ahead_and_its_context_call(service: AutoDocsService, fake_index: FakeIndex) -> None:
    assert service.read_ahead("requests", "==2.31.0") is not None
    result = await service.get_docs_with_context("requests", "==2.31.0", max_dependencies=1)
    assert result.package.version == "2.31.0"
    assert fake_index.count("/requests/") == 1


async def test_a_failure_is_the_calls_failure_without_asking_again(
    service: AutoDocsService, fake_index: FakeIndex
) -> None:
    assert service.read_ahead("no-such-package-here", None) is not None
    with pytest.raises(PackageNotFound):
        await service.get_package_docs("no-such-package-here")
    assert fake_index.request_count == 1


async def test_nothing_is_read_ahead_for_what_memory_answers_or_the_call_will_reject(
    service: AutoDocsService, fake_index: FakeIndex
) -> None:
    await service.get_package_docs("six")
    await service.get_package_docs("attrs", "==23.2.0")
    before = fake_index.request_count
    assert service.read_ahead("six", None) is None
    assert service.read_ahead("attrs", "==23.2.0") is None
    assert service.read_ahead("../../etc/passwd", None) is None
    assert service.read_ahead("requests", ">>>2") is None
    await asyncio.sleep(0.05)
    assert fake_index.request_count == before


async def test_an_unclaimed_read_ahead_is_cached_then_dropped(
    service: AutoDocsService, fake_index: FakeIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("autodocs.usecases.readahead._READ_AHEAD_KEEP_S", 0.05)
    started = service.read_ahead("click", None)
    assert started is not None
    await asyncio.sleep(0.5)  # its call never came (say, it failed the SDK's validation)
    assert service.read_ahead("click", None) is None  # its document is in memory now
    page = await service.get_package_docs("click")
    assert page.source == "cache"
    assert fake_index.request_count == 1


async def test_a_refresh_forgets_a_read_ahead(service: AutoDocsService, fake_index: FakeIndex) -> None:
    assert service.read_ahead("flask", None) is not None
    await asyncio.wait_for(asyncio.shield(service.read_aheads.pending("flask", None)), 5)  # done, not yet claimed
    await service.refresh("flask")
    await service.get_package_docs("flask")
    assert fake_index.count("/flask/") == 2  # the call after the refresh asked the index itself


async def test_shutdown_cancels_a_read_ahead_still_waiting(settings: Settings, fake_index: FakeIndex) -> None:
    fake_index.set_fault(Fault.hang())
    async with AutoDocsService.running(settings) as service:
        started = service.read_ahead("rich", None)
        assert started is not None
        await asyncio.wait_for(started, 5)
        waiting = service.read_aheads.pending("rich", None)
        closing = asyncio.get_running_loop().time()
    assert asyncio.get_running_loop().time() - closing < 5  # not the hung request's 30 s timeout
    assert waiting.cancelled()  # nothing of it outlives the service (its store is closed)


async def test_a_cancelled_call_cancels_the_read_ahead_it_took_over(
    service: AutoDocsService, fake_index: FakeIndex
) -> None:
    fake_index.set_fault(Fault.hang())
    started = service.read_ahead("rich", None)
    assert started is not None
    await asyncio.wait_for(started, 5)
    waiting = service.read_aheads.pending("rich", None)
    call = asyncio.ensure_future(service.get_package_docs("rich"))
    await asyncio.sleep(0.1)
    call.cancel()
    await asyncio.gather(call, return_exceptions=True)
    await asyncio.sleep(0)
    assert waiting.cancelled()


async def test_over_stdio_a_cold_call_asks_the_index_once(cli_env: dict[str, str], fake_index: FakeIndex) -> None:
    with anyio.fail_after(60):
        async with stdio_client(server_params(cli_env)) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            for name, constraint in (("requests", "==2.31.0"), ("httpx", "<0.28"), ("click", None)):
                before = fake_index.request_count
                result = await session.call_tool(
                    "get_package_docs", {"package_name": name, "version_constraint": constraint}
                )
                assert not result.is_error, result
                assert result.structured_content["source"] == "index"
                expected = 2 if constraint == "<0.28" else 1  # the project page, then the version's
                assert fake_index.request_count - before == expected
            before = fake_index.request_count
            missing = await session.call_tool("get_package_docs", {"package_name": "no-such-package-here"})
            assert missing.is_error
            assert tool_error(missing)["type"] == "PackageNotFound"
            assert fake_index.request_count - before == 1
            bad = await session.call_tool("get_package_docs", {"package_name": "requests; rm -rf /"})
            assert tool_error(bad)["type"] == "InvalidPackageName"


async def test_a_read_ahead_of_a_stored_document_serves_its_call_from_the_cache(
    settings: Settings, fake_index: FakeIndex
) -> None:
    async with AutoDocsService.running(settings) as first:
        await first.get_package_docs("attrs", "==23.2.0")
    fake_index.reset()
    async with AutoDocsService.running(settings) as second:  # memory empty, the store has it
        started = second.read_ahead("attrs", "==23.2.0")
        assert started is not None
        await asyncio.wait_for(started, 5)  # resolved as the store read starts, or as it ends
        page = await second.get_package_docs("attrs", "==23.2.0")
    assert page.source == "cache" and page.version == "23.2.0"
    assert fake_index.request_count == 0
