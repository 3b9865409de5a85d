"""Soak: many warm get_package_docs calls over HTTP; the server's memory and descriptors must stay flat.

Prints RSS and open-FD count of the server process after warm-up and at 10%, 50% and 100%
of CALLS, and the growth from the 10% point. Goal (issue: production server): RSS growth
< 5% after warm-up, FDs flat. Run: python bench/soak.py [--calls 100000]
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
    autodocs_http_command,
    autodocs_http_env,
    call_body,
    process_fd_count,
    process_rss_kib,
    request_bytes,
    run_load,
    server_process,
)

PACKAGES = ["click", "six", "idna", "attrs", "flask", "rich", "certifi", "packaging", "jinja2", "urllib3"]


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=100_000)
    parser.add_argument("--connections", type=int, default=16)
    args = parser.parse_args()
    calls, connections = args.calls, args.connections
    with fake_index_process() as index_url, tempfile.TemporaryDirectory() as cache:
        env = autodocs_http_env(index_url, cache)
        with server_process(autodocs_http_command(), env) as (process, port):
            requests = [
                request_bytes(port, call_body("get_package_docs", {"package_name": name, "max_tokens": 1500}))
                for name in PACKAGES
            ]
            for request in requests:  # warm the cache and every code path
                await run_load(port, request, connections=2, total=200)
            print(f"soak: {calls} warm calls over {connections} connections, {len(PACKAGES)} packages")
            print(f"  {'point':>8} {'calls':>8} {'RSS MiB':>9} {'FDs':>5} {'calls/s':>8} {'errors':>6}")
            print(
                f"  {'warm-up':>8} {0:>8} {process_rss_kib(process.pid) / 1024:9.1f} {process_fd_count(process.pid):5}"
            )
            done = 0
            base_rss = base_fds = 0
            errors = 0
            for share in (0.10, 0.50, 1.00):
                target = int(calls * share)
                per_package = max(1, (target - done) // len(requests))
                results = await asyncio.gather(
                    *(
                        run_load(port, request, connections=max(1, connections // len(requests)), total=per_package)
                        for request in requests
                    )
                )
                done += sum(len(result.latencies) for result in results)
                errors += sum(result.errors for result in results)
                rate = sum(result.rate for result in results)
                rss, fds = process_rss_kib(process.pid), process_fd_count(process.pid)
                if share == 0.10:
                    base_rss, base_fds = rss, fds
                print(f"  {int(share * 100):>7}% {done:>8} {rss / 1024:9.1f} {fds:5} {rate:8.0f} {errors:6}")
    growth = (rss - base_rss) / base_rss * 100 if base_rss else 0.0
    print(f"  RSS growth after warm-up (10% -> 100%): {growth:+.1f}%  (goal < 5%);  FDs {base_fds} -> {fds}")
    return 0 if growth < 5 and fds <= base_fds + 2 and errors == 0 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
