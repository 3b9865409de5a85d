"""Baseline for bench/http_throughput.py: the same MCP SDK, stateless JSON over HTTP, a tool doing nothing."""

from __future__ import annotations

import asyncio
import logging
import socket

import uvicorn
from mcp.server.mcpserver import MCPServer

server: MCPServer[None] = MCPServer("noop")


@server.tool()
async def noop(package_name: str) -> dict[str, str]:
    """Return at once."""
    return {"name": package_name}


def main() -> None:
    logging.disable(logging.WARNING)
    app = server.streamable_http_app(stateless_http=True, json_response=True)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # TCP_NODELAY, as ours
    listener.bind(("127.0.0.1", 0))
    listener.listen(2048)
    print(f"PORT {listener.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_config=None, access_log=False, lifespan="on")
    asyncio.run(uvicorn.Server(config).serve(sockets=[listener]))


if __name__ == "__main__":
    main()
