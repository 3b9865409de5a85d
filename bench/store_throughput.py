"""Cached reads and writes per second: SQLite (embedded) and PostgreSQL (shared), same run.

Each store gets the same workload at 1, 10 and 50 concurrent callers: DOCS documents of a
realistic size are written (upserts), then read back by exact (name, version) — through the
Store protocol, as the service uses it. PostgreSQL is a private server started from the
installed binaries (tests/support/postgres.py) on loopback, pool max = AUTODOCS_DB_POOL_MAX
default (5). Prints operations per second per store and the ratio PostgreSQL / SQLite.
Run: python bench/store_throughput.py [--ops 2000]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.support.postgres import PostgresServer, require_postgres

from autodocs.cache import PostgresStore, SQLiteStore, Store
from autodocs.docs.model import DocSection, PackageDocument
from autodocs.index.keys import DEFAULT_INDEX_KEY
from autodocs.logs import configure_logging

CONCURRENCY = (1, 10, 50)
DOCS = 200
INDEX = DEFAULT_INDEX_KEY  # the key the default configuration's index files its entries under


def document(index: int) -> PackageDocument:
    body = ("Usage example and explanation text. " * 40 + "\n\n") * 6  # ~9 KB, a typical README section set
    return PackageDocument(
        name=f"pkg-{index % 50}",
        version=f"1.{index}",
        summary="A package",
        sections=[
            DocSection(title=f"Section {n}", anchor=f"s{n}", level=2, content=body, tokens=1500) for n in range(3)
        ],
    )


async def run(store: Store, operation: str, concurrency: int, total: int) -> float:
    docs = [document(index) for index in range(DOCS)]
    counter = 0

    async def worker() -> None:
        nonlocal counter
        while counter < total:
            counter += 1
            doc = docs[counter % DOCS]
            if operation == "write":
                await store.put_document(INDEX, doc)
            else:
                assert await store.get_document(INDEX, doc.name, doc.version) is not None

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return total / (time.perf_counter() - started)


async def measure(store: Store, total: int) -> dict[tuple[str, int], float]:
    await store.open()
    try:
        for doc_index in range(DOCS):  # every document exists before reads are timed
            await store.put_document(INDEX, document(doc_index))
        return {
            (operation, concurrency): await run(store, operation, concurrency, total)
            for operation in ("write", "read")
            for concurrency in CONCURRENCY
        }
    finally:
        await store.close()


async def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--ops", type=int, default=2000)
    total = parser.parse_args().ops
    configure_logging("ERROR")
    with tempfile.TemporaryDirectory() as folder:
        sqlite = await measure(SQLiteStore(Path(folder) / "cache.db"), total)
    with PostgresServer(require_postgres()) as server:
        postgres = await measure(PostgresStore(server.url(server.create_database())), total)
    print(f"store throughput: {total} operations per cell, documents of ~27 KB")
    print(f"  {'operation':<9} {'callers':>7} {'SQLite op/s':>12} {'PostgreSQL op/s':>16} {'PG/SQLite':>10}")
    for key, lite in sqlite.items():
        operation, concurrency = key
        print(f"  {operation:<9} {concurrency:>7} {lite:12.0f} {postgres[key]:16.0f} {postgres[key] / lite:10.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main()))
