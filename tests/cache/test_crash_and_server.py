"""A server on PostgreSQL shows its pool; a writer killed with SIGKILL mid-burst leaves every row whole."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import httpx

from autodocs.cache import PostgresStore, SQLiteStore, Store
from tests.server.test_http import call_tool, http_server

WRITER = r"""
import asyncio, sys
from autodocs.cache import PostgresStore, SQLiteStore
from autodocs.docs.model import DocSection, PackageDocument

async def main(url: str) -> None:
    store = SQLiteStore(__import__("pathlib").Path(url)) if not url.startswith("postgres") else PostgresStore(url)
    await store.open()
    body = "x" * 20000
    index = 0
    while True:  # runs until killed
        document = PackageDocument(
            name=f"pkg-{index % 40}", version=f"1.{index}", summary="s",
            sections=[DocSection(title="Overview", anchor="overview", level=0, content=body + str(index), tokens=9)],
        )
        await asyncio.gather(*(store.put_document("https://index.test/simple",
                                                  document.model_copy(update={"version": f"1.{index}.{n}"}))
                               for n in range(4)))
        index += 1
        if index == 25:
            print("BURST", flush=True)

asyncio.run(main(sys.argv[1]))
"""


def kill_mid_burst(target: str) -> None:
    process = subprocess.Popen([sys.executable, "-c", WRITER, target], stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    for line in process.stdout:  # the store may log before the burst starts
        if line.strip() == "BURST":
            break
    else:
        raise AssertionError("the writer ended before its burst")
    time.sleep(0.3)  # well inside the burst
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=10)


async def every_row_reads_back_whole(store: Store) -> int:
    await store.open()
    try:
        read = 0
        cursor = None
        while True:
            page = await store.list_entries(cursor=cursor, limit=1000)
            for entry in page.entries:
                if entry.kind == "document":
                    assert entry.version is not None
                    document = await store.get_document(entry.index, entry.name, entry.version)
                    assert document is not None, entry
                    assert document.sections[0].content.startswith("x" * 20000)
                    read += 1
            cursor = page.next_cursor
            if cursor is None:
                return read
    finally:
        await store.close()


async def test_sigkill_mid_write_burst_leaves_sqlite_whole(tmp_path: Path) -> None:
    path = tmp_path / "cache.db"
    kill_mid_burst(str(path))
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    connection.close()
    assert await every_row_reads_back_whole(SQLiteStore(path)) >= 100


async def test_sigkill_mid_write_burst_leaves_postgres_whole(postgres_url: str) -> None:
    kill_mid_burst(postgres_url)
    assert await every_row_reads_back_whole(PostgresStore(postgres_url)) >= 100


async def test_http_server_on_postgres_reports_its_pool(cli_env: dict[str, str], postgres_url: str) -> None:
    with http_server({**cli_env, "AUTODOCS_CACHE_URL": postgres_url}) as server:
        result = await call_tool(server.url, "get_package_docs", {"package_name": "click"})
        assert not result.is_error
        health = await call_tool(server.url, "health_check", {})
        assert set(health.structured_content["database_pool"]) >= {"in_use", "idle", "waiting", "timeouts", "max"}
        ready = httpx.get(f"{server.url}/ready").json()
        assert ready["ready"] is True and ready["database_pool"]["max"] == 5
        metrics = httpx.get(f"{server.url}/metrics").text
        assert "autodocs_db_pool_in_use" in metrics and "autodocs_db_pool_timeouts_total" in metrics
        stats = await call_tool(server.url, "get_cache_stats", {})
        assert stats.structured_content["backend"] == "postgresql"
    assert "s3cret" not in server.log_text()
