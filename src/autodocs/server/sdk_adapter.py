"""The one place AutoDocs reaches past the MCP SDK's public API: ``MCPServer._lowlevel_server``.

Why: ``MCPServer`` serves stdio only through ``run_stdio_async()``, which runs the SDK's
``stdio_server()`` on the process's own descriptors with its threaded reader. Our stdio transport
(:mod:`autodocs.server.stdio`) hands ``stdio_server()`` streams of its own (a public argument) so
that it can answer malformed lines (the SDK drops them, and the client waits forever), answer
the requests already read when the input ends, drain on SIGTERM, and read the pipes on the event
loop. Running a session over caller-supplied streams is public on the low-level ``Server``
(``Server.run(read, write, options)``), but the low-level server behind an ``MCPServer`` is not
(the SDK's own in-memory client reads the same attribute, with a to-do to make it public).

Worth it: besides those behaviours, the loop-read pipes take the warm stdio call from
1.16/1.20/0.93 ms (the SDK's threaded reader) to 0.91/0.91/0.74 ms
(``python bench/stdio_latency.py --rounds 3``, alternating runs, 2026-12-06).

If a release of the SDK drops or reshapes the attribute, :func:`session_runner` returns None
and the caller falls back to ``run_stdio_async()`` (still serving, without those behaviours);
``tests/server/test_sdk_adapter.py`` fails first, naming this module.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from mcp.server.lowlevel import Server
from mcp.server.mcpserver import MCPServer

__all__ = ["SessionRunner", "session_runner"]

log = structlog.get_logger(__name__)

#: Serves one MCP session over a (read, write) stream pair until the read side closes.
SessionRunner = Callable[[Any, Any], Awaitable[None]]

_PRIVATE_ATTRIBUTE = "_lowlevel_server"


def session_runner(server: MCPServer[Any]) -> SessionRunner | None:
    """How to serve ``server`` over streams we supply; None when the SDK no longer allows it."""
    lowlevel = getattr(server, _PRIVATE_ATTRIBUTE, None)
    if not isinstance(lowlevel, Server):
        log.warning("stdio.sdk_adapter_unavailable", attribute=_PRIVATE_ATTRIBUTE, found=type(lowlevel).__name__)
        return None

    async def run(read: Any, write: Any) -> None:
        await lowlevel.run(read, write, lowlevel.create_initialization_options())

    return run
