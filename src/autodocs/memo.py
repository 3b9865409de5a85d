"""A bounded in-memory LRU map, for the speed-ups that sit in front of the cache store.

``functools.lru_cache`` memoizes calls, not async results keyed by our own tuples, and it
cannot drop entries by a predicate (needed when a package is refreshed); cachetools would
do, but this is all we need of it and it is small.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

__all__ = ["LruMap"]

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class LruMap(Generic[K, V]):
    def __init__(self, capacity: int) -> None:
        if capacity < 1:
            raise ValueError("capacity must be at least 1")
        self._capacity = capacity
        self._items: OrderedDict[K, V] = OrderedDict()

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def key_list(self) -> list[K]:
        return list(self._items)

    def get(self, key: K) -> V | None:
        value = self._items.get(key)
        if value is not None:
            self._items.move_to_end(key)
        return value

    def put(self, key: K, value: V) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self._capacity:
            self._items.popitem(last=False)  # pragma: no mutate: last=None is falsy, the same as last=False

    def discard_where(self, predicate: Callable[[K], bool]) -> None:
        for key in [key for key in self._items if predicate(key)]:
            del self._items[key]

    def clear(self) -> None:
        self._items.clear()
