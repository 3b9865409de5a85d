"""What the allowed roots cost get_api_reference: a project's environment read confined (HTTP mode).

Confined, the distribution's code is first copied through the root checks into the cache
(``sources/snapshot.py``) and griffe reads the copy; unconfined (stdio), griffe reads the
environment itself. Both run in this process, cold (a fresh service and cache each round) and
warm, on the synthetic 1,000-module package of ``bench/api_reference.py`` installed in a
project's ``.venv/``. Printed: medians and the confined/unconfined ratio. No network is used.

Run: python bench/api_reference_confined.py
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from api_reference import build_big_package
from autodocs.config import Settings
from autodocs.logs import configure_logging
from autodocs.service import AutoDocsService

ROUNDS = 3
WARM_CALLS = 20


async def one_round(root: Path, project: Path, cache: Path, *, confined: bool) -> tuple[float, float]:
    settings = Settings(cache_dir=cache, request_timeout=120.0)
    async with AutoDocsService.running(settings, allowed_roots=[root] if confined else None) as service:
        started = time.perf_counter()
        reply = await service.get_api_reference("bigpkg", project_path=str(project))
        cold = time.perf_counter() - started
        assert reply["source"]["kind"] == "environment" and not reply.get("partial"), reply.get("warnings")
        warm = []
        for _ in range(WARM_CALLS):
            started = time.perf_counter()
            await service.get_api_reference("bigpkg", project_path=str(project))
            warm.append(time.perf_counter() - started)
    return cold, statistics.median(warm)


async def main() -> None:
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        project = root / "project"
        site = project / ".venv" / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"
        site.mkdir(parents=True)
        (project / ".venv" / "pyvenv.cfg").write_text("home = /usr/bin\n")
        (project / "requirements.txt").write_text("bigpkg\n")
        build_big_package(site)
        results: dict[bool, list[tuple[float, float]]] = {True: [], False: []}
        for index in range(ROUNDS):
            for confined in (False, True):
                cache = root / f"cache-{confined}-{index}"
                results[confined].append(await one_round(root, project, cache, confined=confined))
        print(f"get_api_reference of a 1,000-module package in a project's .venv; median of {ROUNDS} (ms)")
        cold = {c: statistics.median(r[0] for r in results[c]) * 1000 for c in results}
        warm = {c: statistics.median(r[1] for r in results[c]) * 1000 for c in results}
        print(f"  cold: unconfined {cold[False]:.0f}, confined {cold[True]:.0f}, ratio {cold[True] / cold[False]:.2f}")
        print(f"  warm: unconfined {warm[False]:.2f}, confined {warm[True]:.2f}, ratio {warm[True] / warm[False]:.2f}")


if __name__ == "__main__":
    asyncio.run(main())
