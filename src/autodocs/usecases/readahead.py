"""Read-ahead: start resolving a docs call's package while the call is still being dispatched.

A transport that has just read a ``get_package_docs`` request calls :meth:`ReadAhead.start`
before handing the message to the MCP SDK, which parses, validates and dispatches it before our
tool runs (0.7-0.9 ms of a cold stdio call on 2 cores, bench/stdio_latency.py). Started here,
the index request is on its way meanwhile, and the transport holds the message back (≤ 5 ms)
until the resolution waits on I/O (:mod:`autodocs.underway`: its index request sent, or a
document read from the store off the loop), so the SDK's parse and dispatch overlap the wait.
The call then takes the resolution over (:meth:`ReadAhead.resolved`).

It does exactly what the call would: the same memory and store lookups, the same
single-flight index requests, under the same deadline, its result cached the same way (its
store read is not batched: one message at a time). Nothing is started for what memory already
answers, for arguments the call will reject before resolving (the call reports them), or past
``_MAX_READ_AHEAD`` waiting. One never taken over (its call failed validation) is dropped
``_READ_AHEAD_KEEP_S`` after it ends.
"""

from __future__ import annotations

import asyncio
import contextvars

from autodocs import underway
from autodocs.errors import AutoDocsError
from autodocs.index import normalize_package_name
from autodocs.resolve import parse_constraint
from autodocs.usecases.machinery.calls import CallLimits
from autodocs.usecases.resolution import Resolution, Resolved

__all__ = ["ReadAhead"]

#: At most this many resolutions started before their call was dispatched, each kept this long
#: after it ends for its call to take over.
_MAX_READ_AHEAD = 16
_READ_AHEAD_KEEP_S = 5.0

_Key = tuple[str, str | None]


class ReadAhead:
    def __init__(self, resolution: Resolution, calls: CallLimits) -> None:
        self._resolution = resolution
        self._calls = calls
        self._tasks: dict[_Key, asyncio.Task[Resolved]] = {}

    def start(
        self,
        package_name: str,
        version_constraint: str | None,
        *,
        max_tokens: int | None = None,
        max_dependencies: int | None = None,
    ) -> asyncio.Future[None] | None:
        """Start resolving; the future resolves once the resolution waits on I/O (or ends).
        None when nothing was started. Never raises."""
        if len(self._tasks) >= _MAX_READ_AHEAD:
            return None
        try:
            self._calls.budget(max_tokens)
            self._calls.dependency_limit(max_dependencies)
            name = normalize_package_name(package_name)
            specifiers = parse_constraint(version_constraint)
        except AutoDocsError:
            return None
        key = (name, version_constraint)
        if key in self._tasks or self._resolution.answered_from_memory(name, specifiers):
            return None
        loop = asyncio.get_running_loop()
        started = loop.create_future()
        context = contextvars.copy_context()
        context.run(underway.watch, started)
        task = loop.create_task(self._resolve_ahead(name, version_constraint), context=context)
        self._tasks[key] = task
        task.add_done_callback(lambda done: self._keep(key, done, started))
        return started

    def pending(self, name: str, constraint: str | None) -> asyncio.Task[Resolved]:
        """The read-ahead started for this call and not yet taken over (``KeyError``: none)."""
        return self._tasks[(name, constraint)]

    async def resolved(self, name: str, constraint: str | None) -> Resolved:
        """:meth:`Resolution.resolve`, or the outcome of the read-ahead started for this call."""
        task = self._tasks.pop((name, constraint), None)
        if task is None or task.cancelled():
            return await self._resolution.resolve(name, constraint)
        # Awaited directly (no shield: one event-loop turn less): taken over, it is this
        # call's work, so a cancelled call cancels it too.
        return await task

    def forget(self, name: str | None) -> None:
        """Forget the read-aheads of ``name`` (None: all); a later call resolves afresh."""
        if name is None:
            self._tasks.clear()
            return
        for key in [key for key in self._tasks if key[0] == name]:
            del self._tasks[key]

    async def stop(self) -> None:
        tasks = list(self._tasks.values())
        self._tasks.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _resolve_ahead(self, name: str, constraint: str | None) -> Resolved:
        async with self._calls.deadline(f"docs for {name}"):
            return await self._resolution.resolve(name, constraint, batched=False)  # one message at a time

    def _keep(self, key: _Key, task: asyncio.Task[Resolved], started: asyncio.Future[None]) -> None:
        if not started.done():
            started.set_result(None)
        if not task.cancelled():
            task.exception()  # retrieved: an outcome nobody claims is not logged as lost
        asyncio.get_running_loop().call_later(_READ_AHEAD_KEEP_S, self._drop, key, task)

    def _drop(self, key: _Key, task: asyncio.Task[Resolved]) -> None:
        if self._tasks.get(key) is task:
            del self._tasks[key]
