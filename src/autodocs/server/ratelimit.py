"""Inbound rate limiting: a token bucket per client, in a table of bounded size.

Each client may make ``RATE_LIMIT_RPM`` calls a minute, in bursts of up to that many. The
table of buckets holds at most ``max_clients`` entries; past that, the least recently seen
client's bucket is dropped (it comes back full, which errs on the side of serving). Memory
is therefore bounded whatever the number of distinct clients.

Small enough to write here: the libraries we looked at (aiolimiter among them) limit one
stream of calls, not a table of clients, and do not bound how many waiters queue.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["RateLimiter"]


class RateLimiter:
    def __init__(
        self, per_minute: int, *, max_clients: int = 10_000, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._capacity = float(per_minute)
        self._refill_per_second = per_minute / 60.0
        self._max_clients = max_clients
        self._clock = clock
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # client -> (tokens, at)
        self.rejected = 0

    @property
    def per_minute(self) -> int:
        return int(self._capacity)

    def __len__(self) -> int:
        return len(self._buckets)

    def acquire(self, client: str) -> float:
        """Take one token for ``client``: 0.0 when allowed, else the seconds until one is free."""
        now = self._clock()
        tokens, at = self._buckets.pop(client, (self._capacity, now))
        tokens = min(self._capacity, tokens + (now - at) * self._refill_per_second)
        if tokens >= 1.0:
            self._buckets[client] = (tokens - 1.0, now)
            wait = 0.0
        else:
            self._buckets[client] = (tokens, now)
            self.rejected += 1
            wait = (1.0 - tokens) / self._refill_per_second
        while len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)  # pragma: no mutate: last=None is falsy, the same as last=False
        return wait
