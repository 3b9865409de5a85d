"""Docs-set calls that read a stored docs set in parts: after it left memory, and before its
sections' words are counted (the first query after a build or a read)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from autodocs.cache import sqlite_schema
from autodocs.docs.model import DocsPage
from autodocs.docs.pages import PageRequest
from autodocs.docs.unit_pages import UnitPageRequest, UnitSet, make_unit_page
from autodocs.docs.units import api_units, docs_units, readme_units
from autodocs.docset.model import DocSet
from autodocs.docset.pages import Page, Section, text_block
from autodocs.docset.toc import TableOfContents, TocEntry
from autodocs.service import AutoDocsService
from autodocs.usecases import docs_ranking
from autodocs.usecases.docsets import DocsetLimits
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex
from tests.test_docsets import WAIT, serve, unique

_TOPICS = ("retrying", "timeouts", "pooling", "caching", "logging", "signals", "routing", "testing")


def sphinx_project() -> dict[str, str | bytes]:
    """Eight pages of three sections each; every page is about its topic and mentions the others."""
    files: dict[str, str | bytes] = {"docs/conf.py": "project = 'Demo'\n"}
    toctree = "".join(f"   {topic}\n" for topic in _TOPICS)
    files["docs/index.rst"] = f"Demo\n====\n\n.. toctree::\n\n{toctree}\n"
    for number, topic in enumerate(_TOPICS):
        other = _TOPICS[(number + 1) % len(_TOPICS)]
        parts = [f"{topic.capitalize()}\n{'=' * len(topic)}\n\nAll about {topic} in the demo package.\n"]
        for part in ("Basics", "Options", "Pitfalls"):
            heading = f"{part} of {topic}"
            text = f"How {topic} works: the {topic} option, with {other} nearby. " * 3
            if (topic, part) == ("logging", "Options"):
                text += "Keep the log files in one directory."
            code = f".. code-block:: python\n\n   demo.{topic}(level={number})\n"
            parts.append(f"{heading}\n{'-' * len(heading)}\n\n{text}\n\n{code}")
        files[f"docs/{topic}.rst"] = "\n".join(parts)
    return files


def small_docset(name: str) -> DocSet:
    page = Page("docs/index.md", name, (Section((name,), (text_block(f"The docs of {name}."),)),))
    return DocSet("plain", (page,), TableOfContents((TocEntry(name, page.path),)))


async def evict(service: AutoDocsService) -> None:
    """Push every docs set out of the docs sets kept in memory: look up as many others."""
    key = service.index.cache_key
    for number in range(DocsetLimits().memory_docsets):
        await service.store.put_docset(key, f"filler-{number}", "1.0", small_docset(f"filler-{number}"))
        await service.docsets.lookup(f"filler-{number}", "1.0", index_key=key, wait_s=0.0)


async def built(fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path) -> str:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, sphinx_project())
    found = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    assert found.docset is not None and len(found.docset.pages) == 1 + len(_TOPICS)
    return name


async def ask(service: AutoDocsService, name: str, query: str, max_tokens: int = 10_000) -> DocsPage:
    return await service.get_package_docs(name, "==1.0", query=query, max_tokens=max_tokens)


async def test_a_call_without_a_query_after_eviction_shows_the_toc_from_the_outline_alone(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = await built(fake_index, service, tmp_path)
    in_memory = await service.get_package_docs(name, "==1.0")
    await evict(service)
    after = await service.get_package_docs(name, "==1.0")
    assert after.docs_toc and after.docs_toc == in_memory.docs_toc and "retrying.rst" in after.docs_toc
    found = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=0.0, outline=True)
    assert found.docset is None, "the call did not read the docs set back whole"
    assert found.stored is not None and not any(page.sections for page in found.stored.outline.pages)


async def test_a_query_after_eviction_gets_the_page_it_gets_in_memory_without_reading_the_set_whole(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = await built(fake_index, service, tmp_path)
    await ask(service, name, "warm up")
    await service.docs.rankings.wait()
    questions = ("how do timeouts work", "pooling options", "pitfalls of caching with logging")
    in_memory = [await ask(service, name, question, 1_500) for question in questions]
    await evict(service)
    for question, expected in zip(questions, in_memory, strict=True):
        after = await ask(service, name, question, 1_500)
        assert after.sections == expected.sections and after.content == expected.content
        assert after.next_cursor == expected.next_cursor
    assert in_memory[0].sections[0].startswith("Timeouts")
    found = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=0.0, outline=True)
    assert found.docset is None, "the queries did not read the docs set back whole"


async def whole_set_page(service: AutoDocsService, name: str, query: str, budget: int) -> DocsPage:
    """The page cut from every unit of the docs set in memory, ranked together (no kept counts)."""
    resolved = await service.resolution.resolve(name, "==1.0", index=service.index)
    found = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=0.0)
    assert found.docset is not None
    document = resolved.document
    readme = readme_units(document)
    units = readme + docs_units(found.docset, {}, package=name) + api_units([])
    request = PageRequest(budget=budget, query=query, source=resolved.source, latest=resolved.latest)
    return make_unit_page(
        document, UnitSet(units), UnitPageRequest(request, (len(readme), len(units) - len(readme), 0))
    )


async def test_a_small_docs_set_s_first_query_is_ranked_over_the_whole_set(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = await built(fake_index, service, tmp_path)
    first = await ask(service, name, "which folder", 2_000)  # "directory" is a synonym the full-text index lacks
    assert first.sections[0].startswith("Logging › Options of logging")
    whole = await whole_set_page(service, name, "which folder", 2_000)
    assert first.sections == whole.sections and first.content == whole.content


async def test_a_large_docs_set_s_first_query_answers_from_the_full_text_index_then_from_the_whole_set(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(docs_ranking, "COUNT_AT_ONCE", 0)  # every docs set counts as large
    name = await built(fake_index, service, tmp_path)
    started = time.monotonic()
    first = await ask(service, name, "pitfalls of pooling")
    assert first.sections and first.sections[0].startswith("Pooling › Pitfalls of pooling")
    await service.docs.rankings.wait()
    assert time.monotonic() - started < 10
    ranked = await ask(service, name, "signals options", 2_000)
    whole = await whole_set_page(service, name, "signals options", 2_000)
    assert ranked.sections == whole.sections and ranked.content == whole.content


async def test_a_cursor_from_a_page_ranked_after_eviction_goes_on_without_repeating_a_section(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = await built(fake_index, service, tmp_path)
    await ask(service, name, "warm up")
    await service.docs.rankings.wait()
    await evict(service)
    first = await ask(service, name, "routing and testing options", 800)
    assert first.next_cursor and first.sections
    second = await service.get_package_docs(name, cursor=first.next_cursor, max_tokens=800)
    assert second.sections and not set(second.sections) & set(first.sections)
    await evict(service)
    unranked = await ask(service, name, "routing and testing options", 800)
    assert unranked.sections == first.sections


async def test_without_full_text_search_a_query_reads_the_docs_set_whole_and_still_finds_its_section(
    fake_index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sqlite_schema, "fts5_available", lambda: False)  # this Python's SQLite lacks FTS5
    monkeypatch.setattr(docs_ranking, "COUNT_AT_ONCE", 0)  # the first query cannot count first
    async with AutoDocsService.running(make_settings(fake_index, tmp_path / "cache")) as service:
        name = await built(fake_index, service, tmp_path)
        await evict(service)
        page = await ask(service, name, "pitfalls of pooling")
    assert page.sections and page.sections[0].startswith("Pooling › Pitfalls of pooling")


@pytest.mark.parametrize("one_shot", [False, True])
async def test_a_one_shot_process_counts_no_words_in_the_background(
    fake_index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_shot: bool
) -> None:
    """The CLI would only wait for the count at exit: its first query over a large docs set is its only one."""
    monkeypatch.setattr(docs_ranking, "COUNT_AT_ONCE", 0)
    settings = make_settings(fake_index, tmp_path / "cache")
    async with AutoDocsService.running(settings) as service:
        name = await built(fake_index, service, tmp_path)
    async with AutoDocsService.running(settings, one_shot=one_shot) as service:
        page = await ask(service, name, "pitfalls of pooling")
        assert page.sections[0].startswith("Pooling › Pitfalls of pooling")
        assert service.docs.rankings.counting == (0 if one_shot else 1)
        await service.docs.rankings.wait()
