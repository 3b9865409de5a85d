"""Where griffe runs: a worker process under a memory limit, so no package can exhaust the server.

Why a process: griffe's tree of a package is Python objects, and its size follows the source
it reads — a 15 MB module grew the server to 3 GB and stopped ``/health`` answering. A thread
shares the server's memory and its GIL; a process has its own and can be limited. Each worker is
a :class:`~concurrent.futures.ProcessPoolExecutor` of one process, forked from the standard
library's fork server (which imported this module once: a new worker is ready in milliseconds);
its initializer sets ``RLIMIT_AS`` to ``ANALYSIS_MEMORY_BYTES``. An analysis that needs more
gets ``MemoryError`` in the worker (or the kernel ends the worker): the caller gets
:class:`~autodocs.errors.AnalysisMemoryExceeded` naming the package and the setting, that
worker is retired, and the next call starts a fresh one. The event loop only awaits futures.

The tree stays in the worker: it keeps the last package it read, so another object of the same
package is described without reading it again. A package too large for the call's deadline is
answered from what was read (partial); its complete load runs in a second, fresh worker — one
at a time — which becomes the current worker once done (the old one finishes what it was asked,
then exits). So there are at most two workers; :meth:`AnalysisWorkers.aclose` (service close,
hence also after SIGTERM's drain) kills both. A worker's process id is learnt with its first
task, because the executor offers no public way to end a process mid-task before Python 3.14.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import multiprocessing
import os
import resource
import signal
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from autodocs.docs.api_limits import SourceLimits
from autodocs.docs.api_model import ApiObject
from autodocs.errors import AnalysisMemoryExceeded, ServerShuttingDown

if TYPE_CHECKING:  # griffe is loaded by the worker, never by the server process that starts it
    from autodocs.docs.api_loader import LoadedPackage

__all__ = ["Analysis", "AnalysisRequest", "AnalysisWorkers"]

_YOUNG_GENERATION_THRESHOLD = 20_000


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    """One object of one package's code; ``deadline`` is on ``time.monotonic()`` (system-wide)."""

    package: str
    tree_key: tuple[str, str]
    search_paths: tuple[Path, ...]
    top_names: tuple[str, ...]
    object_path: str
    deadline: float
    limits: SourceLimits


@dataclass(frozen=True, slots=True)
class Analysis:
    """What the worker sends back: the described object and what its tree left out."""

    root: ApiObject
    members: list[ApiObject]
    partial: bool
    skipped: list[str]
    failed: list[str]
    warnings: list[str]


# -- in the worker process ------------------------------------------------------------------


@dataclass
class _Held:
    memory_bytes: int = 0
    key: tuple[str, str] | None = None
    tree: LoadedPackage | None = None


_held = _Held()


def _start_worker(memory_bytes: int) -> None:
    """Initializer: limit this worker's address space; Ctrl-C is the server's to handle.

    The garbage collector is tuned as the server process is (:mod:`autodocs.gc_tuning`): the
    imported modules are frozen out of its sight, and young collections are rarer — griffe
    allocates a tree in bulk that lives on (pydantic reads in 0.38 s instead of 0.60 s).
    """
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    import autodocs.docs.api  # noqa: F401 - griffe and the describer, loaded before the first request

    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(_YOUNG_GENERATION_THRESHOLD, middle, old)
    _held.memory_bytes = memory_bytes


def _memory_exceeded(package: str, memory_bytes: int, *, died: bool) -> AnalysisMemoryExceeded:
    what = (
        f"The worker reading the code of {package} stopped, most likely at its memory limit"
        if died
        else f"Reading the code of {package} needed more memory than its limit"
    )
    return AnalysisMemoryExceeded(
        f"{what}, AUTODOCS_ANALYSIS_MEMORY_BYTES ({memory_bytes} bytes); the server is unaffected.",
        package=package,
        setting="AUTODOCS_ANALYSIS_MEMORY_BYTES",
    )


def analyse(request: AnalysisRequest) -> Analysis:
    """In the worker: describe ``request.object_path``, reading the package unless it is held."""
    from autodocs.docs.api import describe
    from autodocs.docs.api_loader import load_package

    try:
        if _held.tree is None or _held.key != request.tree_key:
            _held.key = _held.tree = None
            gc.collect()  # the previous tree's memory is reused for this one
            _held.tree = load_package(
                list(request.search_paths),
                request.top_names,
                focus=request.object_path,
                deadline=request.deadline,
                limits=request.limits,
            )
            _held.key = request.tree_key
        tree = _held.tree
        root, members = describe(tree, request.object_path)
        return Analysis(
            root=root,
            members=[member for member, _ in members],
            partial=tree.partial,
            skipped=tree.skipped,
            failed=tree.failed,
            warnings=tree.limit_warnings(),
        )
    except MemoryError:
        _held.key = _held.tree = None
        raise _memory_exceeded(request.package, _held.memory_bytes, died=False) from None


# -- in the server ------------------------------------------------------------------------------


class _Retired(Exception):
    """The worker was replaced while a call waited for it to start; the call goes to the new one."""


class _Worker:
    """One single-process pool, and its process id once known (to end it mid-task)."""

    def __init__(self, memory_bytes: int) -> None:
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload([__name__])  # only read when the fork server starts
        self._pool = ProcessPoolExecutor(
            max_workers=1, mp_context=context, initializer=_start_worker, initargs=(memory_bytes,)
        )
        self._pid: int | None = None
        self._started: asyncio.Task[None] | None = None
        self._retired = False

    def start(self) -> asyncio.Task[None]:
        """Start the process now, once; callers may await the returned task (shielded)."""
        if self._started is None:
            self._started = asyncio.ensure_future(self._start())
            self._started.add_done_callback(lambda task: task.cancelled() or task.exception())
        return self._started

    async def _start(self) -> None:
        # The first task starts the process, and the first worker of all the fork server:
        # submitting waits for them (up to a second), so it happens off the event loop.
        self._pid = await asyncio.wrap_future(await asyncio.to_thread(self._pool.submit, os.getpid))

    async def analyse(self, request: AnalysisRequest) -> Analysis:
        """The worker's analysis; :class:`_Retired` if it was retired while this call waited."""
        await asyncio.shield(self.start())  # a cancelled caller leaves the start to the next one
        if self._retired:
            raise _Retired
        return await asyncio.wrap_future(self._pool.submit(analyse, request))

    @property
    def pid(self) -> int | None:
        return self._pid

    def retire(self) -> None:
        """Take no more work; the process exits once what it was given is done."""
        self._retired = True
        self._pool.shutdown(wait=False)

    def kill(self) -> None:
        self._retired = True
        self._pool.shutdown(wait=False, cancel_futures=True)
        if self._pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self._pid, signal.SIGKILL)


class AnalysisWorkers:
    """The server's side: the current worker, and at most one completing a package in the background."""

    def __init__(self, memory_bytes: int) -> None:
        self._memory_bytes = memory_bytes
        self._current: _Worker | None = None
        self._completing: _Worker | None = None
        self._completion_slot = asyncio.Semaphore(1)
        self._closed = False

    def warm_up(self) -> None:
        """Start the current worker now, so that an analysis soon after need not wait for it
        (the caller is still finding or downloading the code)."""
        if not self._closed:
            self._current = self._current or _Worker(self._memory_bytes)
            self._current.start()

    async def analyse(self, request: AnalysisRequest) -> Analysis:
        """Describe one object, from the package the current worker holds or after reading it."""
        while True:
            if self._closed:
                raise ServerShuttingDown("The server is closing; the package's code was not read.")
            self._current = self._current or _Worker(self._memory_bytes)
            try:
                return await self._run(self._current, request)
            except _Retired:
                continue

    async def complete(self, request: AnalysisRequest) -> None:
        """Read the whole package in a fresh worker (one at a time), which then becomes current."""
        async with self._completion_slot:
            if self._closed:
                return
            worker = self._completing = _Worker(self._memory_bytes)
            try:
                analysis = await self._run(worker, request)
            except _Retired:  # killed at close before it started
                return
            except BaseException:
                worker.kill()
                raise
            finally:
                self._completing = None
            if analysis.partial or self._closed:
                worker.kill()
                return
            previous, self._current = self._current, worker
            if previous is not None:
                previous.retire()

    async def _run(self, worker: _Worker, request: AnalysisRequest) -> Analysis:
        try:
            return await worker.analyse(request)
        except BrokenProcessPool:
            self._drop(worker)
            if self._closed:
                raise ServerShuttingDown("The server closed while reading the package's code.") from None
            raise _memory_exceeded(request.package, self._memory_bytes, died=True) from None
        except AnalysisMemoryExceeded:
            self._drop(worker)  # its heap may stay large: the next call starts afresh
            raise

    def _drop(self, worker: _Worker) -> None:
        worker.retire()
        if self._current is worker:
            self._current = None

    def pids(self) -> list[int]:
        """Process ids of the live workers that have started (for tests and diagnostics)."""
        return [w.pid for w in (self._current, self._completing) if w is not None and w.pid is not None]

    async def aclose(self) -> None:
        """Kill every worker, busy or not (their results are no longer wanted)."""
        self._closed = True
        for worker in (self._current, self._completing):
            if worker is not None:
                worker.kill()
        self._current = self._completing = None
