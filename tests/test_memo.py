"""LruMap: a bounded map that forgets the least recently used key first."""

from __future__ import annotations

import pytest

from autodocs.memo import LruMap


def test_capacity_below_one_is_refused_with_its_reason() -> None:
    with pytest.raises(ValueError, match=r"^capacity must be at least 1$"):
        LruMap[str, int](0)


def test_capacity_of_one_keeps_the_last_key() -> None:
    memo = LruMap[str, int](1)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.key_list() == ["b"]
    assert memo.get("b") == 2


def test_get_returns_the_value_put() -> None:
    memo = LruMap[str, int](4)
    memo.put("a", 1)
    assert memo.get("a") == 1


def test_get_of_a_missing_key_is_none() -> None:
    memo = LruMap[str, int](4)
    assert memo.get("missing") is None


def test_put_replaces_the_value_of_a_known_key() -> None:
    memo = LruMap[str, int](4)
    memo.put("a", 1)
    memo.put("a", 2)
    assert memo.get("a") == 2
    assert len(memo) == 1


def test_len_counts_the_keys_held() -> None:
    memo = LruMap[str, int](4)
    memo.put("a", 1)
    memo.put("b", 2)
    assert len(memo) == 2


def test_contains_tells_held_keys_from_others() -> None:
    memo = LruMap[str, int](4)
    memo.put("a", 1)
    assert "a" in memo
    assert "b" not in memo


def test_key_list_is_oldest_first() -> None:
    memo = LruMap[str, int](4)
    for key in "abc":
        memo.put(key, 0)
    assert memo.key_list() == ["a", "b", "c"]


def test_holds_exactly_capacity_keys() -> None:
    memo = LruMap[int, int](3)
    for key in range(3):
        memo.put(key, key)
    assert memo.key_list() == [0, 1, 2]


def test_past_capacity_the_least_recently_used_key_is_dropped() -> None:
    memo = LruMap[int, int](3)
    for key in range(4):
        memo.put(key, key)
    assert memo.key_list() == [1, 2, 3]


def test_get_refreshes_recency_so_the_key_survives_eviction() -> None:
    memo = LruMap[str, int](2)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("a") == 1
    memo.put("c", 3)
    assert memo.key_list() == ["a", "c"]


def test_a_miss_does_not_reorder_the_keys() -> None:
    memo = LruMap[str, int](3)
    memo.put("a", 1)
    memo.put("b", 2)
    assert memo.get("c") is None
    assert memo.key_list() == ["a", "b"]


def test_put_of_a_known_key_refreshes_its_recency() -> None:
    memo = LruMap[str, int](2)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.put("a", 3)
    memo.put("c", 4)
    assert memo.key_list() == ["a", "c"]


def test_discard_where_drops_only_the_matching_keys() -> None:
    memo = LruMap[tuple[str, str], int](8)
    memo.put(("attrs", "1.0"), 1)
    memo.put(("httpx", "0.28"), 2)
    memo.put(("attrs", "2.0"), 3)
    memo.discard_where(lambda key: key[0] == "attrs")
    assert memo.key_list() == [("httpx", "0.28")]


def test_clear_drops_every_key() -> None:
    memo = LruMap[str, int](4)
    memo.put("a", 1)
    memo.put("b", 2)
    memo.clear()
    assert len(memo) == 0
    assert memo.get("a") is None
