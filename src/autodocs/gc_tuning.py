"""Garbage-collector settings for the ``autodocs`` process, applied by its entry point only.

They change the whole interpreter, so nothing that merely imports AutoDocs or starts an
:class:`~autodocs.service.AutoDocsService` (an embedding application, the test suite) gets
them: :func:`autodocs.cli.main` calls :func:`tune_garbage_collector` once everything it
needs is imported, right before it serves or runs a command.

Why, measured with ``bench/cold_context.py`` and ``bench/stdio_latency.py``:

* What exists at start (the SDK, pydantic schemas, imported modules and their tables) lives as
  long as the process, yet every full collection walked it all: one full collection in a cold
  100-package context took 75-105 ms, 14 ms with the startup heap frozen (``gc.freeze``), and
  a stdio request that happened to trigger one paid ~60 ms.
* Parsing one index answer allocates tens of thousands of dicts and lists that die together
  soon after; at CPython's default young threshold (700) the collector ran about 60 times per
  cold 100-package context. At 20 000, collections cost 6-12 ms per such context instead of
  50-70 ms. What requests create is collected as usual, only later.
"""

from __future__ import annotations

import gc

__all__ = ["YOUNG_GENERATION_THRESHOLD", "tune_garbage_collector"]

#: Container allocations between two young collections (CPython's default is 700).
YOUNG_GENERATION_THRESHOLD = 20_000


def tune_garbage_collector() -> None:
    """Freeze what is alive now out of the collector's sight and collect the young generation
    less often. Call it from a process's entry point, after its imports and set-up.

    No collection first: at start it finds a few hundred objects (a few KB, frozen with the
    rest) and costs 50-100 ms before a stdio server answers ``initialize`` (``bench/startup.py``)."""
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, old)
