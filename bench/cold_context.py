"""Docs for a 100-dependency project, cold, against a loopback index with 50 ms latency.

Measured in the same run, alternating, ROUNDS times each:
  * AutoDocs: AutoDocsService.project_context on a requirements.txt of 100 recorded packages
    with an empty cache (scan, resolve, fetch, build documents, budget pages, cache them);
  * baseline: one shared httpx client fetching and parsing the same 100 project documents with
    the same concurrency (MAX_CONCURRENT) and nothing else, with httpx as AutoDocs uses it,
    so the ratio is what AutoDocs' own path costs;
  * ideal: ceil(100 / MAX_CONCURRENT) x 50 ms, the latency alone.

Goal (issue: foundation): AutoDocs <= 1.2x the bare baseline. Run: python bench/cold_context.py
"""

from __future__ import annotations

import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import REPO, fake_index_process

import autodocs.docs.requirements as requirements_module
import autodocs.resolve as resolve_module
from autodocs.config import Settings
from autodocs.gc_tuning import tune_garbage_collector
from autodocs.logs import configure_logging
from autodocs.service import AutoDocsService

LATENCY_MS = 50
PACKAGES = 100
MAX_CONCURRENT = 10
ROUNDS = 5


def package_names() -> list[str]:
    manifest = json.loads((REPO / "tests/data/index/MANIFEST.json").read_text())
    names = sorted(manifest["projects"])
    if len(names) < PACKAGES:
        raise SystemExit(f"need {PACKAGES} recorded projects, have {len(names)}")
    return names[:PACKAGES]


def forget_process_memos() -> None:
    """Each round must be as cold as a new process: drop the process-wide parse memos."""
    resolve_module._parse.cache_clear()
    requirements_module.parse_requirement.cache_clear()
    requirements_module._parse_marker.cache_clear()


async def run_autodocs(index_url: str, project: Path) -> tuple[float, float, int]:
    forget_process_memos()
    with tempfile.TemporaryDirectory() as cache_dir:
        settings = Settings(pypi_url=index_url, cache_dir=Path(cache_dir), max_concurrent=MAX_CONCURRENT)
        async with AutoDocsService.running(settings) as service:
            started = time.perf_counter()
            result = await service.project_context(str(project))
            answered = time.perf_counter() - started
            await service.flush_writes()
            flushed = time.perf_counter() - started
        return answered, flushed, len(result.succeeded)


async def run_baseline(index_url: str, names: list[str]) -> float:
    limits = httpx.Limits(max_connections=MAX_CONCURRENT, max_keepalive_connections=MAX_CONCURRENT)
    semaphore = asyncio.Semaphore(MAX_CONCURRENT)
    async with httpx.AsyncClient(limits=limits, timeout=30) as client:

        async def fetch(name: str) -> dict[str, object]:
            async with semaphore:
                response = await client.get(f"{index_url}/{name}/json")
                response.raise_for_status()
                data: dict[str, object] = response.json()
                return data

        started = time.perf_counter()
        documents = await asyncio.gather(*(fetch(name) for name in names))
        elapsed = time.perf_counter() - started
    assert len(documents) == len(names)
    return elapsed


async def main() -> int:
    configure_logging("ERROR")
    names = package_names()
    with tempfile.TemporaryDirectory() as folder, fake_index_process(latency_ms=LATENCY_MS) as index_url:
        project = Path(folder)
        (project / "requirements.txt").write_text("\n".join(names) + "\n")
        ours: list[float] = []
        ours_flushed: list[float] = []
        bare: list[float] = []
        complete = 0
        for _ in range(ROUNDS):
            bare.append(await run_baseline(index_url, names))
            answered, flushed, complete = await run_autodocs(index_url, project)
            ours.append(answered)
            ours_flushed.append(flushed)
    ideal = math.ceil(PACKAGES / MAX_CONCURRENT) * LATENCY_MS / 1000
    ours_median, bare_median = statistics.median(ours), statistics.median(bare)
    print(
        f"cold context: {PACKAGES} dependencies, {LATENCY_MS} ms index latency, "
        f"MAX_CONCURRENT={MAX_CONCURRENT}, median of {ROUNDS} rounds"
    )
    print(f"  latency-only ideal      {ideal * 1000:7.0f} ms")
    print(f"  bare httpx baseline     {bare_median * 1000:7.0f} ms   rounds: {[round(b * 1000) for b in bare]}")
    print(f"  AutoDocs (answered)     {ours_median * 1000:7.0f} ms   rounds: {[round(o * 1000) for o in ours]}")
    print(f"  AutoDocs (cache flushed){statistics.median(ours_flushed) * 1000:7.0f} ms")
    print(f"  packages documented     {complete}/{PACKAGES}")
    ratio = ours_median / bare_median
    print(f"  ratio AutoDocs / bare   {ratio:7.2f}x   (goal <= 1.20x)")
    # On a shared machine the same round's CPU time varies up to 2x; the fastest rounds show
    # what the code costs when it gets the CPU (both sides measured the same way).
    print(f"  ratio of fastest rounds {min(ours) / min(bare):7.2f}x")
    return 0 if complete == PACKAGES else 1


if __name__ == "__main__":
    tune_garbage_collector()  # as the `autodocs` command does before it runs `context`
    raise SystemExit(asyncio.run(main()))
