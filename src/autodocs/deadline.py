"""The current tool call's deadline, visible to every layer below the one that set it.

The service sets it once per call (``REQUEST_TIMEOUT``); the index client reads it so that
retries, backoff waits and single attempts never run past it. A context variable, so each
concurrent call (each asyncio task) sees its own.

The scope is a small class rather than a ``@contextmanager`` generator: mutation testing
(scripts/mutation.sh) cannot mutate decorated functions, and this is a rule worth testing.
"""

from __future__ import annotations

import time
from contextvars import ContextVar, Token
from types import TracebackType

__all__ = ["deadline_scope", "remaining"]

_DEADLINE: ContextVar[float | None] = ContextVar("autodocs_deadline", default=None)


class _DeadlineScope:
    _token: Token[float | None]  # set on entry, used once on exit

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    def __enter__(self) -> float:
        outer = _DEADLINE.get()
        deadline = time.monotonic() + self._seconds
        if outer is not None:
            deadline = min(deadline, outer)
        self._token = _DEADLINE.set(deadline)
        return deadline

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        _DEADLINE.reset(self._token)


def deadline_scope(seconds: float) -> _DeadlineScope:
    """Within this block the deadline is ``seconds`` from now (or an earlier one already set)."""
    return _DeadlineScope(seconds)


def remaining(default: float) -> float:
    """Seconds left before the current deadline; ``default`` when no deadline is set."""
    deadline = _DEADLINE.get()
    if deadline is None:
        return default
    return max(0.0, deadline - time.monotonic())
