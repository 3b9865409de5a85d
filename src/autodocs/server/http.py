"""Streamable HTTP: the MCP endpoint (stateless, JSON answers) plus /health, /ready, /metrics.

Built from the SDK's own app (``MCPServer.streamable_http_app``), wrapped in one outer ASGI
layer (``server/guard.py``: token, Host and Origin, limits, draining, quiet disconnects).

uvicorn moves the bytes; the limits it lacks for slow, idle and too many connections (header
and body timeouts, a keep-alive timer that bytes do not restart, a connection cap) are added
through its public protocol-class option by ``server/connections.py``, which says why uvicorn
was kept over hypercorn and granian.

Shutdown is ours, not uvicorn's: on the first SIGTERM/SIGINT readiness turns 503 at once,
in-flight calls get ``SHUTDOWN_TIMEOUT`` seconds to finish, what is left is cancelled with a
``ServerShuttingDown`` error, then uvicorn closes and the process exits 0. A second signal
stops at once.
"""

from __future__ import annotations

import asyncio
import ipaddress
import math
import signal
import socket
from pathlib import Path
from types import FrameType

import structlog
import uvicorn
from mcp.server.transport_security import TransportSecuritySettings
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from autodocs.config import Settings
from autodocs.errors import ConfigError
from autodocs.index.files import check_file_indexes
from autodocs.logs import configure_logging
from autodocs.server.connections import (
    ACCEPT_BATCH,
    ConnectionLimits,
    ConnectionTable,
    guarded_protocol,
    raise_open_file_limit,
)
from autodocs.server.guard import Guard
from autodocs.server.health import health_report, ready_report
from autodocs.server.lifecycle import Lifecycle
from autodocs.server.tools import ServerParts, build_server

__all__ = ["Guard", "build_http_app", "serve_http"]

log = structlog.get_logger(__name__)

#: Connections the kernel queues before they are accepted.
_LISTEN_QUEUE = 2048


def serve_http(settings: Settings) -> int:
    """Run the HTTP server until a signal; returns the exit code."""
    check_bind(settings)
    configure_logging(settings.log_level, json_lines=True, repeat_interval=settings.log_repeat_interval)
    settings = check_file_indexes(settings)
    max_connections = raise_open_file_limit(settings.http_max_connections)
    if max_connections < settings.http_max_connections:
        log.warning(
            "http.connection_cap_lowered",
            reason="open-file limit",
            configured=settings.http_max_connections,
            effective=max_connections,
        )
    parts, app = build_http_app(settings, max_connections=max_connections)
    family = socket.AF_INET6 if ":" in settings.host else socket.AF_INET
    # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets whose proto says TCP, and
    # without it every keep-alive answer waits ~40 ms (Nagle meets the client's delayed ACK).
    listener = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((settings.host, settings.port))
        listener.listen(_LISTEN_QUEUE)  # connections queue from now on, even while the service starts
    except OSError as exc:
        raise ConfigError(f"Cannot listen on {settings.host}:{settings.port}: {exc.strerror}.") from None
    config = uvicorn.Config(
        app,
        http=guarded_protocol(app.connections),
        # Ours closes idle connections (server/connections.py); uvicorn's own timer must not first.
        timeout_keep_alive=math.ceil(settings.http_keep_alive_timeout) + 1,
        backlog=ACCEPT_BATCH,
        log_config=None,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=5,
        server_header=False,
    )
    server = _DrainingServer(config, parts.lifecycle, settings.shutdown_timeout)
    log.info("http.listening", host=settings.host, port=listener.getsockname()[1], auth=bool(settings.auth_token))
    asyncio.run(server.serve(sockets=[listener]))
    log.info("http.stopped")
    return 0


def check_bind(settings: Settings) -> None:
    """Refuse to listen beyond loopback without a token."""
    if settings.auth_token is None and not _is_loopback(settings.host):
        raise ConfigError(
            f"Refusing to listen on {settings.host} without AUTODOCS_AUTH_TOKEN: anyone who can reach it "
            "could use this server.",
            suggestions=["Set AUTODOCS_AUTH_TOKEN to a long random secret, or bind 127.0.0.1 (the default)."],
        )


def build_http_app(settings: Settings, *, max_connections: int | None = None) -> tuple[ServerParts, Guard]:
    roots = settings.allowed_roots or [Path.cwd()]
    parts = build_server(settings, allowed_roots=roots, rate_limited=True, transport="http")
    lifecycle = parts.lifecycle

    async def health(_: Request) -> Response:
        return JSONResponse(health_report(lifecycle, parts.holder.service).model_dump())

    async def ready(_: Request) -> Response:
        report = await ready_report(lifecycle, parts.holder.service)
        return JSONResponse(report.model_dump(), status_code=200 if report.ready else 503)

    async def metrics(_: Request) -> Response:
        return Response(parts.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    for path, endpoint in (("/health", health), ("/ready", ready), ("/metrics", metrics)):
        parts.server.custom_route(path, methods=["GET"])(endpoint)

    # Host and Origin are checked by the Guard, for every route but /health and with the
    # server's own addresses allowed (a scrape by pod IP); the SDK's narrower copy of the same
    # check would refuse those on /mcp alone. It still checks a POST's Content-Type.
    security = TransportSecuritySettings(enable_dns_rebinding_protection=False)
    app = parts.server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=security,
        max_request_body_size=settings.max_request_bytes,
        host=settings.host,
    )
    limits = ConnectionLimits(
        header_timeout=settings.http_header_timeout,
        body_timeout=settings.http_body_timeout,
        keep_alive_timeout=settings.http_keep_alive_timeout,
        max_connections=max_connections or settings.http_max_connections,
    )
    return parts, Guard(app, settings, lifecycle, ConnectionTable(limits))


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _DrainingServer(uvicorn.Server):
    """uvicorn, with our own handling of SIGTERM/SIGINT: drain first, then stop."""

    def __init__(self, config: uvicorn.Config, lifecycle: Lifecycle, drain_timeout: float) -> None:
        super().__init__(config)
        self._lifecycle = lifecycle
        self._drain_timeout = drain_timeout
        self._loop: asyncio.AbstractEventLoop | None = None
        self._drain_task: asyncio.Task[None] | None = None

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        self._loop = asyncio.get_running_loop()
        await super().serve(sockets=sockets)

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        # asyncio listened again with uvicorn's backlog, which it also uses as its accept batch
        # (server/connections.py: ACCEPT_BATCH); the kernel's queue stays long.
        for listener in sockets or []:
            listener.listen(_LISTEN_QUEUE)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._lifecycle.draining:  # a second signal: stop now
            self.should_exit = self.force_exit = True
            return
        self._lifecycle.start_draining()
        log.info("http.draining", signal=signal.Signals(sig).name, in_flight=self._lifecycle.in_flight)
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._start_drain)

    def _start_drain(self) -> None:
        self._drain_task = asyncio.ensure_future(self._drain())

    async def _drain(self) -> None:
        cancelled = await self._lifecycle.drain(self._drain_timeout)
        if cancelled:
            log.warning("http.drain_timeout", cancelled=cancelled, timeout_s=self._drain_timeout)
        self.should_exit = True
