"""get_package_docs over stdio with the official MCP SDK client: cold and warm latency.

Setup: the loopback fake index in its own process, answering each request 20 ms after it arrives;
`autodocs serve` started by the SDK's stdio client with an empty cache. For each package,
the first call is cold (nothing cached), then it is called again WARM_CALLS times. The whole
run is repeated ROUNDS times, each with a new server and an empty cache, so that the medians
rest on ROUNDS x 8 cold calls rather than 8 (on a shared 2-core machine one cold call can be
off by several ms). The table shows each package's median over the rounds.

Baselines measured in the same run:
  * floor for cold: one bare HTTP GET of the same project document through the same
    20 ms latency (what any server must spend at least once), by httpx, the HTTP client
    AutoDocs uses, once per package per round;
  * floor for warm: a no-op tool on the same SDK over stdio (the transport's own cost).

Each round's very first call (a package outside the measured set) is reported on its own:
it pays one-time costs on both sides (the SDK client compiles the tool's output-schema
validator, the server's first code paths run) that later cold calls do not.

Goals (issue: foundation): cold median <= 28 ms, warm median <= 3 ms, always the exact
version asked for. Run: python bench/stdio_latency.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
from pathlib import Path

import httpx
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import REPO, fake_index_process, median_ms

LATENCY_MS = 20
WARM_CALLS = 30
ROUNDS = 3
# (package, constraint, expected version): unconstrained, exact pins and a range.
CASES = [
    ("requests", "==2.31.0", "2.31.0"),
    ("click", None, None),
    ("rich", None, None),
    ("flask", None, None),
    ("urllib3", "==1.26.18", "1.26.18"),
    ("attrs", "==23.2.0", "23.2.0"),
    ("pydantic", None, None),
    ("httpx", "<0.28", "0.27.2"),
]


async def measure_autodocs(
    index_url: str, cache_dir: str
) -> tuple[float, dict[str, float], dict[str, float], list[str]]:
    env = {
        **os.environ,
        "AUTODOCS_PYPI_URL": index_url,
        "AUTODOCS_CACHE_DIR": cache_dir,
        "AUTODOCS_LOG_LEVEL": "WARNING",
    }
    params = StdioServerParameters(command=sys.executable, args=["-m", "cProfile", "-o", f"/tmp/srvprof/{time.monotonic_ns()}.prof", "-m", "autodocs", "serve"], env=env, cwd=str(REPO))
    cold: dict[str, float] = {}
    warm: dict[str, float] = {}
    problems: list[str] = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.list_tools()
        started = time.perf_counter()
        await session.call_tool("get_package_docs", {"package_name": "six"})
        first = time.perf_counter() - started
        for name, constraint, expected in CASES:
            arguments = {"package_name": name, "version_constraint": constraint}
            started = time.perf_counter()
            result = await session.call_tool("get_package_docs", arguments)
            cold[name] = time.perf_counter() - started
            content = result.structured_content or {}
            if result.is_error or (expected and content.get("version") != expected):
                problems.append(f"{name}: got {content}")
            samples = []
            for _ in range(WARM_CALLS):
                started = time.perf_counter()
                result = await session.call_tool("get_package_docs", arguments)
                samples.append(time.perf_counter() - started)
                if (result.structured_content or {}).get("source") != "cache":
                    problems.append(f"{name}: warm call not from cache")
                    break
            warm[name] = sorted(samples)[len(samples) // 2]
    return first, cold, warm, problems


async def measure_noop() -> float:
    params = StdioServerParameters(command=sys.executable, args=[str(REPO / "bench" / "_noop_server.py")])
    samples = []
    async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
        await session.initialize()
        await session.list_tools()
        for _ in range(WARM_CALLS * 3):
            started = time.perf_counter()
            await session.call_tool("noop", {"package_name": "requests"})
            samples.append(time.perf_counter() - started)
    return sorted(samples)[len(samples) // 2]


async def measure_bare_fetch(index_url: str) -> list[float]:
    samples = []
    async with httpx.AsyncClient() as client:
        for name, _, _ in CASES:
            started = time.perf_counter()
            response = await client.get(f"{index_url}/{name}/json")
            response.json()
            samples.append(time.perf_counter() - started)
    return samples


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS, help=f"fresh server and cache each (default {ROUNDS})")
    rounds = max(1, parser.parse_args().rounds)
    firsts: list[float] = []
    cold: dict[str, list[float]] = {name: [] for name, _, _ in CASES}
    warm: dict[str, list[float]] = {name: [] for name, _, _ in CASES}
    bare: list[float] = []
    problems: list[str] = []
    with fake_index_process(latency_ms=LATENCY_MS) as index_url:
        for _ in range(rounds):
            with tempfile.TemporaryDirectory() as cache_dir:
                first, round_cold, round_warm, round_problems = await measure_autodocs(index_url, cache_dir)
            firsts.append(first)
            problems += round_problems
            for name in cold:
                cold[name].append(round_cold[name])
                warm[name].append(round_warm[name])
            bare += await measure_bare_fetch(index_url)
    noop = await measure_noop()

    print(
        f"stdio latency, fake index with {LATENCY_MS} ms latency, {len(CASES)} packages, {WARM_CALLS} warm calls"
        f" each, {rounds} rounds (each a new server and an empty cache)"
    )
    print(
        "first call of each round (six, cold, one-time set-up on both sides): "
        + ", ".join(f"{first * 1000:.1f}" for first in firsts)
        + " ms"
    )
    print(f"{'package':<10} {'constraint':<12} {'cold ms':>8} {'warm ms':>8}   (medians over the rounds)")
    for name, constraint, _ in CASES:
        print(f"{name:<10} {constraint or '-':<12} {median_ms(cold[name]):8.1f} {median_ms(warm[name]):8.2f}")
    cold_median = median_ms([sample for samples in cold.values() for sample in samples])
    warm_median = median_ms([sample for samples in warm.values() for sample in samples])
    bare_median = median_ms(bare)
    print(
        f"cold median {cold_median:.1f} ms   (goal <= 28; bare HTTP fetch baseline {bare_median:.1f} ms;"
        f" ratio {cold_median / bare_median:.2f}x; {sum(map(len, cold.values()))} cold calls)"
    )
    print(
        f"warm median {warm_median:.2f} ms  (goal <= 3; no-op tool on the same SDK {noop * 1000:.2f} ms;"
        f" ratio {warm_median / (noop * 1000):.2f}x)"
    )
    print("exact versions: " + ("all as asked" if not problems else "; ".join(problems)))
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
