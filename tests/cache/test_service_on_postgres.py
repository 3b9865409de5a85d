"""The service end to end on a PostgreSQL cache: what one replica cached, another serves."""

from __future__ import annotations

from pathlib import Path

from autodocs.service import AutoDocsService
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex


async def test_a_second_replica_serves_what_the_first_cached(
    fake_index: FakeIndex, postgres_url: str, tmp_path: Path
) -> None:
    settings = make_settings(fake_index, tmp_path / "cache", cache_url=postgres_url)
    async with AutoDocsService.running(settings) as first:
        assert (await first.get_package_docs("httpx", "<0.28")).source == "index"
        await first.docsets.wait_for_builds()  # its docs set (or why it has none) is stored too
    fake_index.reset()
    async with AutoDocsService.running(settings) as second:
        page = await second.get_package_docs("httpx", "<0.28")
        stats = await second.cache_stats()
    assert page.source == "cache"
    assert fake_index.request_count == 0
    assert stats.backend == "postgresql"
    assert stats.documents >= 1
