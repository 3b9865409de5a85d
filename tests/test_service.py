"""The docs use cases end to end against the loopback fake index and a real SQLite cache."""

from __future__ import annotations

import asyncio
import copy
import json
from pathlib import Path
from typing import Any

import pytest

from autodocs.config import Settings
from autodocs.docs.model import reply_json
from autodocs.errors import (
    InvalidArgument,
    InvalidPackageName,
    InvalidVersionSpec,
    PackageNotFound,
    UpstreamResponseInvalid,
    UpstreamUnavailable,
    VersionNotFound,
)
from autodocs.service import AutoDocsService
from tests.conftest import make_settings
from tests.support.fake_index import DEFAULT_DATA_DIR, FakeIndex, Fault


@pytest.fixture(autouse=True)
def _no_release_docs(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests count the requests and entries of the document path; a release's docs set is
    built by requests of its own (tests/test_docsets.py), so it is off here."""
    monkeypatch.setenv("AUTODOCS_RELEASE_DOCS", "false")


LATEST = json.loads((DEFAULT_DATA_DIR / "MANIFEST.json").read_text())["projects"]


async def test_unconstrained_request_gets_the_latest_release_in_one_request(
    service: AutoDocsService, fake_index: FakeIndex
) -> None:
    page = await service.get_package_docs("requests")
    assert page.version == LATEST["requests"]
    assert page.source == "index"
    assert page.summary and "HTTP" in page.summary
    assert page.sections, "the README must be split into sections"
    from packaging.requirements import Requirement

    assert {Requirement(r).name for r in page.requirements} >= {"urllib3", "idna", "certifi", "charset-normalizer"}
    assert page.requires_python
    assert fake_index.request_count == 1


async def test_second_call_is_served_from_cache_without_upstream_request(
    service: AutoDocsService, fake_index: FakeIndex
) -> None:
    first = await service.get_package_docs("requests")
    before = fake_index.request_count
    second = await service.get_package_docs("requests")
    assert second.source == "cache"
    assert second.version == first.version
    assert fake_index.request_count == before


async def test_cache_survives_a_new_service_on_the_same_store(settings: Settings, fake_index: FakeIndex) -> None:
    async with AutoDocsService.running(settings) as first:
        await first.get_package_docs("httpx", "<0.28")
    fake_index.reset()
    async with AutoDocsService.running(settings) as second:
        page = await second.get_package_docs("httpx", "<0.28")
    assert page.source == "cache"
    assert page.version == "0.27.2"
    assert fake_index.request_count == 0


async def test_range_resolves_to_newest_matching_version_with_its_own_metadata(service: AutoDocsService) -> None:
    page = await service.get_package_docs("httpx", "<0.28")
    assert page.version == "0.27.2"
    assert page.latest_version == LATEST["httpx"]
    recorded = json.loads((DEFAULT_DATA_DIR / "versions/httpx/0.27.2.json").read_text())["info"]
    assert page.requires_python == recorded["requires_python"]


async def test_exact_pin_returns_that_version_not_the_latest(service: AutoDocsService, fake_index: FakeIndex) -> None:
    page = await service.get_package_docs("requests", "==2.31.0")
    assert page.version == "2.31.0"
    assert fake_index.count("/requests/2.31.0/json") == 1
    assert fake_index.count("/requests/json") == 0, "an exact pin needs no release list"
    again = await service.get_package_docs("requests", "2.31.0")
    assert again.source == "cache"


async def test_name_is_normalized_before_lookup(service: AutoDocsService) -> None:
    page = await service.get_package_docs("Typing_Extensions")
    assert page.name == "typing-extensions"


@pytest.mark.parametrize(
    "bad_name",
    ["../../etc/passwd", "requests; rm -rf /", "http://x/", "a" * 10_000, "", "requests==2.0", "-leading", "名前"],
)
async def test_invalid_names_are_rejected_without_any_request(
    service: AutoDocsService, fake_index: FakeIndex, bad_name: str
) -> None:
    with pytest.raises(InvalidPackageName):
        await service.get_package_docs(bad_name)
    assert fake_index.request_count == 0


async def test_unknown_package_suggests_close_names_from_cache(service: AutoDocsService) -> None:
    await service.get_package_docs("requests")
    with pytest.raises(PackageNotFound) as caught:
        await service.get_package_docs("reqeusts")
    error = caught.value.to_dict()
    assert error["type"] == "PackageNotFound"
    assert "requests" in error["candidates"]
    assert any("requests" in s for s in error["suggestions"])
    assert error["retryable"] is False


async def test_unknown_package_suggests_names_from_the_scanned_project(
    service: AutoDocsService, tmp_path: Path
) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "x"\ndependencies = ["pydantic>=2"]\n')
    await service.scan(str(tmp_path))
    with pytest.raises(PackageNotFound) as caught:
        await service.get_package_docs("pydantc")
    assert caught.value.to_dict()["candidates"] == ["pydantic"]


async def test_no_matching_version_lists_the_nearest_ones(service: AutoDocsService) -> None:
    with pytest.raises(VersionNotFound) as caught:
        await service.get_package_docs("requests", ">=99")
    error = caught.value.to_dict()
    assert error["available_versions"]
    assert LATEST["requests"] in error["available_versions"]


async def test_exact_pin_of_missing_version_lists_the_nearest_ones(service: AutoDocsService) -> None:
    with pytest.raises(VersionNotFound) as caught:
        await service.get_package_docs("requests", "==2.31.99")
    assert "2.31.0" in caught.value.to_dict()["available_versions"]


async def test_invalid_constraint_is_an_input_error(service: AutoDocsService, fake_index: FakeIndex) -> None:
    with pytest.raises(InvalidVersionSpec):
        await service.get_package_docs("requests", ">>2")
    assert fake_index.request_count == 0


def _project_with(versions: dict[str, dict[str, Any]], latest: str) -> dict[str, Any]:
    base: dict[str, Any] = json.loads((DEFAULT_DATA_DIR / "projects/six.json").read_text())
    data = copy.deepcopy(base)
    data["info"]["name"] = "demo-pkg"
    data["info"]["version"] = latest
    data["releases"] = {
        version: [
            {
                "filename": f"demo_pkg-{version}-py3-none-any.whl",
                "packagetype": "bdist_wheel",
                "yanked": bool(flags.get("yanked")),
                "yanked_reason": flags.get("reason"),
                "requires_python": None,
                "upload_time_iso_8601": "2024-01-01T00:00:00Z",
            }
        ]
        for version, flags in versions.items()
    }
    return data


async def test_yanked_release_is_skipped_unless_pinned(service: AutoDocsService, fake_index: FakeIndex) -> None:
    fake_index.add_project(
        "demo-pkg",
        _project_with({"1.0": {}, "1.1": {"yanked": True, "reason": "broken"}, "2.0b1": {}}, latest="1.0"),
    )
    page = await service.get_package_docs("demo-pkg", "<2")
    assert page.version == "1.0"
    pinned = await service.get_package_docs("demo-pkg", "==1.1")
    assert pinned.version == "1.1"
    assert pinned.yanked and any("yanked" in w for w in pinned.warnings)


async def test_prerelease_only_when_the_constraint_asks(service: AutoDocsService, fake_index: FakeIndex) -> None:
    fake_index.add_project("demo-pkg", _project_with({"1.0": {}, "2.0b1": {}}, latest="1.0"))
    assert (await service.get_package_docs("demo-pkg")).version == "1.0"
    assert (await service.get_package_docs("demo-pkg", ">=2.0b1")).version == "2.0b1"


async def test_cursor_pages_through_every_section_exactly_once(service: AutoDocsService) -> None:
    from autodocs.docs.tokens import count_tokens

    full = await service.get_package_docs("rich", max_tokens=1_000_000)
    assert not full.truncated
    seen_titles: list[str] = []
    words_seen = 0
    page = await service.get_package_docs("rich", max_tokens=800)
    pages = 1
    while True:
        assert count_tokens(reply_json(page)) <= 800
        assert page.content
        seen_titles.extend(page.sections)
        words_seen += len(page.content.split())
        if not page.next_cursor:
            break
        assert page.truncated and (page.requirements == ()) is (pages > 1)
        page = await service.get_package_docs("rich", cursor=page.next_cursor, max_tokens=800)
        pages += 1
        assert pages < 500
    assert pages > 1
    assert sorted(set(seen_titles)) == sorted(full.sections)
    # Every word arrives once; only headings of continued parts and the "continues" notes are extra.
    extra = words_seen - len(full.content.split())
    assert 0 <= extra <= pages * 12


async def test_truncated_page_says_what_was_cut_and_how_to_get_it(service: AutoDocsService) -> None:
    page = await service.get_package_docs("rich", max_tokens=500)
    assert page.truncated
    assert page.omitted_sections
    assert page.next_cursor
    assert page.how_to_get_more and "cursor" in page.how_to_get_more
    assert page.omitted_count >= len(page.omitted_sections)


async def test_named_sections_are_returned_alone(service: AutoDocsService) -> None:
    full = await service.get_package_docs("requests", max_tokens=1_000_000)
    title = full.sections[-1]
    page = await service.get_package_docs("requests", sections=[title, "no such section"])
    assert page.sections == (title,)
    assert page.available_sections
    assert page.missing_sections == ("no such section",)


async def test_query_brings_the_matching_section_first(service: AutoDocsService) -> None:
    page = await service.get_package_docs("rich", query="progress bar", max_tokens=600)
    # rich's README describes progress bars inside its "Rich Library" section (in <details> blocks).
    assert page.sections[0] == "Rich Library"
    plain = await service.get_package_docs("rich", max_tokens=600)
    assert plain.sections[0] == "Overview"


async def test_cursor_of_another_package_is_refused(service: AutoDocsService) -> None:
    page = await service.get_package_docs("rich", max_tokens=400)
    assert page.next_cursor
    with pytest.raises(InvalidArgument):
        await service.get_package_docs("requests", cursor=page.next_cursor)
    with pytest.raises(InvalidArgument):
        await service.get_package_docs("rich", cursor="not-a-cursor")


async def test_out_of_range_max_tokens_is_refused(service: AutoDocsService) -> None:
    with pytest.raises(InvalidArgument):
        await service.get_package_docs("requests", max_tokens=5)


async def test_context_fetches_runtime_dependencies_and_reports_failures(
    service: AutoDocsService, fake_index: FakeIndex
) -> None:
    fake_index.set_fault(Fault.status(500), path_contains="/idna/")
    result = await service.get_docs_with_context("requests", "==2.31.0", max_dependencies=4)
    assert result.package.version == "2.31.0"
    names = {page.name for page in result.succeeded} | {f.name for f in result.failed}
    assert names == {"charset-normalizer", "idna", "urllib3", "certifi"}
    assert [f.name for f in result.failed] == ["idna"]
    assert result.failed[0].retryable is True
    assert result.partial is True
    assert result.completion_rate == pytest.approx(4 / 5)
    urllib3 = next(page for page in result.succeeded if page.name == "urllib3")
    assert urllib3.version.startswith("2."), "urllib3<3 resolves to the newest 2.x"


def write_requirements(folder: Path, names: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "requirements.txt").write_text("\n".join(names) + "\n")
    return folder


async def test_a_cold_project_context_reads_the_cache_once_for_all_its_packages(
    settings: Settings, fake_index: FakeIndex, tmp_path: Path
) -> None:
    names = sorted(LATEST)[:12]
    project = write_requirements(tmp_path / "project", names)
    async with AutoDocsService.running(settings) as service:
        result = await service.project_context(str(project))
        assert sorted(page.name for page in result.succeeded) == names
        assert service.cached_states.batches == 1, "every package's cache state comes from one read"
        assert (await service.cache_stats()).misses == len(names), "a known absence still counts as a miss"
        await service.project_context(str(project))
        assert service.cached_states.batches == 1, "what this process holds in memory needs no read"
    fake_index.reset()
    async with AutoDocsService.running(settings) as service:
        again = await service.project_context(str(project))
        assert {page.source for page in again.succeeded} == {"cache"}
        assert service.cached_states.batches == 1
        assert (await service.cache_stats()).hits == len(names)
    assert fake_index.request_count == 0, "fresh release lists and documents came from the store"


async def test_a_cache_that_cannot_be_read_leaves_the_index_to_answer(
    service: AutoDocsService, fake_index: FakeIndex, tmp_path: Path
) -> None:
    await service.store.close()  # every read and write now fails with CacheError
    project = write_requirements(tmp_path / "project", ["requests", "flask"])
    result = await service.project_context(str(project))
    assert {page.name: page.source for page in result.succeeded} == {"requests": "index", "flask": "index"}
    assert not result.failed
    page = await service.get_package_docs("httpx", "<0.28")
    assert page.version == "0.27.2"


async def test_context_without_dependencies(service: AutoDocsService) -> None:
    result = await service.get_docs_with_context("requests", include_dependencies=False)
    assert result.succeeded == [] and not result.partial and result.completion_rate == 1.0
    assert result.skipped and {entry.reason for entry in result.skipped} == {"include_dependencies is false"}


async def test_context_lists_dependencies_beyond_the_limit_as_skipped_with_the_reason(
    service: AutoDocsService,
) -> None:
    result = await service.get_docs_with_context("requests", "==2.31.0", max_dependencies=1)
    assert len(result.succeeded) + len(result.failed) == 1
    assert [entry.name for entry in result.skipped] == result.skipped_dependencies
    assert len(result.skipped) == 3
    assert {entry.reason for entry in result.skipped} == {"beyond max_dependencies (1)"}


async def test_project_context_lists_a_git_dependency_as_skipped_not_dropped(
    service: AutoDocsService, tmp_path: Path
) -> None:
    project = write_requirements(tmp_path / "project", ["click", "poetry-core @ git+https://example.invalid/p.git"])
    result = await service.project_context(str(project))
    assert [page.name for page in result.succeeded] == ["click"]
    assert [(entry.name, entry.url) for entry in result.skipped] == [
        ("poetry-core", "git+https://example.invalid/p.git")
    ]
    assert result.skipped[0].reason.startswith("a git reference without a version")
    assert result.scan.skipped == result.skipped


async def test_concurrent_calls_for_one_package_share_one_upstream_fetch(
    service: AutoDocsService, fake_index: FakeIndex
) -> None:
    fake_index.latency_s = 0.1
    pages = await asyncio.gather(*(service.get_package_docs("flask") for _ in range(20)))
    assert {page.version for page in pages} == {LATEST["flask"]}
    assert fake_index.request_count == 1


async def test_a_caller_cancelled_while_sharing_a_fetch_leaves_it_to_the_others(
    service: AutoDocsService, fake_index: FakeIndex
) -> None:
    fake_index.latency_s = 0.3
    first = asyncio.ensure_future(service.get_package_docs("flask"))
    await asyncio.sleep(0.05)
    second = asyncio.ensure_future(service.get_package_docs("flask"))
    await asyncio.sleep(0.05)
    first.cancel()
    page = await asyncio.wait_for(second, 10)
    assert first.cancelled()
    assert page.version == LATEST["flask"] and page.source == "index"
    assert fake_index.request_count == 1


async def test_callers_sharing_a_fetch_that_fails_each_get_the_error(
    service: AutoDocsService, fake_index: FakeIndex
) -> None:
    fake_index.latency_s = 0.1
    outcomes = await asyncio.gather(
        *(service.get_package_docs("no-such-package-here") for _ in range(3)), return_exceptions=True
    )
    assert all(isinstance(outcome, PackageNotFound) for outcome in outcomes)
    assert fake_index.request_count == 1


async def test_expired_release_list_is_served_stale_when_the_index_fails(fake_index: FakeIndex, tmp_path: Path) -> None:
    settings = make_settings(fake_index, tmp_path / "c", release_list_ttl=0, max_retry_attempts=1)
    async with AutoDocsService.running(settings) as service:
        await service.get_package_docs("click")
        fake_index.set_fault(Fault.status(503))
        page = await service.get_package_docs("click")
    assert page.stale is True
    assert page.version == LATEST["click"]
    assert any("cache" in warning for warning in page.warnings)


async def test_index_failure_without_cache_is_a_retryable_error(fake_index: FakeIndex, tmp_path: Path) -> None:
    settings = make_settings(fake_index, tmp_path / "c", max_retry_attempts=2)
    fake_index.set_fault(Fault.status(503))
    async with AutoDocsService.running(settings) as service:
        with pytest.raises(UpstreamUnavailable) as caught:
            await service.get_package_docs("click")
    assert caught.value.retryable
    assert fake_index.request_count == 3, "one attempt plus two retries"


async def test_refresh_forgets_a_package(service: AutoDocsService, fake_index: FakeIndex) -> None:
    await service.get_package_docs("click")
    refreshed = await service.refresh("click")
    assert refreshed.removed_entries == 2
    before = fake_index.request_count
    page = await service.get_package_docs("click")
    assert page.source == "index"
    assert fake_index.request_count == before + 1
    stats = await service.cache_stats()
    assert stats.documents == 1 and stats.packages == 1


@pytest.mark.parametrize("package", ["requests", "rich", "httpx", "django", "numpy", "click"])
@pytest.mark.parametrize("budget", [1000, 2500, 6000])
async def test_page_token_estimate_matches_what_is_sent(service: AutoDocsService, package: str, budget: int) -> None:
    from autodocs.docs.tokens import count_tokens

    page = await service.get_package_docs(package, max_tokens=budget)
    sent = count_tokens(reply_json(page))
    assert sent <= budget, f"{package}: sent {sent} tokens for a budget of {budget}"
    assert abs(sent - page.tokens) <= max(40, 0.1 * sent), f"{package}: estimated {page.tokens}, sent {sent}"


async def test_listed_version_without_a_page_or_readable_files_says_so_consistently(
    service: AutoDocsService, fake_index: FakeIndex
) -> None:
    """The recorded project page lists click 7.0's files without URLs: no source is left."""
    fake_index.set_fault(Fault.status(404), path_contains="/click/7.0/json")
    with pytest.raises(UpstreamResponseInvalid) as caught:
        await service.get_package_docs("click", "==7.0")
    error = caught.value.to_dict()
    assert error["retryable"] is False
    assert "try again" not in " ".join([error["message"], *error["suggestions"]]).lower()
    assert fake_index.count("/click/7.0/json") == 1


async def test_exact_pin_of_the_latest_version_uses_the_project_page_when_its_page_is_missing(
    service: AutoDocsService, fake_index: FakeIndex
) -> None:
    latest = LATEST["click"]
    fake_index.set_fault(Fault.status(404), path_contains=f"/click/{latest}/json")
    page = await service.get_package_docs("click", f"=={latest}")
    assert page.version == latest


async def test_200_concurrent_calls_for_20_packages_make_at_most_20_fetches(
    service: AutoDocsService, fake_index: FakeIndex
) -> None:
    fake_index.latency_s = 0.05
    names = sorted(LATEST)[:20]
    pages = await asyncio.gather(*(service.get_package_docs(name) for name in names for _ in range(10)))
    assert len(pages) == 200
    assert fake_index.request_count <= 20


async def test_hung_index_gives_a_timeout_error_within_the_deadline(fake_index: FakeIndex, tmp_path: Path) -> None:
    import time

    from autodocs.errors import UpstreamTimeout

    settings = make_settings(fake_index, tmp_path / "c", request_timeout=2.0, attempt_timeout=10.0)
    fake_index.set_fault(Fault.hang())
    async with AutoDocsService.running(settings) as service:
        started = time.monotonic()
        with pytest.raises(UpstreamTimeout) as caught:
            await service.get_package_docs("click")
        assert time.monotonic() - started < 3.0
    assert caught.value.retryable


async def test_open_circuit_serves_the_stale_release_list(fake_index: FakeIndex, tmp_path: Path) -> None:
    settings = make_settings(
        fake_index,
        tmp_path / "c",
        release_list_ttl=0,
        circuit_breaker_threshold=1,
        circuit_breaker_failure_rate=1,  # 1 failure of 2 calls shows at least 9% failing
        max_retry_attempts=0,
    )
    async with AutoDocsService.running(settings) as service:
        await service.get_package_docs("click")
        fake_index.set_fault(Fault.status(500))
        first = await service.get_package_docs("click")  # fails upstream, opens the circuit, serves stale
        before = fake_index.request_count
        second = await service.get_package_docs("click")  # circuit open: no request at all
    assert first.stale and second.stale
    assert fake_index.request_count == before


async def test_index_down_without_a_release_list_serves_the_newest_cached_document_as_stale(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    settings = make_settings(fake_index, tmp_path / "c", max_retry_attempts=0)
    async with AutoDocsService.running(settings) as service:
        await service.get_package_docs("requests", "==2.28.2")
        await service.get_package_docs("requests", "==2.31.0")
        fake_index.set_fault(Fault.status(503))
        page = await service.get_package_docs("requests", "<3")
        assert (page.version, page.stale, page.source) == ("2.31.0", True, "cache")
        older = await service.get_package_docs("requests", "<2.30")
        assert older.version == "2.28.2" and older.stale
        with pytest.raises(UpstreamUnavailable):
            await service.get_package_docs("requests", ">=3")  # nothing cached fits: fail informatively


async def test_the_stored_document_carries_its_page_costs(service: AutoDocsService, fake_index: FakeIndex) -> None:
    page = await service.get_package_docs("rich")
    assert not page.truncated  # counted whole on the way: no section cost was needed then
    await service.flush_writes()
    stored = await service.store.get_document(service.index_key, "rich", page.version)
    assert stored is not None and stored.sections
    assert all(section.tokens > 0 for section in stored.sections) and stored.header_tokens > 0


async def test_closing_gives_up_on_cache_writes_a_locked_store_holds_past_the_shutdown_timeout(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    import sqlite3
    import time

    import structlog

    settings = make_settings(fake_index, tmp_path / "c", shutdown_timeout=0.5)
    with structlog.testing.capture_logs() as logs:
        async with AutoDocsService.running(settings) as service:
            for name in ("click", "flask", "rich"):
                await service.get_package_docs(name)
            blocker = sqlite3.connect(tmp_path / "c" / "cache.db")
            blocker.execute("BEGIN EXCLUSIVE")  # another process holds the write lock meanwhile
            started = time.monotonic()
        elapsed = time.monotonic() - started
        blocker.rollback()
        blocker.close()
    # Unbounded, three writes would wait out the 5 s busy timeout each; bounded, the flush
    # stops at 0.5 s and only the write already underway finishes waiting.
    assert elapsed < 8, elapsed
    assert any(entry["event"] == "cache.writes_dropped" for entry in logs)
    async with AutoDocsService.running(settings) as service:  # the file is intact: readable, writable
        stats = await service.cache_stats()
        assert stats.documents <= 3
        await service.get_package_docs("click")


async def test_a_query_lists_api_matches_from_the_versions_entries_without_a_full_text_search(
    service: AutoDocsService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Searching the whole index and keeping one package's hits grew with the cache
    (bench/docs_query.py): a docs call reads only that version's API entries."""
    from autodocs.cache import SearchEntry, SQLiteStore

    async def no_full_text_search(*args: object, **kwargs: object) -> list[object]:
        raise AssertionError("a docs call searched the cache's full-text index")

    page = await service.get_package_docs("requests", "==2.31.0", query="retry connection")
    assert page.api_matches == ()  # nothing cached of its API yet
    entries = [
        SearchEntry(kind="api", path="requests.Session.close", text="close() Closes all adapters and the session."),
        SearchEntry(kind="api", path="requests.adapters.Retry", text="Retry a connection that failed, with backoff."),
        SearchEntry(kind="api", path="requests.get", text="get(url) Sends a GET request."),
    ]
    await service.store.put_api_reference(service.index_key, "requests", "2.31.0", "requests", "{}", entries)
    monkeypatch.setattr(SQLiteStore, "search", no_full_text_search)
    page = await service.get_package_docs("requests", "==2.31.0", query="retry connection")
    assert [match.path for match in page.api_matches] == ["requests.adapters.Retry"]
    assert page.api_matches[0].snippet.startswith("Retry a connection")
