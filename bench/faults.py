"""A 100-package context fetch against a fake index that misbehaves on purpose.

Scenarios (fault shares are per request, drawn with a fixed seed by the fake index):
  * hang:  50% of requests hang past any per-request timeout (the connection stays open);
  * mixed: 20% 429 (Retry-After: 1) + 10% 503 + 5% connection resets.

For each: the shares of packages completed (fresh docs), partial (served, but stale or with
warnings) and failed; wall time against 2 x REQUEST_TIMEOUT; unhandled exceptions (anything
that escaped the call or reached the event loop's exception handler); upstream requests,
hedges and retries. Goal (issue: resilience): >= 97% complete, 0 unhandled, wall <= 2 x
REQUEST_TIMEOUT. Run: python bench/faults.py [--seed N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import REPO, fake_index_process

from autodocs.config import Settings
from autodocs.logs import configure_logging
from autodocs.service import AutoDocsService

PACKAGES = 100
LATENCY_MS = 20
SCENARIOS = {
    "hang": {"hang": 0.5},
    "mixed": {"429": 0.2, "503": 0.1, "reset": 0.05},
}


async def run_scenario(name: str, mix: dict[str, float], seed: int, names: list[str]) -> dict[str, Any]:
    unhandled: list[str] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: unhandled.append(str(context.get("exception") or context)))
    with (
        tempfile.TemporaryDirectory() as folder,
        fake_index_process(latency_ms=LATENCY_MS, fault_mix=json.dumps(mix), seed=seed) as index_url,
    ):
        project = Path(folder)
        (project / "requirements.txt").write_text("\n".join(names) + "\n")
        settings = Settings(pypi_url=index_url, cache_dir=project / "cache")
        started = time.perf_counter()
        try:
            async with AutoDocsService.running(settings) as service:
                result = await service.project_context(str(project))
                fetcher = service.index.fetcher
                counters = (fetcher.requests_sent, fetcher.hedges_sent, fetcher.retries)
        except Exception as exc:  # must not happen: counted as unhandled
            unhandled.append(repr(exc))
            raise
        wall = time.perf_counter() - started
    partial = sum(1 for page in result.succeeded if page.stale)
    failures: dict[str, int] = {}
    for failed in result.failed:
        failures[failed.error_type] = failures.get(failed.error_type, 0) + 1
    return {
        "scenario": name,
        "mix": mix,
        "complete": (len(result.succeeded) - partial) / len(names),
        "partial": partial / len(names),
        "failed": len(result.failed) / len(names),
        "failures": failures,
        "wall_s": wall,
        "limit_s": 2 * settings.request_timeout,
        "unhandled": len(unhandled),
        "requests": counters[0],
        "hedges": counters[1],
        "retries": counters[2],
    }


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    seed = parser.parse_args().seed
    configure_logging("ERROR")
    manifest = json.loads((REPO / "tests/data/index/MANIFEST.json").read_text())
    names = sorted(manifest["projects"])[:PACKAGES]
    ok = True
    print(f"faults: {PACKAGES}-package context fetch, {LATENCY_MS} ms latency, seed {seed}")
    for name, mix in SCENARIOS.items():
        report = await run_scenario(name, mix, seed, names)
        meets = report["complete"] >= 0.97 and report["unhandled"] == 0 and report["wall_s"] <= report["limit_s"]
        ok = ok and meets
        print(
            f"  {name:<6} {json.dumps(mix)}\n"
            f"         complete {report['complete']:.1%}  partial {report['partial']:.1%}  "
            f"failed {report['failed']:.1%} {report['failures'] or ''}\n"
            f"         wall {report['wall_s']:.1f} s (limit {report['limit_s']:.0f} s)  "
            f"unhandled exceptions {report['unhandled']}\n"
            f"         upstream requests {report['requests']}, hedges {report['hedges']}, "
            f"retries {report['retries']}   goal {'met' if meets else 'NOT met'}"
        )
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
