"""What an operator reads: get_cache_stats and /metrics agree, and say what the cache did.

Real parts: the loopback fake index, a real SQLite cache, the server's own metrics registry.
"""

from __future__ import annotations

from pathlib import Path

from autodocs.config import Settings
from autodocs.server.lifecycle import Lifecycle
from autodocs.server.metrics import Metrics
from autodocs.service import AutoDocsService


def metric(service: AutoDocsService, name: str) -> float:
    value = Metrics(Lifecycle(), lambda: service).snapshot()[name]
    assert isinstance(value, float)
    return value


async def test_memory_and_store_hits_count_as_hits_in_stats_and_metrics(settings: Settings) -> None:
    async with AutoDocsService.running(settings) as service:
        first = await service.get_package_docs("requests", "==2.31.0")
        assert first.source == "index"
        for _ in range(3):
            assert (await service.get_package_docs("requests", "==2.31.0")).source == "cache"  # from memory
        stats = await service.cache_stats()
        assert (stats.hits, stats.misses) == (3, 1)
        assert (metric(service, "autodocs_cache_hits_total"), metric(service, "autodocs_cache_misses_total")) == (3, 1)
    async with AutoDocsService.running(settings) as service:
        assert (await service.get_package_docs("requests", "==2.31.0")).source == "cache"  # from the store
        stats = await service.cache_stats()
        assert (stats.hits, stats.misses) == (1, 0)
        assert metric(service, "autodocs_cache_hits_total") == 1


async def test_cache_size_is_the_stores_files_with_the_wal_in_stats_and_metrics(settings: Settings) -> None:
    async with AutoDocsService.running(settings) as service:
        for name in ("requests", "click", "rich"):
            await service.get_package_docs(name)
        stats = await service.cache_stats()
        files = [settings.cache_dir / f"cache.db{suffix}" for suffix in ("", "-wal", "-shm")]
        assert files[1].stat().st_size > 0, "the test needs writes still in the WAL"
        on_disk = sum(path.stat().st_size for path in files if path.exists())
        assert stats.size_bytes == on_disk
        assert metric(service, "autodocs_cache_size_bytes") == on_disk


async def test_downloaded_code_is_reported_apart_from_the_store(settings: Settings) -> None:
    code = settings.cache_dir / "code" / "demo-1.0" / "demo"
    code.mkdir(parents=True)
    (code / "__init__.py").write_text("x = 1\n" * 100)
    (code / "core.py").write_bytes(b"#" * 5000)
    async with AutoDocsService.running(settings) as service:
        stats = await service.cache_stats()
        assert stats.downloaded_code_bytes == 600 + 5000
        assert stats.size_bytes == sum(
            path.stat().st_size for path in Path(settings.cache_dir).glob("cache.db*") if path.is_file()
        )
