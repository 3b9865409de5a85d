"""Start-up over stdio: from starting the process to the answer to ``initialize``.

A host (Claude Desktop, VS Code, Cursor, ...) starts a stdio server for every session and
waits for that answer before anything else, so this is time every session pays.

Measured in the same run, each round starting both processes one after the other (the
order alternates between rounds):
  * baseline: a bare server on the same MCP SDK with one no-op tool (bench/_noop_server.py);
  * AutoDocs: ``python -m autodocs serve`` with an empty cache folder, its index pointed at
    the loopback fake index (started here; ``initialize`` does not contact it).

Each process gets the ``initialize`` request on stdin as soon as it starts; the time is the
wall time until its answer line arrives. Then, as a host does, the ``initialized`` notification
and ``tools/list``: the second time is until that answer arrives (what a host waits for before
it can offer the tools; shown, no goal). The table shows the median and the 90th percentile of
each, and the ratios of the medians. Goal (issue 20): initialize ratio <= 1.5.
Run: python bench/startup.py [--rounds N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import REPO, fake_index_process, median_ms, percentile_ms

GOAL_RATIO = 1.5
INITIALIZE = (
    json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "bench-startup", "version": "1"},
            },
        }
    )
    + "\n"
)
LIST_TOOLS = (
    json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})
    + "\n"
    + json.dumps({"jsonrpc": "2.0", "id": 2, "method": "tools/list"})
    + "\n"
)


def time_to_initialize(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from starting ``command`` to its answers to ``initialize`` and to ``tools/list``."""
    started = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=REPO, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
    )
    assert process.stdin is not None and process.stdout is not None
    try:
        process.stdin.write(INITIALIZE.encode())
        process.stdin.flush()
        answer = process.stdout.readline()
        elapsed = time.perf_counter() - started
        reply = json.loads(answer)
        if "result" not in reply:
            raise RuntimeError(f"initialize failed: {answer!r}")
        process.stdin.write(LIST_TOOLS.encode())
        process.stdin.flush()
        listed = json.loads(process.stdout.readline())
        if not listed.get("result", {}).get("tools"):
            raise RuntimeError(f"tools/list failed: {listed!r}")
        return elapsed, time.perf_counter() - started
    finally:
        process.stdin.close()  # end of input: the server exits
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    args = parser.parse_args()
    baseline_command = [sys.executable, str(REPO / "bench" / "_noop_server.py")]
    autodocs_command = [sys.executable, "-m", "autodocs", "serve"]
    with fake_index_process() as index_url, tempfile.TemporaryDirectory() as cache_dir:
        env = {
            **{key: value for key, value in os.environ.items() if not key.startswith("AUTODOCS_")},
            "AUTODOCS_PYPI_URL": index_url,
            "AUTODOCS_CACHE_DIR": cache_dir,
            "AUTODOCS_LOG_LEVEL": "WARNING",
        }
        # One unmeasured start of each: the first run after an install compiles bytecode.
        time_to_initialize(baseline_command, env)
        time_to_initialize(autodocs_command, env)
        baseline: list[tuple[float, float]] = []
        autodocs: list[tuple[float, float]] = []
        for round_number in range(args.rounds):
            order = [(baseline_command, baseline), (autodocs_command, autodocs)]
            for command, samples in order if round_number % 2 == 0 else reversed(order):
                samples.append(time_to_initialize(command, env))
    print(f"time to the answers over stdio, {args.rounds} rounds")
    print(f"{'server':<24}{'initialize median ms':>22}{'p90 ms':>10}{'tools/list median ms':>22}{'p90 ms':>10}")
    for label, samples in (("bare SDK, no-op tool", baseline), ("autodocs serve", autodocs)):
        initialized, listed = [s[0] for s in samples], [s[1] for s in samples]
        print(
            f"{label:<24}{median_ms(initialized):>22.1f}{percentile_ms(initialized, 0.9):>10.1f}"
            f"{median_ms(listed):>22.1f}{percentile_ms(listed, 0.9):>10.1f}"
        )
    ratio = median_ms([s[0] for s in autodocs]) / median_ms([s[0] for s in baseline])
    listed_ratio = median_ms([s[1] for s in autodocs]) / median_ms([s[1] for s in baseline])
    verdict = "met" if ratio <= GOAL_RATIO else "NOT met"
    print(f"ratio autodocs / bare SDK, initialize: {ratio:.2f} (goal <= {GOAL_RATIO}: {verdict})")
    print(f"ratio autodocs / bare SDK, tools/list: {listed_ratio:.2f} (no goal)")


if __name__ == "__main__":
    main()
