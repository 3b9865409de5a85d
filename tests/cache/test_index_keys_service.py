"""Two loopback indexes serving different ``twinpkg`` releases: the service never mixes them, in
either store, across restarts, in memory, and never writes an index's credentials anywhere."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autodocs.config import Settings
from autodocs.errors import UpstreamError
from autodocs.index import IndexClient
from autodocs.index.keys import index_key
from autodocs.service import AutoDocsService
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex
from tests.test_api_reference import _serve_wheels, _wheel

NAME = "twinpkg"


def twin(served_by: str, versions: list[str]) -> dict[str, Any]:
    """The project document of ``twinpkg`` as one index serves it: its own releases and text."""
    return {
        "info": {
            "name": NAME,
            "version": versions[-1],
            "summary": f"twinpkg as the {served_by} index serves it",
            "description": f"# twinpkg\n\nServed by the {served_by} index.\n",
            "description_content_type": "text/markdown",
        },
        "releases": {
            version: [{"filename": f"{NAME}-{version}.tar.gz", "packagetype": "sdist", "size": 100, "yanked": False}]
            for version in versions
        },
        "urls": [],
    }


@pytest.fixture
def alpha(fake_index: FakeIndex) -> FakeIndex:
    fake_index.add_project(NAME, twin("alpha", ["1.0", "2.0"]))
    return fake_index


@pytest.fixture
def bravo() -> Iterator[FakeIndex]:
    with FakeIndex() as index:
        index.add_project(NAME, twin("bravo", ["1.0", "3.0"]))
        yield index


@pytest.fixture(params=["sqlite", "postgresql"])
def cache_url(request: pytest.FixtureRequest) -> str | None:
    """None: the embedded SQLite file in the cache folder; else a fresh PostgreSQL database."""
    return None if request.param == "sqlite" else str(request.getfixturevalue("postgres_url"))


def settings_for(index: FakeIndex, tmp_path: Path, cache_url: str | None, **overrides: Any) -> Settings:
    """One cache (folder and store) whatever the index: as when AUTODOCS_INDEX_URL changes."""
    return make_settings(index, tmp_path / "cache", cache_url=cache_url, **overrides)


async def docs(settings: Settings, constraint: str | None = None) -> tuple[str, str, str]:
    async with AutoDocsService.running(settings) as service:
        page = await service.get_package_docs(NAME, constraint)
    return page.version, page.content, page.source


async def test_two_indexes_foo_is_never_served_as_the_others_across_restarts(
    alpha: FakeIndex, bravo: FakeIndex, tmp_path: Path, cache_url: str | None
) -> None:
    on_alpha, on_bravo = settings_for(alpha, tmp_path, cache_url), settings_for(bravo, tmp_path, cache_url)
    version, content, _ = await docs(on_alpha)
    assert (version, "Served by the alpha index." in content) == ("2.0", True)
    _, content, _ = await docs(on_alpha, "==1.0")
    assert "Served by the alpha index." in content

    version, content, source = await docs(on_bravo)
    assert (version, source) == ("3.0", "index"), "alpha's fresh release list is not bravo's"
    assert "Served by the bravo index." in content
    version, content, source = await docs(on_bravo, "==1.0")  # alpha's 1.0 is cached: not bravo's
    assert (version, source) == ("1.0", "index") and "Served by the bravo index." in content

    for index, settings in (("alpha", on_alpha), ("bravo", on_bravo)):  # a restart: each its own, from the cache
        _, content, source = await docs(settings, "==1.0")
        assert source == "cache" and f"Served by the {index} index." in content


async def test_a_new_index_that_is_down_never_gets_the_old_indexs_cached_docs(
    alpha: FakeIndex, bravo: FakeIndex, tmp_path: Path, cache_url: str | None
) -> None:
    await docs(settings_for(alpha, tmp_path, cache_url))
    await docs(settings_for(alpha, tmp_path, cache_url), "==1.0")
    down = settings_for(bravo, tmp_path, cache_url, max_retries=0, request_timeout=3.0)
    bravo.go_down()
    with pytest.raises(UpstreamError):  # not alpha's docs, served as a stale copy of bravo's
        await docs(down)


async def test_the_memos_in_front_of_the_store_are_keyed_by_index(
    alpha: FakeIndex, bravo: FakeIndex, tmp_path: Path
) -> None:
    """A docs call answered by another index client (as a project-aware call will be) gets that
    index's package, never what memory holds of the first one's."""
    async with AutoDocsService.running(settings_for(alpha, tmp_path, None)) as service:
        for constraint in (None, "==1.0"):  # alpha's release list (1.0, 2.0) and 1.0 are in memory now
            assert "Served by the alpha index." in (await service.get_package_docs(NAME, constraint)).content
        other = IndexClient(settings_for(bravo, tmp_path, None))
        try:
            service.resolution._index = service.project_indexes._default = (
                other  # what the service's memos see as "the index" now
            )
            for constraint in (None, "==1.0"):
                page = await service.get_package_docs(NAME, constraint)
                assert "Served by the bravo index." in page.content, constraint
                assert page.version == {None: "3.0", "==1.0": "1.0"}[constraint]
            assert bravo.count(f"/{NAME}/2.0/") == 0, "bravo was asked for a release only alpha's list names"
        finally:
            await other.aclose()


def test_a_clients_cache_key_is_its_urls_in_order_without_credentials_or_trailing_slashes() -> None:
    settings = Settings(
        pypi_url="https://reader:s3cr3t@private.test:8443/simple/",
        extra_index_urls=["https://token-only@extra.test/root/simple/", "file:///srv/wheels/"],
    )
    key = IndexClient(settings).cache_key
    assert key == "https://private.test:8443/simple https://extra.test/root/simple file:///srv/wheels"
    assert key == index_key([settings.pypi_url, *settings.extra_index_urls])
    assert index_key(["https://a.test/simple", "https://b.test/simple"]) != index_key(
        ["https://b.test/simple", "https://a.test/simple"]
    ), "the order of the indexes decides which answers, so it is part of the key"


async def test_an_indexs_credentials_are_never_written_to_the_cache(
    alpha: FakeIndex, tmp_path: Path, cache_url: str | None
) -> None:
    secret = "s3cr3t-index-pw"
    with_password = alpha.url.replace("http://", f"http://reader:{secret}@")
    settings = settings_for(alpha, tmp_path, cache_url, pypi_url=with_password)
    async with AutoDocsService.running(settings) as service:
        assert secret not in service.index_key and "reader" not in service.index_key
        await service.get_package_docs(NAME)
        await service.flush_writes()
        shown = [
            (await service.cache_stats()).model_dump_json(),
            (await service.list_cache()).model_dump_json(),
            (await service.search_docs("served")).model_dump_json(),
        ]
        assert service.index_key in shown[0] and service.index_key in shown[1] and service.index_key in shown[2]
        assert not any(secret in text for text in shown)
        if cache_url is not None:
            async with service.store.connection() as db:  # type: ignore[attr-defined]
                cursor = await db.execute(
                    "SELECT index_key FROM documents UNION SELECT index_key FROM release_lists"
                    " UNION SELECT index_key FROM search_entries"
                )
                assert [row[0] for row in await cursor.fetchall()] == [service.index_key]
    if cache_url is None:
        files = list((tmp_path / "cache").glob("cache.db*"))
        assert files and not any(secret.encode() in path.read_bytes() for path in files)


async def test_two_indexes_api_references_of_one_release_never_mix(
    fake_index: FakeIndex, bravo: FakeIndex, tmp_path: Path, cache_url: str | None
) -> None:
    """Downloaded code, stored references and the memos in front of them, per index."""
    name = f"twinapi{time.monotonic_ns()}"
    _serve_wheels(fake_index, name, {"1.0": _wheel(name, "1.0", 'def lantern() -> None:\n    """Alpha."""\n')})
    _serve_wheels(bravo, name, {"1.0": _wheel(name, "1.0", 'def compass() -> None:\n    """Bravo."""\n')})

    async def members(settings: Settings) -> list[str]:
        async with AutoDocsService.running(settings) as service:
            reply = await service.get_api_reference(name, version_constraint="==1.0")
        return [member["path"] for member in reply["members"]]

    on_alpha, on_bravo = settings_for(fake_index, tmp_path, cache_url), settings_for(bravo, tmp_path, cache_url)
    assert await members(on_alpha) == [f"{name}.lantern"]
    assert await members(on_bravo) == [f"{name}.compass"]
    assert await members(on_alpha) == [f"{name}.lantern"]  # a restart: alpha's own, from the cache
    async with AutoDocsService.running(on_alpha) as service:  # one service, the other index's client
        await service.get_api_reference(name)
        other = IndexClient(on_bravo)
        try:
            service.resolution._index = service.project_indexes._default = other
            reply = await service.get_api_reference(name)
            assert [member["path"] for member in reply["members"]] == [f"{name}.compass"]
        finally:
            await other.aclose()
