"""The search contract: every test runs against SQLite and against a real PostgreSQL."""

from __future__ import annotations

import asyncio
import sqlite3

import pytest

from autodocs.cache import PostgresStore, SearchEntry, SearchHit, SQLiteStore, Store
from autodocs.cache.search import SNIPPET_CHARS
from autodocs.docs.model import DocSection, PackageDocument
from autodocs.errors import InvalidArgument
from tests.cache.builders import INDEX, release_list
from tests.cache.conftest import FakeClock

DAY = 86400.0


def document(name: str = "demo", version: str = "1.0", summary: str | None = None, **sections: str) -> PackageDocument:
    """A document whose sections are the keyword arguments (title with '_' for ' ': content)."""
    return PackageDocument(
        name=name,
        version=version,
        summary=summary,
        sections=[
            DocSection(title=title.replace("_", " "), anchor=title.lower(), level=1, content=content, tokens=10)
            for title, content in sections.items()
        ],
    )


async def index_rows(store: Store) -> int:
    """How many index rows the store holds (and, for SQLite, that its FTS index agrees)."""
    if isinstance(store, SQLiteStore):
        with sqlite3.connect(store.path) as db:
            db.execute("INSERT INTO search_fts (search_fts) VALUES ('integrity-check')")
            return int(db.execute("SELECT COUNT(*) FROM search_entries").fetchone()[0])
    assert isinstance(store, PostgresStore)
    async with store.connection() as db:
        row = await (await db.execute("SELECT COUNT(*) FROM search_entries")).fetchone()
    assert row is not None
    return int(row[0])


async def drop_index_rows(store: Store) -> None:
    """What an older AutoDocs sharing the cache leaves behind: documents without index rows."""
    if isinstance(store, SQLiteStore):
        with sqlite3.connect(store.path) as db:
            db.execute("DELETE FROM search_entries")
        db.close()
        return
    assert isinstance(store, PostgresStore)
    async with store.connection() as pg:
        await pg.execute("DELETE FROM search_entries")


def found(hits: list[SearchHit]) -> list[tuple[str, str, str]]:
    return [(hit.package, hit.version, hit.path) for hit in hits]


# -- indexing on put -----------------------------------------------------------------------


async def test_a_stored_document_is_found_by_its_sections_and_its_summary(store: Store) -> None:
    await store.put_document(
        INDEX, document(summary="Thread-safe connection pooling", Usage="Create a PoolManager to make requests.")
    )
    assert found(await store.search("PoolManager")) == [("demo", "1.0", "Usage")]
    hits = await store.search("pooling")
    assert [(hit.kind, hit.path) for hit in hits] == [("section", "summary")]
    assert await store.search("nothing-like-this") == []


async def test_words_are_stemmed_so_a_plural_finds_the_singular(store: Store) -> None:
    await store.put_document(INDEX, document(Retries="Each retry waits longer than the last."))
    assert found(await store.search("retries")) == [("demo", "1.0", "Retries")]


async def test_a_word_in_a_title_outranks_the_same_word_in_a_text(store: Store) -> None:
    await store.put_document(
        INDEX, document(name="body", Overview="How to configure timeouts for every call you make.")
    )
    await store.put_document(INDEX, document(name="title", Timeouts="How to configure them for every call you make."))
    hits = await store.search("timeouts")
    assert [hit.package for hit in hits] == ["title", "body"]
    assert hits[0].score > hits[1].score > 0


async def test_hits_with_every_word_come_alone_and_any_word_counts_only_when_none_has_all(store: Store) -> None:
    await store.put_document(INDEX, document(name="both", Pools="Retry a request on another connection of the pool."))
    await store.put_document(INDEX, document(name="one", Pools="Connections are kept in a pool."))
    await store.put_document(INDEX, document(name="other", Backoff="Retry with exponential backoff."))
    assert [hit.package for hit in await store.search("retry pool")] == ["both"]
    assert {hit.package for hit in await store.search("retry pool unicorn")} == {"both", "one", "other"}


async def test_words_side_by_side_rank_above_the_same_words_apart(store: Store) -> None:
    await store.put_document(INDEX, document(name="apart", Notes="The pool is small; one connection per host is kept."))
    await store.put_document(INDEX, document(name="together", Notes="A connection pool per host is kept; it is small."))
    assert [hit.package for hit in await store.search("connection pool")] == ["together", "apart"]


async def test_a_put_of_an_existing_document_replaces_its_index_rows_without_duplicates(store: Store) -> None:
    await store.put_document(INDEX, document(summary="first", Overview="alpha words", Usage="beta words"))
    await store.put_document(INDEX, document(summary="second", Overview="gamma words", Usage="beta words"))
    await store.put_document(INDEX, document(summary="second", Overview="gamma words", Usage="beta words"))
    assert await store.search("alpha") == []
    assert found(await store.search("beta")) == [("demo", "1.0", "Usage")]
    assert found(await store.search("gamma")) == [("demo", "1.0", "Overview")]
    assert await index_rows(store) == 3  # summary, Overview, Usage


async def test_concurrent_puts_of_one_document_leave_one_set_of_index_rows(store: Store) -> None:
    versions = [document(Overview=f"word{index} shared", Usage="shared too") for index in range(10)]
    await asyncio.gather(*(store.put_document(INDEX, one) for one in versions))
    assert await index_rows(store) == 2
    assert len(await store.search("shared")) == 2


# -- API references --------------------------------------------------------------------------


def api_entries(*paths: str) -> list[SearchEntry]:
    return [
        SearchEntry(kind="api", path=path, text=f"{path}(url, timeout=None)\n\nPerforms the call.") for path in paths
    ]


async def test_an_api_reference_round_trips_and_its_entries_are_searchable(store: Store) -> None:
    body = '{"path": "demo.Session", "members": []}'
    await store.put_document(INDEX, document(Overview="nothing about it"))
    await store.put_api_reference(INDEX, "demo", "1.0", "demo.Session", body, api_entries("demo.Session.mount"))
    assert await store.get_api_reference(INDEX, "demo", "1.0", "demo.Session") == body
    assert await store.get_api_reference(INDEX, "demo", "1.0", "demo.Other") is None
    assert await store.get_api_reference(INDEX, "demo", "2.0", "demo.Session") is None
    hits = await store.search("mount")
    assert [(hit.kind, hit.path) for hit in hits] == [("api", "demo.Session.mount")]
    assert [hit.path for hit in await store.search("session mount")] == ["demo.Session.mount"]


async def test_a_put_of_an_existing_api_reference_replaces_its_body_and_entries(store: Store) -> None:
    await store.put_api_reference(INDEX, "demo", "1.0", "demo.Session", "{}", api_entries("demo.Session.mount"))
    await store.put_api_reference(INDEX, "demo", "1.0", "demo.Client", "{}", api_entries("demo.Client.send"))
    await store.put_api_reference(INDEX, "demo", "1.0", "demo.Session", '{"v": 2}', api_entries("demo.Session.close"))
    assert await store.get_api_reference(INDEX, "demo", "1.0", "demo.Session") == '{"v": 2}'
    assert await store.search("mount") == []
    assert [hit.path for hit in await store.search("close")] == ["demo.Session.close"]
    assert [hit.path for hit in await store.search("send")] == ["demo.Client.send"]
    assert await index_rows(store) == 2


async def test_api_entries_are_one_versions_api_entries_in_stored_order(store: Store) -> None:
    await store.put_document(INDEX, document(Overview="the session mounts adapters"))
    assert await store.api_entries(INDEX, "demo", "1.0") == []  # sections are not API entries
    await store.put_api_reference(
        INDEX, "demo", "1.0", "demo.Session", "{}", api_entries("demo.Session.mount", "demo.Session.close")
    )
    await store.put_api_reference(INDEX, "demo", "2.0", "demo.Session", "{}", api_entries("demo.Session.send"))
    await store.put_api_reference(INDEX, "other", "1.0", "other.X", "{}", api_entries("other.X.mount"))
    assert [entry.path for entry in await store.api_entries(INDEX, "demo", "1.0")] == [
        "demo.Session.mount",
        "demo.Session.close",
    ]
    assert {entry.kind for entry in await store.api_entries(INDEX, "demo", "1.0")} == {"api"}
    assert await store.api_entries(INDEX, "demo", "3.0") == []
    await store.clear("demo")
    assert await store.api_entries(INDEX, "demo", "1.0") == []


async def test_an_api_reference_needs_an_object_path(store: Store) -> None:
    with pytest.raises(InvalidArgument):
        await store.put_api_reference(INDEX, "demo", "1.0", " ", "{}", [])


async def test_stats_and_known_names_count_api_references(store: Store) -> None:
    await store.put_document(INDEX, document(name="a"))
    await store.put_api_reference(INDEX, "a", "1.0", "a.x", "{}", [])
    await store.put_api_reference(INDEX, "b", "2.0", "b.y", "{}", [])
    stats = await store.stats()
    assert (stats.packages, stats.documents, stats.api_references) == (2, 1, 2)
    assert await store.known_names() == ["a", "b"]


# -- removal keeps the index consistent ----------------------------------------------------


async def test_clear_of_one_package_removes_its_index_rows_and_api_references(store: Store) -> None:
    await store.put_document(INDEX, document(name="a", Overview="shared word"))
    await store.put_document(INDEX, document(name="a", version="2.0", Overview="shared word"))
    await store.put_api_reference(INDEX, "a", "1.0", "a.Client", "{}", api_entries("a.Client.shared"))
    await store.put_release_list(INDEX, release_list(name="a"))
    await store.put_document(INDEX, document(name="b", Overview="shared word"))
    assert await store.clear("a") == 4  # two documents, an API reference, a release list
    assert await store.get_api_reference(INDEX, "a", "1.0", "a.Client") is None
    assert [hit.package for hit in await store.search("shared")] == ["b"]
    assert await index_rows(store) == 1


async def test_clear_of_everything_empties_the_index(store: Store) -> None:
    await store.put_document(INDEX, document(name="a", Overview="word"))
    await store.put_api_reference(INDEX, "b", "1.0", "b.f", "{}", api_entries("b.f"))
    assert await store.clear() == 2
    assert await store.search("word") == []
    assert await index_rows(store) == 0


async def test_prune_drops_the_index_rows_and_api_references_of_pruned_versions(store: Store, clock: FakeClock) -> None:
    for version in ("1", "2", "3"):
        await store.put_document(INDEX, document(version=version, Overview=f"release {version} notes"))
        await store.put_api_reference(INDEX, "demo", version, "demo.run", "{}", api_entries("demo.run"))
        clock.advance(2 * DAY)
    assert await store.prune(max_versions=1, unused_days=90) == 4  # two documents, two API references
    assert await store.get_api_reference(INDEX, "demo", "1", "demo.run") is None
    assert await store.get_api_reference(INDEX, "demo", "3", "demo.run") == "{}"
    assert {(hit.version, hit.kind) for hit in await store.search("release run")} == {("3", "section"), ("3", "api")}
    assert await index_rows(store) == 2


async def test_an_api_reference_unused_for_the_given_days_is_pruned_on_its_own(store: Store, clock: FakeClock) -> None:
    await store.put_api_reference(INDEX, "lone", "1.0", "lone.f", "{}", api_entries("lone.f"))
    await store.put_api_reference(INDEX, "used", "1.0", "used.f", "{}", api_entries("used.f"))
    clock.advance(20 * DAY)
    assert await store.get_api_reference(INDEX, "used", "1.0", "used.f") == "{}"  # a read counts as a use
    clock.advance(20 * DAY)
    assert await store.prune(max_versions=3, unused_days=30) == 1
    assert await store.get_api_reference(INDEX, "lone", "1.0", "lone.f") is None
    assert [hit.package for hit in await store.search("performs call")] == ["used"]
    assert await index_rows(store) == 1


async def test_prune_indexes_documents_an_older_autodocs_stored_without_index_rows(store: Store) -> None:
    await store.put_document(INDEX, document(name="a", summary="first summary", Overview="older words"))
    await store.put_document(INDEX, document(name="b", Overview="older words too"))
    await store.put_document(INDEX, document(name="empty"))
    await drop_index_rows(store)
    assert await store.search("older") == []
    assert await store.prune(max_versions=3, unused_days=30) == 0
    assert sorted(hit.package for hit in await store.search("older")) == ["a", "b"]
    assert await index_rows(store) == 3


# -- what a search may be asked ---------------------------------------------------------------


async def test_search_is_limited_to_the_given_package_versions(store: Store) -> None:
    for name, version in (("a", "1.0"), ("a", "2.0"), ("b", "1.0"), ("c", "1.0")):
        await store.put_document(INDEX, document(name=name, version=version, Overview="common text"))
    hits = await store.search("common", packages=[("a", "2.0"), ("c", "1.0"), ("missing", "9")])
    assert sorted((hit.package, hit.version) for hit in hits) == [("a", "2.0"), ("c", "1.0")]
    assert await store.search("common", packages=[]) == []
    assert len(await store.search("common", packages=None)) == 4


@pytest.mark.parametrize(
    "query",
    [
        '"retry',
        'a" OR "retry',
        "NEAR(retry pool",
        "retr* pool*",
        "-retry",
        "text:retry",
        "path:retry OR text:pool",
        "{path text} : retry",
        "^retry + pool",
        "retry AND NOT pool",
        "retry' OR 1=1; DROP TABLE documents; --",
        "retry:* & !pool | (x",
        "retry <-> pool",
        "\x00retry\\",
        "ñandú 東京 retry",
        "retry " * 2000,
        " ".join(f"w{index}" for index in range(2000)),
    ],
)
async def test_hostile_queries_are_read_as_plain_words(store: Store, query: str) -> None:
    await store.put_document(INDEX, document(Retry="retry the connection pool; pool"))
    hits = await store.search(query)
    if "retry" in query:
        assert [hit.path for hit in hits] == ["Retry"]
    assert (await store.stats()).documents == 1


@pytest.mark.parametrize("query", ["", "   ", '"', '""', "*", "-", "()", "_ _", "'; --"])
async def test_a_query_without_words_is_an_invalid_argument(store: Store, query: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        await store.search(query)
    assert caught.value.suggestions


async def test_a_limit_below_one_is_refused_and_one_above_fifty_is_lowered(store: Store) -> None:
    for index in range(60):
        await store.put_document(INDEX, document(name=f"p{index:02d}", Overview="word"))
    with pytest.raises(InvalidArgument):
        await store.search("word", limit=0)
    assert len(await store.search("word", limit=3)) == 3
    assert len(await store.search("word", limit=1000)) == 50


async def test_a_hit_carries_a_short_snippet_with_the_match_marked(store: Store) -> None:
    text = " ".join(["filler"] * 300 + ["the", "needle", "is", "here"] + ["filler"] * 300)
    await store.put_document(INDEX, document(Overview=text))
    [hit] = await store.search("needle")
    assert "«needle»" in hit.snippet
    assert len(hit.snippet) <= SNIPPET_CHARS
