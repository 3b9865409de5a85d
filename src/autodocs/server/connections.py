"""Connection-level limits of the HTTP server: slow or idle clients, and floods of connections.

uvicorn serves the HTTP, but has no deadline for a request's headers, no body timeout, restarts
its keep-alive timer on every byte, and has no cap on open connections (``limit_concurrency``
answers 503 only once a request's headers are complete, which a slow client never sends). The
alternatives were weighed: hypercorn's ``read_timeout`` is per read, so it would also cut a
client that waits in silence for a 30 s tool call, and it has no connection cap; granian has a
header deadline (hyper's) but neither a body timeout nor a connection cap, and runs the app
on its own loop. So uvicorn stays, and this module adds the limits through its public
extension point: ``uvicorn.Config(http=...)`` takes the protocol class serving each
connection. :func:`guarded_protocol` returns one that wraps uvicorn's own protocol and speaks
to it only through the ``asyncio.Protocol`` interface (no uvicorn internals):

* **a connection waiting for a request** (just opened, or its last answer sent) closes after
  ``HTTP_KEEP_ALIVE_TIMEOUT`` without a byte; its first byte does not restart that timer but
  starts the header timer;
* **a request's headers** must be complete within ``HTTP_HEADER_TIMEOUT`` of their first byte,
  however they trickle in (then a 408 and the connection closes);
* **open connections** are at most ``HTTP_MAX_CONNECTIONS``. A new connection past the cap
  replaces the connection that has waited longest without a request under way (idle, or still
  sending its headers), so a flood of slow connections cannot lock out ``/health``; when every
  connection has a request under way, the new one gets a 503 at once and is closed. The cap is
  lowered at start to what the open-file limit holds (:func:`raise_open_file_limit`): past
  that limit ``accept()`` fails in a loop and nothing gets in.

The request body's timeouts live in the ASGI layer (``server/http.py``, :class:`BodyDeadline`),
which reads the body itself. That layer also tells this table when a connection's request
starts and ends (:meth:`ConnectionTable.request`), keyed by the client's address as the ASGI
scope carries it.
"""

from __future__ import annotations

import asyncio
import os
import resource
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import structlog
from uvicorn.protocols.http.auto import AutoHTTPProtocol

__all__ = [
    "ACCEPT_BATCH",
    "BodyDeadline",
    "ConnectionLimits",
    "ConnectionTable",
    "guarded_protocol",
    "raise_open_file_limit",
]

log = structlog.get_logger(__name__)

_TIMED_OUT = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_FULL = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"

#: Connections asyncio accepts per wake-up of the listener (uvicorn passes its ``backlog`` as
#: that count). Each holds a file until this module has closed it, a few loop turns later, so
#: the open-file headroom must hold several batches; the kernel's queue is set apart (larger).
ACCEPT_BATCH = 128
#: Open files kept free besides: the store, upstream connections, worker threads' files, pipes.
_SPARE_FILES = 64 + 3 * ACCEPT_BATCH


@dataclass(frozen=True)
class ConnectionLimits:
    """The ``HTTP_*`` settings (their defaults and ranges are in ``config.py``)."""

    header_timeout: float
    body_timeout: float
    keep_alive_timeout: float
    max_connections: int
    #: Bytes per second a request body must average, past its first ``body_timeout``.
    body_min_rate: float = 500.0


class BodyDeadline:
    """When the next body chunk must have arrived: ``body_timeout`` after the last one, and the
    whole body within ``body_timeout`` plus one second per ``body_min_rate`` bytes received (as
    Apache's mod_reqtimeout), so neither a silent nor a trickling client holds a request open."""

    def __init__(self, limits: ConnectionLimits, now: float) -> None:
        self._limits = limits
        self._started = now
        self._received = 0

    def received(self, size: int) -> None:
        self._received += size

    def wait_at_most(self, now: float) -> float:
        overall = self._started + self._limits.body_timeout + self._received / self._limits.body_min_rate
        return max(0.0, min(self._limits.body_timeout, overall - now))


class ConnectionTable:
    """The open connections of one server, which of them wait for a request, and their timers."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self._by_client: dict[tuple[str, int], _Connection] = {}
        self._waiting: OrderedDict[_Connection, None] = OrderedDict()  # longest-waiting first
        self._admitted: set[_Connection] = set()

    @property
    def open(self) -> int:
        return len(self._admitted)

    @contextmanager
    def request(self, client: Sequence[Any] | None) -> Iterator[None]:
        """A request of this client's connection (the ASGI scope's ``client``) is under way: no
        connection timer meanwhile."""
        connection = self._by_client.get((str(client[0]), int(client[1]))) if client else None
        if connection is None:
            yield
            return
        connection.request_started()
        try:
            yield
        finally:
            connection.request_ended()

    def admit(self, connection: _Connection) -> bool:
        if len(self._admitted) >= self.limits.max_connections:
            if not self._waiting:
                return False
            oldest = next(iter(self._waiting))
            log.debug("http.connection_replaced", open=len(self._admitted))
            oldest.close()
        self._admitted.add(connection)
        connection.admitted = True
        if connection.client is not None:
            self._by_client[connection.client] = connection
        return True

    def forget(self, connection: _Connection) -> None:
        self._admitted.discard(connection)
        self._waiting.pop(connection, None)
        if connection.client is not None and self._by_client.get(connection.client) is connection:
            del self._by_client[connection.client]

    def mark_waiting(self, connection: _Connection, waiting: bool) -> None:
        if waiting:
            self._waiting[connection] = None
            self._waiting.move_to_end(connection)
        else:
            self._waiting.pop(connection, None)


_IDLE, _HEADERS, _ACTIVE, _CLOSED = range(4)


class _Connection(asyncio.Protocol):
    """Wraps one uvicorn protocol instance: the transport talks to this, this talks to it."""

    table: ConnectionTable  # set on the subclass made by guarded_protocol()
    inner_class: type[asyncio.Protocol] = AutoHTTPProtocol

    def __init__(self, **uvicorn_arguments: Any) -> None:
        self._inner = self.inner_class(**uvicorn_arguments)
        self._loop = asyncio.get_running_loop()
        self._state = _CLOSED  # until admitted
        self._timer: asyncio.TimerHandle | None = None
        self._transport: asyncio.Transport | None = None
        self.client: tuple[str, int] | None = None
        self.admitted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport
        peer = transport.get_extra_info("peername")
        self.client = (str(peer[0]), int(peer[1])) if isinstance(peer, tuple) else None
        if not self.table.admit(self):
            transport.write(_FULL)
            transport.close()
            log.warning("http.connections_full", open=self.table.open)
            return
        self._inner.connection_made(transport)
        self._wait_for_request()

    def data_received(self, data: bytes) -> None:
        if self._state == _IDLE:  # a request begins: now its headers are on the clock
            self._set_timer(self.table.limits.header_timeout, self._headers_timed_out)
            self._state = _HEADERS
        if self.admitted:
            self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received() if self.admitted else None

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_timer()
        if self._state != _CLOSED:
            self._state = _CLOSED
            self.table.forget(self)
        if self.admitted:  # else uvicorn's protocol never saw it
            self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()

    # -- told by the ASGI layer ----------------------------------------------------------
    def request_started(self) -> None:
        if self._state != _CLOSED:
            self._cancel_timer()
            self._state = _ACTIVE
            self.table.mark_waiting(self, False)

    def request_ended(self) -> None:
        if self._state == _ACTIVE:
            self._wait_for_request()

    # -- timers and closing ----------------------------------------------------------------
    def _wait_for_request(self) -> None:
        self._state = _IDLE
        self._set_timer(self.table.limits.keep_alive_timeout, self.close)
        self.table.mark_waiting(self, True)

    def _headers_timed_out(self) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.write(_TIMED_OUT)
        log.debug("http.header_timeout", timeout_s=self.table.limits.header_timeout)
        self.close()

    def close(self) -> None:
        """Close now, and give the place back at once (not one loop turn later, at connection_lost)."""
        self._cancel_timer()
        if self._state != _CLOSED:
            self._state = _CLOSED
            self.table.forget(self)
        if self._transport is not None and not self._transport.is_closing():
            self._transport.close()

    def _set_timer(self, delay: float, callback: Callable[[], None]) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = self._loop.call_later(delay, callback)

    def _cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None


def guarded_protocol(table: ConnectionTable) -> type[asyncio.Protocol]:
    """The protocol class to hand to ``uvicorn.Config(http=...)`` for connections kept in ``table``."""
    return type("GuardedHTTPProtocol", (_Connection,), {"table": table})


def raise_open_file_limit(wanted_connections: int) -> int:
    """Raise this process's soft open-file limit as far as the connection cap needs (up to the
    hard limit), and return how many connections fit under it: past the limit, ``accept()``
    fails with EMFILE in a loop and nothing, not even ``/health``, gets in."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = wanted_connections + _SPARE_FILES + _open_files()
    if soft != resource.RLIM_INFINITY and soft < wanted:
        target = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
        soft = target
    if soft == resource.RLIM_INFINITY:
        return wanted_connections
    return max(1, min(wanted_connections, soft - _SPARE_FILES - _open_files()))


def _open_files() -> int:
    try:
        return len(os.listdir("/proc/self/fd"))
    except OSError:
        return 32
