"""AUTODOCS_CACHE_URL picks the store; the PostgreSQL settings are validated at start."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from autodocs.cache import PoolLimits, PostgresStore, SQLiteStore, open_store
from autodocs.config import Settings, load_settings
from autodocs.errors import ConfigError


def test_sqlite_stays_the_default_store(tmp_path: Path) -> None:
    store = open_store(Settings(cache_dir=tmp_path))
    assert isinstance(store, SQLiteStore)
    assert store.path == tmp_path / "cache.db"


@pytest.mark.parametrize("scheme", ["postgresql", "postgres"])
def test_a_postgresql_url_picks_the_postgres_store_with_the_pool_settings(scheme: str) -> None:
    settings = Settings(
        cache_url=f"{scheme}://app:hunter2@db.internal:5432/autodocs",
        db_pool_min=2,
        db_pool_max=8,
        db_pool_timeout=3.5,
        db_statement_timeout=1.5,
        db_connect_timeout=4,
    )
    store = open_store(settings)
    assert isinstance(store, PostgresStore)
    assert store.limits == PoolLimits(
        min_size=2, max_size=8, checkout_timeout_s=3.5, statement_timeout_s=1.5, connect_timeout_s=4.0
    )
    assert store.location == f"{scheme}://app:***@db.internal:5432/autodocs"
    assert "hunter2" not in str(settings.describe())


def test_the_postgres_pool_defaults_match_the_documented_ones() -> None:
    assert PoolLimits.from_settings(Settings()) == PoolLimits(
        min_size=1, max_size=5, checkout_timeout_s=10.0, statement_timeout_s=5.0, connect_timeout_s=5.0
    )


@pytest.mark.parametrize("url", ["mysql://db/x", "postgresql://", "redis://cache:6379"])
def test_an_unsupported_cache_url_refuses_to_start(url: str) -> None:
    with pytest.raises(ConfigError, match="AUTODOCS_CACHE_URL"):
        load_settings(cache_url=url)


def test_a_pool_minimum_above_its_maximum_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match=r"AUTODOCS_DB_POOL_MAX=5: .*at least AUTODOCS_DB_POOL_MIN \(6\)"):
        load_settings(db_pool_min=6, db_pool_max=5)


def test_a_postgresql_url_without_the_postgres_extra_names_the_extra_to_install(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delitem(sys.modules, "autodocs.cache.postgres")
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed: its import fails
    with pytest.raises(ConfigError, match="PostgreSQL") as raised:
        open_store(Settings(cache_url="postgresql://app@db.internal/autodocs"))
    assert any("autodocs[postgres]" in suggestion for suggestion in raised.value.suggestions)


def test_the_sqlite_path_never_imports_the_postgres_driver(tmp_path: Path) -> None:
    script = (
        "import sys, asyncio\n"
        "import autodocs.cli, autodocs.service, autodocs.server, autodocs.server.http\n"
        "from autodocs.config import Settings\n"
        "from autodocs.service import AutoDocsService\n"
        "async def start() -> None:\n"
        f"    async with AutoDocsService.running(Settings(cache_dir={str(tmp_path)!r})):\n"
        "        pass\n"
        "asyncio.run(start())\n"
        "print(sorted(name for name in sys.modules if name.startswith('psycopg')))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True)
    assert done.stdout.strip() == "[]"
