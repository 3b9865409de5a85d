"""Transports: the MCP server over stdio (here) and streamable HTTP (:mod:`autodocs.server.http`)."""

from __future__ import annotations

import signal
from types import FrameType

import anyio

from autodocs.config import Settings
from autodocs.logs import configure_logging
from autodocs.server.stdio import run_stdio
from autodocs.server.tools import build_server

__all__ = ["build_server", "serve_stdio"]

_HANGUP = (
    BrokenPipeError,
    ConnectionResetError,
    anyio.ClosedResourceError,
    anyio.BrokenResourceError,
    EOFError,
)


def _terminate(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def serve_stdio(settings: Settings) -> int:
    """Serve MCP on stdin/stdout until the client closes its end; returns the exit code.

    A client that hangs up (EOF, broken pipe) ends the process quietly with 0; so do SIGTERM
    and SIGINT, after draining the calls in flight (:mod:`autodocs.server.stdio`).
    """
    parts = build_server(settings, open_service_on_first_call=True)
    # after the SDK's own logging setup, so ours wins
    configure_logging(settings.log_level, repeat_interval=settings.log_repeat_interval)
    signal.signal(signal.SIGTERM, _terminate)  # on the SDK's transport (not a pipe): like Ctrl-C
    try:
        anyio.run(run_stdio, parts.server, parts.lifecycle, settings.shutdown_timeout)
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
