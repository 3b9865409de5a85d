"""What users meet from a misbehaving index, one scenario at a time, each with its goal printed.

Against the fake index in its own process (fault shares are per request, drawn with a fixed seed):

* ``hang-10``, ``hang-30``: a 100-package context, 50% of requests hanging 25 s,
  ``REQUEST_TIMEOUT`` 10 and 30. Goal: >= 97% complete, wall <= 20 s, 0 unhandled exceptions.
* ``mixed``: the same context under 20% 429 (Retry-After: 1) + 10% 503 + 5% resets. Goal:
  >= 97% complete, wall <= 2 x REQUEST_TIMEOUT, 0 unhandled.
* ``bodies``: the same context under 20% answers cut short mid-body + 5% whole answers that are
  not JSON. Goal: >= 97% complete (a body cut short is retried like a reset).
* ``flaky``: a degraded index, 25% 503 + 5% resets, the same context four times (seeds
  SEED..SEED+3), then four times more with the failures quick and the answers 200 ms slower (as a
  load balancer's 503 comes back before the index's answer). Goal: each >= 97% complete with the
  circuit never opened (retries serve a host that answers most requests: with
  MAX_RETRY_ATTEMPTS 3, 1 - 0.3^4 = 99.2% of the calls; a closed door would fail every call).
* ``slow-1s``, ``slow-3s``: a uniformly slow index; three waves of ``MAX_CONCURRENT`` concurrent
  ``get_package_docs`` calls, cold. Goal: every call succeeds in <= latency + 1 s, circuit closed.
* ``crowd-3s``: 3 x ``MAX_CONCURRENT`` concurrent calls on the 3 s index. Goal: no CircuitOpen,
  no call past its deadline.
* ``http-3s``: 20 concurrent ``get_package_docs`` calls over HTTP (``autodocs serve``) on the
  3 s index. Goal: all succeed within 10 s.
* ``cli-3s``: one ``autodocs docs NAME`` on the 3 s index. Goal: <= 4.5 s.
* ``hang-all``: an index that accepts connections and never answers; one call after another,
  ``REQUEST_TIMEOUT`` 10. Goal: the circuit opens within 6 calls (the 5-call minimum, one
  silence failure each), and calls then fail at once.
* ``down-up``: the index refuses connections from 2 s to 12 s while a call starts every 0.25 s
  (``CIRCUIT_BREAKER_TIMEOUT`` 5 s). Goal: the circuit opens, and calls succeed again within
  ``CIRCUIT_BREAKER_TIMEOUT`` + 1 s of the index's return.

Run: python bench/faults.py [--seed N] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import REPO, fake_index_process
from bench._http_load import (
    autodocs_http_command,
    autodocs_http_env,
    call_body,
    read_response,
    request_bytes,
    server_process,
)

from autodocs.config import Settings
from autodocs.errors import AutoDocsError
from autodocs.logs import configure_logging
from autodocs.service import AutoDocsService

PACKAGES = 100
LATENCY_MS = 20
NAMES = sorted(json.loads((REPO / "tests/data/index/MANIFEST.json").read_text())["projects"])
Result = tuple[bool, str]


async def context_run(
    mix: dict[str, float], seed: int, request_timeout: float, wall_goal: float, *, circuit_stays_closed: bool = False
) -> Result:
    unhandled: list[str] = []
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(lambda _, context: unhandled.append(str(context.get("exception") or context)))
    names = NAMES[:PACKAGES]
    with (
        tempfile.TemporaryDirectory() as folder,
        fake_index_process(latency_ms=LATENCY_MS, fault_mix=json.dumps(mix), seed=seed) as index_url,
    ):
        project = Path(folder)
        (project / "requirements.txt").write_text("\n".join(names) + "\n")
        settings = Settings(pypi_url=index_url, cache_dir=project / "cache", request_timeout=request_timeout)
        started = time.perf_counter()
        try:
            async with AutoDocsService.running(settings) as service:
                result = await service.project_context(str(project))
                wall = time.perf_counter() - started
                fetcher = service.index.fetcher
                counters = (fetcher.requests_sent, fetcher.hedges_sent, fetcher.retries)
                opened = sum(fetcher.circuit_openings().values())
        except Exception as exc:  # must not happen: counted as unhandled
            unhandled.append(repr(exc))
            raise
    stale = sum(1 for page in result.succeeded if page.stale)
    complete = (len(result.succeeded) - stale) / len(names)
    failures = Counter(failed.error_type for failed in result.failed)
    meets = complete >= 0.97 and not unhandled and wall <= wall_goal and not (circuit_stays_closed and opened)
    return meets, (
        f"complete {complete:.1%}, partial {stale / len(names):.1%}, failed {len(result.failed) / len(names):.1%} "
        f"{dict(failures) or ''}; wall {wall:.1f} s; unhandled exceptions {len(unhandled)}; "
        f"upstream requests {counters[0]}, hedges {counters[1]}, retries {counters[2]}; circuit opened {opened} times"
    )


async def flaky(seed: int) -> Result:
    mix = {"503": 0.25, "reset": 0.05}
    quick_failures = {**mix, "latency:0.2": 0.7}
    runs = [
        await context_run(chosen, seed + offset, 30, 60, circuit_stays_closed=True)
        for chosen in (mix, quick_failures)
        for offset in range(4)
    ]
    return all(meets for meets, _ in runs), "\n            ".join(text for _, text in runs)


async def concurrent_calls(
    latency: float, waves: int, per_wave: int, settings_overrides: dict[str, float]
) -> tuple[list[tuple[str, float]], str, float]:
    """``waves`` rounds of ``per_wave`` concurrent cold calls → (outcome, seconds) each, circuit, deadline."""
    with tempfile.TemporaryDirectory() as folder, fake_index_process(latency_ms=latency * 1000) as index_url:
        settings = Settings(pypi_url=index_url, cache_dir=Path(folder) / "cache", **settings_overrides)
        outcomes: list[tuple[str, float]] = []
        async with AutoDocsService.running(settings) as service:

            async def one(name: str) -> None:
                started = time.perf_counter()
                try:
                    await service.get_package_docs(name)
                    outcomes.append(("ok", time.perf_counter() - started))
                except AutoDocsError as exc:
                    outcomes.append((exc.type_name, time.perf_counter() - started))

            for wave in range(waves):
                await asyncio.gather(*(one(name) for name in NAMES[wave * per_wave : (wave + 1) * per_wave]))
            circuit = ",".join(service.index.fetcher.breaker_states().values())
        return outcomes, circuit, settings.request_timeout


async def slow_index(latency: float) -> Result:
    max_concurrent = Settings().max_concurrent
    outcomes, circuit, _ = await concurrent_calls(latency, 3, max_concurrent, {})
    slowest = max(seconds for _, seconds in outcomes)
    failed = Counter(kind for kind, _ in outcomes if kind != "ok")
    meets = not failed and slowest <= latency + 1.0 and circuit == "closed"
    return meets, (
        f"{len(outcomes)} calls in 3 waves of {max_concurrent}: failed {dict(failed) or 0}; "
        f"slowest {slowest:.2f} s (goal <= {latency + 1:.0f} s); circuit {circuit}"
    )


async def crowd(latency: float) -> Result:
    calls = 3 * Settings().max_concurrent
    outcomes, circuit, deadline = await concurrent_calls(latency, 1, calls, {})
    slowest = max(seconds for _, seconds in outcomes)
    failed = Counter(kind for kind, _ in outcomes if kind != "ok")
    meets = "CircuitOpen" not in failed and slowest <= deadline and not failed
    return meets, (
        f"{calls} concurrent calls: failed {dict(failed) or 0}; slowest {slowest:.2f} s "
        f"(deadline {deadline:.0f} s); circuit {circuit}"
    )


async def http_slow(latency: float) -> Result:
    calls = 20
    with (
        tempfile.TemporaryDirectory() as folder,
        fake_index_process(latency_ms=latency * 1000) as index_url,
        server_process(autodocs_http_command(), autodocs_http_env(index_url, folder)) as (_, port),
    ):

        async def one(name: str) -> tuple[bool, float]:
            started = time.perf_counter()
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(request_bytes(port, call_body("get_package_docs", {"package_name": name})))
            await writer.drain()
            status, body = await read_response(reader)
            writer.close()
            ok = status == 200 and b'"isError":true' not in body
            return ok, time.perf_counter() - started

        started = time.perf_counter()
        results = await asyncio.gather(*(one(name) for name in NAMES[:calls]))
        wall = time.perf_counter() - started
    succeeded = sum(ok for ok, _ in results)
    meets = succeeded == calls and wall <= 10.0
    return meets, f"{succeeded}/{calls} succeeded; wall {wall:.2f} s (goal <= 10 s)"


async def cli_slow(latency: float) -> Result:
    with tempfile.TemporaryDirectory() as folder, fake_index_process(latency_ms=latency * 1000) as index_url:
        env = {**os.environ, **autodocs_http_env(index_url, folder), "AUTODOCS_LOG_LEVEL": "ERROR"}
        started = time.perf_counter()  # baseline: the command's imports alone, on this machine now
        await asyncio.to_thread(subprocess.run, [sys.executable, "-c", "import autodocs.cli"], env=env, check=True)
        imports = time.perf_counter() - started
        started = time.perf_counter()
        done = await asyncio.to_thread(
            subprocess.run,
            [sys.executable, "-m", "autodocs", "docs", NAMES[0]],
            env=env,
            capture_output=True,
            check=False,
            timeout=60,
        )
        wall = time.perf_counter() - started
    meets = done.returncode == 0 and wall <= 4.5
    return meets, (
        f"exit {done.returncode}; wall {wall:.2f} s (goal <= 4.5 s); baseline just before: "
        f"the command's imports alone {imports:.2f} s (the index's latency is {latency:.0f} s)"
    )


async def hang_all(seed: int) -> Result:
    with (
        tempfile.TemporaryDirectory() as folder,
        fake_index_process(latency_ms=LATENCY_MS, fault_mix=json.dumps({"hang": 1.0}), seed=seed) as index_url,
    ):
        settings = Settings(pypi_url=index_url, cache_dir=Path(folder) / "cache", request_timeout=10.0)
        kinds: list[str] = []
        started = time.perf_counter()
        async with AutoDocsService.running(settings) as service:
            for name in NAMES[:8]:
                call_started = time.perf_counter()
                try:
                    await service.get_package_docs(name)
                    kinds.append("ok")
                except AutoDocsError as exc:
                    kinds.append(exc.type_name)
                if kinds[-1] == "CircuitOpen" and time.perf_counter() - call_started < 1.0:
                    break  # failing at once: the circuit is open
        wall = time.perf_counter() - started
    calls = next((n for n, kind in enumerate(kinds, 1) if kind == "CircuitOpen"), None)
    meets = calls is not None and calls <= 6
    return meets, f"calls until CircuitOpen: {calls} ({', '.join(kinds)}); wall {wall:.1f} s"


async def down_then_up(seed: int) -> Result:
    down_at, down_for, breaker_timeout = 2.0, 10.0, 5.0
    with (
        tempfile.TemporaryDirectory() as folder,
        fake_index_process(latency_ms=LATENCY_MS, seed=seed, outage=f"{down_at}:{down_for}") as index_url,
    ):
        ready = time.perf_counter()
        settings = Settings(
            pypi_url=index_url,
            cache_dir=Path(folder) / "cache",
            circuit_breaker_timeout=breaker_timeout,
            request_timeout=10.0,
        )
        calls: list[tuple[float, float, str]] = []
        async with AutoDocsService.running(settings) as service:

            async def one(name: str) -> None:
                started = time.perf_counter() - ready
                try:
                    await service.get_package_docs(name)
                    calls.append((started, time.perf_counter() - ready, "ok"))
                except AutoDocsError as exc:
                    calls.append((started, time.perf_counter() - ready, exc.type_name))

            tasks = []
            for name in NAMES[: int((down_at + down_for + breaker_timeout + 4) / 0.25)]:
                tasks.append(asyncio.ensure_future(one(name)))
                await asyncio.sleep(0.25)
            await asyncio.gather(*tasks)
            opened = sum(service.index.fetcher.circuit_openings().values())
    back = down_at + down_for
    first_ok = min((end for start, end, kind in calls if kind == "ok" and end >= back), default=float("inf"))
    kinds = Counter(kind for start, _, kind in calls if down_at <= start < back)
    meets = opened > 0 and first_ok - back <= breaker_timeout + 1.0
    return meets, (
        f"during the outage: {dict(kinds)}; circuit opened {opened} times; first success "
        f"{first_ok - back:.2f} s after the index returned (goal <= {breaker_timeout + 1:.0f} s)"
    )


def scenarios(seed: int) -> dict[str, tuple[str, Callable[[], Awaitable[Result]]]]:
    hang = {"hang:25": 0.5}
    mixed = {"429": 0.2, "503": 0.1, "reset": 0.05}
    return {
        "hang-10": ("50% hang 25 s, REQUEST_TIMEOUT 10: >= 97%, wall <= 20 s", lambda: context_run(hang, seed, 10, 20)),
        "hang-30": ("50% hang 25 s, REQUEST_TIMEOUT 30: >= 97%, wall <= 20 s", lambda: context_run(hang, seed, 30, 20)),
        "mixed": ("429/503/reset mix: >= 97%, wall <= 60 s", lambda: context_run(mixed, seed, 30, 60)),
        "bodies": (
            "20% bodies cut short + 5% not JSON: >= 97%, wall <= 60 s",
            lambda: context_run({"truncated": 0.2, "invalid_json": 0.05}, seed, 30, 60),
        ),
        "flaky": (
            "25% 503 + 5% resets, 4 seeds, then quick failures: each >= 97%, circuit closed",
            lambda: flaky(seed),
        ),
        "slow-1s": ("1 s index: every call <= 2 s, circuit closed", lambda: slow_index(1.0)),
        "slow-3s": ("3 s index: every call <= 4 s, circuit closed", lambda: slow_index(3.0)),
        "crowd-3s": ("3x MAX_CONCURRENT on a 3 s index: no CircuitOpen, none past the deadline", lambda: crowd(3.0)),
        "http-3s": ("20 concurrent HTTP calls on a 3 s index: all succeed in <= 10 s", lambda: http_slow(3.0)),
        "cli-3s": ("one CLI call on a 3 s index: <= 4.5 s", lambda: cli_slow(3.0)),
        "hang-all": ("never answers, REQUEST_TIMEOUT 10: circuit open within 6 calls", lambda: hang_all(seed)),
        "down-up": ("down 10 s, then back: success <= CIRCUIT_BREAKER_TIMEOUT + 1 s", lambda: down_then_up(seed)),
    }


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--only", nargs="*", default=None, help="scenario names (default: all)")
    args = parser.parse_args()
    configure_logging("ERROR")
    ok = True
    print(f"faults: seed {args.seed}")
    for name, (goal, run) in scenarios(args.seed).items():
        if args.only and name not in args.only:
            continue
        meets, figures = await run()
        ok = ok and meets
        print(f"  {name:<9} goal: {goal}\n            {figures}\n            goal {'met' if meets else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
