"""Streamable HTTP: the MCP endpoint (stateless, JSON answers) plus /health, /ready, /metrics.

Built from the SDK's own app (``MCPServer.streamable_http_app``), wrapped in one outer ASGI
layer (:class:`Guard`) that does, in order: request id for every log line, bearer token
(constant-time compare; every route but ``/health``), ``Origin`` allowlist against DNS
rebinding, body-size cap (declared sizes here; the SDK caps streamed bodies), refusal of new
MCP calls while draining — and absorbs a client that hangs up mid-request (one debug line,
no traceback; the server keeps serving).

Shutdown is ours, not uvicorn's: on the first SIGTERM/SIGINT readiness turns 503 at once,
in-flight calls get ``SHUTDOWN_TIMEOUT`` seconds to finish, what is left is cancelled with a
``ServerShuttingDown`` error, then uvicorn closes and the process exits 0. A second signal
stops at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import signal
import socket
import uuid
from pathlib import Path
from types import FrameType

import anyio
import structlog
import uvicorn
from mcp.server.transport_security import TransportSecuritySettings
from prometheus_client import CONTENT_TYPE_LATEST
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autodocs.config import Settings
from autodocs.errors import ConfigError, ServerShuttingDown, to_error_payload
from autodocs.index.files import check_file_indexes
from autodocs.logs import configure_logging
from autodocs.server.health import health_report, ready_report
from autodocs.server.lifecycle import Lifecycle
from autodocs.server.tools import ServerParts, build_server, current_client

__all__ = ["Guard", "build_http_app", "serve_http"]

log = structlog.get_logger(__name__)

_OPEN_ROUTES = frozenset({"/health"})
_LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_DISCONNECTS: tuple[type[BaseException], ...] = (
    ClientDisconnect,
    anyio.ClosedResourceError,
    anyio.BrokenResourceError,
    ConnectionResetError,
    BrokenPipeError,
)


def serve_http(settings: Settings) -> int:
    """Run the HTTP server until a signal; returns the exit code."""
    check_bind(settings)
    check_file_indexes(settings)
    configure_logging(settings.log_level, json_lines=True)
    parts, app = build_http_app(settings)
    from autodocs.server import freeze_startup_heap

    freeze_startup_heap()
    listener = socket.socket(socket.AF_INET6 if ":" in settings.host else socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind((settings.host, settings.port))
        listener.listen(2048)  # connections queue from now on, even while the service starts
    except OSError as exc:
        raise ConfigError(f"Cannot listen on {settings.host}:{settings.port}: {exc.strerror}.") from None
    config = uvicorn.Config(
        app,
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


def build_http_app(settings: Settings) -> tuple[ServerParts, ASGIApp]:
    roots = settings.allowed_roots or [Path.cwd()]
    parts = build_server(settings, allowed_roots=roots, rate_limited=True)
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

    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=[f"{host}:*" for host in _LOCAL_HOSTS] + list(_LOCAL_HOSTS) + settings.allowed_hosts,
        allowed_origins=_allowed_origins(settings),
    )
    app = parts.server.streamable_http_app(
        stateless_http=True,
        json_response=True,
        transport_security=security,
        max_request_body_size=settings.max_request_bytes,
        host=settings.host,
    )
    return parts, Guard(app, settings, lifecycle)


class Guard:
    """The outer ASGI layer: identity, access, limits, draining, and quiet disconnects."""

    def __init__(self, app: ASGIApp, settings: Settings, lifecycle: Lifecycle) -> None:
        self._app = app
        self._token = settings.auth_token.get_secret_value().encode() if settings.auth_token else None
        self._origins = set(_allowed_origins(settings))
        self._max_body = settings.max_request_bytes
        self._lifecycle = lifecycle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers = {key.decode("latin-1").lower(): value.decode("latin-1") for key, value in scope["headers"]}
        request_id = headers.get("x-request-id", "")[:64] or uuid.uuid4().hex[:16]
        path = scope["path"]
        client = scope.get("client")
        with structlog.contextvars.bound_contextvars(request_id=request_id, path=path):
            refusal = self._refusal(path, headers)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            try:
                replay = await _read_body(receive, self._max_body)
            except ClientDisconnect:
                log.debug("http.client_disconnected", stage="request body")
                return
            except _BodyTooLarge:
                await _json_error(413, "PayloadTooLarge", f"Request bodies are limited to {self._max_body} bytes.")(
                    scope, receive, send
                )
                return
            token = current_client.set(f"ip:{client[0]}" if client else "http")
            # Only MCP requests are in flight: a probe (/health, /ready, /metrics) counted itself.
            tracked = self._lifecycle.track_request() if path.startswith("/mcp") else contextlib.nullcontext()
            try:
                with tracked:
                    await self._app(scope, replay, _quiet(send))
            except BaseException as exc:
                if not _only_disconnects(exc):
                    raise
                log.debug("http.client_disconnected", stage="handling", error=type(exc).__name__)
            finally:
                current_client.reset(token)

    def _refusal(self, path: str, headers: dict[str, str]) -> Response | None:
        if path not in _OPEN_ROUTES:
            if self._token is not None and not self._authorized(headers.get("authorization", "")):
                return _json_error(
                    401, "Unauthorized", "A valid bearer token is required.", {"WWW-Authenticate": "Bearer"}
                )
            origin = headers.get("origin")
            if origin is not None and not _origin_allowed(origin, self._origins):
                return _json_error(403, "Forbidden", f"Origin {origin[:200]!r} is not allowed.")
        declared = headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self._max_body:
            return _json_error(413, "PayloadTooLarge", f"Request bodies are limited to {self._max_body} bytes.")
        if self._lifecycle.draining and path.startswith("/mcp"):
            payload = to_error_payload(ServerShuttingDown("The server is shutting down and takes no new calls."))
            return JSONResponse(payload, status_code=503, headers={"Retry-After": "1"})
        return None

    def _authorized(self, header: str) -> bool:
        scheme, _, supplied = header.partition(" ")
        assert self._token is not None
        return scheme.lower() == "bearer" and hmac.compare_digest(supplied.strip().encode(), self._token)


class _BodyTooLarge(Exception):
    pass


async def _read_body(receive: Receive, limit: int) -> Receive:
    """Read the whole request body here (at most ``limit`` bytes), then replay it to the app.

    A client that hangs up mid-body ends here, quietly, instead of inside the SDK (which logs
    that as an error with a traceback); and streamed bodies are capped like declared ones.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        body = message.get("body", b"")
        size += len(body)
        if size > limit:
            raise _BodyTooLarge
        chunks.append(body)
        if not message.get("more_body", False):
            break
    replayed = False

    async def replay() -> Message:
        nonlocal replayed
        if not replayed:
            replayed = True
            return {"type": "http.request", "body": b"".join(chunks), "more_body": False}
        return await receive()  # afterwards: the real stream, to hear a disconnect

    return replay


def _quiet(send: Send) -> Send:
    """Sending to a client that has gone is not an error worth a traceback."""

    async def wrapped(message: Message) -> None:
        try:
            await send(message)
        except _DISCONNECTS:
            log.debug("http.send_after_disconnect")
        except OSError as exc:  # e.g. EPIPE surfaced by the server
            log.debug("http.send_failed", error=type(exc).__name__)

    return wrapped


def _only_disconnects(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_disconnects(inner) for inner in exc.exceptions)
    return isinstance(exc, _DISCONNECTS)


def _json_error(status: int, kind: str, message: str, headers: dict[str, str] | None = None) -> Response:
    body = {"error": {"type": kind, "message": message, "suggestions": [], "retryable": False}}
    return Response(json.dumps(body), status_code=status, media_type="application/json", headers=headers)


def _allowed_origins(settings: Settings) -> list[str]:
    local = [f"http://{host}" for host in _LOCAL_HOSTS] + [f"http://{host}:*" for host in _LOCAL_HOSTS]
    return local + settings.allowed_origins


def _origin_allowed(origin: str, allowed: set[str]) -> bool:
    if origin in allowed:
        return True
    scheme_host, _, port = origin.rpartition(":")
    return port.isdigit() and f"{scheme_host}:*" in allowed


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
