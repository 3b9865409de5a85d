"""A real MCP client (the official SDK's) talking to `autodocs serve` over stdio."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from tests.support.fake_index import FakeIndex
from tests.support.tool_results import tool_error

EXPECTED_TOOLS = {
    "scan_dependencies",
    "get_package_docs",
    "get_package_docs_with_context",
    "search_docs",
    "get_api_reference",
    "get_cache_stats",
    "refresh_cache",
    "health_check",
    "ready_check",
    "get_metrics",
}


def server_params(env: dict[str, str]) -> StdioServerParameters:
    return StdioServerParameters(command=sys.executable, args=["-m", "autodocs", "serve"], env=env)


async def test_lists_the_tools_and_calls_each(cli_env: dict[str, str], fake_index: FakeIndex, tmp_path: Any) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "p"\ndependencies = ["requests>=2"]\n')
    with anyio.fail_after(60):
        async with stdio_client(server_params(cli_env)) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            assert set(tools) == EXPECTED_TOOLS
            docs_schema = tools["get_package_docs"].input_schema["properties"]
            assert docs_schema["package_name"]["description"]
            assert tools["get_package_docs"].output_schema is not None

            scan = await session.call_tool("scan_dependencies", {"project_path": str(project)})
            assert not scan.is_error
            assert scan.structured_content["dependencies"][0]["name"] == "requests"

            docs = await session.call_tool(
                "get_package_docs", {"package_name": "requests", "version_constraint": "==2.31.0"}
            )
            assert not docs.is_error
            assert docs.structured_content["version"] == "2.31.0"

            context = await session.call_tool(
                "get_package_docs_with_context", {"package_name": "requests", "max_dependencies": 2}
            )
            assert not context.is_error
            assert len(context.structured_content["succeeded"]) == 2

            stats = await session.call_tool("get_cache_stats", {})
            assert stats.structured_content["documents"] >= 3

            refresh = await session.call_tool("refresh_cache", {"package_name": "requests"})
            assert not refresh.is_error and refresh.structured_content["removed_entries"] >= 1


@pytest.mark.parametrize(
    ("arguments", "error_type"),
    [
        ({"package_name": "../../etc/passwd"}, "InvalidPackageName"),
        ({"package_name": "no-such-package-xyz"}, "PackageNotFound"),
        ({"package_name": "requests", "version_constraint": ">=99"}, "VersionNotFound"),
        ({"package_name": "requests", "version_constraint": "~~1"}, "InvalidVersionSpec"),
        ({"package_name": "requests", "max_tokens": 1}, "InvalidArgument"),
    ],
)
async def test_errors_are_structured(
    cli_env: dict[str, str], fake_index: FakeIndex, arguments: dict[str, Any], error_type: str
) -> None:
    with anyio.fail_after(60):
        async with stdio_client(server_params(cli_env)) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("get_package_docs", arguments)
            assert result.is_error
            error = tool_error(result)
            assert error["type"] == error_type
            assert isinstance(error["suggestions"], list) and isinstance(error["retryable"], bool)
            assert error["message"]
            # The server is still up after an error.
            again = await session.call_tool("get_cache_stats", {})
            assert not again.is_error


async def test_a_cold_call_asks_the_index_once(cli_env: dict[str, str], fake_index: FakeIndex) -> None:
    cli_env = {**cli_env, "AUTODOCS_RELEASE_DOCS": "false"}  # a docs set's build asks on its own
    with anyio.fail_after(60):
        async with stdio_client(server_params(cli_env)) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            for name, constraint in (("requests", "==2.31.0"), ("httpx", "<0.28"), ("click", None)):
                before = fake_index.request_count
                result = await session.call_tool(
                    "get_package_docs", {"package_name": name, "version_constraint": constraint}
                )
                assert not result.is_error, result
                assert result.structured_content["source"] == "index"
                expected = 2 if constraint == "<0.28" else 1  # the project page, then the version's
                assert fake_index.request_count - before == expected
            before = fake_index.request_count
            missing = await session.call_tool("get_package_docs", {"package_name": "no-such-package-here"})
            assert missing.is_error
            assert tool_error(missing)["type"] == "PackageNotFound"
            assert fake_index.request_count - before == 1
            bad = await session.call_tool("get_package_docs", {"package_name": "requests; rm -rf /"})
            assert tool_error(bad)["type"] == "InvalidPackageName"


async def test_scan_of_a_missing_path_is_a_structured_error(cli_env: dict[str, str]) -> None:
    with anyio.fail_after(60):
        async with stdio_client(server_params(cli_env)) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("scan_dependencies", {"project_path": "/no/such/dir"})
            assert result.is_error
            assert tool_error(result)["type"] == "PathNotFound"


def test_client_closing_stdin_ends_the_server_cleanly(cli_env: dict[str, str]) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "autodocs", "serve"],
        env=cli_env,
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert process.stdin is not None
    process.stdin.write(
        b'{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18",'
        b'"capabilities":{},"clientInfo":{"name":"t","version":"1"}}}\n'
    )
    process.stdin.flush()
    assert process.stdout is not None
    assert b'"result"' in process.stdout.readline()
    process.stdin.close()
    assert process.wait(timeout=20) == 0
    stderr = process.stderr.read().decode() if process.stderr else ""
    assert "Traceback" not in stderr


async def test_stdio_has_no_rate_limit(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "AUTODOCS_RATE_LIMIT_RPM": "3"}
    with anyio.fail_after(60):
        async with stdio_client(server_params(env)) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            results = [await session.call_tool("get_cache_stats", {}) for _ in range(6)]
    assert not any(result.is_error for result in results)


async def test_context_call_sends_progress_notifications(cli_env: dict[str, str]) -> None:
    seen: list[tuple[float, float | None, str | None]] = []

    async def on_progress(progress: float, total: float | None, message: str | None) -> None:
        seen.append((progress, total, message))

    with anyio.fail_after(60):
        async with stdio_client(server_params(cli_env)) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool(
                "get_package_docs_with_context",
                {"package_name": "requests", "version_constraint": "==2.31.0", "max_dependencies": 3},
                progress_callback=on_progress,
            )
    assert not result.is_error
    assert [progress for progress, _, _ in seen] == [1, 2, 3]
    assert {total for _, total, _ in seen} == {3}
    assert all(message and message.startswith(("done: ", "failed: ")) for _, _, message in seen)


async def test_cancelling_a_call_stops_its_work(cli_env: dict[str, str], fake_index: FakeIndex) -> None:
    from tests.support.fake_index import Fault

    fake_index.set_fault(Fault.hang(), path_contains="/flask/")
    with anyio.fail_after(60):
        async with stdio_client(server_params(cli_env)) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            with anyio.move_on_after(1.0):
                await session.call_tool("get_package_docs", {"package_name": "flask"})
            await anyio.sleep(0.3)
            health = await session.call_tool("health_check", {})
            metrics = await session.call_tool("get_metrics", {})
    assert health.structured_content["in_flight"] == 0, "the cancelled call no longer runs"
    counted = metrics.structured_content["metrics"]
    assert counted["autodocs_tool_calls_total{outcome=cancelled,tool=get_package_docs}"] == 1
