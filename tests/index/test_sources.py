"""Sources in order of cost, against the loopback fake index in each of its modes.

Every test counts the requests the fake index saw: once an index's capabilities are known, a
pinned package costs at most 2 round trips with PEP 658 files and at most 3 without.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from autodocs.errors import PackageNotFound, UpstreamResponseInvalid
from autodocs.index import IndexClient
from autodocs.index.client import VersionNotListed
from tests.conftest import make_settings
from tests.support.dists import FixtureProject, fixture_projects
from tests.support.fake_index import FakeIndex, Fault

BIG_TAIL = FixtureProject("bigtail", "3.0.0", tail_padding=200_000)


@pytest.fixture
def index(fake_index: FakeIndex) -> Iterator[FakeIndex]:
    for project in fixture_projects():
        fake_index.registry.add(project, yanked="broken build" if project.version == "1.1.0" else None)
    fake_index.registry.add(BIG_TAIL)
    yield fake_index


async def _client(index: FakeIndex, tmp_path: Path, url: str, **overrides: Any) -> AsyncIterator[IndexClient]:
    client = IndexClient(make_settings(index, tmp_path, pypi_url=url, **overrides))
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
async def simple_client(index: FakeIndex, tmp_path: Path) -> AsyncIterator[IndexClient]:
    """A client of the index's Simple API URL; the index serves no JSON API."""
    index.modes.json_api = False
    async for client in _client(index, tmp_path, index.simple_url):
        yield client


async def _warm(client: IndexClient, index: FakeIndex) -> None:
    """Let the client learn the index (the first request to a new index may probe), on another
    package than the ones measured (a listing fetched moments ago is used again)."""
    await client.fetch_version("rest-lib", "1.0.0")
    index.reset_counts()


async def test_simple_html_with_pep658_serves_an_old_pin_in_two_round_trips(
    index: FakeIndex, simple_client: IndexClient
) -> None:
    index.modes.simple_json = False
    await _warm(simple_client, index)
    metadata = await simple_client.fetch_version("tinylib", "1.0.0")
    assert metadata.version == "1.0.0" and metadata.info["summary"] == "The tinylib fixture, release 1.0.0."
    assert "## Usage" in metadata.info["description"]
    assert metadata.info["description_content_type"] == "text/markdown"
    assert metadata.info["requires_dist"] == ["packaging>=20"]
    assert [path for _, path in index.requests] == [
        "/simple/tinylib/",
        "/files/tinylib-1.0.0-py3-none-any.whl.metadata",
    ]


async def test_relative_links_resolve_against_their_page(index: FakeIndex, simple_client: IndexClient) -> None:
    index.modes.simple_json = False
    files = await simple_client.fetch_release_files("tinylib", "1.0.0")
    assert {f.url for f in files} == {
        f"http://127.0.0.1:{index.port}/files/tinylib-1.0.0-py3-none-any.whl",
        f"http://127.0.0.1:{index.port}/files/tinylib-1.0.0.tar.gz",
    }
    assert all(f.sha256 and len(f.sha256) == 64 for f in files)


async def test_pep691_json_page_gives_upload_times_requires_python_and_yanked(
    index: FakeIndex, simple_client: IndexClient
) -> None:
    releases, latest = await simple_client.fetch_project("tinylib")
    assert latest is None
    assert index.last_headers()["accept"].startswith("application/vnd.pypi.simple.v1+json")
    assert releases.latest == "1.0.0", "newest final release not yanked (1.1.0 is yanked, 2.0.0rc1 a pre-release)"
    by_version = {release.version: release for release in releases.releases}
    assert set(by_version) == {"0.9.0", "1.0.0", "1.1.0", "2.0.0rc1"}
    assert by_version["1.1.0"].yanked and by_version["1.1.0"].yanked_reason == "broken build"
    assert by_version["1.0.0"].requires_python == ">=3.8"
    assert by_version["1.0.0"].upload_time == "2024-01-01T00:00:00.000000Z"


@pytest.mark.parametrize("simple_json", [True, False], ids=["pep691", "pep503"])
async def test_a_yanked_release_is_served_marked_yanked_with_its_reason(
    index: FakeIndex, simple_client: IndexClient, simple_json: bool
) -> None:
    index.modes.simple_json = simple_json
    metadata = await simple_client.fetch_version("tinylib", "1.1.0")
    assert metadata.info["yanked"] is True and metadata.info["yanked_reason"] == "broken build"


async def test_a_pre_release_is_served_by_its_exact_pin(index: FakeIndex, simple_client: IndexClient) -> None:
    metadata = await simple_client.fetch_version("tinylib", "2.0.0rc1")
    assert metadata.version == "2.0.0rc1"


async def test_rest_readme_comes_with_its_content_type(index: FakeIndex, simple_client: IndexClient) -> None:
    metadata = await simple_client.fetch_version("rest-lib", "1.0.0")
    assert metadata.info["description_content_type"] == "text/x-rst"
    assert "Usage\n-----" in metadata.info["description"]


async def test_without_pep658_the_wheel_tail_is_read_by_one_range_request(
    index: FakeIndex, simple_client: IndexClient
) -> None:
    index.modes.pep658 = False
    await _warm(simple_client, index)
    metadata = await simple_client.fetch_version("tinylib", "1.0.0")
    assert metadata.info["requires_dist"] == ["packaging>=20"]
    assert index.request_count == 2
    assert index.last_headers()["range"] == "bytes=-65536"


async def test_metadata_outside_the_tail_costs_a_third_round_trip_not_the_whole_wheel(
    index: FakeIndex, simple_client: IndexClient
) -> None:
    index.modes.pep658 = False
    await _warm(simple_client, index)
    metadata = await simple_client.fetch_version("bigtail", "3.0.0")
    assert metadata.version == "3.0.0" and "bigtail 3.0.0" in metadata.info["description"]
    assert index.request_count == 3
    page, tail, member = index.seen_headers("range")
    assert page is None and tail == "bytes=-65536" and member is not None and member.startswith("bytes=")


async def test_an_index_that_ignores_ranges_sends_the_wheel_once_and_is_not_asked_again(
    index: FakeIndex, simple_client: IndexClient
) -> None:
    index.modes.pep658 = False
    index.modes.ranges = False
    await _warm(simple_client, index)
    assert simple_client.capabilities.ranges is None, "a small wheel sent whole proves nothing"
    await simple_client.fetch_version("bigtail", "3.0.0")  # larger than the tail asked for
    assert simple_client.capabilities.ranges is False
    index.reset_counts()
    metadata = await simple_client.fetch_version("tinylib", "1.0.0")
    assert metadata.version == "1.0.0"
    assert index.request_count == 2
    assert index.last_headers().get("range") is None


async def test_sdist_only_release_is_read_from_its_pkg_info(index: FakeIndex, simple_client: IndexClient) -> None:
    index.registry.add(FixtureProject("sdistonly", "0.1.0"), wheel=False)
    metadata = await simple_client.fetch_version("sdistonly", "0.1.0")
    assert metadata.info["summary"] == "The sdistonly fixture, release 0.1.0."


async def test_a_metadata_file_that_does_not_match_its_hash_is_refused(
    index: FakeIndex, simple_client: IndexClient
) -> None:
    forged = b"Metadata-Version: 2.1\nName: tinylib\nVersion: 6.6.6\n"
    index.set_fault(Fault.body(200, forged), path_contains=".metadata")
    with pytest.raises(UpstreamResponseInvalid) as caught:
        await simple_client.fetch_version("tinylib", "1.0.0")
    assert "does not match the hash" in caught.value.message


async def test_a_version_the_index_does_not_list_is_not_listed_with_the_fresh_list(
    index: FakeIndex, simple_client: IndexClient
) -> None:
    with pytest.raises(VersionNotListed) as caught:
        await simple_client.fetch_version("tinylib", "1.0.5")
    assert {r.version for r in caught.value.releases.releases} >= {"1.0.0", "1.1.0"}
    assert caught.value.to_dict()["type"] == "VersionNotFound", "the boundary shows the public type"


async def test_an_unknown_project_is_package_not_found(index: FakeIndex, simple_client: IndexClient) -> None:
    with pytest.raises(PackageNotFound):
        await simple_client.fetch_project("no-such-fixture")


async def test_mirror_without_version_pages_stops_asking_for_them(index: FakeIndex, tmp_path: Path) -> None:
    """The JSON API's project page works, per-version pages 404: every release is still served."""
    index.modes.version_pages = False
    async for client in _client(index, tmp_path, index.url):
        first = await client.fetch_version("tinylib", "0.9.0")
        second = await client.fetch_version("tinylib", "1.0.0")
        assert (first.version, second.version) == ("0.9.0", "1.0.0")
        assert index.count("/pypi/tinylib/") == 1, "the per-version page is asked once, then never"
        assert client.capabilities.version_pages is False
        index.reset_counts()
        await client.fetch_version("rest-lib", "1.0.0")
        assert index.request_count <= 2


async def test_json_only_mirror_with_relative_file_links_gives_absolute_urls(index: FakeIndex, tmp_path: Path) -> None:
    index.modes.simple_api = False
    async for client in _client(index, tmp_path, index.url):
        files = await client.fetch_release_files("tinylib", "1.0.0")
        assert all(f.url.startswith(f"http://127.0.0.1:{index.port}/files/tinylib-1.0.0") for f in files)


async def test_a_listed_metadata_file_that_404s_falls_down_to_the_wheel(
    index: FakeIndex, simple_client: IndexClient
) -> None:
    await _warm(simple_client, index)
    index.set_fault(Fault.status(404), path_contains=".metadata")
    metadata = await simple_client.fetch_version("tinylib", "1.0.0")
    assert metadata.version == "1.0.0" and metadata.info["requires_dist"] == ["packaging>=20"]
    assert [path for _, path in index.requests] == [
        "/simple/tinylib/",
        "/files/tinylib-1.0.0-py3-none-any.whl.metadata",
        "/files/tinylib-1.0.0-py3-none-any.whl",
    ]


async def test_a_big_project_page_is_read_whole(index: FakeIndex, simple_client: IndexClient) -> None:
    """Megabytes of links (parsed off the event loop) give every release."""
    anchors = "".join(
        f'<a href="../../files/tinylib-{n // 100}.{n % 100}.0-py3-none-any.whl#sha256={"a" * 64}">'
        f"tinylib-{n // 100}.{n % 100}.0-py3-none-any.whl</a><br/>"
        for n in range(3000)
    )
    body = f"<html><body>{anchors}</body></html>".encode()
    assert len(body) > 256 * 1024
    index.set_fault(Fault.body(200, body, {"Content-Type": "text/html"}), path_contains="/simple/tinylib/")
    releases, _ = await simple_client.fetch_project("tinylib")
    assert len(releases.releases) == 3000 and releases.latest == "29.99.0"


async def test_a_json_probe_answered_by_a_login_page_means_no_json_api(
    index: FakeIndex, simple_client: IndexClient
) -> None:
    index.set_fault(Fault.body(200, b"<html>Sign in</html>", {"Content-Type": "text/html"}), path_contains="/pypi/")
    metadata = await simple_client.fetch_version("tinylib", "1.0.0")
    assert metadata.version == "1.0.0"
    assert simple_client.capabilities.json_api is False
    index.reset_counts()
    releases, _ = await simple_client.fetch_project("tinylib")
    assert releases.latest == "1.0.0" and index.count("/pypi/") == 0
