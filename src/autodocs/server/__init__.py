"""Transports: the MCP server over stdio (HTTP comes with the production-server work)."""

from __future__ import annotations

import anyio

from autodocs.config import Settings
from autodocs.logs import configure_logging
from autodocs.server.tools import build_server

__all__ = ["build_server", "serve_stdio"]

_HANGUP = (
    BrokenPipeError,
    ConnectionResetError,
    anyio.ClosedResourceError,
    anyio.BrokenResourceError,
    EOFError,
)


def serve_stdio(settings: Settings) -> int:
    """Serve MCP on stdin/stdout until the client closes its end; returns the exit code.

    A client that hangs up (EOF, broken pipe) or Ctrl-C ends the process quietly with 0.
    """
    server = build_server(settings)
    configure_logging(settings.log_level)  # after the SDK's own logging setup, so ours wins
    try:
        anyio.run(server.run_stdio_async)
    except KeyboardInterrupt:
        return 0
    except BaseExceptionGroup as group:
        if (
            group.subgroup(lambda exc: not isinstance(exc, (BaseExceptionGroup, *_HANGUP, KeyboardInterrupt)))
            is not None
        ):
            raise
    except _HANGUP:
        pass
    return 0
