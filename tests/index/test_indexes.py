"""Which index: INDEX_URL (PYPI_URL its older name), then EXTRA_INDEX_URLS; credentials per host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import structlog

from autodocs.config import load_settings
from autodocs.errors import PackageNotFound
from autodocs.index import IndexClient
from tests.conftest import make_settings
from tests.support.dists import FixtureProject
from tests.support.fake_index import FakeIndex


@pytest.fixture
def two_indexes(tmp_path: Path) -> Iterator[tuple[FakeIndex, FakeIndex]]:
    (tmp_path / "empty").mkdir()
    with FakeIndex(tmp_path / "empty") as first, FakeIndex(tmp_path / "empty") as second:
        first.registry.add(FixtureProject("tinylib", "1.0.0"))
        second.registry.add(FixtureProject("tinylib", "9.9.9"))  # the same name on a later index
        second.registry.add(FixtureProject("rest-lib", "1.0.0", markup="rst"))
        yield first, second


def test_index_url_is_read_and_pypi_url_is_its_older_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTODOCS_INDEX_URL", raising=False)
    monkeypatch.setenv("AUTODOCS_PYPI_URL", "https://old.example/pypi/")
    assert load_settings().pypi_url == "https://old.example/pypi"
    monkeypatch.setenv("AUTODOCS_INDEX_URL", "https://new.example/simple")
    assert load_settings().pypi_url == "https://new.example/simple"
    monkeypatch.setenv("AUTODOCS_EXTRA_INDEX_URLS", "https://a.example/simple, https://b.example/pypi")
    assert load_settings().extra_index_urls == ["https://a.example/simple", "https://b.example/pypi"]


async def test_the_first_index_that_has_a_package_wins(
    two_indexes: tuple[FakeIndex, FakeIndex], tmp_path: Path
) -> None:
    first, second = two_indexes
    settings = make_settings(first, tmp_path, pypi_url=first.simple_url, extra_index_urls=[second.simple_url])
    client = IndexClient(settings)
    try:
        releases, _ = await client.fetch_project("tinylib")
        assert [r.version for r in releases.releases] == ["1.0.0"], "a later index never shadows the first"
        rest, _ = await client.fetch_project("rest-lib")
        assert [r.version for r in rest.releases] == ["1.0.0"]
        second.reset_counts()
        first.reset_counts()
        metadata = await client.fetch_version("rest-lib", "1.0.0")
        assert metadata.version == "1.0.0"
        assert first.request_count == 0, "the index that has the package is remembered"
        with pytest.raises(PackageNotFound):
            await client.fetch_project("on-no-index")
    finally:
        await client.aclose()


async def test_credentials_go_only_to_the_host_they_were_configured_for(
    two_indexes: tuple[FakeIndex, FakeIndex], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.netrc
    first, second = two_indexes
    secret_url = second.simple_url.replace("http://", "http://carol:t0psecret@")
    settings = make_settings(first, tmp_path, pypi_url=first.simple_url, extra_index_urls=[secret_url])
    client = IndexClient(settings)
    try:
        with structlog.testing.capture_logs() as logs:
            await client.fetch_version("rest-lib", "1.0.0")
            await client.fetch_project("tinylib")
    finally:
        await client.aclose()
    assert all(value is None for value in first.seen_headers("authorization"))
    assert second.seen_headers("authorization") and all(
        (value or "").startswith("Basic ") for value in second.seen_headers("authorization")
    )
    assert "t0psecret" not in repr(logs)
