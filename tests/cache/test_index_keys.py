"""The index is part of every store key: two indexes' entries of one name never mix (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from autodocs.cache import SearchEntry, Store
from autodocs.cache.base import CachedState
from tests.cache.builders import document, release_list
from tests.cache.conftest import FakeClock, StoreFactory

PUBLIC = "https://public.test/pypi"
PRIVATE = "https://private.test/simple https://extra.test/simple"
DAY = 86400.0


def entries(*paths: str) -> list[SearchEntry]:
    return [SearchEntry(kind="api", path=path, text=f"{path} does things") for path in paths]


async def fill_both(store: Store) -> None:
    """``foo`` 1.0 from each index, different in everything an entry holds."""
    await store.put_document(PUBLIC, document(name="foo", version="1.0", body="the public lantern"))
    await store.put_document(PRIVATE, document(name="foo", version="1.0", body="the private compass"))
    await store.put_release_list(PUBLIC, release_list(name="foo", latest="1.0", fetched_at=1000.0))
    await store.put_release_list(PRIVATE, release_list(name="foo", latest="7.0", fetched_at=2000.0))
    await store.put_api_reference(PUBLIC, "foo", "1.0", "foo", '{"from": "public"}', entries("foo.lantern"))
    await store.put_api_reference(PRIVATE, "foo", "1.0", "foo", '{"from": "private"}', entries("foo.compass"))


async def test_each_index_reads_back_its_own_entries_of_one_name_and_version(store: Store) -> None:
    await fill_both(store)
    public, private = await store.get_document(PUBLIC, "foo", "1.0"), await store.get_document(PRIVATE, "foo", "1.0")
    assert public == document(name="foo", version="1.0", body="the public lantern")
    assert private == document(name="foo", version="1.0", body="the private compass")
    assert await store.get_document("https://third.test/pypi", "foo", "1.0") is None
    assert (await store.get_release_list(PUBLIC, "foo")) == release_list(name="foo", latest="1.0", fetched_at=1000.0)
    assert (await store.get_release_list(PRIVATE, "foo")) == release_list(name="foo", latest="7.0", fetched_at=2000.0)
    assert await store.get_api_reference(PUBLIC, "foo", "1.0", "foo") == '{"from": "public"}'
    assert await store.get_api_reference(PRIVATE, "foo", "1.0", "foo") == '{"from": "private"}'
    assert [entry.path for entry in await store.api_entries(PUBLIC, "foo", "1.0")] == ["foo.lantern"]
    assert [entry.path for entry in await store.api_entries(PRIVATE, "foo", "1.0")] == ["foo.compass"]


async def test_what_is_cached_of_a_package_is_read_per_index(store: Store) -> None:
    await fill_both(store)
    await store.put_document(PRIVATE, document(name="foo", version="7.0"))
    await store.put_document(PRIVATE, document(name="bar", version="1.0"))
    assert await store.cached_state(PUBLIC, ["foo", "bar"]) == {
        "foo": CachedState(release_list(name="foo", latest="1.0", fetched_at=1000.0), frozenset({"1.0"}))
    }
    assert (await store.cached_state(PRIVATE, ["foo"]))["foo"].versions == frozenset({"1.0", "7.0"})
    assert await store.cached_versions(PUBLIC, "foo") == ["1.0"]
    assert sorted(await store.cached_versions(PRIVATE, "foo")) == ["1.0", "7.0"]
    assert await store.cached_versions(PUBLIC, "bar") == []


async def test_a_put_from_one_index_never_replaces_the_others_entry(store: Store) -> None:
    await fill_both(store)
    await store.put_document(PRIVATE, document(name="foo", version="1.0", body="the private compass, revised"))
    await store.put_api_reference(PRIVATE, "foo", "1.0", "foo", "{}", entries("foo.sextant"))
    assert await store.get_document(PUBLIC, "foo", "1.0") == document(
        name="foo", version="1.0", body="the public lantern"
    )
    assert [entry.path for entry in await store.api_entries(PUBLIC, "foo", "1.0")] == ["foo.lantern"]
    assert [hit.index for hit in await store.search("lantern")] == [PUBLIC, PUBLIC]


async def test_search_covers_every_index_and_each_hit_names_its_index_or_keeps_to_one(store: Store) -> None:
    await fill_both(store)
    everywhere = await store.search("lantern compass")
    assert {(hit.index, hit.path) for hit in everywhere} == {
        (PUBLIC, "Overview"),
        (PUBLIC, "foo.lantern"),
        (PRIVATE, "Overview"),
        (PRIVATE, "foo.compass"),
    }
    only_private = await store.search("lantern compass", index_key=PRIVATE)
    assert {hit.index for hit in only_private} == {PRIVATE}
    assert await store.search("lantern", index_key=PRIVATE, packages=[("foo", "1.0")]) == []
    assert {hit.path for hit in await store.search("lantern", index_key=PUBLIC, packages=[("foo", "1.0")])} == {
        "Overview",
        "foo.lantern",
    }


async def test_listing_and_stats_show_each_entrys_index(store: Store) -> None:
    await fill_both(store)
    page = await store.list_entries(limit=100)
    assert [(entry.index, entry.name, entry.version) for entry in page.entries] == [
        (PRIVATE, "foo", None),
        (PRIVATE, "foo", "1.0"),
        (PUBLIC, "foo", None),
        (PUBLIC, "foo", "1.0"),
    ]
    stats = await store.stats()
    assert (stats.documents, stats.release_lists, stats.api_references, stats.packages) == (2, 2, 2, 1)
    assert stats.indexes == {PRIVATE: 3, PUBLIC: 3}


async def test_listing_one_entry_a_page_walks_every_index_once(store: Store) -> None:
    await fill_both(store)
    await store.put_document(PUBLIC, document(name="aaa", version="0.1"))
    seen, cursor = [], None
    while True:
        page = await store.list_entries(cursor=cursor, limit=1)
        seen += [(entry.index, entry.name, entry.version) for entry in page.entries]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == [
        (PRIVATE, "foo", None),
        (PRIVATE, "foo", "1.0"),
        (PUBLIC, "aaa", "0.1"),
        (PUBLIC, "foo", None),
        (PUBLIC, "foo", "1.0"),
    ]


async def test_prune_keeps_the_newest_versions_per_package_of_each_index(store: Store, clock: FakeClock) -> None:
    for version in ("1.0", "2.0", "3.0"):
        await store.put_document(PUBLIC, document(name="foo", version=version))
        clock.advance(1)
    for version in ("1.0", "2.0"):
        await store.put_document(PRIVATE, document(name="foo", version=version))
        clock.advance(1)
    assert await store.prune(max_versions=2, unused_days=30) == 1
    assert sorted(await store.cached_versions(PUBLIC, "foo")) == ["2.0", "3.0"]
    assert sorted(await store.cached_versions(PRIVATE, "foo")) == ["1.0", "2.0"], (
        "the other index's versions count apart"
    )


async def test_clearing_a_name_clears_it_from_every_index(store: Store) -> None:
    await fill_both(store)
    assert await store.clear("foo") == 6
    assert await store.get_document(PUBLIC, "foo", "1.0") is None
    assert await store.get_document(PRIVATE, "foo", "1.0") is None
    assert await store.search("lantern compass") == []


async def test_entries_of_two_indexes_stay_apart_in_a_store_reopened_later(make_store: StoreFactory) -> None:
    first = make_store()
    await first.open()
    try:
        await fill_both(first)
    finally:
        await first.close()
    reopened = make_store()
    await reopened.open()
    try:
        assert (await reopened.get_document(PRIVATE, "foo", "1.0")) == document(
            name="foo", version="1.0", body="the private compass"
        )
        assert await reopened.get_api_reference(PUBLIC, "foo", "1.0", "foo") == '{"from": "public"}'
    finally:
        await reopened.close()


@pytest.mark.parametrize("key", [PUBLIC, PRIVATE])
async def test_an_entry_cached_under_one_index_is_a_miss_for_every_other(store: Store, key: str) -> None:
    await store.put_document(key, document(name="solo"))
    other = PRIVATE if key == PUBLIC else PUBLIC
    assert await store.get_document(other, "solo", "1.0") is None
    assert await store.cached_state(other, ["solo"]) == {}
