"""Index clients for projects' index plans: one per distinct plan, reused, bounded, always closed.

A project-aware call asks the indexes its project names (:mod:`autodocs.index.project`). Each
distinct :class:`ClientSpec` (the indexes in order, and the credential variables that serve
them: names, never values) gets one :class:`~autodocs.index.client.IndexClient`: its own
connection pool and credentials, the process's request slots (``MAX_CONCURRENT`` stays
process-wide). Clients are kept in a bounded LRU and *leased* per call: a client evicted while a
call still uses it is closed when its last lease ends, and :meth:`IndexClients.aclose` closes
every client left, evicted ones still in use included, so no connection outlives the service.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import anyio

from autodocs.config import Settings
from autodocs.index.client import IndexClient
from autodocs.index.env_credentials import CredentialSource, credential_urls
from autodocs.index.slots import RequestSlots

__all__ = ["ClientSpec", "IndexClients"]

#: Distinct plans whose clients are kept open (each holds a small keep-alive connection pool).
DEFAULT_CAPACITY = 16


@dataclass(frozen=True, slots=True)
class ClientSpec:
    """What makes two clients the same: the indexes asked, in order, and whose credentials they use."""

    indexes: tuple[str, ...]
    credentials: tuple[CredentialSource, ...] = ()


@dataclass(slots=True, eq=False)
class _Entry:
    client: IndexClient
    users: int = 0
    evicted: bool = False
    closed: bool = False


class IndexClients:
    """A bounded LRU of :class:`IndexClient` per :class:`ClientSpec`, leased per call."""

    def __init__(
        self,
        settings: Settings,
        *,
        slots: RequestSlots,
        capacity: int = DEFAULT_CAPACITY,
        build: Callable[[ClientSpec], IndexClient] | None = None,
    ) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._settings = settings
        self._slots = slots
        self._capacity = capacity
        self._build = build or self._client
        self._entries: OrderedDict[ClientSpec, _Entry] = OrderedDict()
        self._leaving: set[_Entry] = set()  # evicted while in use: closed by their last lease
        self.built = self.closed = 0  # clients opened and closed (tests and metrics read them)

    def __len__(self) -> int:
        return len(self._entries)

    @asynccontextmanager
    async def lease(
        self, indexes: tuple[str, ...], credentials: tuple[CredentialSource, ...] = ()
    ) -> AsyncIterator[IndexClient]:
        """The client for these indexes and credential variables (built on first use), held open
        until the block ends."""
        spec = ClientSpec(indexes, credentials)
        entry = self._entries.get(spec)
        if entry is None:
            entry = self._entries[spec] = _Entry(self._build(spec))
            self.built += 1
        self._entries.move_to_end(spec)
        entry.users += 1  # before any await: a concurrent eviction must see it in use
        try:
            await self._evict_beyond_capacity()
            yield entry.client
        finally:
            entry.users -= 1
            if entry.evicted and entry.users == 0:
                self._leaving.discard(entry)
                await self._close(entry)

    async def aclose(self) -> None:
        """Close every client, in use or not (the service is shutting down)."""
        entries = [*self._entries.values(), *self._leaving]
        self._entries.clear()
        self._leaving.clear()
        for entry in entries:
            entry.evicted = True
            await self._close(entry)

    async def _evict_beyond_capacity(self) -> None:
        while len(self._entries) > self._capacity:
            _, entry = self._entries.popitem(last=False)
            entry.evicted = True
            if entry.users:
                self._leaving.add(entry)
            else:
                await self._close(entry)

    async def _close(self, entry: _Entry) -> None:
        if entry.closed:
            return
        entry.closed = True
        with anyio.CancelScope(shield=True):  # a cancelled call must not leave its connections open
            await entry.client.aclose()
        self.closed += 1

    def _client(self, spec: ClientSpec) -> IndexClient:
        return IndexClient(
            self._settings,
            indexes=spec.indexes,
            credential_urls=credential_urls(spec.credentials),
            slots=self._slots,
        )
