"""MCP over stdin/stdout, with the pipes read and written by the event loop itself.

The SDK's ``stdio_server()`` frames, parses and serializes the messages; we keep all of that
and replace only how bytes move. By default it wraps stdin and stdout as blocking files in
worker threads, so every message crosses threads: a read wakes a thread, then the loop; a
reply is written by one thread hop and flushed by another. Measured with the SDK's own
client (``bench/stdio_latency.py``'s no-op tool), that hand-off is 0.5-0.7 ms of a 1.1-1.6 ms
round trip, paid on every call. Here the loop watches the pipes (``connect_read_pipe`` /
``connect_write_pipe``), so a message costs no thread at all. No library offers this for the
SDK: the SDK accepts caller-supplied streams, and these two adapters are what it needs.

Like the SDK, we claim the standard descriptors while serving: fd 0 reads the null device and
fd 1 points at stderr, so a library that prints, or a child process we start, can never write
into the protocol stream. Both are restored on exit.

SIGTERM or SIGINT drains, as the HTTP server does: stop reading requests, let the calls in
flight finish (``AUTODOCS_SHUTDOWN_TIMEOUT``; those still running then answer with
``ServerShuttingDown``), then end as if the client had closed stdin, so the service flushes
its queued cache writes and closes the store. A second signal stops at once.

When the input ends (the client closed stdin), the requests already read are answered before
the session ends, the calls in flight within ``AUTODOCS_SHUTDOWN_TIMEOUT``.

Running the SDK's session over these streams needs the low-level server behind ``MCPServer``,
which only :mod:`autodocs.server.sdk_adapter` reaches; without it we fall back to the SDK's
``run_stdio_async()``. Replies go through the SDK's own writer task. (A read-ahead of docs
calls and direct writes of replies by the sending task were measured and dropped: neither
moved the cold or warm figure of ``bench/stdio_latency.py`` by more than noise.)

Malformed messages are answered as the HTTP transport answers them (the SDK's stdio transport
drops them in silence, and a client waiting on that id would wait forever): a line that is not
JSON gets a ``-32700`` parse error; JSON that is not a JSON-RPC message gets ``-32600``, with the
line's ``id`` when it has a usable one (else ``null``). Blank lines are skipped. The check is
the SDK's own parse, run once more before the SDK sees the line (about 3 µs a message).

Only pipes and sockets can be watched by the loop; a terminal or a regular file (someone
running ``autodocs serve < requests.jsonl``) is read by the SDK's threaded reader instead,
with the same end of input.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import io
import os
import signal
import stat
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any, cast

import anyio
import pydantic_core
import structlog
from mcp.server.mcpserver import MCPServer
from mcp.server.stdio import stdio_server
from mcp.shared.message import SessionMessage
from mcp_types import INVALID_REQUEST, PARSE_ERROR, ErrorData, JSONRPCError, jsonrpc_message_adapter
from pydantic import ValidationError

from autodocs.server.lifecycle import Lifecycle
from autodocs.server.sdk_adapter import SessionRunner, session_runner

__all__ = ["run_stdio"]

log = structlog.get_logger(__name__)

#: The longest message accepted from the client. The SDK's own transport has no bound; a client
#: that sends more in one line (by bug or on purpose) has that line dropped, not buffered forever.
MAX_MESSAGE_BYTES = 16 * 1024 * 1024

#: After the calls in flight are done, how long to look again for a request read just before
#: the signal whose call had not started yet (the SDK dispatches it a few loop turns later).
_SETTLE_S = 0.05


async def run_stdio(server: MCPServer[Any], lifecycle: Lifecycle, drain_timeout: float) -> None:
    """Serve ``server`` on this process's stdin and stdout until the client closes stdin, or a
    signal has drained the calls in flight (see the module docstring)."""
    run_session = session_runner(server)
    if run_session is None:
        await server.run_stdio_async()
        return
    if not (_watchable(0) and _watchable(1)):
        await _run_threaded(run_session, lifecycle, drain_timeout)
        return
    loop = asyncio.get_running_loop()
    async with _claimed_pipes() as (stdin, stdout):
        drains: list[asyncio.Task[None]] = []  # held, so the task is not collected mid-drain

        def on_signal(signum: int) -> None:
            if lifecycle.draining:  # the second signal: stop now
                raise KeyboardInterrupt
            lifecycle.start_draining()
            log.info("stdio.draining", signal=signal.Signals(signum).name, in_flight=lifecycle.in_flight)
            drains.append(asyncio.ensure_future(_drain(lifecycle, drain_timeout, stdin)))

        for signum in _SIGNALS:
            loop.add_signal_handler(signum, on_signal, signum)
        try:
            lines = _AnsweredBeforeEnd(stdin, lifecycle, drain_timeout)
            async with stdio_server(stdin=cast(Any, lines), stdout=cast(Any, stdout)) as (read, write):
                lines.answer = write.send
                await run_session(read, write)
        finally:
            for signum in _SIGNALS:
                loop.remove_signal_handler(signum)


_SIGNALS = (signal.SIGTERM, signal.SIGINT)


async def _run_threaded(run_session: SessionRunner, lifecycle: Lifecycle, drain_timeout: float) -> None:
    """A terminal or a file on stdin: the SDK's threaded transport, with our end of input."""
    stdin_wire, restore_stdin = _claim(0, lambda: os.open(os.devnull, os.O_RDONLY))
    try:
        text = io.TextIOWrapper(os.fdopen(stdin_wire, "rb", closefd=False), encoding="utf-8", errors="replace")
        lines = _AnsweredBeforeEnd(anyio.wrap_file(text), lifecycle, drain_timeout)
        async with stdio_server(stdin=cast(Any, lines)) as (read, write):
            lines.answer = write.send
            await run_session(read, write)
    finally:
        restore_stdin()


class _AnsweredBeforeEnd:
    """The client's lines; at the end of input, the requests already read are answered first.

    Without this, the SDK ends the session as soon as the input ends, and a request read just
    before (a client that writes its requests and closes stdin, ``autodocs serve < file``)
    could lose its answer. The calls in flight get ``AUTODOCS_SHUTDOWN_TIMEOUT``, as on SIGTERM.

    A malformed line is answered through ``answer`` (the session's write stream, set once it
    exists) and not handed on; see the module docstring.
    """

    def __init__(self, lines: Any, lifecycle: Lifecycle, within: float) -> None:
        self._lines = lines.__aiter__()
        self._lifecycle = lifecycle
        self._within = within
        self.answer: Callable[[SessionMessage], Awaitable[None]] | None = None

    def __aiter__(self) -> _AnsweredBeforeEnd:
        return self

    async def __anext__(self) -> str:
        while True:
            try:
                line: str = await self._lines.__anext__()
            except StopAsyncIteration:
                if not self._lifecycle.draining:  # a signal's drain has already waited for them
                    await _finish_calls(self._lifecycle, self._within)
                raise
            if not line.strip():
                continue
            refusal = malformed_message_reply(line)
            if refusal is None:
                return line
            log.info("stdio.malformed_message", code=refusal.error.code, id=refusal.id)
            if self.answer is not None:
                await self.answer(SessionMessage(refusal))


def malformed_message_reply(line: str) -> JSONRPCError | None:
    """The error reply to a line that is not a JSON-RPC message (None: the line is one).

    Not JSON: ``-32700`` with a ``null`` id. JSON of the wrong shape: ``-32600``, with the
    line's ``id`` when it is a string or an integer, so the client waiting on it gets its answer.
    """
    try:
        jsonrpc_message_adapter.validate_json(line, by_name=False)
        return None
    except ValidationError:
        pass
    try:
        raw = pydantic_core.from_json(line)
    except ValueError as exc:
        return JSONRPCError(jsonrpc="2.0", id=None, error=ErrorData(code=PARSE_ERROR, message=f"Parse error: {exc}"))
    request_id = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(request_id, bool) or not isinstance(request_id, str | int):
        request_id = None
    error = ErrorData(
        code=INVALID_REQUEST,
        message="Invalid request: not a JSON-RPC 2.0 request, notification or response "
        "(jsonrpc '2.0', a string method, an id that is a string or an integer).",
    )
    return JSONRPCError(jsonrpc="2.0", id=request_id, error=error)


async def _finish_calls(lifecycle: Lifecycle, within: float) -> None:
    """Let the calls in flight finish within ``within``; those cancelled then send their answer."""
    cancelled = await lifecycle.drain(within, settle=_SETTLE_S)
    if cancelled:
        log.warning("stdio.drain_timeout", cancelled=cancelled, timeout_s=within)
        await asyncio.sleep(_SETTLE_S)  # their answers are queued for the writer: let it send them


async def _drain(lifecycle: Lifecycle, within: float, stdin: _Lines) -> None:
    """Stop reading requests; end the input once the calls in flight are done (or cancelled)."""
    stdin.stop_reading()
    await _finish_calls(lifecycle, within)
    stdin.end()


class _Lines:
    """The client's messages, one per line, as ``stdio_server()`` iterates them."""

    def __init__(self, reader: asyncio.StreamReader, transport: asyncio.ReadTransport) -> None:
        self._reader = reader
        self._transport = transport
        self._stopped = False
        self._ended = asyncio.Event()

    def stop_reading(self) -> None:
        """Deliver no more messages (the waiting read returns); the input ends at :meth:`end`."""
        self._stopped = True
        self._transport.pause_reading()  # what the client sends from now on stays in the pipe
        self._reader.feed_eof()

    def end(self) -> None:
        self._ended.set()

    def __aiter__(self) -> _Lines:
        return self

    async def __anext__(self) -> str:
        while True:
            if self._stopped:
                await self._ended.wait()  # ending the input ends the session: only once drained
                raise StopAsyncIteration
            try:
                line = await self._reader.readuntil(b"\n")
            except asyncio.IncompleteReadError as exc:  # end of input
                if self._stopped:
                    continue
                if not exc.partial.strip():
                    raise StopAsyncIteration from None
                line = exc.partial
            except asyncio.LimitOverrunError:
                dropped = await self._drop_line()
                log.warning("stdio.message_too_large", limit_bytes=MAX_MESSAGE_BYTES, dropped_bytes=dropped)
                continue
            return line.decode("utf-8", errors="replace")

    async def _drop_line(self) -> int:
        """Discard the rest of an oversized line (up to and including its newline)."""
        dropped = 0
        while True:
            try:
                dropped += len(await self._reader.readuntil(b"\n"))
                return dropped
            except asyncio.LimitOverrunError as exc:
                dropped += len(await self._reader.readexactly(exc.consumed))
            except asyncio.IncompleteReadError as exc:
                return dropped + len(exc.partial)


class _Replies(asyncio.Protocol):
    """Where ``stdio_server()`` writes each reply line: our end of the pipe to the client.

    ``flush`` waits while the pipe is full and fails once the client has gone, as a stream
    writer's ``drain`` does (the SDK's writer then ends the session). A protocol of our own
    rather than ``asyncio.StreamWriter``, which needs asyncio's undocumented ``FlowControlMixin``.
    """

    def __init__(self) -> None:
        self._transport: asyncio.WriteTransport | None = None
        self._writable = asyncio.Event()
        self._writable.set()
        self._lost = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.WriteTransport)
        self._transport = transport

    def connection_lost(self, exc: Exception | None) -> None:
        self._lost = True
        self._writable.set()  # a waiting flush wakes up to fail

    def pause_writing(self) -> None:
        self._writable.clear()

    def resume_writing(self) -> None:
        self._writable.set()

    async def write(self, text: str) -> None:
        if self._transport is not None and not self._lost:
            self._transport.write(text.encode("utf-8"))

    async def flush(self) -> None:
        await self._writable.wait()
        if self._lost:
            raise ConnectionResetError("the client closed the pipe")


@contextlib.asynccontextmanager
async def _claimed_pipes() -> AsyncIterator[tuple[_Lines, _Replies]]:
    loop = asyncio.get_running_loop()
    sys.stdout.flush()  # anything printed before now goes where it was going
    stdin_wire, restore_stdin = _claim(0, lambda: os.open(os.devnull, os.O_RDONLY))
    stdout_wire, restore_stdout = _claim(1, lambda: os.dup(2))
    try:
        reader = asyncio.StreamReader(limit=MAX_MESSAGE_BYTES)
        read_transport, _ = await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(reader), os.fdopen(os.dup(stdin_wire), "rb", buffering=0)
        )
        write_transport, replies = await loop.connect_write_pipe(
            _Replies, os.fdopen(os.dup(stdout_wire), "wb", buffering=0)
        )
        try:
            yield _Lines(reader, read_transport), replies
        finally:
            read_transport.close()
            write_transport.close()
    finally:
        restore_stdout()
        restore_stdin()


def _watchable(fd: int) -> bool:
    """Whether the event loop can watch ``fd``: a pipe or a socket (not a terminal or a file)."""
    if sys.platform == "win32":  # pragma: no cover - the loop cannot watch pipes there
        return False
    try:
        mode = os.fstat(fd).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode) or stat.S_ISSOCK(mode)


def _claim(fd: int, open_diversion: Callable[[], int]) -> tuple[int, Callable[[], None]]:
    """Move the wire behind ``fd`` to a private descriptor and point ``fd`` at the diversion.

    Returns the private descriptor and how to put the wire back (blocking again, as found).
    """
    wire = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 3)
    diversion = open_diversion()
    try:
        os.dup2(diversion, fd)
    finally:
        os.close(diversion)

    def restore() -> None:
        with contextlib.suppress(OSError):
            os.set_blocking(wire, True)  # the loop made the shared pipe non-blocking
            os.dup2(wire, fd)
            os.close(wire)

    return wire, restore
