"""The service a server's tools call: opened with the server, or by the first tool call.

Over HTTP the service opens with the server, so ``/ready`` can say the store answers. Over
stdio a host starts one server per session and waits for its ``initialize`` answer before
anything else; the store, the index client's HTTP stack and what they import are not needed
to say hello (``bench/startup.py`` measures the difference). Once the client says it is
initialized, :meth:`ServiceSlot.warm_up` opens them in the background, importing what they
need on a worker thread so the loop keeps answering (``tools/list``) meanwhile; a tool call
that comes first opens the service itself. Concurrent callers share one opening; a failed
opening is the caller's structured error, and the next call tries again.

While the service is open it applies MAX_VERSIONS and CLEANUP_DAYS to the cache every
``PRUNE_EVERY_S`` (``autodocs cache prune`` does the same on demand).
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import structlog

from autodocs.config import Settings
from autodocs.errors import AutoDocsError, ServerShuttingDown

if TYPE_CHECKING:
    from autodocs.index.project import Transport
    from autodocs.service import AutoDocsService

__all__ = ["PRUNE_EVERY_S", "ServiceSlot"]

log = structlog.get_logger(__name__)

#: How often a running server applies MAX_VERSIONS and CLEANUP_DAYS to the cache.
PRUNE_EVERY_S = 3600.0
#: What the first tool call needs that start-up left out: the service with its use cases and
#: store (the tools name only their reply models, ``usecases/replies.py``), the index's HTTP
#: stack, the metrics, the README parsers (docutils and markdown-it-py are a third of a bare
#: start-up).
_WARM_UP_IMPORTS = ("autodocs.service", "autodocs.index.client", "prometheus_client", "autodocs.docs.build")


class ServiceSlot:
    """Holds the open service (``service``, None while closed) for the tools and routes."""

    def __init__(
        self, settings: Settings, *, allowed_roots: list[Path] | None = None, transport: Transport = "stdio"
    ) -> None:
        self.service: AutoDocsService | None = None
        self._settings = settings
        self._allowed_roots = allowed_roots
        self._transport: Transport = transport
        self._stack: AsyncExitStack | None = None
        self._opening: asyncio.Future[AutoDocsService] | None = None

    @asynccontextmanager
    async def serving(self, *, on_first_call: bool) -> AsyncIterator[None]:
        """While the server runs: the service opens now, or with the first :meth:`get`."""
        async with AsyncExitStack() as stack:
            self._stack = stack
            try:
                if not on_first_call:
                    await self.get()
                yield None
            finally:
                self._stack = None
                opening = self._opening
                if opening is not None and not opening.done():
                    with anyio.CancelScope(shield=True):
                        await asyncio.gather(opening, return_exceptions=True)
                self.service = None
                self._opening = None

    async def get(self) -> AutoDocsService:
        """The open service, opening it if need be (shared by concurrent callers)."""
        if self.service is not None:
            return self.service
        if self._stack is None:
            raise ServerShuttingDown("The server is starting or shutting down.")
        if self._opening is None or _failed(self._opening):
            self._opening = asyncio.ensure_future(self._open(self._stack))
        opening = self._opening
        try:
            return await asyncio.shield(opening)
        except Exception:
            if self._opening is opening:
                self._opening = None  # the next call tries again
            raise

    def warm_up(self) -> asyncio.Future[AutoDocsService] | None:
        """Open the service in the background unless it is open or opening already; returns
        the opening started (None: none was)."""
        if self.service is not None or self._stack is None:
            return None
        if self._opening is not None and not _failed(self._opening):
            return None
        self._opening = asyncio.ensure_future(self._open(self._stack, imports_first=True))
        self._opening.add_done_callback(_log_failure)
        return self._opening

    async def _open(self, stack: AsyncExitStack, *, imports_first: bool = False) -> AutoDocsService:
        if imports_first:
            for module in _WARM_UP_IMPORTS:
                await asyncio.to_thread(importlib.import_module, module)
        from autodocs.service import AutoDocsService  # imported by now when warming up

        service = await stack.enter_async_context(
            AutoDocsService.running(self._settings, allowed_roots=self._allowed_roots, transport=self._transport)
        )
        pruner = asyncio.ensure_future(_prune_periodically(service))

        async def stop_pruning() -> None:
            pruner.cancel()
            await asyncio.gather(pruner, return_exceptions=True)

        stack.push_async_callback(stop_pruning)
        self.service = service
        return service


def _failed(opening: asyncio.Future[AutoDocsService]) -> bool:
    return opening.done() and (opening.cancelled() or opening.exception() is not None)


def _log_failure(opening: asyncio.Future[AutoDocsService]) -> None:
    """A background opening that failed is logged here; the next tool call tries again."""
    if not opening.cancelled() and (exc := opening.exception()) is not None:
        log.warning("service.warm_up_failed", error=type(exc).__name__, message=str(exc))


async def _prune_periodically(service: AutoDocsService) -> None:
    while True:
        await asyncio.sleep(PRUNE_EVERY_S)
        try:
            result = await service.prune_cache()
            log.info("cache.pruned", removed=result.removed_entries)
        except AutoDocsError as exc:
            log.warning("cache.prune_failed", error=exc.type_name, message=exc.message)
