"""Release docs sets: got from the sdist, built in the background, stored, and looked up.

A release's docs set (:mod:`autodocs.docset`) is built once per ``(index, name, version)`` —
releases are immutable — and kept in the store (both backends, full-text indexed) and, for the
last few, in memory. :meth:`ReleaseDocsets.lookup` is what the docs use case calls (through the
:class:`DocsetProvider` interface its replies code against):

1. memory, then the store (a docs set, or the stored reason the release has none); a docs set
   remembered in memory is the same object on every lookup, so the docs use case's memos over it
   (keyed by its identity) stay valid. A call that can answer from parts of it (``outline``: a
   table of contents, or a query over the sections the store's full-text index finds) gets a
   :class:`StoredDocset` instead of the whole set read back when it is not in memory: Django's
   is 6,000 sections, about 80 ms to read whole, 1 ms for its header row;
2. else it starts a build — or joins the one under way (single-flight) — and waits for it at
   most ``wait_s``, and only while the build looks quick (:class:`DocsetLimits`: the sdist on
   disk within a moment, and small — a size the index lists above the limit, in the call's own
   listing or the build's, ends the wait at once): a first call never waits past its deadline,
   nor on a slow index or a big docs tree; it answers ``pending`` and the build goes on, so a later call finds
   the docs set stored.

A call that will not wait (``wait_s`` 0: no query, no named sections) costs nothing on its way:
when the caller knows from its batched read of the package's cached state
(:class:`~autodocs.cache.base.CachedState`, read before the call's fetch anyway) that the store
holds nothing for the release, the store is not read again (two reads, 0.3 ms of a cold call in
``bench/stdio_latency.py``); and the build it starts begins :data:`_DETACHED_START_S` later,
after the reply has gone, so its first steps (a folder made in a thread, the file list asked of
the index) do not share the loop with the reply. Such a build reads the store first, as the
call would have: a docs set another process stored meanwhile is not built again.

A build fetches the release's file list and its sdist through the index client that serves the
call (the caller's ``client`` opener: a project's own index, leased for the download; else the
server's client), through the index layer
(:mod:`autodocs.sources.sdist`: ``AUTODOCS_MAX_SDIST_BYTES``, hash checked), unpacks the docs
with the docs policy (:mod:`autodocs.sources.doc_archive`) in a thread, and reads the pages in
worker processes under ``AUTODOCS_ANALYSIS_MEMORY_BYTES`` and time bounds per page and per batch
(:mod:`autodocs.docset.workers`); the whole build has a time bound too. At most
:attr:`DocsetLimits.builds` run at once and :attr:`DocsetLimits.queued` wait; past that a lookup
answers without a docs set ("busy") and starts nothing.

Nothing here fails a call: every problem is a warning or the ``missing_reason`` of the lookup.
Reasons that cannot change (no sdist listed, over the cap, no docs in it) are stored; others
(the index timed out, the build ran out of time) are remembered in memory for a while. Every
build unpacks into its own temporary folder under ``CACHE_DIR/docsets-tmp``, removed when the
build ends, however it ends (cancelled and closed included: the worker thread is awaited first,
so nothing writes into the folder after it is gone).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import time
import uuid
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

import structlog

from autodocs.cache import Store
from autodocs.config import Settings
from autodocs.docset.model import DocSet
from autodocs.errors import AutoDocsError, CacheError
from autodocs.index.background import background_requests
from autodocs.index.slots import RequestSlots
from autodocs.memo import LruMap
from autodocs.sources.doc_archive import DocArchiveLimits
from autodocs.sources.sdist import choose_sdist, fetch_sdist
from autodocs.usecases.docset_lookup import (
    BUSY,
    NO_DOCS,
    TURNED_OFF,
    ClientOpener,
    DocsetLimits,
    DocsetLookup,
    DocsetProvider,
)
from autodocs.usecases.stored_docsets import StoredDocset

if TYPE_CHECKING:  # the HTTP stack and the page parsers load when first used, not with this module
    from autodocs.docset.workers import DocsetWorkers
    from autodocs.index import IndexClient

__all__ = [
    "BUSY",
    "NO_DOCS",
    "TURNED_OFF",
    "ClientOpener",
    "DocsetLimits",
    "DocsetLookup",
    "DocsetProvider",
    "ReleaseDocsets",
    "StoredDocset",
]

log = structlog.get_logger(__name__)

_Key = tuple[str, str, str]  # (index_key, name, version)
_TEMP_FOLDER = "docsets-tmp"
_STALE_TEMP_S = 86_400.0
_WARNINGS_SHOWN = 20
#: How long a build started by a call that does not wait for it waits before it begins: the
#: reply goes first (as cache writes do, :mod:`.machinery.writebehind`).
_DETACHED_START_S = 0.005
#: How long the download of an sdist listed above ``DocsetLimits.quick_sdist_bytes`` waits: the
#: call that started it is told ``pending`` as soon as the listing is read, and its reply goes
#: first (10 MB read on the call's event loop, and two worker processes starting, cost a query
#: call on Django 4.2 about 90 ms: ``bench/docset_first_call.py``).
_BIG_DOWNLOAD_DELAY_S = 0.1
_OUTLINES = 64
#: Index requests of docs-set builds at once (a file list, an sdist, a hedge): slots of their own.
_BUILD_REQUESTS = 2


class ReleaseDocsets:
    """Looks up, builds and stores release docs sets (see the module docstring)."""

    def __init__(
        self,
        settings: Settings,
        store: Store,
        index: IndexClient,
        *,
        limits: DocsetLimits | None = None,
        background: bool = True,
    ) -> None:
        """``background``: a call that does not wait may start a build that outlives it (a server);
        False in a one-shot process (the CLI), which would only cancel it on exit."""
        self._settings = settings
        self._background = background
        self._store = store
        self._index = index
        self._limits = limits or DocsetLimits()
        self._requests = RequestSlots(_BUILD_REQUESTS)
        self._memory: LruMap[_Key, DocSet] = LruMap(self._limits.memory_docsets)
        self._outlines: LruMap[_Key, StoredDocset] = LruMap(_OUTLINES)
        self._failed: LruMap[_Key, tuple[float, DocsetLookup]] = LruMap(1024)
        self._builds: dict[_Key, asyncio.Task[DocsetLookup]] = {}
        #: Per build under way: set once its sdist is downloaded, with whether it is quick to read.
        self._downloads: dict[_Key, _Download] = {}
        self._slots = asyncio.Semaphore(self._limits.builds)
        self._pool: DocsetWorkers | None = None
        self._temp = settings.cache_dir / _TEMP_FOLDER / f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._closed = False

    @property
    def _workers(self) -> DocsetWorkers:
        """The page readers, made on first use (importing them loads docutils: not at start-up)."""
        if self._pool is None:
            from autodocs.docset.workers import DocsetWorkers

            limits = self._limits
            memory = self._settings.analysis_memory_bytes
            self._pool = DocsetWorkers(
                memory, processes=limits.processes, batch_seconds=limits.batch_seconds, page_seconds=limits.page_seconds
            )
        return self._pool

    @property
    def temp_folder(self) -> Path:
        """Where this process unpacks sdists (each build in a folder of its own, removed after)."""
        return self._temp

    async def lookup(
        self,
        name: str,
        version: str,
        *,
        index_key: str,
        wait_s: float,
        client: ClientOpener | None = None,
        stored: bool | None = None,
        outline: bool = False,
        listed_sdist_bytes: int | None = None,
    ) -> DocsetLookup:
        """The release's docs set, or why not (see the module docstring); never raises.

        ``name`` is normalized and ``version`` exact (as the docs use case resolved them);
        ``index_key`` is the :attr:`~autodocs.index.IndexClient.cache_key` of the client that
        serves the call, and ``client`` opens that client (None: the one this object was built
        over); a build fetches the sdist through it. ``wait_s`` is how long this call may wait
        for a build (0: never; a build goes on after the call returns). ``stored`` False: the
        caller's read of the package's cached state found nothing stored for this release, so
        the store is not read again (None: read it). ``outline``: a docs set stored but not in
        memory comes as its :class:`StoredDocset` alone, not read back whole.
        ``listed_sdist_bytes``: the size of the release's sdist as the index listed it, when the
        caller has that listing; above ``quick_sdist_bytes`` the call does not wait at all.
        """
        if not self._settings.release_docs:
            return DocsetLookup(None, missing_reason=TURNED_OFF)
        if listed_sdist_bytes is not None and listed_sdist_bytes > self._limits.quick_sdist_bytes:
            wait_s = 0.0  # a big docs tree, as the release's listing says: not worth waiting for
        key = (index_key, name, version)
        remembered = self._memory.get(key)
        if remembered is not None:
            return self._found(key, remembered)
        failed = self._failed.get(key)
        if failed is not None and failed[0] > time.monotonic():
            return failed[1]
        task = self._builds.get(key)
        if task is None and stored is not False:
            # read here, so a call that does not wait still finds it
            found = await (self._stored_outline(key) if outline else self._stored(key))
            if found is not None:
                return found
            task = self._builds.get(key)  # another call may have started it meanwhile
        if task is None and wait_s <= 0 and not self._background:
            return DocsetLookup(None)  # nothing stored, and no build that would outlive this process
        if task is None:
            if self._closed:
                return DocsetLookup(None, missing_reason="the server is closing")
            if len(self._builds) >= self._limits.builds + self._limits.queued:
                return DocsetLookup(None, missing_reason=BUSY)
            detached = wait_s <= 0  # nobody waits for it: it begins after the reply
            self._downloads[key] = _Download()
            task = self._builds[key] = asyncio.ensure_future(
                self._obtain(key, client, detached=detached, read_store=stored is False)
            )
            task.add_done_callback(lambda _done: self._build_ended(key))
            if detached:
                return DocsetLookup(None, pending=True)
        return await self._wait(task, self._downloads.get(key), max(wait_s, 0.0))

    async def _wait(self, task: asyncio.Task[DocsetLookup], download: _Download | None, wait_s: float) -> DocsetLookup:
        """The build's answer if it comes within ``wait_s`` and the build looks quick (see
        :class:`DocsetLimits`), else ``pending``; the build goes on either way."""
        loop = asyncio.get_running_loop()
        ends_at = loop.time() + wait_s
        patience = min(wait_s, self._limits.download_patience_s)
        if download is not None:
            downloaded = asyncio.ensure_future(download.done.wait())
            try:
                await asyncio.wait({task, downloaded}, timeout=patience, return_when=asyncio.FIRST_COMPLETED)
            finally:
                downloaded.cancel()
            if not task.done() and not download.quick:  # still downloading, or a big docs tree
                return DocsetLookup(None, pending=True)
        try:
            return await asyncio.wait_for(asyncio.shield(task), timeout=max(ends_at - loop.time(), 0.0))
        except TimeoutError:
            return DocsetLookup(None, pending=True)

    def _build_ended(self, key: _Key) -> None:
        self._builds.pop(key, None)
        self._downloads.pop(key, None)

    def forget(self, name: str | None) -> None:
        """Drop the docs sets and failures of ``name`` (None: all) remembered in memory, after the
        store dropped them (refresh, clear, prune): the next lookup reads the store again."""
        if name is None:
            self._memory.clear()
            self._outlines.clear()
            self._failed.clear()
        else:
            self._memory.discard_where(lambda key: key[1] == name)
            self._outlines.discard_where(lambda key: key[1] == name)
            self._failed.discard_where(lambda key: key[1] == name)

    def warm_up(self) -> None:
        """Start the page-reading workers now (a server keeps them; the first build need not wait)."""
        if self._settings.release_docs and not self._closed:
            self._workers.warm_up()

    async def wait_for_builds(self) -> None:
        """Wait until every build under way has ended (tests, benchmarks, the CLI)."""
        while self._builds:
            await asyncio.gather(*self._builds.values(), return_exceptions=True)

    async def aclose(self) -> None:
        """Stop: no new builds, the workers told to stop, builds cancelled and their folders removed."""
        self._closed = True
        if self._pool is not None:
            self._pool.close()
        tasks = list(self._builds.values())
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=self._limits.batch_seconds + self._limits.unpack_seconds)
        await asyncio.to_thread(shutil.rmtree, self._temp, True)

    # -- one release ---------------------------------------------------------------------------

    async def _stored(self, key: _Key) -> DocsetLookup | None:
        """The stored docs set, or the stored reason there is none; None when nothing is stored."""
        try:
            stored = await self._store.get_docset(*key)
            if stored is not None:
                self._memory.put(key, stored)
                return self._found(key, stored)
            return await self._stored_reason(key)
        except CacheError as exc:
            log.warning("docsets.store_read_failed", package=key[1], version=key[2], error=str(exc))
        return None

    async def _stored_outline(self, key: _Key) -> DocsetLookup | None:
        """:meth:`_stored` without reading the sections: the docs set's :class:`StoredDocset` alone."""
        handle = self._outlines.get(key)
        try:
            if handle is None:
                outline = await self._store.get_docset_outline(*key)
                if outline is None:
                    return await self._stored_reason(key)
                handle = StoredDocset(self._store, key, outline)
                self._outlines.put(key, handle)
        except CacheError as exc:
            log.warning("docsets.store_read_failed", package=key[1], version=key[2], error=str(exc))
            return None
        return DocsetLookup(None, warnings=_shown(handle.outline.warnings), stored=handle)

    async def _stored_reason(self, key: _Key) -> DocsetLookup | None:
        reason = await self._store.docset_missing_reason(*key)
        if reason:
            return self._remember(key, DocsetLookup(None, missing_reason=reason))
        return None

    def _found(self, key: _Key, docset: DocSet) -> DocsetLookup:
        handle = self._outlines.get(key)  # releases are immutable: an outline read earlier stays true
        if handle is None:
            handle = StoredDocset(self._store, key, docset)
            self._outlines.put(key, handle)
        return DocsetLookup(docset, warnings=_shown(docset.warnings), stored=handle)

    async def _obtain(
        self, key: _Key, client: ClientOpener | None, *, detached: bool = False, read_store: bool = False
    ) -> DocsetLookup:
        """Build the release's docs set; ``detached``: after the reply of the call that started it;
        ``read_store``: that call did not read the store, so look there first."""
        if detached:
            await asyncio.sleep(_DETACHED_START_S)
        if read_store:
            found = await self._stored(key)
            if found is not None:
                return found
        async with self._slots:
            if self._closed:
                return DocsetLookup(None, missing_reason="the server is closing")
            try:
                with background_requests(self._requests):  # never the calls' slots (index/background.py)
                    return await self._build(key, client)
            except AutoDocsError as exc:  # the index or the store: ask again later
                lookup = DocsetLookup(None, missing_reason=f"the docs set could not be built now ({exc})")
                return self._remember(key, lookup)
            except (asyncio.CancelledError, KeyboardInterrupt, SystemExit):
                raise
            except BaseException as exc:  # a defect must not fail the docs call
                log.exception("docsets.build_failed", package=key[1], version=key[2])
                lookup = DocsetLookup(None, missing_reason=f"building the docs set failed ({type(exc).__name__})")
                return self._remember(key, lookup)

    async def _build(self, key: _Key, client: ClientOpener | None) -> DocsetLookup:
        _index_key, name, version = key
        started = time.monotonic()
        workdir = self._temp / uuid.uuid4().hex
        await asyncio.to_thread(_prepare, workdir, self._temp.parent)
        try:
            async with self._serving(client) as index:
                files = await index.fetch_release_files(name, version)
                chosen = choose_sdist(files)
                if chosen is not None:  # the workers start during the download, and only then
                    if chosen.size is not None and chosen.size > self._limits.quick_sdist_bytes:
                        self._downloaded(key, chosen.size)  # listed as big: no call waits for it
                        await asyncio.sleep(_BIG_DOWNLOAD_DELAY_S)  # its reply goes first
                    warming = asyncio.ensure_future(asyncio.to_thread(self.warm_up))
                    warming.add_done_callback(lambda done: done.cancelled() or done.exception())
                fetched = await fetch_sdist(index.fetcher, files, workdir, max_bytes=self._settings.max_sdist_bytes)
            if fetched.path is None:
                return await self._store_missing(key, fetched.reason)
            downloaded = time.monotonic()
            self._downloaded(key, fetched.path.stat().st_size)
            docset = await self._read(fetched.path, workdir / "tree")
            if isinstance(docset, str):
                return self._remember(key, DocsetLookup(None, missing_reason=docset))
            warnings = (*fetched.warnings, *docset.warnings)
            if not docset.pages:
                return await self._store_missing(key, NO_DOCS, warnings)
            docset = replace(docset, warnings=tuple(dict.fromkeys(warnings)))
            await self._store.put_docset(*key, docset)
            self._outlines.discard_where(lambda kept: kept == key)
            self._memory.put(key, docset)
            log.info(
                "docsets.built",
                package=name,
                version=version,
                pages=len(docset.pages),
                download_s=round(downloaded - started, 3),
                build_s=round(time.monotonic() - downloaded, 3),
            )
            return self._found(key, docset)
        finally:
            await asyncio.shield(asyncio.to_thread(shutil.rmtree, workdir, True))

    def _downloaded(self, key: _Key, size: int) -> None:
        download = self._downloads.get(key)
        if download is not None:
            download.quick = size <= self._limits.quick_sdist_bytes
            download.done.set()

    def _serving(self, client: ClientOpener | None) -> AbstractAsyncContextManager[IndexClient]:
        """The client that serves a build's download: the caller's, else this object's own."""
        return client() if client is not None else contextlib.nullcontext(self._index)

    async def _read(self, archive: Path, target: Path) -> DocSet | str:
        """Unpack and read the docs (a thread, pages in the workers); a string says why there is none."""
        pool = self._workers.pool()
        limits = DocArchiveLimits(
            max_sdist_bytes=self._settings.max_sdist_bytes,
            max_members=self._limits.archive_entries,
            max_seconds=self._limits.unpack_seconds,
        )
        built = asyncio.ensure_future(asyncio.to_thread(_build_in_thread, archive, target, limits, pool))
        try:
            return await asyncio.wait_for(asyncio.shield(built), self._limits.build_seconds)
        except BrokenProcessPool:
            self._workers.discard(pool)
            limit = f"AUTODOCS_ANALYSIS_MEMORY_BYTES ({self._settings.analysis_memory_bytes} bytes)"
            return f"the worker reading the docs pages stopped, most likely at its memory limit, {limit}"
        except BaseException as exc:
            # Timed out or cancelled: stop the workers' queued batches, then wait for the thread
            # (bounded by the batch and unpack limits) so nothing writes into the folder after it goes.
            self._workers.discard(pool)
            with contextlib.suppress(BaseException):
                await asyncio.shield(built)
            if isinstance(exc, TimeoutError):
                return f"building the docs set took over {self._limits.build_seconds:g} s; it was stopped"
            raise

    async def _store_missing(self, key: _Key, reason: str, warnings: tuple[str, ...] = ()) -> DocsetLookup:
        with contextlib.suppress(CacheError):
            await self._store.put_docset(*key, None, missing_reason=reason)
        return DocsetLookup(None, missing_reason=reason, warnings=_shown(warnings))

    def _remember(self, key: _Key, lookup: DocsetLookup) -> DocsetLookup:
        self._failed.put(key, (time.monotonic() + self._limits.retry_after_s, lookup))
        return lookup


@dataclass(slots=True)
class _Download:
    """A build's sdist: ``done`` once it is on disk, ``quick`` when small enough to wait for."""

    done: asyncio.Event = field(default_factory=asyncio.Event)
    quick: bool = False


def _shown(warnings: tuple[str, ...]) -> tuple[str, ...]:
    unique = tuple(dict.fromkeys(warnings))
    if len(unique) <= _WARNINGS_SHOWN:
        return unique
    return (*unique[:_WARNINGS_SHOWN], f"… and {len(unique) - _WARNINGS_SHOWN} more warnings about the docs set")


def _build_in_thread(archive: Path, target: Path, limits: DocArchiveLimits, pool: Executor) -> DocSet:
    from autodocs.docset.build import build_docset_from_sdist
    from autodocs.docset.workers import read_pages_bounded

    return build_docset_from_sdist(archive, target, limits=limits, executor=pool, read=read_pages_bounded)


def _prepare(workdir: Path, temp_root: Path) -> None:
    """Make the build's folder; remove other processes' folders left by a crash a day ago."""
    now = time.time()
    if temp_root.is_dir():
        for folder in temp_root.iterdir():
            with contextlib.suppress(OSError):
                if now - folder.stat().st_mtime > _STALE_TEMP_S and workdir.parent != folder:
                    shutil.rmtree(folder, ignore_errors=True)
    workdir.mkdir(parents=True)
