"""Start-up over stdio imports only what ``initialize`` needs; the first tool call opens the rest.

Run as a host runs it: ``python -m autodocs serve`` as a real subprocess (with ``-X importtime``
so the test sees every module it loads). Timing is measured in ``bench/startup.py``, not here.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, cast

import pytest

from autodocs.config import Settings
from autodocs.errors import CacheError, ServerShuttingDown
from autodocs.server.service_slot import ServiceSlot
from tests.server.test_stdio import INITIALIZE, INITIALIZED, LIST_TOOLS

#: Needed by tool calls, never to say hello: the index's HTTP stack, the API reader, the
#: store's drivers (SQLite, PostgreSQL), the HTTP server's metrics, the README and docs parsers;
#: and of AutoDocs itself, the service, its use cases, the store and the manifest readers (the
#: tools name only their reply models).
NOT_NEEDED_TO_START = (
    "autodocs.service",
    "autodocs.usecases.context",
    "autodocs.usecases.docs",
    "autodocs.cache.sqlite",
    "autodocs.manifests.scan",
    "autodocs.manifests.locks",
    "sqlite3",
    "griffe",
    "psycopg",
    "psycopg_pool",
    "prometheus_client",
    "truststore",
    "httpx",
    "stamina",
    "docutils",
    "markdown_it",
)


def _imported_modules(importtime_log: str) -> set[str]:
    names = set()
    for line in importtime_log.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip())
    return names


def _serve_and_close(cli_env: dict[str, str], *messages: str) -> tuple[list[dict[str, object]], set[str]]:
    process = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "autodocs", "serve"],
        input="".join(message + "\n" for message in messages),
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert process.returncode == 0, process.stderr[-2000:]
    replies = [json.loads(line) for line in process.stdout.splitlines() if line.strip()]
    return replies, _imported_modules(process.stderr)


def _loaded(modules: set[str]) -> list[str]:
    loaded = modules | {module.split(".")[0] for module in modules}
    return sorted(name for name in NOT_NEEDED_TO_START if name in loaded)


def test_initialize_and_tools_list_load_no_tool_call_dependencies(cli_env: dict[str, str]) -> None:
    replies, modules = _serve_and_close(cli_env, INITIALIZE, LIST_TOOLS)
    assert [reply["id"] for reply in replies] == [1, 2]
    assert len(replies[1]["result"]["tools"]) >= 10  # type: ignore[index]
    assert _loaded(modules) == []


def test_the_initialized_notification_opens_the_service_in_the_background(cli_env: dict[str, str]) -> None:
    replies, modules = _serve_and_close(cli_env, INITIALIZE, INITIALIZED, LIST_TOOLS)
    assert [reply["id"] for reply in replies] == [1, 2]
    opened = {
        "autodocs.usecases.context",
        "sqlite3",
        "truststore",
        "httpx",
        "prometheus_client",
        "docutils",
        "markdown_it",
    }
    assert opened <= set(_loaded(modules)), "opened without a tool call"


def test_first_tool_call_opens_the_service_and_answers(cli_env: dict[str, str]) -> None:
    call = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 3,
            "method": "tools/call",
            "params": {"name": "get_package_docs", "arguments": {"package_name": "requests", "max_tokens": 400}},
        }
    )
    replies, modules = _serve_and_close(cli_env, INITIALIZE, INITIALIZED, call)
    result = cast(dict[str, Any], replies[1]["result"])
    assert result.get("isError") is not True, result
    assert result["structuredContent"]["name"] == "requests"
    assert "truststore" in modules  # the index client was opened by the call


async def test_concurrent_first_calls_share_one_opening(settings: Settings) -> None:
    slot = ServiceSlot(settings)
    async with slot.serving(on_first_call=True):
        assert slot.service is None
        first, second = await asyncio.gather(slot.get(), slot.get())
        assert first is second is slot.service
    assert slot.service is None
    with pytest.raises(ServerShuttingDown):
        await slot.get()


async def test_a_failed_opening_is_the_callers_error_and_the_next_call_tries_again(
    settings: Settings, tmp_path: Path
) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    slot = ServiceSlot(settings.model_copy(update={"cache_dir": blocker}))
    async with slot.serving(on_first_call=True):
        with pytest.raises(CacheError):
            await slot.get()
        blocker.unlink()
        assert (await slot.get()) is slot.service


async def test_a_failed_warm_up_leaves_the_next_call_to_open_the_service(settings: Settings, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    slot = ServiceSlot(settings.model_copy(update={"cache_dir": blocker}))
    async with slot.serving(on_first_call=True):
        warming = slot.warm_up()
        assert warming is not None and slot.warm_up() is None, "one opening at a time"
        (outcome,) = await asyncio.gather(warming, return_exceptions=True)
        assert isinstance(outcome, CacheError)
        blocker.unlink()
        assert (await slot.get()) is slot.service is not None
        assert slot.warm_up() is None, "already open"
