"""Whether the aiohttp engine under httpx earns its private-API debt: cold stdio calls, both engines.

The index client moves its bytes with aiohttp (httpx-aiohttp; ``autodocs.index.transport``),
which needs aiohttp's private ``session._retry_connection``. The project keeps a private API only
for a gain of at least 10% on a figure users feel. This measures that figure, the cold
``get_package_docs`` call over stdio of ``bench/stdio_latency.py`` (same cases, same 20 ms fake
index), alternating in one run between the aiohttp engine and httpx's own (httpcore + h11).
httpx's own engine is chosen by naming an unused proxy for every host but loopback
(``HTTP_PROXY`` + ``NO_PROXY``), which is how the fetch already picks it.

Run: python bench/http_engine.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import fake_index_process, median_ms
from bench.stdio_latency import CASES, LATENCY_MS, measure_autodocs

ENGINES = {
    "aiohttp (httpx-aiohttp)": {},
    "httpx's own (httpcore)": {"HTTP_PROXY": "http://127.0.0.1:9", "NO_PROXY": "127.0.0.1,localhost"},
}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=4)
    rounds = max(1, parser.parse_args().rounds)
    cold: dict[str, list[float]] = {engine: [] for engine in ENGINES}
    problems: list[str] = []
    with fake_index_process(latency_ms=LATENCY_MS) as index_url:
        for _ in range(rounds):
            for engine, extra in ENGINES.items():
                saved = {key: os.environ.get(key) for key in extra}
                os.environ.update(extra)
                try:
                    with tempfile.TemporaryDirectory() as cache_dir:
                        _, round_cold, _, round_problems = await measure_autodocs(index_url, cache_dir)
                finally:
                    for key, value in saved.items():
                        if value is None:
                            os.environ.pop(key, None)
                        else:
                            os.environ[key] = value
                cold[engine] += round_cold.values()
                problems += round_problems
    print(f"cold get_package_docs over stdio, fake index {LATENCY_MS} ms, {len(CASES)} packages x {rounds} rounds")
    medians = {engine: median_ms(samples) for engine, samples in cold.items()}
    for engine, value in medians.items():
        print(f"{engine:<26} cold median {value:6.1f} ms  ({len(cold[engine])} calls)")
    aiohttp_ms, httpx_ms = medians.values()
    print(f"httpx's own / aiohttp: {httpx_ms / aiohttp_ms:.3f}x (gain of aiohttp: {(1 - aiohttp_ms / httpx_ms):.1%})")
    print("exact versions: " + ("all as asked" if not problems else "; ".join(problems)))
    return 0 if not problems else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
