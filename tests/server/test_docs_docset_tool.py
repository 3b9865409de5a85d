"""get_package_docs of a release with a docs set through the MCP Python client (initialize handshake,
JSON-RPC over memory streams, the client checking each result against the tool's output schema)."""

from __future__ import annotations

from pathlib import Path

import anyio
from mcp import Client

from autodocs.config import Settings
from autodocs.server.tools import build_server
from tests.docset_fixtures import BARE_NAME, DOCS_URL, SPHINX_NAME, publish
from tests.support.docsets import SdistDocsets
from tests.support.fake_index import FakeIndex


async def test_a_docs_set_reply_passes_the_clients_schema_check(
    settings: Settings, fake_index: FakeIndex, tmp_path: Path
) -> None:
    sdists = publish(fake_index, tmp_path / "sdists")
    parts = build_server(settings)
    with anyio.fail_after(60):
        async with Client(parts.server, mode="legacy") as client:
            assert parts.holder.service is not None
            parts.holder.service.docs.docsets = await SdistDocsets(sdists, tmp_path / "built").ready()
            tools = {tool.name: tool for tool in (await client.list_tools()).tools}
            schema = tools["get_package_docs"].output_schema
            assert schema is not None and "section_refs" in schema["properties"]

            first = await client.call_tool("get_package_docs", {"package_name": SPHINX_NAME})
            assert not first.is_error
            assert first.structured_content is not None
            assert "docs/userguide/tasks.rst" in first.structured_content["docs_toc"]

            found = await client.call_tool(
                "get_package_docs", {"package_name": SPHINX_NAME, "query": "retry backoff", "max_tokens": 600}
            )
            assert not found.is_error and found.structured_content is not None
            best = found.structured_content["section_refs"][0]
            assert best["origin"] == "docs" and best["page"] == "docs/userguide/tasks.rst"
            assert "Retrying" in best["heading_path"]
            cursor = found.structured_content["next_cursor"]
            later = await client.call_tool(
                "get_package_docs", {"package_name": SPHINX_NAME, "cursor": cursor, "max_tokens": 600}
            )
            assert not later.is_error and later.structured_content is not None
            assert set(later.structured_content["sections"]).isdisjoint(found.structured_content["sections"])

            bare = await client.call_tool("get_package_docs", {"package_name": BARE_NAME})
            assert bare.structured_content is not None
            assert bare.structured_content["hosted_docs_url"] == DOCS_URL
