"""Slow, idle and too many HTTP connections against the real server process (raw loopback sockets).

The suite uses small limits (timeouts of 1.5-3 s, a few dozen connections); bench/slow_connections.py
runs the full-size flood (~1,100 connections under a 1,024 open-file limit).
"""

from __future__ import annotations

import json
import resource
import select
import socket
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

import httpx
import pytest

from tests.server.test_http import TOKEN, http_server

BODY = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "tools/list"}).encode()
POST_HEAD = (
    b"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    b"Accept: application/json, text/event-stream\r\nContent-Length: " + str(len(BODY)).encode() + b"\r\n"
)
SLOW_HEADERS = b"GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + b"a" * 200


def _port(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def drip_until_cut(port: int, head: bytes, drip: bytes, *, every_s: float, limit_s: float) -> tuple[float, bytes]:
    """Send ``head`` at once, then one byte of ``drip`` every ``every_s`` seconds until the server
    closes the connection; returns (seconds until closed, what the server answered)."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as connection:
        started = time.monotonic()
        connection.sendall(head)
        answer = b""
        for byte in drip:
            if time.monotonic() - started > limit_s:
                raise AssertionError(f"still open after {limit_s} s of one byte every {every_s} s")
            readable, _, _ = select.select([connection], [], [], every_s)
            if readable:
                chunk = connection.recv(4096)
                answer += chunk
                if not chunk or (answer.endswith(b"\r\n\r\n") and b"Connection: close" in answer):
                    return time.monotonic() - started, answer
                continue
            try:
                connection.sendall(bytes([byte]))
            except OSError:
                return time.monotonic() - started, answer
        raise AssertionError("ran out of bytes to send before the server cut the connection")


def wait_closed(connection: socket.socket, within: float) -> float | None:
    """Seconds until the server closes ``connection`` (EOF or reset), or None if it stays open."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        readable, _, _ = select.select([connection], [], [], 0.1)
        if readable:
            try:
                if not connection.recv(4096):
                    return time.monotonic() - started
            except ConnectionResetError:
                return time.monotonic() - started
    return None


FAST = {
    "AUTODOCS_HTTP_HEADER_TIMEOUT": "3",
    "AUTODOCS_HTTP_BODY_TIMEOUT": "3",
    "AUTODOCS_HTTP_KEEP_ALIVE_TIMEOUT": "1.5",
}


@pytest.mark.parametrize("token", [None, TOKEN], ids=["open", "with-token"])
def test_headers_sent_one_byte_every_two_seconds_are_cut_at_the_header_timeout(
    cli_env: dict[str, str], token: str | None
) -> None:
    env = {**cli_env, **FAST, **({"AUTODOCS_AUTH_TOKEN": token} if token else {})}
    with http_server(env) as server:
        elapsed, answer = drip_until_cut(_port(server.url), b"G", SLOW_HEADERS[1:], every_s=2, limit_s=20)
        assert 2.5 <= elapsed < 7, elapsed
        assert answer.startswith(b"HTTP/1.1 408")
        assert httpx.get(f"{server.url}/health", timeout=5).status_code == 200


def test_a_body_sent_one_byte_every_two_seconds_is_cut_off(cli_env: dict[str, str]) -> None:
    with http_server({**cli_env, **FAST}) as server:
        elapsed, answer = drip_until_cut(_port(server.url), POST_HEAD + b"\r\n", BODY, every_s=2, limit_s=20)
        assert elapsed < 8, elapsed
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert b"RequestTimeout" in answer


def test_a_body_that_stops_ends_the_request_after_the_body_timeout(cli_env: dict[str, str]) -> None:
    with http_server({**cli_env, **FAST}) as server, socket.create_connection(("127.0.0.1", _port(server.url))) as conn:
        conn.sendall(POST_HEAD + b"\r\n" + BODY[:10])
        started = time.monotonic()
        conn.settimeout(10)
        answer = conn.recv(4096)
        assert answer.startswith(b"HTTP/1.1 408")
        assert 2.5 <= time.monotonic() - started < 6
        assert wait_closed(conn, 3) is not None


def test_an_idle_keep_alive_connection_closes_after_the_keep_alive_timeout(cli_env: dict[str, str]) -> None:
    with http_server({**cli_env, **FAST}) as server, socket.create_connection(("127.0.0.1", _port(server.url))) as conn:
        conn.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        conn.settimeout(5)
        assert conn.recv(4096).startswith(b"HTTP/1.1 200")
        closed_after = wait_closed(conn, 6)
        assert closed_after is not None and 1.0 <= closed_after < 3.5, closed_after


def test_a_fresh_connection_that_sends_nothing_closes_after_the_keep_alive_timeout(cli_env: dict[str, str]) -> None:
    with http_server({**cli_env, **FAST}) as server, socket.create_connection(("127.0.0.1", _port(server.url))) as conn:
        closed_after = wait_closed(conn, 6)
        assert closed_after is not None and closed_after < 3.5, closed_after


@contextmanager
def slow_connections(port: int, count: int) -> Iterator[list[socket.socket]]:
    with ExitStack() as stack:
        connections = []
        for _ in range(count):
            connection = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
            connection.sendall(SLOW_HEADERS[:20])  # headers begun, never finished
            connections.append(connection)
        yield connections


def test_many_slow_connections_under_a_low_open_file_limit_leave_health_answering(cli_env: dict[str, str]) -> None:
    """The issue's flood, smaller: the server may open 600 files, 700 slow connections arrive."""

    def low_file_limit() -> None:
        resource.setrlimit(resource.RLIMIT_NOFILE, (600, 600))

    env = {**cli_env, "AUTODOCS_HTTP_HEADER_TIMEOUT": "60", "AUTODOCS_HTTP_KEEP_ALIVE_TIMEOUT": "60"}
    with http_server(env, preexec_fn=low_file_limit) as server, slow_connections(_port(server.url), 700):
        for _ in range(5):
            started = time.monotonic()
            assert httpx.get(f"{server.url}/health", timeout=3).status_code == 200
            assert time.monotonic() - started < 1.5
    log = server.log_text()
    assert '"http.connection_cap_lowered"' in log
    assert "out of system resource" not in log


def test_past_the_connection_cap_the_longest_waiting_slow_connection_makes_room(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "AUTODOCS_HTTP_MAX_CONNECTIONS": "10", "AUTODOCS_HTTP_HEADER_TIMEOUT": "60"}
    with http_server(env) as server, slow_connections(_port(server.url), 25) as slow:
        assert httpx.get(f"{server.url}/health", timeout=3).status_code == 200
        closed = [wait_closed(connection, 0.05) is not None for connection in slow]
        assert sum(closed) >= 15, "past the cap, the oldest waiting connections are closed"
        assert not any(closed[-9:]), "the newest are kept"


def test_past_the_cap_with_every_connection_busy_a_new_one_is_refused_at_once(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "AUTODOCS_HTTP_MAX_CONNECTIONS": "3", "AUTODOCS_HTTP_BODY_TIMEOUT": "60"}
    with http_server(env) as server, ExitStack() as stack:
        port = _port(server.url)
        for _ in range(3):  # requests under way: headers complete, body still to come
            busy = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=5))
            busy.sendall(POST_HEAD + b"\r\n" + BODY[:5])
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", port), timeout=5) as extra:
            started = time.monotonic()
            answer = extra.recv(4096)
            assert answer.startswith(b"HTTP/1.1 503"), answer
            assert time.monotonic() - started < 1
    assert '"http.connections_full"' in server.log_text()
