"""Single-flight: concurrent callers with the same key share one upstream call and its outcome.

Each caller waits on a future of its own, which the shared call settles as it ends: one
event-loop turn, where awaiting a shielded task takes two. A caller that is cancelled stops
waiting; the call goes on for the others (a cancelled caller never cancels it for the rest).
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["SingleFlight"]

T = TypeVar("T")


class SingleFlight:
    """The calls under way, by key; a key is free again as soon as its call ends."""

    def __init__(self) -> None:
        self._inflight: dict[tuple[str, ...], _Flight] = {}

    async def run(self, key: tuple[str, ...], function: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
        """``function(*args, **kwargs)``, or the outcome of the call already running under ``key``."""
        flight = self._inflight.get(key)
        if flight is None:
            call = functools.partial(function, **kwargs) if kwargs else function
            flight = self._inflight[key] = _Flight()
            flight.task = asyncio.ensure_future(self._fly(key, flight, call, args))
        waiter: asyncio.Future[T] = asyncio.get_running_loop().create_future()
        flight.waiters.append(waiter)
        return await waiter

    async def _fly(
        self, key: tuple[str, ...], flight: _Flight, function: Callable[..., Awaitable[Any]], args: tuple[Any, ...]
    ) -> None:
        try:
            result = await function(*args)
        except Exception as exc:
            self._land(key, flight, exc)
        except BaseException as exc:  # cancelled, or the process is stopping: so are its callers
            self._land(key, flight, exc)
            raise
        else:
            self._land(key, flight, None, result)

    def _land(self, key: tuple[str, ...], flight: _Flight, error: BaseException | None, result: Any = None) -> None:
        """Forget the flight (a caller from now on starts a new one) and hand its outcome to
        the callers still waiting: the result, the error, or (stopped by anything but an
        error) their cancellation."""
        del self._inflight[key]
        for waiter in flight.waiters:
            if waiter.done():  # a caller cancelled meanwhile has stopped waiting
                continue
            if error is None:
                waiter.set_result(result)
            elif isinstance(error, Exception):
                waiter.set_exception(error)
            else:
                waiter.cancel()


class _Flight:
    """One shared upstream call: its task, held here until it ends, and the futures of the
    callers waiting for it."""

    __slots__ = ("task", "waiters")

    def __init__(self) -> None:
        self.task: asyncio.Future[None] | None = None
        self.waiters: list[asyncio.Future[Any]] = []
