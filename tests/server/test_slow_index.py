"""A slow but answering index, through the real transports: HTTP server and CLI subprocesses.

Short variants of ``bench/faults.py``'s ``http-3s`` and ``cli-3s``: the index answers every
request in 1.2 s, past the 1 s hedge delay used before any answer, so every first call is
hedged and its hedge loses; none of that may count against the host.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time

import anyio
import httpx

from tests.conftest import autodocs_command
from tests.server.test_http import http_server
from tests.support.fake_index import DEFAULT_DATA_DIR, FakeIndex

LATENCY_S = 1.2
NAMES = sorted(json.loads((DEFAULT_DATA_DIR / "MANIFEST.json").read_text())["projects"])


def slow_env(cli_env: dict[str, str]) -> dict[str, str]:
    # Release docs on: a call waits for a docs set's build only while the download is quick, so a
    # slow index costs it at most that patience (usecases/docsets.py, DocsetLimits).
    breaker = {"AUTODOCS_CIRCUIT_BREAKER_THRESHOLD": "2", "AUTODOCS_CIRCUIT_BREAKER_SILENCE": "2.5"}
    return {**cli_env, **breaker}


async def test_twenty_concurrent_http_calls_on_a_slow_index_all_succeed_with_the_circuit_closed(
    fake_index: FakeIndex, cli_env: dict[str, str]
) -> None:
    fake_index.latency_s = LATENCY_S
    with http_server(slow_env(cli_env)) as server:
        async with httpx.AsyncClient(timeout=30) as client:

            async def call(name: str) -> bool:
                payload = {
                    "jsonrpc": "2.0",
                    "id": 1,
                    "method": "tools/call",
                    "params": {"name": "get_package_docs", "arguments": {"package_name": name}},
                }
                answer = await client.post(
                    f"{server.url}/mcp",
                    json=payload,
                    headers={"Accept": "application/json, text/event-stream"},
                )
                return answer.status_code == 200 and '"isError":true' not in answer.text

            started = time.monotonic()
            with anyio.fail_after(30):
                results = await asyncio.gather(*(call(name) for name in NAMES[:20]))
            took = time.monotonic() - started
            metrics = (await client.get(f"{server.url}/metrics")).text
    assert results == [True] * 20
    assert took < 2 * LATENCY_S + 3.0, "two rounds of MAX_CONCURRENT requests, plus the server's own work"
    assert 'autodocs_circuit_state{host="127.0.0.1"} 0.0' in metrics


def test_one_cli_call_on_a_slow_index_takes_its_latency_not_a_give_up_and_a_retry(
    fake_index: FakeIndex, cli_env: dict[str, str]
) -> None:
    fake_index.latency_s = LATENCY_S
    started = time.monotonic()
    env = {**slow_env(cli_env), "AUTODOCS_RELEASE_DOCS": "false"}  # counts the document path's requests
    done = subprocess.run([*autodocs_command(), "docs", "six"], env=env, capture_output=True, text=True, timeout=60)
    took = time.monotonic() - started
    assert done.returncode == 0, done.stderr
    assert fake_index.request_count == 2, "the first request and its hedge, no retry"
    assert took < LATENCY_S + 2.5, "the latency and the command's start-up"
