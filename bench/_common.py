"""Helpers shared by the benchmarks: the fake index as a subprocess, and small statistics."""

from __future__ import annotations

import contextlib
import os
import statistics
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


@contextlib.contextmanager
def fake_index_process(
    latency_ms: float = 0, fault_mix: str | None = None, seed: int = 0, outage: str | None = None
) -> Iterator[str]:
    """Start ``tests.support.fake_index`` in its own process (so its CPU does not skew timings);
    ``outage`` is ``START:SECONDS`` after it is ready, when it refuses connections."""
    command = [sys.executable, "-m", "tests.support.fake_index", "--latency-ms", str(latency_ms), "--seed", str(seed)]
    if fault_mix:
        command += ["--fault-mix", fault_mix]
    if outage:
        command += ["--outage", outage]
    process = subprocess.Popen(
        command, cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env={**os.environ}
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        if not line.startswith("READY "):
            raise RuntimeError(f"fake index did not start: {line!r}")
        yield line.split(" ", 1)[1]
    finally:
        stop_process(process, timeout=10)


def stop_process(process: subprocess.Popen[str], timeout: float) -> None:
    """SIGTERM, then SIGKILL if it has not exited within ``timeout`` seconds."""
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()


def median_ms(samples: list[float]) -> float:
    return statistics.median(samples) * 1000


def percentile_ms(samples: list[float], fraction: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000
