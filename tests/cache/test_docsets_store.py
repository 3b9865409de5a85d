"""The docs-set contract of both stores: every test runs against SQLite and a real PostgreSQL."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from autodocs.cache import PostgresStore, SQLiteStore, Store, pg_docsets
from autodocs.cache.docsets import SectionRow
from autodocs.docset.build import DocSet, build_docset_from_sdist
from autodocs.docset.pages import Block, Page, Section
from autodocs.docset.toc import TableOfContents, TocEntry
from autodocs.service import AutoDocsService
from tests.cache.builders import document
from tests.cache.conftest import FakeClock
from tests.conftest import make_settings
from tests.docset.sdists import MKDOCS_PROJECT, SPHINX_PROJECT, make_sdist
from tests.support.fake_index import FakeIndex
from tests.test_docsets import serve

KEY = "http://127.0.0.1:1/simple"
DAY = 86400.0


def built(tmp_path: Path, files: dict[str, str | bytes]) -> DocSet:
    archive = make_sdist(tmp_path, files)
    return build_docset_from_sdist(archive, tmp_path / f"tree-{len(list(tmp_path.iterdir()))}")


def big_docset(pages: int, sections: int, chars: int) -> DocSet:
    made = tuple(
        Page(
            f"docs/page{p}.rst",
            f"Page {p}",
            tuple(
                Section(
                    (f"Page {p}", f"Part {s}"),
                    (Block("text", f"word{p}x{s} " + "lorem ipsum " * (chars // 12)), Block("code", "```\nx = 1\n```")),
                )
                for s in range(sections)
            ),
        )
        for p in range(pages)
    )
    toc = TableOfContents(tuple(TocEntry(page.title, page.path) for page in made))
    return DocSet("plain", made, toc)


async def section_rows(store: Store) -> int:
    if isinstance(store, SQLiteStore):
        import sqlite3

        with sqlite3.connect(store.path) as db:
            db.execute("INSERT INTO docset_fts (docset_fts) VALUES ('integrity-check')")
            return int(db.execute("SELECT COUNT(*) FROM docset_sections").fetchone()[0])
    assert isinstance(store, PostgresStore)
    async with store.connection() as db:
        row = await (await db.execute("SELECT COUNT(*) FROM docset_sections")).fetchone()
        return int(row[0]) if row else 0


async def test_a_docs_set_round_trips_whole_pages_toc_and_blocks(store: Store, tmp_path: Path) -> None:
    docset = built(tmp_path, SPHINX_PROJECT)
    assert docset.pages
    await store.put_docset(KEY, "demo", "1.0", docset)
    assert await store.get_docset(KEY, "demo", "1.0") == docset
    assert await store.get_docset(KEY, "demo", "2.0") is None
    assert await store.get_docset("other-index", "demo", "1.0") is None


async def test_an_mkdocs_docs_set_round_trips_with_its_nav_sections(store: Store, tmp_path: Path) -> None:
    docset = built(tmp_path, MKDOCS_PROJECT)
    await store.put_docset(KEY, "demo", "1.0", docset)
    read = await store.get_docset(KEY, "demo", "1.0")
    assert read == docset
    assert read is not None and any(entry.children for entry in read.toc.entries)


async def test_a_release_without_docs_stores_its_reason_and_reads_as_none(store: Store) -> None:
    await store.put_docset(KEY, "demo", "1.0", None, missing_reason="the package index lists no sdist")
    assert await store.get_docset(KEY, "demo", "1.0") is None
    assert await store.docset_missing_reason(KEY, "demo", "1.0") == "the package index lists no sdist"
    assert await store.docset_missing_reason(KEY, "demo", "2.0") is None


async def test_cached_state_names_the_versions_with_a_stored_docs_set_or_reason(store: Store, tmp_path: Path) -> None:
    await store.put_docset(KEY, "demo", "1.0", built(tmp_path, MKDOCS_PROJECT))
    await store.put_docset(KEY, "demo", "2.0", None, missing_reason="the package index lists no sdist")
    await store.put_document(KEY, document(name="demo", version="3.0"))
    await store.put_docset("http://127.0.0.1:2/simple", "demo", "4.0", None, missing_reason="another index's")
    await store.put_docset(KEY, "docsets-only", "1.0", None, missing_reason="no sdist")
    states = await store.cached_state(KEY, ["demo", "docsets-only", "absent"])
    assert set(states) == {"demo", "docsets-only"}
    assert states["demo"].docsets == {"1.0", "2.0"} and states["demo"].versions == {"3.0"}
    assert states["docsets-only"].docsets == {"1.0"} and states["docsets-only"].release_list is None


async def test_a_put_replaces_the_stored_docs_set_and_its_index_rows(store: Store) -> None:
    await store.put_docset(KEY, "demo", "1.0", big_docset(3, 4, 100))
    await store.put_docset(KEY, "demo", "1.0", big_docset(1, 2, 100))
    read = await store.get_docset(KEY, "demo", "1.0")
    assert read is not None and len(read.pages) == 1
    assert await section_rows(store) == 2


async def test_section_search_ranks_a_heading_match_first_and_keeps_code_blocks_whole(
    store: Store, tmp_path: Path
) -> None:
    await store.put_docset(KEY, "demo", "1.0", built(tmp_path, SPHINX_PROJECT))
    hits = await store.docset_sections(KEY, "demo", "1.0", "retrying", limit=5)
    assert hits and hits[0].section.heading_path[-1] == "Retrying"
    assert hits[0].page_path == "docs/usage.rst"
    code = [block for block in hits[0].section.blocks if block.kind == "code"]
    assert code and code[0].text.startswith("```") and code[0].text.rstrip().endswith("```")
    assert await store.docset_sections(KEY, "demo", "2.0", "retrying") == []


async def test_search_over_every_docs_set_names_package_version_page_and_headings(store: Store, tmp_path: Path) -> None:
    await store.put_docset(KEY, "demo", "1.0", built(tmp_path, SPHINX_PROJECT))
    await store.put_docset(KEY, "other", "2.0", big_docset(2, 2, 50))
    hits = await store.search_docsets("retrying")
    assert hits[0].kind == "docs" and (hits[0].package, hits[0].version) == ("demo", "1.0")
    assert hits[0].page_path == "docs/usage.rst" and hits[0].heading_path == ["Usage", "Retrying"]
    assert await store.search_docsets("retrying", packages=[("other", "2.0")]) == []
    assert [h.package for h in await store.search_docsets("word1x1", packages=[("other", "2.0")])] == ["other"]


async def test_docs_sets_are_counted_and_cleared_with_their_package(store: Store) -> None:
    await store.put_docset(KEY, "demo", "1.0", big_docset(2, 2, 50))
    await store.put_docset(KEY, "none", "1.0", None, missing_reason="no sdist")
    stats = await store.stats()
    assert stats.docsets == 1 and stats.packages == 2
    assert await store.clear("demo") == 1
    assert await store.get_docset(KEY, "demo", "1.0") is None
    assert await section_rows(store) == 0
    await store.clear()
    assert (await store.stats()).docsets == 0 and await store.docset_missing_reason(KEY, "none", "1.0") is None


async def test_prune_drops_a_docs_set_with_its_release_and_when_unused(store: Store, clock: FakeClock) -> None:
    for version in ("1.0", "2.0"):
        await store.put_document(KEY, document("demo", version))
        await store.put_docset(KEY, "demo", version, big_docset(1, 1, 50))
        clock.advance(10)
    await store.prune(max_versions=1, unused_days=30)  # 1.0's document goes, and its docs set with it
    assert await store.get_docset(KEY, "demo", "1.0") is None
    assert await store.get_docset(KEY, "demo", "2.0") is not None
    clock.advance(31 * DAY)
    await store.put_document(KEY, document("demo", "2.0"))  # the document is used again; its docs set is not
    await store.prune(max_versions=5, unused_days=30)
    assert await store.get_docset(KEY, "demo", "2.0") is None
    assert await section_rows(store) == 0


async def test_a_docs_set_larger_than_one_batch_is_written_whole(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pg_docsets, "BATCH_CHARS", 20_000)  # PostgreSQL: many statements
    docset = big_docset(20, 10, 2_000)
    await store.put_docset(KEY, "big", "1.0", docset)
    assert await store.get_docset(KEY, "big", "1.0") == docset
    assert await section_rows(store) == 200


@pytest.fixture
def failing_second_batch(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    real = pg_docsets._batches

    def batches(sections: list[SectionRow]) -> Iterator[list[SectionRow]]:
        produced = real(sections)
        yield next(produced)
        raise RuntimeError("the database went away mid-write")

    monkeypatch.setattr(pg_docsets, "BATCH_CHARS", 5_000)
    monkeypatch.setattr(pg_docsets, "_batches", batches)
    yield


async def test_postgres_write_that_fails_mid_way_leaves_no_rows(store: Store, failing_second_batch: None) -> None:
    if not isinstance(store, PostgresStore):
        pytest.skip("SQLite writes a docs set in one transaction")
    with pytest.raises(RuntimeError):
        await store.put_docset(KEY, "big", "1.0", big_docset(10, 5, 2_000))
    assert await store.get_docset(KEY, "big", "1.0") is None
    assert await section_rows(store) == 0
    async with store.connection() as db:
        row = await (await db.execute("SELECT COUNT(*) FROM docsets")).fetchone()
    assert row is not None and row[0] == 0


async def test_postgres_readers_never_see_an_incomplete_docs_set(store: Store) -> None:
    if not isinstance(store, PostgresStore):
        pytest.skip("SQLite writes a docs set in one transaction")
    await store.put_docset(KEY, "demo", "1.0", big_docset(2, 2, 50))
    async with store.connection() as db:
        await db.execute("UPDATE docsets SET complete = false")
    assert await store.get_docset(KEY, "demo", "1.0") is None
    assert await store.docset_sections(KEY, "demo", "1.0", "word1x1") == []


async def test_a_release_docs_set_built_on_postgres_is_read_back_after_a_restart(
    fake_index: FakeIndex, postgres_url: str, tmp_path: Path
) -> None:
    name = f"pgdocs{time.monotonic_ns()}"
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    settings = make_settings(fake_index, tmp_path / "cache", cache_url=postgres_url)
    async with AutoDocsService.running(settings) as service:
        built_once = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=60)
        assert built_once.docset is not None
        assert (await service.cache_stats()).docsets == 1
    async with AutoDocsService.running(settings) as service:
        again = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=60)
        hits = await service.search_docs("retrying")
    assert again.docset == built_once.docset
    assert fake_index.count(f"/files/{name}") == 1
    assert hits.results and hits.results[0].kind == "docs" and hits.results[0].package == name


async def test_listing_names_each_docs_set_after_its_document_across_indexes_page_by_page(store: Store) -> None:
    other = "https://private.test/simple"
    for index in (KEY, other):
        await store.put_document(index, document("demo", "1.0"))
        await store.put_docset(index, "demo", "1.0", big_docset(1, 1, 50))
    await store.put_document(KEY, document("demo", "1.0.1"))
    await store.put_docset(KEY, "none", "1.0", None, missing_reason="no sdist")  # no docs set: not listed
    listed, cursor = [], None
    while True:
        page = await store.list_entries(cursor=cursor, limit=1)
        listed += [(entry.index, entry.name, entry.version, entry.kind) for entry in page.entries]
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert listed == [
        (KEY, "demo", "1.0", "document"),
        (KEY, "demo", "1.0", "docs_set"),
        (KEY, "demo", "1.0.1", "document"),
        (other, "demo", "1.0", "document"),
        (other, "demo", "1.0", "docs_set"),
    ]


async def test_the_outline_is_the_docs_set_without_its_sections(store: Store, tmp_path: Path) -> None:
    docset = built(tmp_path, SPHINX_PROJECT)
    await store.put_docset(KEY, "demo", "1.0", docset)
    outline = await store.get_docset_outline(KEY, "demo", "1.0")
    assert outline is not None and outline.toc == docset.toc and outline.warnings == docset.warnings
    assert [(page.path, page.title, page.toctree) for page in outline.pages] == [
        (page.path, page.title, page.toctree) for page in docset.pages
    ]
    assert not any(page.sections for page in outline.pages)
    await store.put_docset(KEY, "bare", "1.0", None, missing_reason="no docs")
    assert await store.get_docset_outline(KEY, "bare", "1.0") is None
    assert await store.get_docset_outline(KEY, "demo", "2.0") is None


async def test_places_name_each_section_with_content_and_read_back_exactly_those_sections(store: Store) -> None:
    docset = big_docset(3, 2, 60)
    empty = Section(("Page 1", "Heading without text"), ())
    pages = list(docset.pages)
    pages[1] = Page(pages[1].path, pages[1].title, (empty, *pages[1].sections))
    docset = DocSet("plain", tuple(pages), docset.toc)
    await store.put_docset(KEY, "demo", "1.0", docset)
    places = await store.docset_places(KEY, "demo", "1.0")
    assert places == [(0, 0), (0, 1), (1, 1), (1, 2), (2, 0), (2, 1)], "the section without blocks is left out"
    read = await store.docset_sections_at(KEY, "demo", "1.0", [(2, 1), (0, 0), (7, 7)])
    assert {(found.page, found.position): found.section for found in read} == {
        (2, 1): docset.pages[2].sections[1],
        (0, 0): docset.pages[0].sections[0],
    }
    assert await store.docset_places(KEY, "demo", "2.0") == []
    assert await store.docset_sections_at(KEY, "demo", "2.0", [(0, 0)]) == []


async def test_candidates_having_every_word_come_first_then_those_having_any_up_to_the_limit(store: Store) -> None:
    docset = big_docset(4, 3, 60)  # every section has "lorem ipsum" and its own word, e.g. word2x1
    await store.put_docset(KEY, "demo", "1.0", docset)
    both = await store.docset_candidates(KEY, "demo", "1.0", "word2x1 lorem", 5)
    assert len(both) == 5 and (both[0].page, both[0].position) == (2, 1), "the one with every word first"
    assert both[0].section == docset.pages[2].sections[1]
    assert len({(found.page, found.position) for found in both}) == 5
    assert len(await store.docset_candidates(KEY, "demo", "1.0", "word2x1 lorem", 50)) == 12
    assert await store.docset_candidates(KEY, "other", "1.0", "lorem", 5) == []
