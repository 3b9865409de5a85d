"""What only the PostgreSQL store has: a bounded pool, time limits, replicas, outages."""

from __future__ import annotations

import asyncio
import socket
import time

import psycopg
import pytest

from autodocs.cache import DatabaseBusy, PoolLimits, PostgresStore
from autodocs.cache.pg_migrations import SCHEMA_VERSION
from autodocs.config import mask_url
from autodocs.errors import CacheError
from tests.cache.builders import INDEX, document
from tests.support.postgres import PostgresServer, free_port, require_postgres


def limits(**overrides: float) -> PoolLimits:
    values: dict[str, float] = {
        "min_size": 1,
        "max_size": 5,
        "checkout_timeout_s": 2.0,
        "statement_timeout_s": 5.0,
        "connect_timeout_s": 2.0,
    }
    values.update(overrides)
    return PoolLimits(**values)  # type: ignore[arg-type]


async def our_connections(admin: psycopg.AsyncConnection[tuple[int]]) -> int:
    cursor = await admin.execute(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE application_name = 'autodocs' AND datname = current_database()"
    )
    row = await cursor.fetchone()
    assert row is not None
    return int(row[0])


async def test_an_exhausted_pool_gives_database_busy_and_never_opens_more_than_its_max(postgres_url: str) -> None:
    store = PostgresStore(postgres_url, limits(max_size=5, checkout_timeout_s=1.0))
    await store.open()
    peak = 0
    holding = asyncio.Event()

    async def watch() -> None:
        nonlocal peak
        async with await psycopg.AsyncConnection.connect(postgres_url, autocommit=True) as admin:
            while not holding.is_set():
                peak = max(peak, await our_connections(admin))
                await asyncio.sleep(0.05)

    async def hold_a_connection() -> None:
        async with store.connection() as db:
            await db.execute("SELECT pg_sleep(2)")

    watcher = asyncio.create_task(watch())
    try:
        outcomes = await asyncio.gather(*(hold_a_connection() for _ in range(20)), return_exceptions=True)
    finally:
        holding.set()
        await watcher
    busy = [outcome for outcome in outcomes if isinstance(outcome, DatabaseBusy)]
    assert (len(busy), outcomes.count(None)) == (15, 5), outcomes
    assert peak == 5
    error = busy[0]
    assert error.retryable
    assert "5 of 5" in error.message
    assert error.details["waited_s"] >= 1.0
    assert any("AUTODOCS_DB_POOL_MAX" in suggestion for suggestion in error.suggestions)

    await store.put_document(INDEX, document())
    assert await store.get_document(INDEX, "demo", "1.0") == document()
    stats = await store.stats()
    assert (stats.pool_timeouts, stats.pool_waiting) == (15, 0)
    assert stats.pool_idle is not None and stats.pool_idle >= 1
    await store.close()


async def test_a_query_past_the_statement_timeout_is_cut_and_its_connection_reused(postgres_url: str) -> None:
    store = PostgresStore(postgres_url, limits(max_size=1, statement_timeout_s=0.5))
    await store.open()
    async with store.connection() as db:
        before = await (await db.execute("SELECT pg_backend_pid()")).fetchone()

    started = time.monotonic()
    with pytest.raises(CacheError) as caught:
        async with store.connection() as db:
            await db.execute("SELECT pg_sleep(5)")
    assert 0.4 <= time.monotonic() - started < 2.0
    assert caught.value.retryable
    assert "AUTODOCS_DB_STATEMENT_TIMEOUT=0.5 s" in caught.value.message

    async with store.connection() as db:
        assert await (await db.execute("SELECT pg_backend_pid()")).fetchone() == before
    await store.put_document(INDEX, document())
    assert await store.get_document(INDEX, "demo", "1.0") == document()
    await store.close()


async def test_replicas_starting_together_migrate_once_and_share_entries(postgres_url: str) -> None:
    replicas = [PostgresStore(postgres_url, limits()) for _ in range(5)]
    await asyncio.gather(*(replica.open() for replica in replicas))
    try:
        await replicas[0].put_document(INDEX, document())
        assert await replicas[4].get_document(INDEX, "demo", "1.0") == document()
        assert await replicas[2].known_names() == ["demo"]
        async with replicas[1].connection() as db:
            applied = await (await db.execute("SELECT version FROM autodocs_schema_migrations")).fetchall()
        assert applied == [(version,) for version in range(1, SCHEMA_VERSION + 1)]
    finally:
        await asyncio.gather(*(replica.close() for replica in replicas))


async def test_ten_concurrent_writers_of_one_entry_leave_exactly_one_intact_row(postgres_url: str) -> None:
    replicas = [PostgresStore(postgres_url, limits()) for _ in range(2)]
    await asyncio.gather(*(replica.open() for replica in replicas))
    bodies = [chr(ord("a") + index) * 50_000 for index in range(10)]
    await asyncio.gather(
        *(replicas[index % 2].put_document(INDEX, document(body=body)) for index, body in enumerate(bodies))
    )
    async with replicas[0].connection() as db:
        rows = await (await db.execute("SELECT body::text FROM documents")).fetchall()
    assert len(rows) == 1
    assert rows[0][0] in [document(body=body).model_dump_json() for body in bodies]
    await asyncio.gather(*(replica.close() for replica in replicas))


async def test_a_refused_connection_at_start_names_the_masked_url_and_the_cause() -> None:
    url = f"postgresql://autodocs:hunter2-secret@127.0.0.1:{free_port()}/cache"
    store = PostgresStore(url, limits(connect_timeout_s=2.0))
    started = time.monotonic()
    with pytest.raises(CacheError) as caught:
        await store.open()
    assert time.monotonic() - started < 2.0
    message = caught.value.message
    assert mask_url(url) in message
    assert "hunter2" not in message
    assert "refused" in message.lower()


async def test_a_database_that_never_answers_fails_open_within_the_connect_timeout() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the kernel completes the handshake; nobody ever speaks
        url = f"postgresql://autodocs:hunter2-secret@127.0.0.1:{silent.getsockname()[1]}/cache"
        store = PostgresStore(url, limits(connect_timeout_s=1.5))
        started = time.monotonic()
        with pytest.raises(CacheError) as caught:
            await store.open()
        elapsed = time.monotonic() - started
    assert 1.4 <= elapsed < 2.5
    assert mask_url(url) in caught.value.message
    assert "hunter2" not in caught.value.message
    assert caught.value.retryable


async def test_a_database_restart_under_load_gives_clear_errors_then_recovers_by_itself() -> None:
    with PostgresServer(require_postgres()) as server:
        url = server.url(server.create_database())
        store = PostgresStore(url, limits(min_size=2, max_size=5, checkout_timeout_s=0.5))
        await store.open()
        await store.put_document(INDEX, document())
        successes = 0
        errors: list[CacheError] = []
        stop = asyncio.Event()

        async def load() -> None:
            nonlocal successes
            while not stop.is_set():
                try:
                    assert await store.get_document(INDEX, "demo", "1.0") == document()
                    successes += 1
                except CacheError as exc:
                    errors.append(exc)
                await asyncio.sleep(0.01)

        workers = [asyncio.create_task(load()) for _ in range(4)]
        try:
            await asyncio.sleep(0.3)
            assert successes > 0 and not errors
            await asyncio.to_thread(server.stop, "fast")
            await asyncio.sleep(1.5)
            assert errors, "calls while the database is down must fail"
            await asyncio.to_thread(server.start)
            restarted, successes_at_restart = time.monotonic(), successes
            while successes == successes_at_restart and time.monotonic() - restarted < 20:
                await asyncio.sleep(0.05)
            assert successes > successes_at_restart, "the store did not recover after the restart"
        finally:
            stop.set()
            await asyncio.gather(*workers)
        for error in errors:
            assert error.retryable
            assert not isinstance(error, DatabaseBusy)
            assert error.message.startswith(f"Cannot reach the PostgreSQL cache at {mask_url(url)}: ")
            assert "s3cret" not in error.message
        await store.ping()
        await store.close()
