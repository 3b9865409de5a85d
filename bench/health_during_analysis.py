"""/health latency and memory while the server reads a big package's code (security issue, finding 3).

A real ``autodocs serve --transport http`` process reads, from a generated site-packages folder:

  * ``bigpkg``: 1,000 modules — about two seconds of griffe, ~100 MB, within the memory cap;
  * ``memhog``: one 1.8 MB module of one table (under AUTODOCS_MAX_MODULE_BYTES) that griffe
    needs ~400 MB to read — above AUTODOCS_ANALYSIS_MEMORY_BYTES (256 MiB), so the worker stops
    and the call gets AnalysisMemoryExceeded.

Meanwhile a thread sends ``GET /health`` every 10 ms, as a probe does (a raw new connection each time),
and samples the resident memory of the server and of its worker processes from /proc. The same
probe against the idle server is the baseline. Goals: /health under 100 ms throughout, a worker
under 256 MiB, the server's own memory flat. Run: python bench/health_during_analysis.py
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

sys.path.insert(0, str(Path(__file__).resolve().parent))
from api_reference import build_big_package

MIB = 1024 * 1024


def build_memhog(site: Path) -> None:
    rows = ",\n".join(f'    ({i}, "v{i}", {{"k": [{i}, {i + 1}]}})' for i in range(40_000))
    (site / "memhog").mkdir()
    (site / "memhog" / "__init__.py").write_text(f'"""A table."""\n\nTABLE = [\n{rows}\n]\n')
    info = site / "memhog-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: memhog\nVersion: 1.0\n")


def probe_health(port: int) -> int:
    """One ``GET /health`` on a new connection, as a kubelet probe sends it; the status code."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        connection.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        answer = b""
        while chunk := connection.recv(65536):
            answer += chunk
    return int(answer.split(b" ", 2)[1])


def rss_kib(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


class Probe:
    """GET /health every 10 ms on a new connection; memory samples of the server and its workers."""

    def __init__(self, port: int, server_pid: int) -> None:
        self.port, self.server_pid = port, server_pid
        self.latencies: list[float] = []
        self.server_kib = 0
        self.worker_kib = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run)

    def __enter__(self) -> Probe:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        while not self._stop.is_set():
            started = time.perf_counter()
            status = probe_health(self.port)
            self.latencies.append(time.perf_counter() - started)
            assert status == 200, status
            self.server_kib = max(self.server_kib, rss_kib(self.server_pid))
            children = descendants(self.server_pid)  # the fork server and the workers
            self.worker_kib = max([self.worker_kib, *(rss_kib(pid) for pid in children)])
            time.sleep(0.01)

    def row(self, label: str, idle_p50: float | None) -> str:
        ordered = sorted(self.latencies)
        p50 = statistics.median(ordered) * 1000
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] * 1000
        ratio = f"{p50 / idle_p50:6.2f}x" if idle_p50 else "      -"
        return (
            f"{label:42} {len(ordered):6} {p50:7.2f} {p99:7.2f} {ordered[-1] * 1000:7.2f} {ratio} "
            f"{self.server_kib / 1024:10.1f} {self.worker_kib / 1024:10.1f}"
        )


async def call(url: str, arguments: dict[str, Any]) -> dict[str, Any]:
    async with (
        streamable_http_client(f"{url}/mcp") as (read, write),
        ClientSession(read, write) as session,
    ):
        await session.initialize()
        result = await session.call_tool("get_api_reference", arguments)
        content: dict[str, Any] = result.structured_content or {}
        return content


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        site = Path(folder) / "site-packages"
        site.mkdir()
        build_big_package(site)
        build_memhog(site)
        env = {k: v for k, v in os.environ.items() if not k.startswith("AUTODOCS_")}
        env |= {
            "AUTODOCS_PYTHON": str(site),
            "AUTODOCS_CACHE_DIR": str(Path(folder) / "cache"),
            "AUTODOCS_PYPI_URL": "http://127.0.0.1:9/pypi",
            "AUTODOCS_REQUEST_TIMEOUT": "120",
        }
        command = [sys.executable, "-m", "autodocs", "serve", "--transport", "http", "--port", "0"]
        server = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
        try:
            assert server.stderr is not None
            port = None
            while port is None:
                line = server.stderr.readline()
                if not line:
                    raise RuntimeError("server did not start")
                if '"http.listening"' in line:
                    port = json.loads(line)["port"]
            threading.Thread(target=server.stderr.read, daemon=True).start()
            url = f"http://127.0.0.1:{port}"
            with Probe(port, server.pid) as idle:
                time.sleep(2)
            with Probe(port, server.pid) as big:
                reply = asyncio.run(call(url, {"package_name": "bigpkg"}))
            assert "error" not in reply and not reply.get("partial"), reply
            with Probe(port, server.pid) as hog:
                error = asyncio.run(call(url, {"package_name": "memhog"}))["error"]
            with Probe(port, server.pid) as after:
                time.sleep(1)
        finally:
            server.send_signal(signal.SIGTERM)
            server.wait(timeout=30)
    idle_p50 = statistics.median(idle.latencies) * 1000
    print("GET /health on a new connection every 10 ms; times in ms, memory = peak RSS sampled, MiB")
    print(f"{'while':42} {'calls':>6} {'p50':>7} {'p99':>7} {'max':>7} {'p50/idle':>7} {'server':>10} {'worker':>10}")
    print(idle.row("idle", None))
    print(big.row("reading bigpkg (1,000 modules)", idle_p50))
    print(hog.row(f"reading memhog -> {error['type']}", idle_p50))
    print(after.row("after", idle_p50))
    worst = max(max(big.latencies), max(hog.latencies)) * 1000
    worker_mib = max(big.worker_kib, hog.worker_kib) / 1024
    print(f"worst /health during analysis {worst:.1f} ms (goal < 100); worker peak {worker_mib:.1f} MiB (goal < 256)")
    return 0 if worst < 100 and worker_mib < 256 and error["type"] == "AnalysisMemoryExceeded" else 1


if __name__ == "__main__":
    raise SystemExit(main())
