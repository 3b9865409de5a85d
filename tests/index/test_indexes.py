"""Which index: INDEX_URL (PYPI_URL its older name), then EXTRA_INDEX_URLS; credentials per host."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
import structlog
from keyring.backend import KeyringBackend
from keyring.credentials import SimpleCredential

from autodocs.config import load_settings
from autodocs.errors import PackageNotFound
from autodocs.index import IndexClient
from tests.conftest import make_settings
from tests.support.dists import FixtureProject
from tests.support.fake_index import FakeIndex, Fault


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


class _RecordingKeyring(KeyringBackend):
    """An in-process keyring holding one credential; it records what it was asked for."""

    priority = 1

    def __init__(self, service: str, username: str, password: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # keyring's base class is untyped
        self.stored = {service: (username, password)}
        self.asked: list[str] = []

    def get_credential(self, service: str, username: str | None) -> SimpleCredential | None:
        self.asked.append(service)
        found = self.stored.get(service)
        return SimpleCredential(*found) if found else None

    def get_password(self, service: str, username: str) -> str | None:
        return None

    def set_password(self, service: str, username: str, password: str) -> None:
        raise NotImplementedError

    def delete_password(self, service: str, username: str) -> None:
        raise NotImplementedError


async def test_keyring_is_asked_once_after_a_401_for_a_configured_index_only(
    fake_index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.netrc
    backend = _RecordingKeyring(fake_index.url, "dave", "k3yring-pw")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    fake_index.set_fault(Fault.status(401), times=1)
    client = IndexClient(make_settings(fake_index, tmp_path))
    try:
        await client.fetch_project("six")
        await client.fetch_project("click")
    finally:
        await client.aclose()
        keyring.set_keyring(previous)
    assert backend.asked == [fake_index.url], "asked once, for the configured index's URL"
    assert fake_index.seen_headers("authorization")[0] is None
    assert all((value or "").startswith("Basic ") for value in fake_index.seen_headers("authorization")[1:])
    assert fake_index.request_count == 3
