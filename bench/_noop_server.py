"""Baseline for bench/stdio_latency.py: the same MCP SDK over stdio with a tool that does nothing."""

from __future__ import annotations

import logging

from mcp.server.mcpserver import MCPServer

server: MCPServer[None] = MCPServer("noop")


@server.tool()
async def noop(package_name: str) -> dict[str, str]:
    """Return at once."""
    return {"name": package_name}


if __name__ == "__main__":
    logging.disable(logging.WARNING)
    server.run()
