"""What the index's answers have taken lately → how long to wait before hedging or giving up.

A single request's time limit must be much shorter than a tool call's deadline, or one hung
connection eats the whole budget; but a fixed short limit would cut off a slow yet healthy
index. So limits follow the observed time to first byte: hedge (send another, parallel
request) past a few times the recent p95, give up on a request past several times the p99 —
within floors and the ``ceiling`` (the host's silence limit). Giving up on a request by these
limits is AutoDocs' own decision, never counted against the host.

Before any answer has been seen there is no measure of "slow", so speed comes from hedging
and patience from not giving up: a silent first request is hedged after
``INITIAL_HEDGE_DELAY_S`` and is itself kept up to the ceiling (a 3 s index answers the first
request; a hung one is relieved by the hedge). From the first answer on, the limits follow
the answers (the slowest of them, until there are enough for a tail).
"""

from __future__ import annotations

from collections import deque

__all__ = ["INITIAL_HEDGE_DELAY_S", "LatencyTracker"]

_WINDOW = 256
_MIN_SAMPLES = 8
#: Before there are samples: hedge a silent request after this long. One second because an
#: index in good health answers a JSON page in a small fraction of it (so a hedge this late
#: doubles the load of very few requests), while a hung first request is relieved early enough
#: for a 10 s deadline to hold several more tries.
INITIAL_HEDGE_DELAY_S = 1.0


class LatencyTracker:
    def __init__(self, ceiling: float, *, hedge_floor: float = 0.2, timeout_floor: float = 0.5) -> None:
        self._ceiling = ceiling
        self._hedge_floor = min(hedge_floor, ceiling)
        self._timeout_floor = min(timeout_floor, ceiling)
        self._samples: deque[float] = deque(maxlen=_WINDOW)
        # The samples sorted, until the next one comes. Not mutated: observe() resets it before any read.
        self._ordered: list[float] | None = None  # pragma: no mutate

    def observe(self, seconds: float) -> None:
        self._samples.append(seconds)
        self._ordered = None

    def _quantile(self, fraction: float) -> float | None:
        """The sample at ``fraction``; with fewer than ``_MIN_SAMPLES``, the slowest (too few to
        estimate a tail, but the first answers must shorten the limits at once: requests sent
        before any answer would otherwise hold every slot up to the ceiling); None without any."""
        if len(self._samples) < _MIN_SAMPLES:  # pragma: no mutate: at 8 samples, p95 and p99 are the slowest too
            return max(self._samples, default=None)
        ordered = self._ordered  # pragma: no mutate: without the cached sort, the same sort is redone
        if ordered is None:  # each request asks twice (hedge delay, attempt limit): sort once
            ordered = self._ordered = sorted(self._samples)
        rank = int(fraction * len(ordered))
        return ordered[min(len(ordered) - 1, rank)]  # pragma: no mutate: rank < len for fractions below 1

    @property
    def measured(self) -> bool:
        """Whether an answer has been seen, so that the limits follow observed latency."""
        return bool(self._samples)

    def hedge_delay(self) -> float:
        """Send another request if those out have not answered after this long."""
        p95 = self._quantile(0.95)
        if p95 is None:
            return min(INITIAL_HEDGE_DELAY_S, self._ceiling / 2)
        return min(max(3 * p95, self._hedge_floor), self._ceiling / 2)

    def attempt_timeout(self) -> float:
        """Give up on one request when no byte has come for this long (the ceiling until measured)."""
        p99 = self._quantile(0.99)
        if p99 is None:
            return self._ceiling
        return min(max(6 * p99, self._timeout_floor), self._ceiling)
