"""Time to an API reference, cold and warm, in-process: httpx, pydantic and a 1 000-module package.

For each package, in one process:
  * bare griffe: ``griffe.load`` of the package (static, all submodules) — the floor of any
    static API reference, measured in the same run as the baseline;
  * AutoDocs cold: a fresh service (empty cache) answering get_api_reference for the package's
    top level (locate in the environment, load, describe, budget, queue the cache write);
  * AutoDocs warm: the same call again (median of WARM_CALLS), and a drill-down to one class
    or module the first call listed (served from the loaded tree, then from memory);
  * AutoDocs after restart: a new service over the same cache (the store answers).

Goal (issue: API reference): warm <= 20 ms per call in-process. Run: python bench/api_reference.py
The code comes from this interpreter's site-packages (AUTODOCS_PYTHON is set to it) and a
synthetic package generated in a temporary folder; no network is used.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

import griffe

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from autodocs.config import Settings
from autodocs.logs import configure_logging
from autodocs.service import AutoDocsService

WARM_CALLS = 50
MODULES = 1000
SITE = Path(sysconfig.get_paths()["purelib"])


def build_big_package(site: Path) -> None:
    top = site / "bigpkg"
    for index in range(MODULES):
        folder = top / f"area{index // 50}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").write_text(f'"""Area {index // 50}."""\n')
        functions = "".join(
            f"def compute_{index}_{j}(value: int, *, scale: float = 1.0) -> float:\n"
            f'    """Compute thing {j}.\n\n    Args:\n        value: The input.\n        scale: A factor.\n    """\n'
            "    return value * scale\n\n"
            for j in range(5)
        )
        (folder / f"module{index}.py").write_text(
            f'"""Module {index}."""\n\n{functions}class Model{index}:\n    """A model."""\n\n'
            "    def __init__(self, name: str, size: int = 0) -> None:\n        self.name = name\n"
        )
    exports = [f"area{i}" for i in range(MODULES // 50)]
    imports = "".join(f"from . import {name}\n" for name in exports)
    (top / "__init__.py").write_text(f'"""A package of {MODULES} modules."""\n{imports}\n__all__ = {exports!r}\n')
    info = site / "bigpkg-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: bigpkg\nVersion: 1.0\n")
    (info / "top_level.txt").write_text("bigpkg\n")


def bare_griffe(site: Path, name: str) -> float:
    started = time.perf_counter()
    loader = griffe.GriffeLoader(search_paths=[str(site)], allow_inspection=False)
    loader.load(name, submodules=True)
    loader.resolve_aliases(external=False)
    return time.perf_counter() - started


async def measure(site: Path, name: str, drill: str, cache_dir: Path) -> dict[str, float]:
    settings = Settings(cache_dir=cache_dir, python=site, pypi_url="http://127.0.0.1:9/pypi", request_timeout=120)
    async with AutoDocsService.running(settings) as service:
        started = time.perf_counter()
        first = await service.get_api_reference(name)
        cold = time.perf_counter() - started
        warm = []
        for _ in range(WARM_CALLS):
            started = time.perf_counter()
            await service.get_api_reference(name)
            warm.append(time.perf_counter() - started)
        started = time.perf_counter()
        await service.get_api_reference(name, drill)
        drill_first = time.perf_counter() - started
        drill_warm = []
        for _ in range(WARM_CALLS):
            started = time.perf_counter()
            await service.get_api_reference(name, drill)
            drill_warm.append(time.perf_counter() - started)
        assert not first.get("partial"), "partial load: raise request_timeout"
    async with AutoDocsService.running(settings) as service:
        started = time.perf_counter()
        again = await service.get_api_reference(name)
        restart = time.perf_counter() - started
        assert again["served_from"] == "cache"
    return {
        "cold": cold,
        "warm": statistics.median(warm),
        "drill_first": drill_first,
        "drill_warm": statistics.median(drill_warm),
        "restart": restart,
    }


async def main() -> int:
    configure_logging("ERROR")
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        big_site = Path(folder) / "site-packages"
        big_site.mkdir()
        build_big_package(big_site)
        cases = [
            ("httpx", SITE, "httpx.Client"),
            ("pydantic", SITE, "pydantic.BaseModel"),
            (f"bigpkg ({MODULES} modules)", big_site, "bigpkg.area3.module170"),
        ]
        for label, site, drill in cases:
            name = label.split()[0]
            bare = statistics.median(bare_griffe(site, name) for _ in range(3))
            figures = await measure(site, name, drill, Path(folder) / f"cache-{name}")
            rows.append((label, bare, figures))
    print(f"API reference, in-process; warm = median of {WARM_CALLS} calls; times in ms")
    print(
        f"{'package':24} {'griffe':>8} {'cold':>8} {'cold/griffe':>11} {'warm':>7} {'drill 1st':>9} "
        f"{'drill warm':>10} {'restart':>8}"
    )
    worst_warm = 0.0
    for label, bare, f in rows:
        worst_warm = max(worst_warm, f["warm"], f["drill_warm"])
        print(
            f"{label:24} {bare * 1000:8.1f} {f['cold'] * 1000:8.1f} {f['cold'] / bare:10.2f}x "
            f"{f['warm'] * 1000:7.2f} {f['drill_first'] * 1000:9.1f} {f['drill_warm'] * 1000:10.2f} "
            f"{f['restart'] * 1000:8.1f}"
        )
    print(f"worst warm call {worst_warm * 1000:.2f} ms (goal <= 20 ms)")
    return 0 if worst_warm <= 0.020 else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
