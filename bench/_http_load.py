"""A small HTTP/1.1 load generator for MCP-over-HTTP benchmarks, plus server start-up helpers.

Hand-written because the load must come from many keep-alive connections at once: httpx's
connection pool does work proportional to queued requests x connections, so at hundreds of
connections it measures itself, not the server. Each connection here is one asyncio stream
sending JSON-RPC ``tools/call`` POSTs and reading ``Content-Length`` answers.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from bench._common import REPO, stop_process


def call_body(tool: str, arguments: dict[str, object]) -> bytes:
    payload = {"jsonrpc": "2.0", "id": 1, "method": "tools/call", "params": {"name": tool, "arguments": arguments}}
    return json.dumps(payload).encode()


def request_bytes(port: int, body: bytes, path: str = "/mcp") -> bytes:
    head = (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: application/json, text/event-stream\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    elapsed: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.elapsed if self.elapsed else 0.0

    def percentile_ms(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000 if ordered else 0.0


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes]:
    status_line = await reader.readline()
    status = int(status_line.split()[1])
    length = 0
    while True:
        line = await reader.readline()
        if line in (b"\r\n", b""):
            break
        name, _, value = line.decode("latin-1").partition(":")
        if name.lower() == "content-length":
            length = int(value.strip())
    return status, await reader.readexactly(length)


async def run_load(port: int, request: bytes, *, connections: int, total: int) -> LoadResult:
    """``total`` requests spread over ``connections`` keep-alive connections, as fast as answered."""
    result = LoadResult()
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                writer.write(request)
                await writer.drain()
                status, body = await read_response(reader)
                if status != 200 or b'"isError":true' in body:
                    result.errors += 1
                result.latencies.append(time.perf_counter() - started)
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(connections)))
    result.elapsed = time.perf_counter() - started
    return result


@contextlib.contextmanager
def server_process(command: list[str], env: dict[str, str]) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """Start a server that logs an ``http.listening`` JSON line (or prints ``PORT n``); yield its port."""
    process = subprocess.Popen(
        command,
        env={**os.environ, **env},
        cwd=REPO,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None and process.stdout is not None
    port = None
    stream = process.stderr if "autodocs" in command else process.stdout
    for line in stream:
        if '"http.listening"' in line:
            port = json.loads(line)["port"]
            break
        if line.startswith("PORT "):
            port = int(line.split()[1])
            break
    if port is None:
        process.kill()
        raise RuntimeError(f"server did not start: {command}")
    for pipe in (process.stdout, process.stderr):  # keep draining, or a full pipe blocks the server
        threading.Thread(target=lambda p=pipe: [None for _ in p], daemon=True).start()
    try:
        yield process, port
    finally:
        stop_process(process, timeout=30)


def autodocs_http_env(index_url: str, cache_dir: str) -> dict[str, str]:
    """A benchmarked server: loopback index, private cache, no rate limit, INFO (it logs its port)."""
    return {
        "AUTODOCS_PYPI_URL": index_url,
        "AUTODOCS_CACHE_DIR": cache_dir,
        "AUTODOCS_RATE_LIMIT_RPM": "1000000",
        "AUTODOCS_LOG_LEVEL": "INFO",
    }


def autodocs_http_command() -> list[str]:
    return [sys.executable, "-m", "autodocs", "serve", "--transport", "http", "--port", "0"]


def process_rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def process_fd_count(pid: int) -> int:
    return len(os.listdir(f"/proc/{pid}/fd"))
