"""search_docs end to end: the service over a real SQLite cache, the CLI, and the MCP tool."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import stdio_client

from autodocs.errors import InvalidArgument, InvalidPackageName
from autodocs.service import AutoDocsService
from tests.conftest import autodocs_command
from tests.support.fake_index import DEFAULT_DATA_DIR, FakeIndex
from tests.support.tool_results import tool_error
from tests.test_mcp_stdio import server_params

LATEST = json.loads((DEFAULT_DATA_DIR / "MANIFEST.json").read_text())["projects"]

UV_PROJECT = """\
[project]
name = "app"
version = "0.1.0"
dependencies = ["httpx", "requests>=2"]
"""
UV_LOCK = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "httpx" }, { name = "requests" }]

[[package]]
name = "httpx"
version = "0.27.2"
source = { registry = "https://example.invalid/simple" }

[[package]]
name = "requests"
version = "2.31.0"
source = { registry = "https://example.invalid/simple" }
"""


def project(tmp_path: Path, requirements: str) -> str:
    folder = tmp_path / "project"
    folder.mkdir()
    (folder / "requirements.txt").write_text(requirements)
    return str(folder)


async def test_with_a_project_only_its_dependencies_are_searched(service: AutoDocsService, tmp_path: Path) -> None:
    for name in ("requests", "httpx", "urllib3", "celery"):
        await service.get_package_docs(name)
    path = project(tmp_path, "requests>=2\nhttpx\n")
    everywhere = await service.search_docs("connection pooling")
    assert everywhere.scope == "cache"
    assert everywhere.results[0].package == "urllib3"
    result = await service.search_docs("connection pooling", project_path=path)
    assert result.scope == "project"
    assert result.results and {hit.package for hit in result.results} <= {"requests", "httpx"}
    assert result.searched_packages == [f"httpx=={LATEST['httpx']}", f"requests=={LATEST['requests']}"]
    assert result.not_cached == []


async def test_a_locked_dependency_is_searched_at_its_pinned_version_only(
    service: AutoDocsService, tmp_path: Path
) -> None:
    await service.get_package_docs("httpx", "==0.27.2")
    await service.get_package_docs("httpx")
    folder = tmp_path / "locked"
    folder.mkdir()
    (folder / "pyproject.toml").write_text(UV_PROJECT)
    (folder / "uv.lock").write_text(UV_LOCK)
    result = await service.search_docs("http client", project_path=str(folder))
    assert result.searched_packages == ["httpx==0.27.2"]
    assert {(hit.package, hit.version) for hit in result.results} == {("httpx", "0.27.2")}
    assert result.not_cached == ["requests==2.31.0"]
    assert any("get_package_docs" in note for note in result.notes)


async def test_a_dependency_with_nothing_cached_is_named_with_how_to_cache_it(
    service: AutoDocsService, tmp_path: Path, fake_index: FakeIndex
) -> None:
    path = project(tmp_path, "tenacity\nflask\n")
    await service.get_package_docs("flask")
    await service.docsets.wait_for_builds()  # flask's docs set is built by requests of its own, after the call
    before = fake_index.request_count
    result = await service.search_docs("web application", project_path=path)
    assert result.not_cached == ["tenacity"]
    assert [hit.package for hit in result.results][:1] == ["flask"]
    assert any("tenacity" in note and "get_package_docs" in note for note in result.notes)
    assert fake_index.request_count == before, "search never asks the package index"


async def test_packages_restrict_to_those_names_at_any_cached_or_the_named_version(service: AutoDocsService) -> None:
    await service.get_package_docs("httpx", "==0.27.2")
    await service.get_package_docs("httpx")
    await service.get_package_docs("requests")
    any_version = await service.search_docs("client", packages=["HTTPX"])
    assert any_version.scope == "packages"
    assert sorted(any_version.searched_packages) == ["httpx==0.27.2", f"httpx=={LATEST['httpx']}"]
    exact = await service.search_docs("client", packages=["httpx==0.27.2", "requests==1.0.0"])
    assert {hit.version for hit in exact.results} == {"0.27.2"}
    assert exact.not_cached == ["requests==1.0.0"]


async def test_with_a_project_and_packages_only_the_named_dependencies_are_searched(
    service: AutoDocsService, tmp_path: Path
) -> None:
    for name in ("requests", "httpx", "flask"):
        await service.get_package_docs(name)
    path = project(tmp_path, "requests\nhttpx\n")
    result = await service.search_docs("http", project_path=path, packages=["httpx", "flask"])
    assert {hit.package for hit in result.results} == {"httpx"}
    assert any("flask" in note and "Not dependencies" in note for note in result.notes)


async def test_an_empty_cache_says_to_fetch_docs_first(service: AutoDocsService) -> None:
    result = await service.search_docs("anything at all")
    assert result.results == []
    assert any("Nothing is cached yet" in note for note in result.notes)


async def test_docs_fetched_a_moment_ago_are_already_searchable(service: AutoDocsService) -> None:
    await service.get_package_docs("structlog")  # its cache write is still queued behind the reply
    result = await service.search_docs("structured logging")
    assert result.results[0].package == "structlog"
    assert result.limit_applied == 10


@pytest.mark.parametrize(
    ("arguments", "error"),
    [
        ({"query": "?!", "project_path": "/no/such/folder"}, InvalidArgument),
        ({"query": "http", "limit": 0}, InvalidArgument),
        ({"query": "http", "packages": ["../etc/passwd"]}, InvalidPackageName),
        ({"query": "http", "packages": ["httpx==not a version"]}, InvalidArgument),
    ],
)
async def test_bad_arguments_fail_before_any_work(
    service: AutoDocsService, arguments: dict[str, Any], error: type[Exception]
) -> None:
    query = arguments.pop("query")
    with pytest.raises(error):
        await service.search_docs(query, **arguments)


def test_cli_search_prints_the_tool_object_and_errors_as_json(cli_env: dict[str, str]) -> None:
    def run(args: list[str]) -> subprocess.CompletedProcess[str]:
        command = [*autodocs_command(), *args]
        return subprocess.run(command, env=cli_env, capture_output=True, text=True, timeout=60, check=False)

    assert run(["docs", "jinja2", "--json"]).returncode == 0
    found = run(["search", "template engine", "--package", "jinja2", "--limit", "2", "--json"])
    assert found.returncode == 0, found.stderr
    result = json.loads(found.stdout)
    assert result["scope"] == "packages"
    assert [hit["package"] for hit in result["results"]] == ["jinja2", "jinja2"]
    assert {"version", "kind", "path", "snippet", "score"} <= result["results"][0].keys()
    human = run(["search", "template engine"])
    assert human.returncode == 0 and "jinja2" in human.stdout
    failed = run(["search", "!!", "--json"])
    assert failed.returncode == 1
    assert json.loads(failed.stdout)["error"]["type"] == "InvalidArgument"


async def test_mcp_search_docs_returns_structured_hits_and_structured_errors(cli_env: dict[str, str]) -> None:
    with anyio.fail_after(60):
        async with stdio_client(server_params(cli_env)) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert tools["search_docs"].input_schema["properties"]["query"]["description"]
            assert tools["search_docs"].output_schema is not None
            docs = await session.call_tool("get_package_docs", {"package_name": "rich"})
            assert not docs.is_error
            result = await session.call_tool("search_docs", {"query": "progress bars", "packages": ["rich"]})
            assert not result.is_error
            assert result.structured_content["results"][0]["package"] == "rich"
            assert result.structured_content["searched_packages"] == [f"rich=={docs.structured_content['version']}"]
            refused = await session.call_tool("search_docs", {"query": '"*"'})
            assert refused.is_error
            assert tool_error(refused)["type"] == "InvalidArgument"
