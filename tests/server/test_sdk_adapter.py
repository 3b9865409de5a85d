"""The one private attribute of the MCP SDK we use (autodocs.server.sdk_adapter): these tests fail
loudly when an SDK release drops or reshapes it, and prove the fallback still serves."""

from __future__ import annotations

import inspect
import sys
import textwrap
from typing import Any

import anyio
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer

from autodocs.server.sdk_adapter import session_runner

# A toy server on our stdio transport, with the adapter made to find nothing (as after an SDK
# release without the attribute): it must still serve, through the SDK's run_stdio_async().
FALLBACK_SERVER = textwrap.dedent(
    """
    import anyio
    from mcp.server.mcpserver import MCPServer
    import autodocs.server.stdio as stdio
    from autodocs.server.lifecycle import Lifecycle

    server = MCPServer("fallback")

    @server.tool()
    async def echo(text: str) -> str:
        return text

    stdio.session_runner = lambda server: None
    anyio.run(stdio.run_stdio, server, Lifecycle(), 5.0)
    """
)


def test_the_sdk_still_keeps_its_low_level_server_behind_mcpserver() -> None:
    lowlevel = getattr(MCPServer("probe"), "_lowlevel_server", None)
    assert isinstance(lowlevel, Server), (
        "mcp's MCPServer no longer has a low-level Server at _lowlevel_server: update "
        "autodocs/server/sdk_adapter.py (stdio now runs on the SDK's fallback transport)"
    )
    parameters = list(inspect.signature(Server.run).parameters)
    assert parameters[:4] == ["self", "read_stream", "write_stream", "initialization_options"]
    assert lowlevel.create_initialization_options().server_name == "probe"


def test_the_adapter_finds_a_runner_on_the_sdks_server() -> None:
    assert session_runner(MCPServer("probe")) is not None


def test_the_adapter_finds_none_when_the_attribute_is_gone() -> None:
    server: Any = MCPServer("probe")
    del server._lowlevel_server
    assert session_runner(server) is None


async def test_without_the_adapter_stdio_serves_through_the_sdks_own_transport() -> None:
    params = StdioServerParameters(command=sys.executable, args=["-c", FALLBACK_SERVER])
    with anyio.fail_after(30):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            result = await session.call_tool("echo", {"text": "still served"})
    assert not result.is_error
    assert result.structured_content == {"result": "still served"}
