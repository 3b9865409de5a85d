"""A signal for the read-ahead: "this resolution is now waiting on I/O".

The stdio transport shows each message to the service before the MCP SDK parses it; for a
docs call the service starts resolving the package at once (``AutoDocsService.read_ahead``)
and the transport holds the message back until that resolution waits on something other
than the event loop: its index request sent, or a document being read from the store off
the loop, or it needs neither. Then the SDK's parsing and dispatch run during that wait
instead of before it. The layers that know when a call starts to wait (the fetch, about to
send or queued for a connection slot; the single-flight join; the store's document read)
call :func:`waiting`; the resolution's end resolves the signal too. A context variable, so
only the read-ahead's own task (and the tasks it starts) reach its future; elsewhere
:func:`waiting` does nothing.
"""

from __future__ import annotations

import asyncio
from contextvars import ContextVar

__all__ = ["waiting", "watch"]

_UNDERWAY: ContextVar[asyncio.Future[None] | None] = ContextVar("autodocs_underway", default=None)


def watch(future: asyncio.Future[None]) -> None:
    """Resolve ``future`` when this context next waits on I/O (call inside its context)."""
    _UNDERWAY.set(future)


def waiting() -> None:
    """This context is about to wait on I/O: the index, a request already underway, the store."""
    future = _UNDERWAY.get()
    if future is not None and not future.done():
        future.set_result(None)
