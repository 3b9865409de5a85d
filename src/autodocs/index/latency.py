"""What the index's answers have taken lately → how long to wait before hedging or giving up.

A single attempt's time limit must be much shorter than a tool call's deadline, or one hung
connection eats the whole budget; but a fixed short limit would cut off a slow yet healthy
index. So limits follow the observed time to first byte: hedge (send a second, parallel
request) past a few times the recent p95, give up on an attempt past several times the p99 —
within floors and the configured ``ATTEMPT_TIMEOUT`` ceiling. Until enough answers have been
seen, defaults apply that are short enough not to let hung connections hold every slot (a
healthy index answers in well under a second) and long enough for a slow first answer.
"""

from __future__ import annotations

from collections import deque

__all__ = ["LatencyTracker"]

_WINDOW = 256
_MIN_SAMPLES = 8
#: Before there are samples: give up on a silent attempt after this long.
_INITIAL_TIMEOUT_S = 2.0


class LatencyTracker:
    def __init__(self, ceiling: float, *, hedge_floor: float = 0.2, timeout_floor: float = 1.0) -> None:
        self._ceiling = ceiling
        self._hedge_floor = min(hedge_floor, ceiling)
        self._timeout_floor = min(timeout_floor, ceiling)
        self._samples: deque[float] = deque(maxlen=_WINDOW)
        self._ordered: list[float] | None = None  # the samples sorted, until the next one comes

    def observe(self, seconds: float) -> None:
        self._samples.append(seconds)
        self._ordered = None

    def _quantile(self, fraction: float) -> float | None:
        if len(self._samples) < _MIN_SAMPLES:
            return None
        ordered = self._ordered
        if ordered is None:  # each request asks twice (hedge delay, attempt limit): sort once
            ordered = self._ordered = sorted(self._samples)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]

    def hedge_delay(self) -> float | None:
        """Send a second request if the first has not answered after this long; None: do not hedge.

        No hedging before enough answers have been seen: without a measure of "normal" a hedge
        is a guess that doubles the load; the attempt limit and retries cover that time.
        """
        p95 = self._quantile(0.95)
        if p95 is None:
            return None
        return min(max(3 * p95, self._hedge_floor), self._ceiling / 2)

    def attempt_timeout(self) -> float:
        """Give up on one attempt when no byte has come for this long."""
        p99 = self._quantile(0.99)
        if p99 is None:
            return min(_INITIAL_TIMEOUT_S, self._ceiling)
        return min(max(6 * p99, self._timeout_floor), self._ceiling)
