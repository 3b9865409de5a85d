"""CachedStates: calls that start together share one store read; no caller is ever left waiting."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from autodocs.cache import SQLiteStore
from autodocs.cache.base import CachedState
from autodocs.cache.batch import CachedStates
from tests.cache.builders import INDEX, document, release_list


@pytest.fixture
async def sqlite_store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(tmp_path / "cache.db")
    await store.open()
    await store.put_document(INDEX, document(name="alpha", version="1.0"))
    await store.put_release_list(INDEX, release_list(name="alpha", fetched_at=5.0))
    yield store
    await store.close()


async def test_calls_started_together_share_one_read_and_later_ones_get_another(sqlite_store: SQLiteStore) -> None:
    states = CachedStates(sqlite_store)
    alpha, beta, alpha_again = await asyncio.gather(
        states.get(INDEX, "alpha"), states.get(INDEX, "beta"), states.get(INDEX, "alpha")
    )
    assert states.batches == 1
    assert alpha == alpha_again == CachedState(release_list(name="alpha", fetched_at=5.0), frozenset({"1.0"}))
    assert beta == CachedState()
    await states.get(INDEX, "alpha")
    assert states.batches == 2, "each call sees the store as it is now: nothing is kept between batches"


async def test_a_caller_that_gives_up_does_not_cancel_the_read_the_others_wait_for(sqlite_store: SQLiteStore) -> None:
    states = CachedStates(sqlite_store)
    impatient = asyncio.ensure_future(states.get(INDEX, "alpha"))
    patient = asyncio.ensure_future(states.get(INDEX, "alpha"))
    await asyncio.sleep(0)
    impatient.cancel()
    assert (await patient).versions == frozenset({"1.0"})
    assert impatient.cancelled()


async def test_a_store_that_cannot_be_read_answers_nothing_cached_to_everyone(sqlite_store: SQLiteStore) -> None:
    states = CachedStates(sqlite_store)
    await sqlite_store.close()
    answers = await asyncio.wait_for(asyncio.gather(*(states.get(INDEX, f"pkg-{i}") for i in range(5))), timeout=5)
    assert answers == [CachedState()] * 5


async def test_callers_waiting_when_the_reader_is_cancelled_get_an_answer(sqlite_store: SQLiteStore) -> None:
    states = CachedStates(sqlite_store)
    waiting = [asyncio.ensure_future(states.get(INDEX, name)) for name in ("alpha", "beta")]
    await asyncio.sleep(0)  # the callers are queued and the reader task exists
    reader = states._reader
    assert reader is not None
    reader.cancel()
    answers = await asyncio.wait_for(asyncio.gather(*waiting), timeout=5)
    assert answers == [CachedState(), CachedState()], "shutdown answers 'nothing cached', never hangs"


async def test_names_of_two_indexes_asked_together_are_each_answered_from_their_own_index(
    sqlite_store: SQLiteStore,
) -> None:
    other = "https://private.test/simple"
    await sqlite_store.put_document(other, document(name="alpha", version="9.0"))
    states = CachedStates(sqlite_store)
    ours, theirs, nowhere = await asyncio.gather(
        states.get(INDEX, "alpha"), states.get(other, "alpha"), states.get("https://third.test/pypi", "alpha")
    )
    assert (ours.versions, theirs.versions, nowhere) == (frozenset({"1.0"}), frozenset({"9.0"}), CachedState())
    assert theirs.release_list is None, "the release list is the first index's"
    assert states.batches == 3  # one read per index
