"""``file://`` Simple indexes: read in stdio mode, refused in HTTP mode unless the operator allows."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from autodocs.config import Settings, load_settings
from autodocs.errors import ConfigError, UpstreamUnavailable
from autodocs.index import IndexClient
from autodocs.index.fetch import JsonFetcher
from autodocs.index.files import check_file_indexes
from tests.conftest import autodocs_command
from tests.support.dists import FixtureProject, fixture_projects, sha256


def write_file_index(root: Path, projects: list[FixtureProject]) -> str:
    """A folder laid out like a static Simple index: simple/NAME/index.html with relative links."""
    files = root / "files"
    files.mkdir(parents=True)
    links: dict[str, list[str]] = {}
    for project in projects:
        for filename, data in (project.wheel(), project.sdist()):
            (files / filename).write_bytes(data)
            links.setdefault(project.name, []).append(
                f'<a href="../../files/{filename}#sha256={sha256(data)}">{filename}</a>'
            )
    for name, anchors in links.items():
        page = root / "simple" / name / "index.html"
        page.parent.mkdir(parents=True)
        page.write_text("<!DOCTYPE html><html><body>" + "<br>".join(anchors) + "</body></html>")
    return (root / "simple").as_uri()


async def test_a_file_index_serves_an_exact_old_release(tmp_path: Path) -> None:
    url = write_file_index(tmp_path / "index", fixture_projects())
    client = IndexClient(Settings(cache_dir=tmp_path / "cache", pypi_url=url))
    try:
        metadata = await client.fetch_version("tinylib", "0.9.0")
        releases, _ = await client.fetch_project("rest-lib")
        files = await client.fetch_release_files("tinylib", "1.0.0")
    finally:
        await client.aclose()
    assert metadata.version == "0.9.0" and "tinylib 0.9.0" in metadata.info["description"]
    assert [r.version for r in releases.releases] == ["1.0.0", "1.2.0"]
    assert client.capabilities.ranges is True, "METADATA was read from the wheel by ranges, not whole"
    assert all(f.url.startswith("file://localhost/") for f in files)


@pytest.mark.parametrize("allowed", [False, True])
def test_http_mode_serves_a_file_index_only_when_the_operator_allows(tmp_path: Path, allowed: bool) -> None:
    url = write_file_index(tmp_path / "index", fixture_projects()[:1])
    env = {
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "AUTODOCS_INDEX_URL": url,
        "AUTODOCS_CACHE_DIR": str(tmp_path / "cache"),
        "AUTODOCS_ALLOW_FILE_INDEXES": str(allowed).lower(),
    }
    process = subprocess.Popen(
        [*autodocs_command(), "serve", "--transport", "http", "--port", "0"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    try:
        lines = []
        for line in process.stderr:  # until it listens, or exits refusing
            lines.append(line)
            if "http.listening" in line:
                break
        listening = any("http.listening" in line for line in lines)
    finally:
        process.terminate()
        process.wait(timeout=30)
    assert listening is allowed, "".join(lines)
    if not allowed:
        assert "AUTODOCS_ALLOW_FILE_INDEXES" in "".join(lines)


def _pip_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **variables: str) -> None:
    for variable in list(os.environ):
        if variable.startswith(("AUTODOCS_", "PIP_", "UV_")):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("AUTODOCS_CACHE_DIR", str(tmp_path / "cache"))
    for name, value in variables.items():
        monkeypatch.setenv(name, value)


def test_http_mode_leaves_out_an_extra_file_index_from_pip_configuration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _pip_environment(
        monkeypatch,
        tmp_path,
        PIP_INDEX_URL="https://mirror.example.test/simple",
        PIP_EXTRA_INDEX_URL="file:///srv/wheels https://extra.example.test/simple",
    )
    served = check_file_indexes(load_settings())
    assert served.pypi_url == "https://mirror.example.test/simple"
    assert served.extra_index_urls == ["https://extra.example.test/simple"]
    assert served.index_origins == ["PIP_INDEX_URL", "PIP_EXTRA_INDEX_URL"]
    allowed = load_settings(allow_file_indexes=True)
    assert check_file_indexes(allowed).extra_index_urls == ["file:///srv/wheels", "https://extra.example.test/simple"]


@pytest.mark.parametrize(
    "variables",
    [
        {"PIP_INDEX_URL": "file:///srv/simple"},
        {"PIP_INDEX_URL": "https://mirror.example.test/simple", "AUTODOCS_EXTRA_INDEX_URLS": "file:///srv/simple"},
    ],
)
def test_http_mode_refuses_a_file_index_as_the_index_or_named_by_an_autodocs_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variables: dict[str, str]
) -> None:
    _pip_environment(monkeypatch, tmp_path, **variables)
    with pytest.raises(ConfigError, match="is a local folder") as refused:
        check_file_indexes(load_settings())
    assert "AUTODOCS_ALLOW_FILE_INDEXES" in refused.value.suggestions[0]


async def test_a_served_index_url_that_names_no_host_gets_the_full_retry_budget(tmp_path: Path) -> None:
    """The served indexes' hosts get the full retry budget, the empty one of a ``file:///`` URL too
    (httpx fetches no URL without a host: file indexes are read through ``file://localhost/``)."""
    url = write_file_index(tmp_path / "index", fixture_projects()[:1])
    settings = Settings(
        cache_dir=tmp_path / "cache", pypi_url=url, max_retry_attempts=2, base_retry_delay=0, max_retry_delay=0
    )
    fetcher = JsonFetcher(settings)
    try:
        with pytest.raises(UpstreamUnavailable):
            await fetcher.get_page(f"{url}/tinylib/")
    finally:
        await fetcher.aclose()
    assert fetcher.retries == 2
    assert fetcher.breaker_states() == {"": "closed"}, "its circuit is listed (health, metrics) under the empty name"
