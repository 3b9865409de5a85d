"""Pinned packages on a Simple-only index next to the JSON API, in one run: round trips and time.

Setup: the loopback fake index in its own processes, answering each request 50 ms after it
arrives, serving PACKAGES generated packages (3 releases each, real wheels and sdists):
  * json-api: the JSON API with per-version pages (one request per pinned package) - the baseline;
  * simple+pep658: no JSON API, Simple API (PEP 691 JSON) with PEP 658 metadata files;
  * simple-html+pep658: the same as PEP 503 HTML only;
  * simple, no pep658: Simple API, METADATA read from the wheel by range requests;
  * simple, no ranges: Simple API, no PEP 658, the wheel downloaded whole (capped);
  * simple, no pep658, big wheels: METADATA outside the wheel's last 64 KiB (a third request).
Each round and each kind starts a new AutoDocsService with an empty cache, lets it learn the
index with one package (the first request to a new index may probe), then asks
``get_package_docs(NAME, "==1.1.0")`` (an old release) for every other package, one at a time.
Round trips are the index's own request count per package.

Goal (issue 21): once the index's capabilities are known, a pinned package costs <= 2 round
trips with PEP 658 files and <= 3 without, and its time is <= 2x the JSON API path.
Run: python bench/simple_index.py [--rounds N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import fake_index_process, median_ms

from autodocs.config import Settings
from autodocs.logs import configure_logging
from autodocs.service import AutoDocsService

LATENCY_MS = 50
PACKAGES = 12
ROUNDS = 3
# kind -> (modes switched off, which URL the service is given, bytes after each wheel's METADATA)
KINDS = {
    "json-api": ("", "pypi", 0),
    "simple+pep658": ("json_api", "simple", 0),
    "simple-html+pep658": ("json_api,simple_json", "simple", 0),
    "simple, no pep658": ("json_api,pep658", "simple", 0),
    "simple, no ranges": ("json_api,pep658,ranges", "simple", 0),
    "simple, no pep658, big": ("json_api,pep658", "simple", 200_000),
}


def request_count(base: str) -> int:
    with urllib.request.urlopen(f"{base}/_stats", timeout=5) as answer:
        return int(json.load(answer)["requests"])


async def measure(url: str, stats_base: str) -> tuple[list[float], list[int]]:
    with tempfile.TemporaryDirectory() as cache_dir:
        settings = Settings(cache_dir=Path(cache_dir), pypi_url=url, request_timeout=60)
        async with AutoDocsService.running(settings) as service:
            await service.get_package_docs("fixture-000", "==1.0.0")  # learn the index
            times, trips = [], []
            for number in range(1, PACKAGES):
                before = request_count(stats_base)
                started = time.perf_counter()
                page = await service.get_package_docs(f"fixture-{number:03d}", "==1.1.0")
                times.append(time.perf_counter() - started)
                trips.append(request_count(stats_base) - before)
                assert page.version == "1.1.0", page.version
    return times, trips


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    rounds = max(1, parser.parse_args().rounds)
    configure_logging("ERROR")
    times: dict[str, list[float]] = {kind: [] for kind in KINDS}
    trips: dict[str, list[int]] = {kind: [] for kind in KINDS}
    with contextlib.ExitStack() as stack:
        bases = {
            kind: stack.enter_context(
                fake_index_process(
                    LATENCY_MS,
                    extra_args=("--fixture-packages", str(PACKAGES), "--modes", off, "--fixture-padding", str(pad)),
                )
            ).removesuffix("/pypi")
            for kind, (off, _, pad) in KINDS.items()
        }
        for _ in range(rounds):
            for kind, (_, api, _) in KINDS.items():
                kind_times, kind_trips = await measure(f"{bases[kind]}/{api}", bases[kind])
                times[kind] += kind_times
                trips[kind] += kind_trips
    print(
        f"pinned get_package_docs, cold cache, capabilities known; fake index {LATENCY_MS} ms latency, "
        f"{PACKAGES - 1} packages x {rounds} rounds"
    )
    baseline = median_ms(times["json-api"])
    print(f"{'index serves':<24} {'round trips (max)':>18} {'median ms':>10} {'vs JSON API':>12}")
    ok = True
    for kind in KINDS:
        ratio = median_ms(times[kind]) / baseline
        most = max(trips[kind])
        print(f"{kind:<24} {most:>18} {median_ms(times[kind]):>10.1f} {ratio:>11.2f}x")
        ok &= most <= (2 if "pep658" in kind and "no pep658" not in kind else 3)
    print("goal: <= 2 round trips with PEP 658, <= 3 without; time <= 2x the JSON API path")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
