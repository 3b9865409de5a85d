"""Request slots of their own for background work, so that it never queues a call's requests.

A docs-set build runs after the reply of the call that started it (``usecases/docsets.py``):
it asks the index for the release's file list and downloads its sdist. Through the calls'
``MAX_CONCURRENT`` slots (:mod:`autodocs.index.slots`) those requests took the slots of the
next calls: on a 3 s index, a wave of ``MAX_CONCURRENT`` calls found one slot held by the
previous wave's builds, and one call waited 3 s more (6.0 s against the ≤ 4 s goal of
``bench/faults.py``'s ``slow-3s``). Requests made inside :func:`background_requests` go through
the slots it names instead (the build's own few); the fetcher asks :func:`admission` which
slots a request uses. The choice rides on a context variable, so every request the block starts
— including the hedges its races create as tasks — inherits it.

Hand-written because it is one context variable: no library is needed.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from autodocs.index.slots import RequestSlots

__all__ = ["admission", "background_requests"]

_BACKGROUND: ContextVar[RequestSlots | None] = ContextVar("autodocs_background_slots", default=None)


@contextmanager
def background_requests(slots: RequestSlots) -> Iterator[None]:
    """Index requests made in this block (and in tasks it starts) go through ``slots``."""
    token = _BACKGROUND.set(slots)
    try:
        yield
    finally:
        _BACKGROUND.reset(token)


def admission(calls: RequestSlots) -> RequestSlots:
    """The slots a request made here goes through: the background's, else the calls' own."""
    return _BACKGROUND.get() or calls
