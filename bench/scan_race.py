"""A link flipped while scans run, full size; and what confinement costs a monorepo scan.

1. Race (issue 19, finding 8): a project folder inside the allowed root is a link that a thread
   re-points, in a loop, between a folder inside and one outside (each holds a requirements.txt
   naming its own package). 1,500 scans run through ``AutoDocsService.scan`` with the root set;
   the baseline, in the same run, is what the code did before: resolve and check the path, then
   scan it unconfined. Printed: scans that read the outside folder's manifest (goal: 0).
2. Cost: the 200-member uv workspace of ``bench/scan.py`` scanned confined to its folder
   (every file opened link-free beneath the root) against unconfined, median of ROUNDS.

Run: python bench/scan_race.py
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from autodocs.config import Settings
from autodocs.errors import AutoDocsError
from autodocs.logs import configure_logging
from autodocs.manifests.scan import scan_project
from autodocs.service import AutoDocsService
from scan import build_monorepo

CALLS = 1500
ROUNDS = 7


def flip_forever(link: Path, targets: tuple[Path, Path], done: threading.Event) -> None:
    spare = link.with_name(link.name + ".next")
    turn = 0
    while not done.is_set():
        turn ^= 1
        spare.unlink(missing_ok=True)
        os.symlink(targets[turn], spare)
        os.replace(spare, link)
        time.sleep(0.0002)


async def race(base: Path) -> tuple[int, int, int, int]:
    allowed, outside = base / "allowed", base / "outside"
    (allowed / "inside").mkdir(parents=True)
    outside.mkdir()
    (allowed / "inside" / "requirements.txt").write_text("inside-package\n")
    (outside / "requirements.txt").write_text("outside-secret\n")
    project = allowed / "project"
    os.symlink(allowed / "inside", project)
    settings = Settings(cache_dir=base / "cache")
    done = threading.Event()
    flipper = threading.Thread(target=flip_forever, args=(project, (outside, allowed / "inside"), done), daemon=True)
    flipper.start()
    fixed_outside = fixed_inside = baseline_outside = baseline_inside = 0
    try:
        async with AutoDocsService.running(settings, allowed_roots=[allowed]) as service:
            for _ in range(CALLS):
                try:
                    names = {d.name for d in (await service.scan(str(project))).dependencies}
                except AutoDocsError:
                    continue
                fixed_outside += "outside-secret" in names
                fixed_inside += "inside-package" in names
        for _ in range(CALLS):  # before the fix: check the resolved path, then scan unconfined
            if not project.resolve().is_relative_to(allowed):
                continue
            names = {d.name for d in (await asyncio.to_thread(scan_project, project)).dependencies}
            baseline_outside += "outside-secret" in names
            baseline_inside += "inside-package" in names
    finally:
        done.set()
        flipper.join(5)
    return fixed_outside, fixed_inside, baseline_outside, baseline_inside


def cost(root: Path) -> tuple[float, float]:
    root.mkdir()
    build_monorepo(root)
    confined, unconfined = [], []
    for _ in range(ROUNDS):
        for roots, timings in (([root], confined), (None, unconfined)):
            started = time.perf_counter()
            result = scan_project(root, roots=roots)
            timings.append(time.perf_counter() - started)
            assert not result.errors, result.errors[:3]
    return statistics.median(confined), statistics.median(unconfined)


def main() -> None:
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory() as folder:
        fixed_out, fixed_in, base_out, base_in = asyncio.run(race(Path(folder) / "race"))
        print(f"race: {CALLS} scans each while a thread flips the project link")
        print(f"  confined (now):          read outside {fixed_out:4d}, read inside {fixed_in:4d}")
        print(f"  check-then-read (before): read outside {base_out:4d}, read inside {base_in:4d}")
        print(f"  goal: 0 outside reads: {'met' if fixed_out == 0 else 'NOT met'}")
        confined, unconfined = cost(Path(folder) / "mono")
        print(f"cost: 200-member workspace, median of {ROUNDS}")
        print(
            f"  confined {confined * 1000:.0f} ms, unconfined {unconfined * 1000:.0f} ms, "
            f"ratio {confined / unconfined:.2f}"
        )


if __name__ == "__main__":
    main()
