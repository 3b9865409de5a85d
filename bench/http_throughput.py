"""Warm-cache get_package_docs over streamable HTTP, against a no-op tool on the same SDK.

Both servers run as their own processes with the same transport settings (stateless, JSON
answers) and are loaded by the same generator (bench/_http_load.py) in the same run:
  * throughput: CONNECTIONS keep-alive connections, CALLS calls each server;
  * latency under many sessions: SESSIONS concurrent connections, p50/p99;
  * one connection, sequential calls (as an MCP client connects): tools/call on both, and
    ``GET /health`` on ours — a listener without TCP_NODELAY stalled each answer ~40 ms here.
Goals: AutoDocs >= 0.8x the no-op rate; keep-alive ``GET /health`` p50 < 2 ms.
Run: python bench/http_throughput.py
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import fake_index_process
from bench._http_load import (
    LoadResult,
    autodocs_http_command,
    autodocs_http_env,
    call_body,
    get_request_bytes,
    request_bytes,
    run_load,
    server_process,
)

PACKAGES = ["click", "six", "idna", "attrs", "flask", "rich", "certifi", "packaging"]


async def measure(port: int, tool: str, arguments: dict[str, object], calls: int, connections: int) -> LoadResult:
    request = request_bytes(port, call_body(tool, arguments))
    await run_load(port, request, connections=4, total=200)  # warm-up
    return await run_load(port, request, connections=connections, total=calls)


def report(label: str, result: LoadResult) -> None:
    print(
        f"  {label:<18} {result.rate:8.0f} calls/s  p50 {result.percentile_ms(0.5):7.1f} ms  "
        f"p99 {result.percentile_ms(0.99):7.1f} ms  errors {result.errors}"
    )


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--sessions", type=int, default=1000)
    parser.add_argument("--sequential", type=int, default=500, help="calls over one connection, one at a time")
    args = parser.parse_args()
    with fake_index_process() as index_url, tempfile.TemporaryDirectory() as cache:
        env = autodocs_http_env(index_url, cache)
        arguments = {"package_name": "click", "max_tokens": 2000}
        with server_process(autodocs_http_command(), env) as (_, port):
            for name in PACKAGES:  # warm the cache
                await run_load(
                    port,
                    request_bytes(port, call_body("get_package_docs", {"package_name": name})),
                    connections=1,
                    total=1,
                )
            ours = await measure(port, "get_package_docs", arguments, args.calls, args.connections)
            many = await run_load(
                port,
                request_bytes(port, call_body("get_package_docs", arguments)),
                connections=args.sessions,
                total=args.sessions * 3,
            )
            sequential = await run_load(
                port,
                request_bytes(port, call_body("get_package_docs", arguments)),
                connections=1,
                total=args.sequential,
            )
            health = await run_load(port, get_request_bytes(port, "/health"), connections=1, total=args.sequential)
        with server_process([sys.executable, "bench/_noop_http_server.py"], {}) as (_, port):
            noop = await measure(port, "noop", {"package_name": "click"}, args.calls, args.connections)
            noop_many = await run_load(
                port,
                request_bytes(port, call_body("noop", {"package_name": "click"})),
                connections=args.sessions,
                total=args.sessions * 3,
            )
            noop_sequential = await run_load(
                port,
                request_bytes(port, call_body("noop", {"package_name": "click"})),
                connections=1,
                total=args.sequential,
            )
    print(f"http throughput: {args.calls} calls over {args.connections} connections; warm cache")
    report("get_package_docs", ours)
    report("no-op tool (SDK)", noop)
    print(f"  ratio              {ours.rate / noop.rate:8.2f}x  (goal >= 0.80x)")
    print(f"{args.sessions} concurrent sessions, {args.sessions * 3} calls:")
    report("get_package_docs", many)
    report("no-op tool (SDK)", noop_many)
    print(f"one keep-alive connection, {args.sequential} sequential calls:")
    report("get_package_docs", sequential)
    report("no-op tool (SDK)", noop_sequential)
    report("GET /health", health)
    ratio = sequential.percentile_ms(0.5) / noop_sequential.percentile_ms(0.5)
    print(f"  p50 ratio          {ratio:8.2f}x  (docs call / no-op call)")
    print(f"  GET /health p50    {health.percentile_ms(0.5):8.2f} ms (goal < 2 ms)")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
