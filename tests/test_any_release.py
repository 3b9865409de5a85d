"""Any release of any index through the docs use case: a cached list never hides a release."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autodocs.errors import VersionNotFound
from autodocs.service import AutoDocsService
from tests.conftest import make_settings
from tests.support.dists import FixtureProject, fixture_projects
from tests.support.fake_index import FakeIndex


@pytest.fixture
def index(fake_index: FakeIndex) -> Iterator[FakeIndex]:
    for project in fixture_projects():
        fake_index.registry.add(project)
    yield fake_index


async def test_old_pin_on_a_mirror_without_version_pages_is_served_exactly(
    index: FakeIndex, service: AutoDocsService
) -> None:
    index.modes.version_pages = False
    page = await service.get_package_docs("tinylib", "==0.9.0")
    assert page.version == "0.9.0"
    assert "tinylib 0.9.0 is a small fixture library" in page.content and page.format == "markdown"


async def test_a_release_missing_from_a_fresh_cached_list_is_found_after_one_refresh(
    index: FakeIndex, service: AutoDocsService
) -> None:
    first = await service.get_package_docs("rest-lib", ">=1.0")
    assert first.version == "1.2.0"
    index.registry.add(FixtureProject("rest-lib", "1.3.0", markup="rst"))  # published after the list was cached
    index.reset_counts()
    page = await service.get_package_docs("rest-lib", ">=1.3")
    assert page.version == "1.3.0"
    assert index.count("/pypi/rest-lib/json") == 1, "the list is asked for once more, not in a loop"


async def test_a_pin_newer_than_the_cached_list_is_served(index: FakeIndex, service: AutoDocsService) -> None:
    index.modes.version_pages = False
    await service.get_package_docs("rest-lib")
    index.registry.add(FixtureProject("rest-lib", "1.4.0", markup="rst"))
    page = await service.get_package_docs("rest-lib", "==1.4.0")
    assert page.version == "1.4.0"


async def test_a_version_the_index_does_not_list_names_the_nearest_and_is_not_retryable(
    index: FakeIndex, service: AutoDocsService
) -> None:
    index.modes.version_pages = False
    with pytest.raises(VersionNotFound) as caught:
        await service.get_package_docs("tinylib", "==1.0.1")
    error = caught.value.to_dict()
    assert error["retryable"] is False
    assert "1.0.0" in error["available_versions"]
    assert "1.0.1" not in error["available_versions"]
    assert "try again" not in " ".join([error["message"], *error["suggestions"]]).lower()


@pytest.mark.parametrize("simple_api", [True, False], ids=["simple-links", "json-api-links"])
async def test_api_reference_downloads_a_wheel_listed_by_a_relative_link(
    index: FakeIndex, service: AutoDocsService, simple_api: bool
) -> None:
    """PEP 503 allows relative links, and some mirrors write them in the JSON API too."""
    index.modes.version_pages = False
    index.modes.simple_api = simple_api
    reply = await service.get_api_reference("tinylib", "greet", version_constraint="==0.9.0")
    assert reply["version"] == "0.9.0"
    assert "0.9.0 way" in str(reply)
    assert index.count("/files/tinylib-0.9.0-py3-none-any.whl") >= 1


async def test_newest_release_on_a_simple_only_index_costs_two_requests(index: FakeIndex, tmp_path: Path) -> None:
    """The list the version is chosen from names its PEP 658 file: the page is not asked twice.
    (Release docs off: a docs set's build makes requests of its own, tests/test_docsets.py.)"""
    index.modes.json_api = False
    settings = make_settings(index, tmp_path, pypi_url=index.simple_url, release_docs=False)
    async with AutoDocsService.running(settings) as service:
        await service.get_package_docs("tinylib")  # learn the index: it has no JSON API
        index.reset_counts()
        page = await service.get_package_docs("rest-lib")
    assert page.version == "1.2.0"
    assert [path for _, path in index.requests] == [
        "/simple/rest-lib/",
        "/files/rest_lib-1.2.0-py3-none-any.whl.metadata",
    ]


async def test_a_yanked_release_from_a_mirror_without_version_pages_keeps_its_reason(
    fake_index: FakeIndex, service: AutoDocsService
) -> None:
    fake_index.registry.add(FixtureProject("tinylib", "1.1.0"), yanked="broken build")
    fake_index.registry.add(FixtureProject("tinylib", "1.2.0"))  # the newest: 1.1.0 comes from the file list
    fake_index.modes.version_pages = False
    fake_index.modes.simple_api = False  # the JSON API's project page lists the files
    page = await service.get_package_docs("tinylib", "==1.1.0")
    assert page.version == "1.1.0" and page.yanked
    metadata = await service.index.fetch_version("tinylib", "1.1.0")
    assert metadata.info["yanked_reason"] == "broken build"
