"""`autodocs serve --transport http` as a real subprocess, driven by the SDK's HTTP client and raw sockets."""

from __future__ import annotations

import http.client
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
import httpx2
import pytest
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client
from prometheus_client.parser import text_string_to_metric_families

from tests.support.fake_index import FakeIndex
from tests.support.tool_results import tool_error

TOKEN = "s3cret-token-for-tests"
ACCEPT = {"Accept": "application/json, text/event-stream"}
LIST_TOOLS = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}


@dataclass
class Server:
    process: subprocess.Popen[str]
    url: str
    stderr: list[str] = field(default_factory=list)

    def log_text(self) -> str:
        return "\n".join(self.stderr)


@contextmanager
def http_server(
    env: dict[str, str],
    *args: str,
    cwd: Path | None = None,
    host: str = "127.0.0.1",
    preexec_fn: Callable[[], None] | None = None,
) -> Iterator[Server]:
    process = subprocess.Popen(
        [sys.executable, "-m", "autodocs", "serve", "--transport", "http", "--host", host, "--port", "0", *args],
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=preexec_fn,
    )
    assert process.stderr is not None
    lines: list[str] = []
    port = None
    deadline = time.monotonic() + 30
    while port is None and time.monotonic() < deadline:
        line = process.stderr.readline()
        if not line:
            break
        lines.append(line.rstrip())
        if '"http.listening"' in line:
            port = json.loads(line)["port"]
    if port is None:
        process.kill()
        raise AssertionError("server did not start:\n" + "\n".join(lines))
    reader = threading.Thread(target=lambda: lines.extend(raw.rstrip() for raw in process.stderr), daemon=True)  # type: ignore[union-attr]
    reader.start()
    server = Server(process, f"http://{host}:{port}", lines)
    try:
        yield server
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        reader.join(timeout=5)


def headers(token: str | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"} if token else {}


async def call_tool(url: str, name: str, arguments: dict[str, Any], token: str | None = None) -> Any:
    async with (
        httpx2.AsyncClient(headers=headers(token), timeout=60) as client,
        streamable_http_client(f"{url}/mcp", http_client=client) as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        return await session.call_tool(name, arguments)


async def test_tools_over_http_and_metrics_count_them(cli_env: dict[str, str]) -> None:
    with http_server(cli_env) as server:
        with anyio.fail_after(60):
            async with (
                httpx2.AsyncClient(timeout=60) as client,
                streamable_http_client(f"{server.url}/mcp", http_client=client) as (read, write),
                ClientSession(read, write) as session,
            ):
                await session.initialize()
                names = {tool.name for tool in (await session.list_tools()).tools}
                assert {"get_package_docs", "health_check", "ready_check", "get_metrics"} <= names
                docs = await session.call_tool(
                    "get_package_docs", {"package_name": "requests", "version_constraint": "==2.31.0"}
                )
                assert not docs.is_error and docs.structured_content["version"] == "2.31.0"
                bad = await session.call_tool("get_package_docs", {"package_name": "../../etc/passwd"})
                assert tool_error(bad)["type"] == "InvalidPackageName"
                ready = await session.call_tool("ready_check", {})
                assert ready.structured_content["ready"] is True
        text = httpx.get(f"{server.url}/metrics").text
        samples = {
            (sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }
        assert samples[("autodocs_tool_calls_total", (("outcome", "ok"), ("tool", "get_package_docs")))] == 1
        assert samples[("autodocs_tool_calls_total", (("outcome", "error"), ("tool", "get_package_docs")))] == 1
        assert samples[("autodocs_upstream_requests_total", (("outcome", "ok"),))] >= 1
        assert ("autodocs_cache_size_bytes", ()) in samples
        health = httpx.get(f"{server.url}/health").json()
        assert health["status"] == "ok"
        assert health["in_flight"] == 0, "an idle server: a probe is not a call in flight"
        assert httpx.get(f"{server.url}/ready").json()["in_flight"] == 0


async def test_auth_origin_and_open_health(cli_env: dict[str, str]) -> None:
    with http_server({**cli_env, "AUTODOCS_AUTH_TOKEN": TOKEN}) as server:
        assert httpx.get(f"{server.url}/health").status_code == 200
        assert httpx.get(f"{server.url}/ready").status_code == 401
        assert httpx.get(f"{server.url}/ready", headers=headers("wrong")).status_code == 401
        assert httpx.get(f"{server.url}/metrics").status_code == 401
        assert httpx.post(f"{server.url}/mcp", json={}).status_code == 401
        assert httpx.get(f"{server.url}/ready", headers=headers(TOKEN)).status_code == 200
        evil = {**headers(TOKEN), "Origin": "http://evil.example"}
        assert httpx.get(f"{server.url}/ready", headers=evil).status_code == 403
        local = {**headers(TOKEN), "Origin": "http://localhost:3000"}
        assert httpx.get(f"{server.url}/ready", headers=local).status_code == 200
        with anyio.fail_after(60):
            result = await call_tool(server.url, "get_cache_stats", {}, token=TOKEN)
        assert not result.is_error
    assert "Traceback" not in server.log_text()


def test_sequential_keep_alive_requests_do_not_wait_for_a_delayed_ack(cli_env: dict[str, str]) -> None:
    """Without TCP_NODELAY on accepted sockets every keep-alive answer waits ~40 ms (Nagle + delayed ACK)."""
    with http_server(cli_env) as server:
        connection = http.client.HTTPConnection("127.0.0.1", int(server.url.rsplit(":", 1)[1]), timeout=10)
        latencies = []
        for _ in range(30):
            started = time.perf_counter()
            connection.request("GET", "/health")
            response = connection.getresponse()
            assert response.status == 200
            response.read()
            latencies.append(time.perf_counter() - started)
        connection.close()
    assert statistics.median(latencies) < 0.02, f"median {statistics.median(latencies) * 1000:.1f} ms"


def test_every_route_but_health_checks_the_host_header(cli_env: dict[str, str]) -> None:
    """A DNS-rebinding page sends its own domain as Host: it must not read /ready or /metrics either."""
    evil = {"Host": "evil.example"}
    with http_server(cli_env) as server:
        assert httpx.get(f"{server.url}/health", headers=evil).status_code == 200
        for path in ("/ready", "/metrics"):
            response = httpx.get(f"{server.url}{path}", headers=evil)
            assert response.status_code == 421, path
            assert response.json()["error"]["type"] == "MisdirectedRequest"
            assert httpx.get(f"{server.url}{path}", headers={"Host": "localhost:1234"}).status_code == 200
        assert httpx.post(f"{server.url}/mcp", json=LIST_TOOLS, headers={**evil, **ACCEPT}).status_code == 421


def test_an_ip_literal_of_the_servers_own_address_is_an_allowed_host(cli_env: dict[str, str]) -> None:
    """As a Prometheus scrape or a probe by pod IP: bound to 127.0.0.2, Host 127.0.0.2 is allowed, .3 is not."""
    with http_server(cli_env, host="127.0.0.2") as server:
        port = server.url.rsplit(":", 1)[1]
        own = {"Host": f"127.0.0.2:{port}"}
        assert httpx.get(f"{server.url}/metrics", headers=own).status_code == 200
        assert httpx.get(f"{server.url}/ready", headers={"Host": "127.0.0.2"}).status_code == 200
        listed = httpx.post(f"{server.url}/mcp", json=LIST_TOOLS, headers={**own, **ACCEPT})
        assert listed.status_code == 200 and listed.json()["result"]["tools"]
        assert httpx.get(f"{server.url}/metrics", headers={"Host": f"127.0.0.3:{port}"}).status_code == 421


def test_on_a_dual_stack_socket_the_own_ipv4_address_is_still_an_allowed_host(cli_env: dict[str, str]) -> None:
    """Bound to ``::``, a connection to 127.0.0.2 arrives as ``::ffff:127.0.0.2``; Host 127.0.0.2 must match."""
    if not socket.has_dualstack_ipv6():
        pytest.skip("no dual-stack IPv6 here")
    with http_server({**cli_env, "AUTODOCS_AUTH_TOKEN": TOKEN}, host="::") as server:
        port = server.url.rsplit(":", 1)[1]
        url = f"http://127.0.0.2:{port}/metrics"
        assert httpx.get(url, headers={**headers(TOKEN), "Host": f"127.0.0.2:{port}"}).status_code == 200
        assert httpx.get(url, headers={**headers(TOKEN), "Host": f"127.0.0.3:{port}"}).status_code == 421


def test_duplicate_authorization_headers_get_a_400(cli_env: dict[str, str]) -> None:
    with http_server({**cli_env, "AUTODOCS_AUTH_TOKEN": TOKEN}) as server:
        twice = [("Authorization", f"Bearer {TOKEN}"), ("Authorization", "Bearer other")]
        for path in ("/ready", "/metrics"):
            response = httpx.get(f"{server.url}{path}", headers=twice)
            assert response.status_code == 400
            assert response.json()["error"]["type"] == "BadRequest"
        assert httpx.post(f"{server.url}/mcp", json=LIST_TOOLS, headers=[*twice, *ACCEPT.items()]).status_code == 400
        assert httpx.get(f"{server.url}/ready", headers=headers(TOKEN)).status_code == 200


def test_a_plain_get_on_the_stateless_mcp_endpoint_is_405_not_an_endless_stream(cli_env: dict[str, str]) -> None:
    with http_server(cli_env) as server:
        response = httpx.get(f"{server.url}/mcp", headers={"Accept": "text/event-stream"}, timeout=5)
        assert response.status_code == 405
        assert response.headers["allow"] == "POST"
        assert response.json()["error"]["type"] == "MethodNotAllowed"


def test_oversized_body_is_refused(cli_env: dict[str, str]) -> None:
    with http_server({**cli_env, "AUTODOCS_MAX_REQUEST_BYTES": "2048"}) as server:
        response = httpx.post(f"{server.url}/mcp", content=b"x" * 5000, headers={"Content-Type": "application/json"})
        assert response.status_code == 413


def test_non_loopback_bind_without_a_token_refuses_to_start(cli_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "autodocs", "serve", "--transport", "http", "--host", "0.0.0.0", "--port", "0"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "AUTODOCS_AUTH_TOKEN" in result.stderr


@pytest.mark.parametrize("token", ["", "  ", "short"])
def test_an_empty_or_short_token_refuses_to_start_even_on_any_address(cli_env: dict[str, str], token: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "autodocs", "serve", "--transport", "http", "--host", "0.0.0.0", "--port", "0"],
        env={**cli_env, "AUTODOCS_AUTH_TOKEN": token},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2, result.stderr[-2000:]
    assert "AUTODOCS_AUTH_TOKEN" in result.stderr
    assert '"http.listening"' not in result.stderr


def test_autodocs_config_refuses_an_empty_token_rather_than_showing_it_masked(cli_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "autodocs", "config", "--json"],
        env={**cli_env, "AUTODOCS_AUTH_TOKEN": ""},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "AUTODOCS_AUTH_TOKEN=''" in result.stdout + result.stderr
    assert '"AUTODOCS_AUTH_TOKEN": "***"' not in result.stdout


async def test_scan_outside_the_allowed_roots_is_refused_even_through_a_symlink(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    allowed = tmp_path / "allowed"
    outside = tmp_path / "outside"
    allowed.mkdir()
    outside.mkdir()
    (outside / "requirements.txt").write_text("secret-package\n")
    (allowed / "proj").mkdir()
    (allowed / "proj" / "requirements.txt").write_text("click\n")
    os.symlink(outside, allowed / "link")
    with http_server({**cli_env, "AUTODOCS_ALLOWED_ROOTS": str(allowed)}) as server, anyio.fail_after(60):
        inside = await call_tool(server.url, "scan_dependencies", {"project_path": str(allowed / "proj")})
        assert not inside.is_error
        for path in (outside, allowed / "link", allowed / ".." / "outside"):
            result = await call_tool(server.url, "scan_dependencies", {"project_path": str(path)})
            assert result.is_error
            error = tool_error(result)
            assert error["type"] == "PathNotAllowed"
            assert str(allowed) in error["message"]


def test_a_thousand_clients_hanging_up_cost_no_traceback(cli_env: dict[str, str]) -> None:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "tools/call",
            "params": {"name": "get_package_docs", "arguments": {"package_name": "rich"}},
        }
    ).encode()
    request = (
        b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Accept: application/json, text/event-stream\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n"
    )
    rng = random.Random(7)
    with http_server({**cli_env, "AUTODOCS_RATE_LIMIT_RPM": "1000000"}) as server:
        port = int(server.url.rsplit(":", 1)[1])
        for _ in range(1000):
            with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
                stage = rng.randrange(4)
                if stage == 0:
                    connection.sendall(request[: rng.randrange(1, len(request))])
                elif stage == 1:
                    connection.sendall(request + body[: rng.randrange(0, len(body))])
                else:
                    connection.sendall(request + body)
                    if stage == 3:
                        connection.recv(rng.randrange(1, 200))
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00")
        response = httpx.get(f"{server.url}/ready", timeout=10)
        assert response.status_code == 200
        time.sleep(0.5)
    log = server.log_text()
    assert "Traceback" not in log, log[-3000:]
    assert '"level": "error"' not in log, log[-3000:]


def test_sigterm_drains_fifty_slow_calls_then_exits_zero(fake_index: FakeIndex, cli_env: dict[str, str]) -> None:
    fake_index.latency_s = 1.5
    env = {**cli_env, "AUTODOCS_SHUTDOWN_TIMEOUT": "20", "AUTODOCS_RATE_LIMIT_RPM": "100000"}
    names = sorted(json.loads((Path(__file__).parents[1] / "data/index/MANIFEST.json").read_text())["projects"])[:50]
    results: list[int] = []
    with http_server(env) as server:

        def call(name: str) -> None:
            payload = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "get_package_docs", "arguments": {"package_name": name, "max_tokens": 500}},
            }
            response = httpx.post(
                f"{server.url}/mcp",
                json=payload,
                headers={"Accept": "application/json, text/event-stream"},
                timeout=30,
            )
            ok = response.status_code == 200 and not response.json()["result"].get("isError")
            results.append(1 if ok else 0)

        threads = [threading.Thread(target=call, args=(name,)) for name in names]
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 20
        while httpx.get(f"{server.url}/health", timeout=5).json()["in_flight"] < 50:  # all accepted
            assert time.monotonic() < deadline, "the 50 calls never were all in flight"
            time.sleep(0.02)
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        try:
            ready_status = httpx.get(f"{server.url}/ready", timeout=5).status_code
        except httpx.HTTPError as exc:
            raise AssertionError(f"/ready unreachable after SIGTERM: {exc}\n{server.log_text()}") from None
        assert ready_status == 503
        refused = httpx.post(f"{server.url}/mcp", json={}, headers={"Accept": "application/json"}, timeout=5)
        assert refused.status_code == 503 and refused.json()["error"]["type"] == "ServerShuttingDown"
        for thread in threads:
            thread.join(timeout=30)
        assert server.process.wait(timeout=25) == 0
        elapsed = time.monotonic() - started
    assert sum(results) == 50, f"{sum(results)} of 50 calls completed"
    assert elapsed < 20
    assert "Traceback" not in server.log_text()


def test_calls_still_running_at_the_shutdown_timeout_get_a_clear_error(
    fake_index: FakeIndex, cli_env: dict[str, str]
) -> None:
    from tests.support.fake_index import Fault

    fake_index.set_fault(Fault.hang())
    env = {**cli_env, "AUTODOCS_SHUTDOWN_TIMEOUT": "1", "AUTODOCS_REQUEST_TIMEOUT": "60"}
    answer: dict[str, Any] = {}
    with http_server(env) as server:

        def call() -> None:
            payload = {
                "jsonrpc": "2.0",
                "id": 1,
                "method": "tools/call",
                "params": {"name": "get_package_docs", "arguments": {"package_name": "click"}},
            }
            response = httpx.post(
                f"{server.url}/mcp", json=payload, headers={"Accept": "application/json, text/event-stream"}, timeout=30
            )
            answer.update(response.json())

        thread = threading.Thread(target=call)
        thread.start()
        time.sleep(0.8)
        server.process.send_signal(signal.SIGTERM)
        thread.join(timeout=20)
        assert server.process.wait(timeout=20) == 0
    assert answer["result"]["isError"] is True
    assert json.loads(answer["result"]["content"][0]["text"])["error"]["type"] == "ServerShuttingDown"


def test_short_soak_keeps_descriptors_and_memory_flat(cli_env: dict[str, str]) -> None:
    """A short variant of bench/soak.py: warm calls must not grow open files or memory."""

    def rss_kib(pid: int) -> int:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    payload = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "tools/call",
        "params": {"name": "get_package_docs", "arguments": {"package_name": "click", "max_tokens": 1500}},
    }
    accept = {"Accept": "application/json, text/event-stream"}
    with http_server({**cli_env, "AUTODOCS_RATE_LIMIT_RPM": "1000000"}) as server, httpx.Client(timeout=30) as client:
        pid = server.process.pid
        for _ in range(150):  # warm-up: cache, memos, every code path
            assert client.post(f"{server.url}/mcp", json=payload, headers=accept).status_code == 200
        fds_before, rss_before = len(os.listdir(f"/proc/{pid}/fd")), rss_kib(pid)
        for _ in range(600):
            response = client.post(f"{server.url}/mcp", json=payload, headers=accept)
            assert response.status_code == 200 and not response.json()["result"]["isError"]
        fds_after, rss_after = len(os.listdir(f"/proc/{pid}/fd")), rss_kib(pid)
    assert fds_after <= fds_before + 2, (fds_before, fds_after)
    assert rss_after < rss_before * 1.10, (rss_before, rss_after)


async def test_http_calls_past_the_rate_limit_get_a_structured_retryable_error(cli_env: dict[str, str]) -> None:
    with http_server({**cli_env, "AUTODOCS_RATE_LIMIT_RPM": "3"}) as server, anyio.fail_after(60):
        results = [await call_tool(server.url, "get_cache_stats", {}) for _ in range(4)]
    assert [result.is_error for result in results] == [False, False, False, True]
    error = tool_error(results[-1])
    assert error["type"] == "ClientRateLimited"
    assert error["retryable"] is True and 0 < error["retry_after_s"] <= 20
