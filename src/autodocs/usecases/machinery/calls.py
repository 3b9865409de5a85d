"""A call's limits: its token budget, its dependency count and its ``REQUEST_TIMEOUT`` deadline.

Every use case checks ``max_tokens`` and ``max_dependencies`` here (before any work) and runs
under :meth:`CallLimits.deadline`, which sets the deadline every index request reads
(:mod:`autodocs.deadline`) and turns running out of it into ``UpstreamTimeout``. A call inside
its deadline counts as running for the write-behind queue, which waits for quiet.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from autodocs.config import Settings
from autodocs.deadline import deadline_scope
from autodocs.docs.pages import MIN_TOKENS
from autodocs.errors import InvalidArgument, UpstreamTimeout
from autodocs.usecases.machinery.writebehind import WriteBehind

__all__ = ["CallLimits"]


class CallLimits:
    def __init__(self, settings: Settings, writes: WriteBehind) -> None:
        self._settings = settings
        self._writes = writes

    def budget(self, max_tokens: int | None) -> int:
        """The reply's token budget: ``max_tokens``, checked, or the configured default."""
        if max_tokens is None:
            return self._settings.max_tokens
        if max_tokens < MIN_TOKENS or max_tokens > 1_000_000:
            raise InvalidArgument(
                f"max_tokens must be between {MIN_TOKENS} and 1000000, not {max_tokens}: "
                "a smaller reply cannot hold the header and a useful piece of the docs.",
                suggestions=[f"Omit it to use the default ({self._settings.max_tokens})."],
            )
        return max_tokens

    def dependency_limit(self, max_dependencies: int | None) -> int:
        limit = self._settings.max_deps if max_dependencies is None else max_dependencies
        if limit < 0 or limit > 100:
            raise InvalidArgument(f"max_dependencies must be between 0 and 100, not {limit}.")
        return limit

    @asynccontextmanager
    async def deadline(self, what: str) -> AsyncIterator[None]:
        """Run the block under ``REQUEST_TIMEOUT``; ``what`` names it in the timeout's message."""
        limit = self._settings.request_timeout
        with self._writes.call():
            try:
                with deadline_scope(limit):
                    async with asyncio.timeout(limit):
                        yield
            except TimeoutError:
                raise UpstreamTimeout(
                    f"Gave up on {what} after the {limit:g} s deadline.",
                    suggestions=["Try again; raise AUTODOCS_REQUEST_TIMEOUT if the package index is slow."],
                ) from None
