"""Fixtures for the store tests: one private PostgreSQL server per session, a fresh database
per test, and a settable clock so eviction can be tested without waiting days."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest

from autodocs.cache import PoolLimits, PostgresStore, SQLiteStore, Store
from tests.support.postgres import PostgresServer, require_postgres

#: Tight limits so a test that hits one fails fast instead of hanging.
TEST_LIMITS = PoolLimits(min_size=1, max_size=5, checkout_timeout_s=5.0, statement_timeout_s=5.0, connect_timeout_s=3.0)


class FakeClock:
    """Stands in for ``time.time``; tests move it forward."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


StoreFactory = Callable[[], Store]


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = require_postgres()
    with PostgresServer(bin_dir) as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """The URL of a fresh, empty database on the session's server."""
    return postgres_server.url(postgres_server.create_database())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture(params=["sqlite", "postgresql"])
def make_store(request: pytest.FixtureRequest, tmp_path: Path, clock: FakeClock) -> StoreFactory:
    """Makes unopened stores of one backend, all on the same location (like several processes)."""
    if request.param == "sqlite":
        path = tmp_path / "cache.db"
        return lambda: SQLiteStore(path, clock=clock)
    url = request.getfixturevalue("postgres_url")
    return lambda: PostgresStore(url, TEST_LIMITS, clock=clock)


@pytest.fixture
async def store(make_store: StoreFactory) -> AsyncIterator[Store]:
    opened = make_store()
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
