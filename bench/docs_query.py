"""A docs call with a ``query``, on a small cache and on a big one (issue 19, finding 7).

The same warm call, ``get_package_docs("requests", "==2.31.0", query=...)``, made through
AutoDocsService on two SQLite caches that differ only in how many other documents they hold:
SMALL (10) and BIG (10,000) synthetic documents, each indexed for search like a real one
(summary and five sections of ordinary API prose, so the query's words are common in the
index). The package's own document comes from the loopback fake index on the first call;
the timed calls are warm (the document in memory), so what remains is the query's own work.

Two cases on each cache: no API reference of that version cached (the call should not touch
the search index at all), and one cached (its entries are ranked for the query).

Goal: a call on the big cache costs <= 1.5x the same call on the small one.
Run: python bench/docs_query.py [--big N] [--calls N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench._common import fake_index_process

from autodocs.cache.base import SearchEntry
from autodocs.config import Settings
from autodocs.docs.model import DocSection, PackageDocument
from autodocs.logs import configure_logging
from autodocs.service import AutoDocsService

GOAL_RATIO = 1.5
SMALL = 10
QUERY = "how do I retry a request when the connection times out"
PACKAGE, VERSION = "requests", "2.31.0"
_WORDS = [
    *("request", "response", "client", "session", "connection", "retry", "timeout", "pool", "proxy"),
    *("header", "cookie", "stream", "error", "exception", "handler", "config", "setting", "option"),
    *("value", "default", "parse", "encode", "decode", "json", "file", "path", "cache", "token", "auth"),
    *("user", "server", "socket", "async", "await", "task", "thread", "lock", "queue", "event", "loop"),
]


def filler_document(number: int, rng: random.Random) -> PackageDocument:
    def prose(words: int) -> str:
        return " ".join(rng.choice(_WORDS) for _ in range(words)) + "."

    sections = [
        DocSection(title=f"{rng.choice(_WORDS).title()} {i}", anchor=f"s{i}", level=1, content=prose(120), tokens=160)
        for i in range(5)
    ]
    return PackageDocument(name=f"filler-{number}", version="1.0", summary=prose(12), sections=sections)


def api_entries() -> list[SearchEntry]:
    """An API reference's entries as api_reference.py indexes them (object path, signature + docstring)."""
    return [
        SearchEntry(kind="api", path=f"requests.adapters.HTTPAdapter.{name}", text=text)
        for name, text in (
            ("send", "send(request, stream=False, timeout=None, verify=True) Sends a PreparedRequest object."),
            ("max_retries", "max_retries: Retry The maximum number of retries each connection should attempt."),
            ("init_poolmanager", "init_poolmanager(connections, maxsize, block=False) Initializes a pool manager."),
            ("close", "close() Disposes of any internal state."),
        )
    ]


async def fill(settings: Settings, count: int) -> None:
    rng = random.Random(count)
    async with AutoDocsService.running(settings) as service:
        for number in range(count):
            await service.store.put_document(service.index_key, filler_document(number, rng))


async def time_calls(settings: Settings, calls: int, *, with_api: bool) -> float:
    """Median seconds of a warm docs call with the query."""
    async with AutoDocsService.running(settings) as service:
        await service.get_package_docs(PACKAGE, f"=={VERSION}", query=QUERY)  # cold: fetch and cache
        await service.flush_writes()
        if with_api:
            body = json.dumps({"fingerprint": "bench", "reference": {}})
            await service.store.put_api_reference(service.index_key, PACKAGE, VERSION, "requests", body, api_entries())
        page = await service.get_package_docs(PACKAGE, f"=={VERSION}", query=QUERY)
        if with_api and not page.api_matches:
            raise SystemExit("the cached API reference was not found for the query")
        samples = []
        for _ in range(calls):
            started = time.perf_counter()
            await service.get_package_docs(PACKAGE, f"=={VERSION}", query=QUERY)
            samples.append(time.perf_counter() - started)
        return statistics.median(samples)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--big", type=int, default=10_000)
    parser.add_argument("--calls", type=int, default=200)
    args = parser.parse_args()
    configure_logging("WARNING")
    results: dict[tuple[str, int], float] = {}
    with fake_index_process() as index_url, tempfile.TemporaryDirectory() as folder:
        for size in (SMALL, args.big):
            settings = Settings(cache_dir=Path(folder) / f"cache-{size}", pypi_url=index_url)
            started = time.perf_counter()
            await fill(settings, size)
            print(f"filled a cache with {size} documents in {time.perf_counter() - started:.1f} s")
            for case in ("no API reference", "API reference cached"):
                results[(case, size)] = await time_calls(settings, args.calls, with_api=case != "no API reference")
    print(f"\nwarm get_package_docs with a query, median of {args.calls} calls")
    print(f"{'case':<24}{f'{SMALL} docs ms':>14}{f'{args.big} docs ms':>16}{'ratio':>8}")
    worst = 0.0
    for case in ("no API reference", "API reference cached"):
        small, big = results[(case, SMALL)], results[(case, args.big)]
        worst = max(worst, big / small)
        print(f"{case:<24}{small * 1000:>14.3f}{big * 1000:>16.3f}{big / small:>8.2f}")
    print(f"worst ratio {worst:.2f} (goal <= {GOAL_RATIO}: {'met' if worst <= GOAL_RATIO else 'NOT met'})")


if __name__ == "__main__":
    asyncio.run(main())
