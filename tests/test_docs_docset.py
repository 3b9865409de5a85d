"""get_package_docs of releases with a docs set: the table of contents, a query across README, docs
pages and API entries, named pages and headings, docs_pending, releases without docs, API
placeholders, the deadline — against the loopback fake index, a real SQLite cache and docs sets
built from fixture sdists (Sphinx and MkDocs)."""

from __future__ import annotations

import asyncio
import re
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from autodocs.cache.base import SearchEntry
from autodocs.config import Settings
from autodocs.docs.model import DocsPage, reply_json
from autodocs.docs.pages import PageRequest, make_page
from autodocs.docs.tokens import count_tokens
from autodocs.service import AutoDocsService
from autodocs.usecases.docsets import ClientOpener, DocsetLookup
from tests.conftest import make_settings
from tests.docset_fixtures import BARE_NAME, DOCS_URL, MKDOCS_NAME, SPHINX_NAME, VERSION, publish
from tests.support.docsets import NO_DOCS_FOLDER, SdistDocsets
from tests.support.fake_index import FakeIndex

TASKS_PAGE = "docs/userguide/tasks.rst"
APPLY_ASYNC = "apply_async(args, countdown=None)\nSchedule the task; countdown delays it."


@pytest.fixture
def sdists(fake_index: FakeIndex, tmp_path: Path) -> dict[tuple[str, str], Path]:
    return publish(fake_index, tmp_path / "sdists")


@pytest.fixture
async def docs_service(
    settings: Settings, sdists: dict[tuple[str, str], Path], tmp_path: Path
) -> AsyncIterator[AutoDocsService]:
    async with AutoDocsService.running(settings) as service:
        service.docs.docsets = await SdistDocsets(sdists, tmp_path / "built").ready()
        yield service


def within(page: DocsPage, budget: int) -> bool:
    return count_tokens(reply_json(page)) <= budget


def fences_balanced(content: str) -> bool:
    return all(len(re.findall(r"^```", part, re.MULTILINE)) % 2 == 0 for part in content.split("\n\n## "))


def code_lines_fenced(content: str, needle: str) -> bool:
    """Whether every line holding ``needle`` sits inside a fenced code block of its section."""
    for part in content.split("\n\n## "):
        open_fence = False
        for line in part.split("\n"):
            if line.startswith("```"):
                open_fence = not open_fence
            elif needle in line and not open_fence:
                return False
        if open_fence:
            return False
    return True


# -- no query: the overview and the table of contents --------------------------------------------


async def test_without_a_query_the_first_page_adds_the_docs_table_of_contents(docs_service: AutoDocsService) -> None:
    page = await docs_service.get_package_docs(SPHINX_NAME, max_tokens=4000)
    assert page.docs_toc is not None
    assert "- Tasks (`docs/userguide/tasks.rst`)" in page.docs_toc
    assert page.docs_toc.index("userguide/tasks.rst") < page.docs_toc.index("userguide/calling.rst")  # toctree order
    assert page.sections[:2] == ("Docset tasks", "Installation")  # the README overview as before
    assert [ref.origin for ref in page.section_refs] == ["readme"] * len(page.sections)
    assert page.docs_pending is None and page.docs_missing is None
    assert within(page, 4000) and page.tokens >= count_tokens(reply_json(page)) - 2


async def test_a_small_budget_lists_part_of_the_table_and_says_how_much_is_left(
    docs_service: AutoDocsService,
) -> None:
    page = await docs_service.get_package_docs(SPHINX_NAME, max_tokens=450)
    whole = await docs_service.get_package_docs(SPHINX_NAME, max_tokens=4000)
    assert whole.docs_toc is not None and not whole.docs_toc_omitted
    listed = (page.docs_toc or "").count("`)")
    assert page.docs_toc_omitted and listed + page.docs_toc_omitted >= whole.docs_toc.count("`)")
    assert within(page, 450)


async def test_the_smallest_budget_keeps_the_first_page_within_it(docs_service: AutoDocsService) -> None:
    for budget in (400, 420, 500):
        page = await docs_service.get_package_docs(SPHINX_NAME, max_tokens=budget)
        assert within(page, budget), (budget, count_tokens(reply_json(page)))
        assert page.docs_toc or page.docs_toc_omitted


async def test_a_mkdocs_release_lists_its_nav_in_order(docs_service: AutoDocsService) -> None:
    page = await docs_service.get_package_docs(MKDOCS_NAME)
    assert page.docs_toc is not None
    lines = page.docs_toc.splitlines()
    assert lines[:4] == ["- Home (`docs/index.md`)", "- Tutorial", "  - First steps (`docs/tutorial/first.md`)",
                         "- Reference (`docs/api.md`)"]  # fmt: skip


async def test_a_query_on_a_mkdocs_release_finds_the_admonition_in_its_tutorial_page(
    docs_service: AutoDocsService,
) -> None:
    page = await docs_service.get_package_docs(MKDOCS_NAME, query="are retries bounded")
    best = page.section_refs[0]
    assert (best.origin, best.page, best.heading_path) == ("docs", "docs/tutorial/first.md", ("First steps",))
    assert "> **Read this:** Retries are bounded." in page.content


async def test_context_gives_the_package_its_table_of_contents(docs_service: AutoDocsService) -> None:
    result = await docs_service.get_docs_with_context(SPHINX_NAME)
    assert result.package.docs_toc and "docs/userguide/tasks.rst" in result.package.docs_toc


# -- without a docs set the reply is today's --------------------------------------------------


@pytest.mark.parametrize(
    "call",
    [
        {},
        {"max_tokens": 500},
        {"query": "retry a task", "max_tokens": 600},
        {"sections": ["Usage", "nothing like it"]},
    ],
)
async def test_a_provider_that_knows_nothing_of_the_release_leaves_the_reply_byte_for_byte(
    settings: Settings, sdists: dict[tuple[str, str], Path], tmp_path: Path, call: dict[str, object]
) -> None:
    async with AutoDocsService.running(settings) as service:
        service.docs.docsets = None  # today's reply: no provider at all
        await service.get_package_docs(SPHINX_NAME)  # cached: both calls below come from the cache
        plain = await service.get_package_docs(SPHINX_NAME, **call)  # type: ignore[arg-type]
        service.docs.forget(None)
        service.docs.docsets = SdistDocsets({}, tmp_path / "built", no_sdist_reason="")
        looked_up = await service.get_package_docs(SPHINX_NAME, **call)  # type: ignore[arg-type]
        document = await service.resolution.resolve(SPHINX_NAME, None)
    assert reply_json(looked_up) == reply_json(plain)
    if not call:  # and it is the page today's code makes of the document
        request = PageRequest(budget=settings.max_tokens, source="cache", latest=VERSION)
        assert reply_json(plain) == reply_json(make_page(document.document, request))


# -- a query across the README, the docs pages and the API entries -----------------------------


async def test_a_query_finds_the_docs_section_with_its_page_and_heading_path(docs_service: AutoDocsService) -> None:
    page = await docs_service.get_package_docs(SPHINX_NAME, query="how do I retry a task with backoff")
    best = page.section_refs[0]
    assert (best.origin, best.page) == ("docs", TASKS_PAGE)
    assert best.heading_path in (("Tasks", "Retrying"), ("Tasks", "Retrying", "Retry backoff"))
    assert page.sections[0].endswith(f"({TASKS_PAGE})") and len(page.sections) == len(page.section_refs)
    assert "raise self.retry(exc=exc, countdown=5)" in page.content
    origins = [ref.origin for ref in page.section_refs]
    assert "readme" in origins  # the README's sections follow the matches
    changelog = [i for i, ref in enumerate(page.section_refs) if ref.page == "docs/changelog.rst"]
    retrying = [i for i, ref in enumerate(page.section_refs) if "Retrying" in ref.heading_path]
    assert changelog and max(retrying) < changelog[0], "release notes rank below the guide's sections on it"


async def test_a_query_ranks_cached_api_entries_with_origin_api(docs_service: AutoDocsService) -> None:
    await docs_service.store.put_api_reference(
        docs_service.project_indexes.default.cache_key,
        SPHINX_NAME,
        VERSION,
        "docset_tasks",
        "{}",
        [SearchEntry(kind="api", path="docset_tasks.Task.apply_async", text=APPLY_ASYNC)],
    )
    page = await docs_service.get_package_docs(SPHINX_NAME, query="apply_async countdown")
    refs = {(ref.origin, ref.object_path or ref.page) for ref in page.section_refs}
    assert ("api", "docset_tasks.Task.apply_async") in refs
    assert ("docs", "docs/userguide/calling.rst") in refs
    assert "```python\napply_async(args, countdown=None)\n```" in page.content


async def test_the_cursor_pages_through_the_same_ranked_list_once(docs_service: AutoDocsService) -> None:
    query = "retry a task"
    whole = await docs_service.get_package_docs(SPHINX_NAME, query=query, max_tokens=100_000)
    assert not whole.truncated
    page = await docs_service.get_package_docs(SPHINX_NAME, query=query, max_tokens=500)
    seen: list[str] = []
    contents: list[str] = []
    pages = 0
    while True:
        pages += 1
        contents.append(page.content)
        assert within(page, 500), count_tokens(reply_json(page))
        assert fences_balanced(page.content), page.content
        assert len(page.sections) == len(page.section_refs)
        seen.extend(page.sections)
        if not page.next_cursor:
            break
        assert pages < 60
        page = await docs_service.get_package_docs(SPHINX_NAME, cursor=page.next_cursor, max_tokens=500)
        assert not page.requirements, "later pages carry no metadata"
    assert pages > 2
    assert seen[0] == whole.sections[0], "the best section first"
    assert sorted(set(seen)) == sorted(whole.sections), "every section of the ranked list, nothing else"
    assert len(seen) - len(whole.sections) < pages, "only a section cut at the end of a page comes again"
    blocks = re.findall(r"^```python\n.*?^```$", whole.content, re.MULTILINE | re.DOTALL)
    small = [block for block in blocks if "app.send(" not in block]  # the long example is larger than a page
    assert small and all(any(block in content for content in contents) for block in small), "code blocks whole"


async def test_a_code_block_larger_than_a_page_is_the_only_one_cut_and_keeps_its_fences(
    docs_service: AutoDocsService,
) -> None:
    page = await docs_service.get_package_docs(SPHINX_NAME, sections=[f"{TASKS_PAGE}#Long example"], max_tokens=400)
    parts = [page.content]
    while page.next_cursor:
        page = await docs_service.get_package_docs(SPHINX_NAME, cursor=page.next_cursor, max_tokens=700)
        assert within(page, 700)
        parts.append(page.content)
        assert len(parts) < 10
    assert len(parts) > 1
    assert all(code_lines_fenced(part, "app.send(") for part in parts)
    joined = "\n".join(parts)
    assert all(f"app.send(task_{n}, countdown={n})" in joined for n in range(60))


# -- named pages and headings -------------------------------------------------------------


async def test_sections_can_name_a_docs_page(docs_service: AutoDocsService) -> None:
    page = await docs_service.get_package_docs(SPHINX_NAME, sections=[TASKS_PAGE], max_tokens=100_000)
    assert {ref.page for ref in page.section_refs} == {TASKS_PAGE}
    assert [ref.heading_path[-1] for ref in page.section_refs] == [
        "Tasks", "Basics", "Retrying", "Retry backoff", "Long example"
    ]  # fmt: skip


async def test_sections_can_name_a_heading_of_a_page_and_get_what_is_under_it(
    docs_service: AutoDocsService,
) -> None:
    page = await docs_service.get_package_docs(SPHINX_NAME, sections=[f"{TASKS_PAGE}#retrying"])
    assert [list(ref.heading_path) for ref in page.section_refs] == [
        ["Tasks", "Retrying"], ["Tasks", "Retrying", "Retry backoff"], ["Tasks", "Retrying", "Long example"]
    ]  # fmt: skip
    readme = await docs_service.get_package_docs(SPHINX_NAME, sections=["Installation"])
    assert readme.sections == ("Installation",) and [ref.origin for ref in readme.section_refs] == ["readme"]


async def test_an_unknown_page_or_heading_is_reported_with_the_nearest_names(docs_service: AutoDocsService) -> None:
    page = await docs_service.get_package_docs(
        SPHINX_NAME, sections=["docs/userguide/task.rst", f"{TASKS_PAGE}#Retryin", "Usage"]
    )
    assert page.missing_sections == ("docs/userguide/task.rst", f"{TASKS_PAGE}#Retryin")
    assert TASKS_PAGE in page.available_sections
    assert f"{TASKS_PAGE}#Retrying" in page.available_sections
    assert page.sections == ("Usage",) and [ref.origin for ref in page.section_refs] == ["readme"]


# -- a build under way, a release without docs ------------------------------------------------


async def test_a_build_under_way_answers_from_the_readme_and_says_docs_pending(
    settings: Settings, sdists: dict[tuple[str, str], Path], tmp_path: Path
) -> None:
    gate = threading.Event()
    fast = make_settings_like(settings, request_timeout=2.5)
    async with AutoDocsService.running(fast) as service:
        service.docs.docsets = SdistDocsets(sdists, tmp_path / "built", gate=gate)
        try:
            page = await service.get_package_docs(SPHINX_NAME, query="retry")
            assert page.docs_pending is True
            assert page.sections and {ref.origin for ref in page.section_refs} <= {"readme"}
            assert page.docs_toc is None
            first = await service.get_package_docs(SPHINX_NAME)
            assert first.docs_pending is True and first.sections[0] == "Docset tasks"
            assert within(first, fast.max_tokens)
        finally:
            gate.set()
        queried = await service.get_package_docs(SPHINX_NAME, query="retry")  # a query waits for the build
        assert queried.docs_pending is None and "docs" in {ref.origin for ref in queried.section_refs}
        built = await service.get_package_docs(SPHINX_NAME)
        assert built.docs_pending is None and built.docs_toc


async def test_a_release_without_a_docs_folder_says_so_and_names_its_hosted_docs(
    docs_service: AutoDocsService,
) -> None:
    page = await docs_service.get_package_docs(BARE_NAME)
    assert page.docs_missing == NO_DOCS_FOLDER
    assert page.hosted_docs_url == DOCS_URL
    assert page.docs_toc is None and page.sections
    queried = await docs_service.get_package_docs(BARE_NAME, query="docs folder")
    assert queried.docs_missing == NO_DOCS_FOLDER and queried.hosted_docs_url == DOCS_URL


# -- API placeholders -------------------------------------------------------------------------


async def test_an_api_placeholder_becomes_the_cached_entry_else_says_how_to_get_it(
    docs_service: AutoDocsService,
) -> None:
    before = await docs_service.get_package_docs(SPHINX_NAME, sections=["docs/api.rst"])
    assert 'get_api_reference(package_name="docset-tasks", object_path="docset_tasks.retry")' in before.content
    await docs_service.store.put_api_reference(
        docs_service.project_indexes.default.cache_key,
        SPHINX_NAME,
        VERSION,
        "docset_tasks",
        "{}",
        [SearchEntry(kind="api", path="docset_tasks.retry", text="retry(n: int) -> int\nRetry n times.")],
    )
    after = await docs_service.get_package_docs(SPHINX_NAME, sections=["docs/api.rst"])
    assert "```python\nretry(n: int) -> int\n```\nRetry n times." in after.content
    assert 'object_path="docset_tasks.retry"' not in after.content
    assert 'object_path="docset_tasks.Policy"' in after.content  # not cached: still the placeholder


# -- the deadline -----------------------------------------------------------------------------


def make_settings_like(settings: Settings, **overrides: object) -> Settings:
    return settings.model_copy(update=overrides)


class StuckDocsets:
    """A provider that never answers (ignores ``wait_s``): the call must not wait for it past its deadline."""

    async def lookup(
        self,
        name: str,
        version: str,
        *,
        index_key: str,
        wait_s: float,
        client: ClientOpener | None = None,
        stored: bool | None = None,
        outline: bool = False,
        listed_sdist_bytes: int | None = None,
    ) -> DocsetLookup:
        await asyncio.Event().wait()
        raise AssertionError


async def test_the_lookup_waits_at_most_the_deadline_less_a_margin(
    fake_index: FakeIndex, tmp_path: Path, sdists: dict[tuple[str, str], Path]
) -> None:
    settings = make_settings(fake_index, tmp_path / "cache", request_timeout=2.0)
    gate = threading.Event()
    async with AutoDocsService.running(settings) as service:
        provider = SdistDocsets(sdists, tmp_path / "built", gate=gate)
        service.docs.docsets = provider
        try:
            started = time.monotonic()
            page = await service.get_package_docs(SPHINX_NAME, query="retry")
            took = time.monotonic() - started
        finally:
            gate.set()
        assert page.docs_pending is True
        assert took < 2.0
        (_, _, index_key, wait_s) = provider.lookups[0]
        assert 0 < wait_s <= 2.0 - 1.0 and index_key == fake_index.url
        service.docs.docsets = StuckDocsets()
        service.docs.forget(None)
        started = time.monotonic()
        stuck = await service.get_package_docs(SPHINX_NAME, "==1.0")
        assert time.monotonic() - started < 2.0
        assert stuck.docs_pending is True
