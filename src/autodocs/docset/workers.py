"""Where a docs set's pages are read: worker processes under a memory and a time bound.

docutils and markdown-it build a tree per page in memory, and an sdist is hostile input: a
page that nests a million lists, or an include chain the unpacking let through, must not grow
the server. So pages are read in a small :class:`~concurrent.futures.ProcessPoolExecutor`
(forked from the standard library's fork server, as :mod:`autodocs.docs.analysis` does for
griffe) whose initializer caps each worker's address space at ``AUTODOCS_ANALYSIS_MEMORY_BYTES``
— the same bound as code analysis. Reading is also bounded in time, per page and per batch: a
timer signal in the worker stops a page after ``page_seconds`` (that page becomes a warning and
the batch goes on with the next) and the batch after ``batch_seconds`` (the pages not read
become warnings).

What a caller can rely on: :func:`read_pages_bounded` never raises for a page (memory or time
trouble is that page's warning); a worker the kernel ends makes the pool broken, and
:meth:`DocsetWorkers.discard` drops it so the next build starts a fresh one.
"""

from __future__ import annotations

import gc
import multiprocessing
import resource
import signal
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from types import FrameType

from autodocs.docset.build import PageReferences, read_pages
from autodocs.docset.files import DocFile
from autodocs.docset.pages import Page

__all__ = ["DocsetWorkers", "read_pages_bounded"]


@dataclass
class _Bounds:
    memory_bytes: int = 0
    batch_seconds: float = 60.0
    page_seconds: float = 20.0


_bounds = _Bounds()


class _BatchExpired(BaseException):
    """The batch's time is up (a BaseException, so no reader's ``except Exception`` swallows it)."""


def _start_worker(memory_bytes: int, batch_seconds: float, page_seconds: float) -> None:
    """Initializer: cap this worker's address space; Ctrl-C is the server's to handle."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _bounds.memory_bytes, _bounds.batch_seconds, _bounds.page_seconds = memory_bytes, batch_seconds, page_seconds


def _expire(signum: int, frame: FrameType | None) -> None:
    raise _BatchExpired


def read_pages_bounded(
    root: str, source_dir: str, docs_dir: str, files: Sequence[DocFile], references: PageReferences | None = None
) -> list[Page]:
    """In a worker: :func:`~autodocs.docset.build.read_pages`, page by page, within the bounds."""
    pages: list[Page] = []
    previous = signal.signal(signal.SIGALRM, _expire)
    batch_ends = time.monotonic() + _bounds.batch_seconds
    try:
        for position, file in enumerate(files):
            left = batch_ends - time.monotonic()
            page_bound = left > _bounds.page_seconds
            try:
                if left <= 0:
                    raise _BatchExpired
                signal.setitimer(signal.ITIMER_REAL, min(left, _bounds.page_seconds))
                pages.extend(read_pages(root, source_dir, docs_dir, [file], references))
                signal.setitimer(signal.ITIMER_REAL, 0)
            except MemoryError:
                signal.setitimer(signal.ITIMER_REAL, 0)
                gc.collect()
                limit = f"AUTODOCS_ANALYSIS_MEMORY_BYTES ({_bounds.memory_bytes} bytes)"
                pages.append(_skipped(file, f"reading it needed more memory than {limit}"))
            except RecursionError:
                signal.setitimer(signal.ITIMER_REAL, 0)
                pages.append(_skipped(file, "it nests too deeply to read"))
            except _BatchExpired:
                if page_bound:  # this page's own time is up: the batch goes on
                    gc.collect()
                    pages.append(_skipped(file, f"reading it took over {_bounds.page_seconds:g} s"))
                    continue
                late = f"reading stopped after {_bounds.batch_seconds:g} s for its batch of pages"
                pages.extend(_skipped(rest, late) for rest in files[position:])
                break
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
    return pages


def _skipped(file: DocFile, why: str) -> Page:
    return Page(file.path, file.path, (), warnings=(f"{file.path}: {why}; the page was skipped.",))


def _ready() -> bool:
    return True


class DocsetWorkers:
    """The server's pool of page readers, started on first use and replaced when broken."""

    def __init__(
        self, memory_bytes: int, *, processes: int = 2, batch_seconds: float = 60.0, page_seconds: float = 20.0
    ) -> None:
        self._memory_bytes = memory_bytes
        self._processes = processes
        self._batch_seconds = batch_seconds
        self._page_seconds = page_seconds
        self._pool: ProcessPoolExecutor | None = None

    def pool(self) -> ProcessPoolExecutor:
        """The current pool (made now if there is none)."""
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            self._pool = ProcessPoolExecutor(
                max_workers=self._processes,
                mp_context=context,
                initializer=_start_worker,
                initargs=(self._memory_bytes, self._batch_seconds, self._page_seconds),
            )
        return self._pool

    def warm_up(self) -> None:
        """Start the workers now (off the event loop: starting waits for the fork server)."""
        pool = self.pool()
        for _ in range(self._processes):
            pool.submit(_ready)

    def discard(self, pool: ProcessPoolExecutor) -> None:
        """Drop ``pool`` (broken: a worker died); the next :meth:`pool` makes a fresh one."""
        if self._pool is pool:
            self._pool = None
        pool.shutdown(wait=False, cancel_futures=True)

    def close(self) -> None:
        """Take no more batches; queued ones are cancelled, running ones end within their time bound."""
        pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=False, cancel_futures=True)
