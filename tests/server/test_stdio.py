"""The stdio transport (autodocs.server.stdio): pipes watched by the event loop, the standard
descriptors claimed while serving, oversized lines dropped, and the SDK's transport for input
the loop cannot watch. Every test runs a real server process."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import anyio
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from autodocs.server.stdio import MAX_MESSAGE_BYTES
from tests.support.fake_index import FakeIndex

INITIALIZE = json.dumps(
    {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
    }
)
INITIALIZED = json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
LIST_TOOLS = json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})

# A toy server on our transport whose tool writes to fd 1 and starts a child that does too:
# neither may reach the client. After serving, fd 1 must be the wire again (and blocking).
NOISY_SERVER = textwrap.dedent(
    """
    import os, subprocess, sys
    import anyio
    from mcp.server.mcpserver import MCPServer
    from autodocs.server.lifecycle import Lifecycle
    from autodocs.server.stdio import run_stdio

    server = MCPServer("noisy")

    @server.tool()
    async def shout() -> str:
        print("stray print", flush=True)
        os.write(1, b"stray write\\n")
        subprocess.run([sys.executable, "-c", "print('child output')"], check=True)
        return "done"

    anyio.run(run_stdio, server, Lifecycle(), 5.0)
    print("after serving: blocking=" + str(os.get_blocking(1)), flush=True)
    """
)


def _serve(cli_env: dict[str, str], stdin: int | None = subprocess.PIPE) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "autodocs", "serve"],
        env=cli_env,
        stdin=stdin,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def test_stray_output_goes_to_stderr_and_the_wire_is_restored_after_serving(tmp_path: Path) -> None:
    script = tmp_path / "noisy_server.py"
    script.write_text(NOISY_SERVER)
    errors = tmp_path / "stderr.txt"
    params = StdioServerParameters(command=sys.executable, args=[str(script)])
    with anyio.fail_after(60), errors.open("w") as errlog:
        async with stdio_client(params, errlog=errlog) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("shout", {})
            second = await session.call_tool("shout", {})
    assert not result.is_error and not second.is_error  # the stream stayed parseable
    assert result.content[0].text == "done"  # type: ignore[union-attr]
    stderr = errors.read_text()
    assert "stray print" in stderr and "stray write" in stderr and "child output" in stderr


def test_the_wire_is_blocking_and_back_on_fd_1_when_serving_ends(tmp_path: Path) -> None:
    script = tmp_path / "noisy_server.py"
    script.write_text(NOISY_SERVER)
    process = subprocess.run(
        [sys.executable, str(script)],
        input=(INITIALIZE + "\n").encode(),
        capture_output=True,
        timeout=60,
        check=True,
    )
    lines = process.stdout.decode().splitlines()
    assert json.loads(lines[0])["id"] == 1
    assert lines[-1] == "after serving: blocking=True"


def test_a_line_over_the_limit_is_dropped_and_the_server_keeps_serving(cli_env: dict[str, str]) -> None:
    process = _serve(cli_env)
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write((INITIALIZE + "\n").encode())
        process.stdin.flush()
        assert json.loads(process.stdout.readline())["id"] == 1
        oversized = json.dumps({"jsonrpc": "2.0", "id": 99, "method": "ping", "params": {"x": "y" * MAX_MESSAGE_BYTES}})
        process.stdin.write((oversized + "\n" + INITIALIZED + "\n" + LIST_TOOLS + "\n").encode())
        process.stdin.flush()
        reply = json.loads(process.stdout.readline())
        assert reply["id"] == 2  # no answer to the dropped line; the next request is served
        assert any(tool["name"] == "get_package_docs" for tool in reply["result"]["tools"])
    finally:
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    stderr = process.stderr.read().decode() if process.stderr else ""
    assert "stdio.message_too_large" in stderr
    assert "Traceback" not in stderr


def test_requests_from_a_regular_file_are_served_by_the_sdk_transport(cli_env: dict[str, str], tmp_path: Path) -> None:
    requests = tmp_path / "requests.jsonl"
    requests.write_text(f"{INITIALIZE}\n{INITIALIZED}\n{LIST_TOOLS}\n")
    with requests.open("rb") as stdin:
        process = _serve(cli_env, stdin=stdin.fileno())
        stdout, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr.decode()
    replies = [json.loads(line) for line in stdout.decode().splitlines()]
    assert [reply["id"] for reply in replies] == [1, 2]


def _call(request_id: int, package: str) -> str:
    arguments = {"name": "get_package_docs", "arguments": {"package_name": package}}
    return json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call", "params": arguments})


def _start_session(cli_env: dict[str, str], *requests: str) -> subprocess.Popen[bytes]:
    process = _serve(cli_env)
    assert process.stdin is not None and process.stdout is not None
    process.stdin.write("".join(f"{line}\n" for line in (INITIALIZE, INITIALIZED, *requests)).encode())
    process.stdin.flush()
    assert json.loads(process.stdout.readline())["id"] == 1
    return process


def _wait_until_asked(index: FakeIndex, package: str) -> None:
    """Until the server's request for ``package`` reached the index (it then waits out the latency)."""
    deadline = time.monotonic() + 20
    while index.count(f"/{package}/") == 0:
        assert time.monotonic() < deadline, "the server never asked the index"
        time.sleep(0.01)


def _cached_documents(cli_env: dict[str, str]) -> int:
    stats = subprocess.run(
        [sys.executable, "-m", "autodocs", "cache", "stats", "--json"],
        env=cli_env,
        capture_output=True,
        timeout=60,
        check=True,
    )
    return int(json.loads(stats.stdout)["documents"])


def _stderr(process: subprocess.Popen[bytes]) -> str:
    return process.stderr.read().decode() if process.stderr else ""


def test_sigterm_after_a_reply_exits_cleanly_and_keeps_the_cached_document(cli_env: dict[str, str]) -> None:
    process = _start_session(cli_env, _call(3, "click"))
    assert process.stdout is not None
    reply = json.loads(process.stdout.readline())
    assert reply["id"] == 3 and reply["result"]["structuredContent"]["name"] == "click"
    process.send_signal(signal.SIGTERM)  # the document's cache write is probably still queued
    assert process.wait(timeout=30) == 0
    assert "Traceback" not in _stderr(process)
    assert _cached_documents(cli_env) == 1


def test_sigterm_during_a_call_lets_it_finish_and_refuses_what_comes_after(
    cli_env: dict[str, str], fake_index: FakeIndex
) -> None:
    fake_index.latency_s = 1.0
    process = _start_session(cli_env, _call(3, "click"))
    assert process.stdin is not None and process.stdout is not None
    _wait_until_asked(fake_index, "click")
    process.send_signal(signal.SIGTERM)
    time.sleep(0.5)  # the signal has been handled
    process.stdin.write(f"{_call(4, 'flask')}\n".encode())  # sent while draining: never read
    process.stdin.flush()
    reply = json.loads(process.stdout.readline())
    assert reply["id"] == 3 and not reply["result"].get("isError")
    assert process.wait(timeout=30) == 0
    assert process.stdout.read() == b""  # nothing for the request sent after the signal
    assert "stdio.draining" in _stderr(process)
    assert _cached_documents(cli_env) == 1


def test_a_call_still_running_at_the_drain_deadline_answers_shutting_down(
    cli_env: dict[str, str], fake_index: FakeIndex
) -> None:
    fake_index.latency_s = 5.0
    process = _start_session({**cli_env, "AUTODOCS_SHUTDOWN_TIMEOUT": "0.3"}, _call(3, "click"))
    assert process.stdout is not None
    _wait_until_asked(fake_index, "click")
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    reply = json.loads(process.stdout.readline())
    assert reply["id"] == 3 and reply["result"]["isError"]
    assert json.loads(reply["result"]["content"][0]["text"])["error"]["type"] == "ServerShuttingDown"
    assert process.wait(timeout=30) == 0
    assert time.monotonic() - started < 4.0  # well before the index would have answered
    assert "stdio.drain_timeout" in _stderr(process)


def test_a_second_signal_stops_at_once(cli_env: dict[str, str], fake_index: FakeIndex) -> None:
    fake_index.latency_s = 5.0
    process = _start_session(cli_env, _call(3, "click"))
    _wait_until_asked(fake_index, "click")
    started = time.monotonic()
    process.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=30) == 0
    assert time.monotonic() - started < 4.0
    assert "Traceback" not in _stderr(process)


def test_a_client_that_stops_reading_ends_the_session_without_a_traceback(
    cli_env: dict[str, str], fake_index: FakeIndex
) -> None:
    fake_index.latency_s = 0.5
    process = _start_session(cli_env, _call(3, "click"))
    assert process.stdin is not None and process.stdout is not None
    _wait_until_asked(fake_index, "click")
    process.stdout.close()  # the reply has nowhere to go
    try:
        assert process.wait(timeout=30) == 0  # the session ends, though stdin is still open
    finally:
        process.stdin.close()
    stderr = _stderr(process)
    assert "Traceback" not in stderr, stderr
    assert _cached_documents(cli_env) == 1  # the document fetched is stored all the same
