"""Slow-loris flood: does /health keep answering while ~1,100 slow connections hold the server?

The server runs as its own process with its open-file limit at 1,024 (as in the security
issue's probe) and default connection settings. A second process (this script with
``--flood``) keeps SLOW connections open: each sends a few bytes of a request's headers, then
one more byte every 2 s; when the server cuts one, it reconnects at once, for DURATION
seconds. Meanwhile this process opens a fresh connection for each ``GET /health`` (as a
Kubernetes probe does), with a 5 s timeout. The same probe runs first against the idle server:
the baseline; a second probe does the same with an MCP ``tools/list``. Goal: no probe times out
or fails during the flood, and the log does not flood.
Run: python bench/slow_connections.py [--slow 1100] [--duration 20]
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import contextlib
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import fake_index_process
from bench._http_load import LoadResult, autodocs_http_command, autodocs_http_env, process_fd_count, server_process

SLOW_HEAD = b"GET /ready HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: "
OPEN_FILES = 1024


def limit_open_files() -> None:
    resource.setrlimit(resource.RLIMIT_NOFILE, (OPEN_FILES, OPEN_FILES))


def health_request(port: int) -> bytes:
    return f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()


def mcp_request(port: int) -> bytes:
    body = b'{"jsonrpc": "2.0", "id": 1, "method": "tools/list"}'
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nContent-Type: application/json\r\n"
        f"Accept: application/json, text/event-stream\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


async def probe(port: int, request: bytes, result: LoadResult, stop_at: float, pause_s: float) -> None:
    """A fresh connection per request, 5 s limit each; until ``stop_at``."""
    while time.monotonic() < stop_at:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(5):
                reader, writer = await asyncio.open_connection("127.0.0.1", port)
                writer.write(request)
                status = (await reader.readline()).split()[1]
                await reader.read()
                writer.close()
            if status != b"200":
                result.errors += 1
            else:
                result.latencies.append(time.perf_counter() - started)
        except (TimeoutError, OSError, IndexError):
            result.errors += 1
        await asyncio.sleep(pause_s)


async def slow_client(port: int, stop_at: float, counts: dict[str, int]) -> None:
    while time.monotonic() < stop_at:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            counts["connect_failed"] += 1
            await asyncio.sleep(0.5)
            continue
        counts["opened"] += 1
        try:
            writer.write(SLOW_HEAD)
            while time.monotonic() < stop_at:
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(2):
                        if not await reader.read(4096):
                            break  # the server closed it
                writer.write(b"a")
                await writer.drain()
            else:
                continue
            counts["cut"] += 1
        except OSError:
            counts["cut"] += 1
        finally:
            writer.close()


def _event(line: str) -> str:
    try:
        return str(json.loads(line).get("event", "?"))[:80]
    except ValueError:
        return line.strip()[:80]


def report(label: str, result: LoadResult) -> None:
    print(
        f"  {label:<22} {len(result.latencies):5d} ok  failed/timed out {result.errors:3d}  "
        f"p50 {result.percentile_ms(0.5):7.2f} ms  p99 {result.percentile_ms(0.99):7.2f} ms  "
        f"max {max(result.latencies, default=0) * 1000:7.1f} ms"
    )


async def flood(port: int, slow: int, duration: float) -> None:
    """The attacker, in its own process (its CPU must not delay the probe's own loop)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < slow + 200:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, slow + 200), hard))
    counts = {"opened": 0, "cut": 0, "connect_failed": 0}
    stop_at = time.monotonic() + duration
    await asyncio.gather(*(slow_client(port, stop_at, counts) for _ in range(slow)))
    print(
        f"  slow connections: {counts['opened']} opened, {counts['cut']} cut by the server, "
        f"{counts['connect_failed']} connects failed",
        flush=True,
    )


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--slow", type=int, default=1100, help="slow connections held open")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of flood")
    parser.add_argument("--flood", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.flood:
        await flood(args.flood, args.slow, args.duration)
        return 0
    lines: list[str] = []
    with fake_index_process() as index_url, tempfile.TemporaryDirectory() as cache:
        env = autodocs_http_env(index_url, cache)
        with server_process(autodocs_http_command(), env, preexec_fn=limit_open_files, log_lines=lines) as (proc, port):
            baseline, mcp_baseline = LoadResult(), LoadResult()
            idle_until = time.monotonic() + 3
            await asyncio.gather(
                probe(port, health_request(port), baseline, idle_until, 0.02),
                probe(port, mcp_request(port), mcp_baseline, idle_until, 0.02),
            )
            stop_at = time.monotonic() + args.duration
            attacker = await asyncio.create_subprocess_exec(
                sys.executable,
                __file__,
                "--flood",
                str(port),
                "--slow",
                str(args.slow),
                "--duration",
                str(args.duration),
                stdout=asyncio.subprocess.PIPE,
            )
            await asyncio.sleep(1)  # let the flood build up
            during, mcp_during = LoadResult(), LoadResult()
            fds = [0]

            async def watch_fds() -> None:
                while time.monotonic() < stop_at:
                    fds[0] = max(fds[0], process_fd_count(proc.pid))
                    await asyncio.sleep(0.5)

            await asyncio.gather(
                probe(port, health_request(port), during, stop_at - 0.5, 0.1),
                probe(port, mcp_request(port), mcp_during, stop_at - 0.5, 0.1),
                watch_fds(),
            )
            flood_report, _ = await attacker.communicate()
    log = "".join(lines)
    print(
        f"slow-connection flood: {args.slow} slow connections for {args.duration:.0f} s; "
        f"server open files <= {OPEN_FILES}"
    )
    report("/health, idle server", baseline)
    report("/health, during flood", during)
    report("/mcp tools/list, idle", mcp_baseline)
    report("/mcp tools/list, flood", mcp_during)
    ratio = during.percentile_ms(0.5) / baseline.percentile_ms(0.5) if baseline.latencies else float("nan")
    print(f"  p50 ratio              {ratio:6.2f}x  (flood / idle)")
    print(flood_report.decode().rstrip() + f"; server's open files peaked at {fds[0]}")
    print(
        f"  log: {len(lines)} lines, {log.count('out of system resource')} 'out of system resource', "
        f"{log.count('http.connections_full')} 'connections full', "
        f"{log.count('http.connection_cap_lowered')} 'cap lowered'"
    )
    events = collections.Counter(_event(line) for line in lines)
    print("  most logged: " + ", ".join(f"{event!r} x{count}" for event, count in events.most_common(3)))
    met = during.errors == 0 and mcp_during.errors == 0
    print(f"  goal: no /health or /mcp probe fails during the flood -> {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
