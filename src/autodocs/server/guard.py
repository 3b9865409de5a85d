"""The outer ASGI layer of the HTTP server (:class:`Guard`): who may ask, what, and how.

In order, for every request: a request id for every log line; one ``Authorization`` header at
most (two get 400: different layers might read different ones); on every route but
``/health``: the ``Host`` (a listed host, or an IP literal of the address the connection
reached, for a probe or scrape by pod IP; else 421), the bearer token (constant-time compare;
401) and the ``Origin`` (403) — DNS rebinding cannot reach ``/ready`` or ``/metrics`` either;
405 for a ``GET /mcp`` (stateless: there is no event stream to open); the body-size cap
(declared sizes here, streamed ones while reading); the body's own timeouts (408:
:class:`~autodocs.server.connections.BodyDeadline`); refusal of new MCP calls while draining.
It tells the connection table (``server/connections.py``) when a request starts and ends, and
absorbs a client that hangs up mid-request (one debug line, no traceback).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import uuid

import anyio
import structlog
from starlette.requests import ClientDisconnect
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from autodocs.config import Settings
from autodocs.errors import ServerShuttingDown, to_error_payload
from autodocs.server.connections import BodyDeadline, ConnectionLimits, ConnectionTable
from autodocs.server.lifecycle import Lifecycle
from autodocs.server.tools import current_client

__all__ = ["LOCAL_HOSTS", "Guard", "allowed_origins"]

log = structlog.get_logger(__name__)

#: Routes open to anyone: no token, no Host or Origin check (liveness probes).
_OPEN_ROUTES = frozenset({"/health"})
LOCAL_HOSTS = ("127.0.0.1", "localhost", "[::1]")
_DISCONNECTS: tuple[type[BaseException], ...] = (
    ClientDisconnect,
    anyio.ClosedResourceError,
    anyio.BrokenResourceError,
    ConnectionResetError,
    BrokenPipeError,
)


class Guard:
    """The outer ASGI layer: identity, access, limits, draining, and quiet disconnects."""

    def __init__(self, app: ASGIApp, settings: Settings, lifecycle: Lifecycle, connections: ConnectionTable) -> None:
        self._app = app
        self.connections = connections
        self._token = settings.auth_token.get_secret_value().encode() if settings.auth_token else None
        self._origins = set(allowed_origins(settings))
        self._hosts = _allowed_hosts(settings)
        self._max_body = settings.max_request_bytes
        self._lifecycle = lifecycle

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        headers: dict[str, str] = {}
        repeated = False
        for key, value in scope["headers"]:
            name = key.decode("latin-1").lower()
            repeated = repeated or (name == "authorization" and name in headers)
            headers[name] = value.decode("latin-1")
        request_id = headers.get("x-request-id", "")[:64] or uuid.uuid4().hex[:16]
        path = scope["path"]
        client = scope.get("client")
        with (
            self.connections.request(client),
            structlog.contextvars.bound_contextvars(request_id=request_id, path=path),
        ):
            refusal = self._refusal(scope, headers, repeated_authorization=repeated)
            if refusal is not None:
                await refusal(scope, receive, send)
                return
            try:
                replay = await _read_body(receive, self._max_body, self.connections.limits)
            except ClientDisconnect:
                log.debug("http.client_disconnected", stage="request body")
                return
            except TimeoutError:
                log.debug("http.body_timeout")
                message = "The request body did not arrive in time."
                await _json_error(408, "RequestTimeout", message, {"Connection": "close"})(scope, receive, send)
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

    def _refusal(self, scope: Scope, headers: dict[str, str], *, repeated_authorization: bool) -> Response | None:
        path: str = scope["path"]
        if path not in _OPEN_ROUTES:
            if repeated_authorization:  # which one would count? Different layers may pick differently.
                return _json_error(400, "BadRequest", "Send one Authorization header, not several.")
            host = headers.get("host", "")
            if not _host_allowed(host, self._hosts, scope.get("server")):
                return _json_error(
                    421,
                    "MisdirectedRequest",
                    f"Host {host[:200]!r} is not allowed.",
                    suggestions=["Add it to AUTODOCS_ALLOWED_HOSTS (comma-separated; host:* for any port)."],
                )
            if self._token is not None and not self._authorized(headers.get("authorization", "")):
                return _json_error(
                    401, "Unauthorized", "A valid bearer token is required.", {"WWW-Authenticate": "Bearer"}
                )
            origin = headers.get("origin")
            if origin is not None and not _origin_allowed(origin, self._origins):
                return _json_error(403, "Forbidden", f"Origin {origin[:200]!r} is not allowed.")
            if scope["method"] == "GET" and path.rstrip("/") == "/mcp":
                # Stateless: there is no session whose server-sent events a GET could stream.
                return _json_error(
                    405,
                    "MethodNotAllowed",
                    "This server is stateless: POST JSON-RPC messages to /mcp.",
                    {"Allow": "POST"},
                )
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


async def _read_body(receive: Receive, limit: int, limits: ConnectionLimits) -> Receive:
    """Read the whole request body here (at most ``limit`` bytes), then replay it to the app.

    A client that hangs up mid-body ends here, quietly, instead of inside the SDK (which logs
    that as an error with a traceback); streamed bodies are capped like declared ones; and a
    body that stops, or trickles, raises ``TimeoutError`` (:class:`BodyDeadline`).
    """
    chunks: list[bytes] = []
    size = 0
    loop = asyncio.get_running_loop()
    deadline = BodyDeadline(limits, loop.time())
    while True:
        async with asyncio.timeout(deadline.wait_at_most(loop.time())):
            message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientDisconnect
        body = message.get("body", b"")
        size += len(body)
        deadline.received(len(body))
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


def _json_error(
    status: int,
    kind: str,
    message: str,
    headers: dict[str, str] | None = None,
    *,
    suggestions: list[str] | None = None,
) -> Response:
    body = {"error": {"type": kind, "message": message, "suggestions": suggestions or [], "retryable": False}}
    return Response(json.dumps(body), status_code=status, media_type="application/json", headers=headers)


def allowed_origins(settings: Settings) -> list[str]:
    local = [f"http://{host}" for host in LOCAL_HOSTS] + [f"http://{host}:*" for host in LOCAL_HOSTS]
    return local + settings.allowed_origins


def _allowed_hosts(settings: Settings) -> frozenset[str]:
    return frozenset([*LOCAL_HOSTS, *(f"{host}:*" for host in LOCAL_HOSTS), *settings.allowed_hosts])


def _host_allowed(host: str, allowed: frozenset[str], server: tuple[str, int] | None) -> bool:
    """A listed host (``name:*`` for any port), or an IP literal of the address this connection
    reached — so a scrape or probe by pod IP works, while a DNS-rebinding page (whose Host is its
    own domain name) does not."""
    if not host:
        return False
    if host in allowed:
        return True
    if host.startswith("["):  # an IPv6 literal, with or without a port
        literal, _, rest = host[1:].partition("]")
        base, port = f"[{literal}]", rest.removeprefix(":")
    else:
        base, _, port = host.partition(":")
        literal = base
    if port.isdigit() and f"{base}:*" in allowed:
        return True
    try:
        return server is not None and _plain_ip(literal) == _plain_ip(server[0])
    except ValueError:  # a name, not an IP literal
        return False


def _plain_ip(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address:
    """The address, with an IPv4 address seen through a dual-stack socket (``::ffff:a.b.c.d``) as IPv4."""
    address = ipaddress.ip_address(text)
    return (address.ipv4_mapped or address) if isinstance(address, ipaddress.IPv6Address) else address


def _origin_allowed(origin: str, allowed: set[str]) -> bool:
    if origin in allowed:
        return True
    scheme_host, _, port = origin.rpartition(":")
    return port.isdigit() and f"{scheme_host}:*" in allowed
