"""The Python SDK's client, with its output validation on (the default), runs the interop script
over stdio and HTTP against `autodocs serve` (real subprocesses, the loopback fake index)."""

from __future__ import annotations

import sys
from pathlib import Path

import anyio
import httpx2
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.shared.exceptions import MCPError
from mcp_types import TextContent

from tests.clients.scenario import Outcome, calls, check_outcomes
from tests.server.test_http import http_server


async def run_script(session: ClientSession, project: Path) -> dict[str, Outcome]:
    await session.initialize()
    await session.list_tools()  # the client validates results against the schemas it listed
    outcomes: dict[str, Outcome] = {}
    for call in calls(project):
        try:
            result = await session.call_tool(call.tool, call.arguments)
        except MCPError as exc:
            outcomes[call.id] = Outcome(protocol_code=exc.code, protocol_data=exc.data)
            continue
        except RuntimeError as exc:  # the client's own output-schema check failed
            outcomes[call.id] = Outcome(refused=str(exc))
            continue
        texts = [block.text for block in result.content if isinstance(block, TextContent)]
        outcomes[call.id] = Outcome(
            is_error=result.is_error,
            structured=result.structured_content,
            text=texts[0] if len(texts) == 1 else None,
        )
    return outcomes


async def test_the_script_over_stdio(interop_env: dict[str, str], interop_project: Path) -> None:
    params = StdioServerParameters(command=sys.executable, args=["-m", "autodocs", "serve"], env=interop_env)
    with anyio.fail_after(90):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            outcomes = await run_script(session, interop_project)
    check_outcomes(interop_project, outcomes)


async def test_the_script_over_http(interop_env: dict[str, str], interop_project: Path) -> None:
    with http_server(interop_env) as server, anyio.fail_after(90):
        async with (
            httpx2.AsyncClient(timeout=60) as client,
            streamable_http_client(f"{server.url}/mcp", http_client=client) as (read, write),
            ClientSession(read, write) as session,
        ):
            outcomes = await run_script(session, interop_project)
    check_outcomes(interop_project, outcomes)
