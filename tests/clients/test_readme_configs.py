"""The README's client configuration snippets work once the path is filled in: each stdio
snippet is read from the README as a client reads its config file, its placeholders replaced
(the path of this environment's `autodocs`, the loopback index, a temporary cache folder, a real
CA bundle), and its server started with the Python SDK's client to answer a docs call."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import anyio
import certifi
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.conftest import REPO_ROOT
from tests.support.fake_index import FakeIndex

PLACEHOLDER_COMMAND = "/path/to/autodocs/.venv/bin/autodocs"


def readme_snippets() -> list[dict[str, Any]]:
    """Every server entry of the JSON blocks in the README's "Connect an assistant" section."""
    readme = (REPO_ROOT / "README.md").read_text()
    section = readme.split("## Connect an assistant", 1)[1].split("\n## ", 1)[0]
    entries: list[dict[str, Any]] = []
    for block in re.findall(r"```json\n(.*?)```", section, re.DOTALL):
        config = json.loads(block)
        servers = config.get("mcpServers") or config.get("servers")
        entries.extend(servers.values())
    return entries


def test_the_readme_shows_stdio_snippets_that_pass_the_index_the_cache_and_a_ca_bundle() -> None:
    snippets = readme_snippets()
    assert len(snippets) >= 2
    shown = {key for snippet in snippets for key in snippet.get("env", {})}
    assert {"AUTODOCS_PYPI_URL", "AUTODOCS_CACHE_DIR", "SSL_CERT_FILE"} <= shown
    assert all(snippet["command"] == PLACEHOLDER_COMMAND and snippet["args"] == ["serve"] for snippet in snippets)


@pytest.mark.parametrize("number", range(len(readme_snippets())))
async def test_a_readme_snippet_starts_a_server_that_answers(
    number: int, fake_index: FakeIndex, cli_env: dict[str, str], tmp_path: Path
) -> None:
    snippet = readme_snippets()[number]
    cache = tmp_path / "snippet-cache"
    filled = {
        "AUTODOCS_PYPI_URL": fake_index.url,
        "AUTODOCS_CACHE_DIR": str(cache),
        "SSL_CERT_FILE": certifi.where(),
    }
    env = {**cli_env, **{key: filled.get(key, value) for key, value in snippet.get("env", {}).items()}}
    env.setdefault("AUTODOCS_CACHE_DIR", str(cache))  # a snippet without one: not the user's cache
    command = str(Path(sys.executable).with_name("autodocs"))
    params = StdioServerParameters(command=command, args=snippet["args"], env=env)
    before = fake_index.request_count
    with anyio.fail_after(60):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            docs = await session.call_tool(
                "get_package_docs", {"package_name": "requests", "version_constraint": "==2.31.0"}
            )
    assert not docs.is_error and docs.structured_content is not None
    assert docs.structured_content["version"] == "2.31.0"
    assert fake_index.request_count > before  # the index the snippet names was asked
    assert cache.is_dir()  # the cache folder the snippet names was used
