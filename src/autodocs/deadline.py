"""The current tool call's deadline, visible to every layer below the one that set it.

The service sets it once per call (``REQUEST_TIMEOUT``); the index client reads it so that
retries, backoff waits and single attempts never run past it. A context variable, so each
concurrent call (each asyncio task) sees its own.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

__all__ = ["deadline_scope", "remaining"]

_DEADLINE: ContextVar[float | None] = ContextVar("autodocs_deadline", default=None)


@contextmanager
def deadline_scope(seconds: float) -> Iterator[float]:
    """Within this block the deadline is ``seconds`` from now (or an earlier one already set)."""
    outer = _DEADLINE.get()
    deadline = time.monotonic() + seconds
    if outer is not None:
        deadline = min(deadline, outer)
    token = _DEADLINE.set(deadline)
    try:
        yield deadline
    finally:
        _DEADLINE.reset(token)


def remaining(default: float) -> float:
    """Seconds left before the current deadline; ``default`` when no deadline is set."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return default
    return max(0.0, deadline - time.monotonic())
