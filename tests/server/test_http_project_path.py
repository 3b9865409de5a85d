"""project_path over `autodocs serve --transport http`: inside the allowed roots only, the operator's
allow-list for the indexes a project names; driven by the SDK's HTTP client."""

from __future__ import annotations

import os
from pathlib import Path

import anyio

from tests.server.test_http import call_tool, http_server
from tests.support.dists import FixtureProject
from tests.support.fake_index import FakeIndex
from tests.support.tool_results import tool_error


def http_env(fake_index: FakeIndex, tmp_path: Path, allowed: Path) -> dict[str, str]:
    dropped = ("AUTODOCS_", "PIP_", "UV_", "POETRY_")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    (tmp_path / "home").mkdir(exist_ok=True)
    env.update(
        {
            "HOME": str(tmp_path / "home"),
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": fake_index.simple_url,  # the server's own index, not AUTODOCS_INDEX_URL
            "AUTODOCS_CACHE_DIR": str(tmp_path / "cache"),
            "AUTODOCS_ALLOWED_ROOTS": str(allowed),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


async def test_project_path_outside_the_allowed_roots_is_a_structured_error(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.registry.add(FixtureProject("tinylib", "1.0.0"))
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    for folder in (allowed / "app", outside):
        folder.mkdir(parents=True)
        (folder / "requirements.txt").write_text("--index-url http://127.0.0.1:9/simple\ntinylib\n")
    with http_server(http_env(fake_index, tmp_path, allowed)) as server, anyio.fail_after(60):
        for tool in ("get_package_docs", "get_package_docs_with_context", "get_api_reference"):
            result = await call_tool(server.url, tool, {"package_name": "tinylib", "project_path": str(outside)})
            error = tool_error(result)
            assert (error["type"], error["retryable"]) == ("PathNotAllowed", False), tool
            assert str(allowed) in error["message"]
        inside = await call_tool(
            server.url, "get_package_docs", {"package_name": "tinylib", "project_path": str(allowed / "app")}
        )
    assert not inside.is_error
    page = inside.structured_content
    assert page is not None and (page["version"], page["index"]) == ("1.0.0", fake_index.simple_url)
    assert any("AUTODOCS_ALLOWED_PROJECT_INDEXES" in note for note in page["index_notes"])
