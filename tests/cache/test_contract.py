"""The storage contract: every test runs against SQLite and against a real PostgreSQL."""

from __future__ import annotations

import asyncio

import pytest

from autodocs.cache import Store
from autodocs.cache.base import CACHED_STATE_CHUNK, DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, CachedState
from autodocs.errors import CacheError, InvalidArgument
from tests.cache.builders import INDEX, document, release_list
from tests.cache.conftest import FakeClock, StoreFactory

DAY = 86400.0


async def all_entries(store: Store, limit: int) -> list[tuple[str, str | None, str]]:
    """Walk every page; (name, version, kind) in the order the pages gave them."""
    seen: list[tuple[str, str | None, str]] = []
    cursor = None
    while True:
        page = await store.list_entries(cursor=cursor, limit=limit)
        assert len(page.entries) <= limit
        seen.extend((entry.name, entry.version, entry.kind) for entry in page.entries)
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


async def test_a_document_round_trips_and_a_missing_one_is_a_miss(store: Store) -> None:
    await store.put_document(INDEX, document())
    assert await store.get_document(INDEX, "demo", "1.0") == document()
    assert await store.get_document(INDEX, "demo", "2.0") is None
    assert await store.get_document(INDEX, "other", "1.0") is None
    stats = await store.stats()
    assert (stats.hits, stats.misses) == (1, 2)


async def test_a_put_of_an_existing_document_replaces_it_whole(store: Store) -> None:
    await store.put_document(INDEX, document(body="first"))
    await store.put_document(INDEX, document(body="second " * 1000))
    assert await store.get_document(INDEX, "demo", "1.0") == document(body="second " * 1000)
    assert (await store.stats()).documents == 1


async def test_a_release_list_round_trips_and_a_put_replaces_it(store: Store) -> None:
    assert await store.get_release_list(INDEX, "demo") is None
    await store.put_release_list(INDEX, release_list(latest="1.0", fetched_at=1000.0))
    assert await store.get_release_list(INDEX, "demo") == release_list(latest="1.0", fetched_at=1000.0)
    await store.put_release_list(INDEX, release_list(latest="2.0", fetched_at=2000.0))
    assert await store.get_release_list(INDEX, "demo") == release_list(latest="2.0", fetched_at=2000.0)
    assert (await store.stats()).release_lists == 1


async def test_cached_versions_lists_one_packages_documents_oldest_first(store: Store, clock: FakeClock) -> None:
    for version in ("2.0", "1.0", "3.0"):
        await store.put_document(INDEX, document(version=version))
        clock.advance(1)
    await store.put_document(INDEX, document(name="other", version="9.9"))
    assert await store.cached_versions(INDEX, "demo") == ["2.0", "1.0", "3.0"]
    assert await store.cached_versions(INDEX, "missing") == []


async def test_cached_state_reads_many_packages_release_lists_and_versions_at_once(store: Store) -> None:
    await store.put_document(INDEX, document(name="alpha", version="1"))
    await store.put_document(INDEX, document(name="alpha", version="2"))
    await store.put_release_list(INDEX, release_list(name="alpha", latest="2", fetched_at=1000.0))
    await store.put_release_list(INDEX, release_list(name="lists-only", fetched_at=2000.0))
    await store.put_document(INDEX, document(name="docs-only", version="3.0"))
    # More names than one statement takes: the store splits them and answers for all.
    names = ["alpha", "lists-only", "docs-only"] + [f"absent-{i}" for i in range(CACHED_STATE_CHUNK + 7)] + ["alpha"]
    states = await store.cached_state(INDEX, names)
    assert set(states) == {"alpha", "lists-only", "docs-only"}, "names with nothing cached are left out"
    alpha = release_list(name="alpha", latest="2", fetched_at=1000.0)
    assert states["alpha"] == CachedState(alpha, frozenset({"1", "2"}))
    assert states["lists-only"] == CachedState(release_list(name="lists-only", fetched_at=2000.0), frozenset())
    assert states["docs-only"] == CachedState(None, frozenset({"3.0"}))
    assert await store.cached_state(INDEX, []) == {}


async def test_known_names_covers_documents_and_release_lists_sorted_once(store: Store) -> None:
    await store.put_document(INDEX, document(name="zeta"))
    await store.put_document(INDEX, document(name="alpha", version="1"))
    await store.put_document(INDEX, document(name="alpha", version="2"))
    await store.put_release_list(INDEX, release_list(name="mid"))
    await store.put_release_list(INDEX, release_list(name="alpha"))
    assert await store.known_names() == ["alpha", "mid", "zeta"]


async def test_clear_of_one_package_removes_only_its_entries(store: Store) -> None:
    await store.put_document(INDEX, document(name="a", version="1"))
    await store.put_document(INDEX, document(name="a", version="2"))
    await store.put_release_list(INDEX, release_list(name="a"))
    await store.put_document(INDEX, document(name="b"))
    assert await store.clear("a") == 3
    assert await store.known_names() == ["b"]
    assert await store.clear("a") == 0


async def test_clear_of_everything_empties_the_store(store: Store) -> None:
    await store.put_document(INDEX, document(name="a"))
    await store.put_release_list(INDEX, release_list(name="b"))
    assert await store.clear() == 2
    stats = await store.stats()
    assert (stats.packages, stats.documents, stats.release_lists) == (0, 0, 0)


async def test_stats_count_packages_documents_and_release_lists(store: Store) -> None:
    await store.put_document(INDEX, document(name="a", version="1"))
    await store.put_document(INDEX, document(name="a", version="2"))
    await store.put_document(INDEX, document(name="b"))
    await store.put_release_list(INDEX, release_list(name="a"))
    await store.put_release_list(INDEX, release_list(name="c"))
    stats = await store.stats()
    assert (stats.packages, stats.documents, stats.release_lists) == (3, 3, 2)
    assert stats.size_bytes > 0
    assert store.size_bytes() > 0


async def test_ping_answers_while_open_and_a_closed_store_raises_cache_error(make_store: StoreFactory) -> None:
    store = make_store()
    await store.open()
    await store.ping()
    await store.close()
    with pytest.raises(CacheError):
        await store.ping()


async def test_a_second_store_on_the_same_location_sees_the_first_ones_entries(make_store: StoreFactory) -> None:
    first, second = make_store(), make_store()
    await first.open()
    await second.open()
    try:
        await first.put_document(INDEX, document())
        await second.put_release_list(INDEX, release_list(fetched_at=5.0))
        assert await second.get_document(INDEX, "demo", "1.0") == document()
        assert await first.get_release_list(INDEX, "demo") == release_list(fetched_at=5.0)
    finally:
        await first.close()
        await second.close()


async def test_concurrent_writers_of_one_entry_leave_one_intact_row(store: Store) -> None:
    bodies = [str(index) * 20_000 for index in range(10)]
    await asyncio.gather(*(store.put_document(INDEX, document(body=body)) for body in bodies))
    assert (await store.stats()).documents == 1
    stored = await store.get_document(INDEX, "demo", "1.0")
    assert stored is not None
    assert stored in [document(body=body) for body in bodies]


# -- eviction ------------------------------------------------------------------------------


async def test_prune_keeps_the_most_recently_used_versions_of_each_package(store: Store, clock: FakeClock) -> None:
    for version in ("1", "2", "3", "4"):
        await store.put_document(INDEX, document(version=version))
        clock.advance(2 * DAY)
    await store.put_document(INDEX, document(name="other"))
    assert await store.get_document(INDEX, "demo", "1") is not None  # read after a day: counts as a use
    assert await store.prune(max_versions=2, unused_days=90) == 2
    assert sorted(await store.cached_versions(INDEX, "demo")) == ["1", "4"]
    assert await store.cached_versions(INDEX, "other") == ["1.0"]


async def test_prune_drops_documents_and_release_lists_unused_for_the_given_days(
    store: Store, clock: FakeClock
) -> None:
    await store.put_document(INDEX, document(name="old"))
    await store.put_release_list(INDEX, release_list(name="old", fetched_at=clock.now))
    clock.advance(40 * DAY)
    await store.put_document(INDEX, document(name="new"))
    await store.put_release_list(INDEX, release_list(name="new", fetched_at=clock.now))
    assert await store.prune(max_versions=10, unused_days=30) == 2
    assert await store.known_names() == ["new"]
    assert await store.prune(max_versions=10, unused_days=30) == 0


async def test_prune_counts_a_read_as_a_use(store: Store, clock: FakeClock) -> None:
    await store.put_document(INDEX, document())
    clock.advance(20 * DAY)
    assert await store.get_document(INDEX, "demo", "1.0") is not None
    clock.advance(20 * DAY)
    assert await store.prune(max_versions=10, unused_days=30) == 0
    assert await store.cached_versions(INDEX, "demo") == ["1.0"]


# -- listing -------------------------------------------------------------------------------


async def test_pages_cover_every_entry_exactly_once_in_name_then_version_order(store: Store) -> None:
    expected: list[tuple[str, str | None, str]] = []
    for name in ("a", "b", "c", "d"):
        await store.put_release_list(INDEX, release_list(name=name))
        expected.append((name, None, "release_list"))
        for version in ("1.0", "1.1", "2.0"):
            await store.put_document(INDEX, document(name=name, version=version))
            expected.append((name, version, "document"))
    await store.put_document(INDEX, document(name="e", version="0.1"))  # a package without a release list
    expected.append(("e", "0.1", "document"))
    await store.put_release_list(INDEX, release_list(name="f"))  # and one without documents
    expected.append(("f", None, "release_list"))
    for limit in (1, 2, 3, 5, 7, 100):
        assert await all_entries(store, limit) == expected


async def test_an_entry_added_between_pages_never_repeats_or_hides_another(store: Store) -> None:
    for name in ("a", "c", "e"):
        await store.put_document(INDEX, document(name=name))
    first = await store.list_entries(cursor=None, limit=2)
    await store.put_document(INDEX, document(name="b"))  # before the cursor: not on later pages
    await store.put_document(INDEX, document(name="d"))  # after it: on a later page
    rest = await store.list_entries(cursor=first.next_cursor, limit=10)
    assert [entry.name for entry in first.entries + rest.entries] == ["a", "c", "d", "e"]
    assert rest.next_cursor is None


async def test_an_entry_reports_its_last_use(store: Store, clock: FakeClock) -> None:
    await store.put_document(INDEX, document())
    await store.put_release_list(INDEX, release_list(fetched_at=123.0))
    page = await store.list_entries(cursor=None, limit=10)
    assert [(entry.kind, entry.last_used) for entry in page.entries] == [
        ("release_list", 123.0),
        ("document", pytest.approx(clock.now)),
    ]


async def test_the_default_page_holds_100_entries(store: Store) -> None:
    for index in range(DEFAULT_PAGE_SIZE + 1):
        await store.put_release_list(INDEX, release_list(name=f"p{index:04d}"))
    page = await store.list_entries(cursor=None)
    assert (len(page.entries), page.limit_applied, page.clamped) == (DEFAULT_PAGE_SIZE, DEFAULT_PAGE_SIZE, False)
    assert page.next_cursor is not None
    last = await store.list_entries(cursor=page.next_cursor)
    assert [entry.name for entry in last.entries] == [f"p{DEFAULT_PAGE_SIZE:04d}"]
    assert last.next_cursor is None


async def test_a_limit_above_the_maximum_is_clamped_and_says_so(store: Store) -> None:
    for index in range(MAX_PAGE_SIZE + 5):
        await store.put_release_list(INDEX, release_list(name=f"p{index:05d}"))
    page = await store.list_entries(cursor=None, limit=50_000)
    assert (len(page.entries), page.limit_applied, page.clamped) == (MAX_PAGE_SIZE, MAX_PAGE_SIZE, True)
    rest = await store.list_entries(cursor=page.next_cursor, limit=MAX_PAGE_SIZE)
    assert (len(rest.entries), rest.clamped, rest.next_cursor) == (5, False, None)


async def test_an_empty_store_lists_one_empty_last_page(store: Store) -> None:
    page = await store.list_entries(cursor=None, limit=10)
    assert (page.entries, page.next_cursor) == ([], None)


@pytest.mark.parametrize("cursor", ["not a cursor!", "bm9wZQ", "WzEsMl0"])
async def test_a_cursor_the_store_did_not_issue_is_an_invalid_argument(store: Store, cursor: str) -> None:
    with pytest.raises(InvalidArgument):
        await store.list_entries(cursor=cursor, limit=10)


async def test_a_limit_below_one_is_an_invalid_argument(store: Store) -> None:
    with pytest.raises(InvalidArgument):
        await store.list_entries(cursor=None, limit=0)
