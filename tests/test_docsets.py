"""Release docs sets end to end: the sdist served by the loopback fake index, built, stored, looked up."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import random
import tarfile
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from autodocs.config import Settings
from autodocs.index import IndexClient
from autodocs.index.background import admission
from autodocs.service import AutoDocsService
from autodocs.usecases.docsets import BUSY, NO_DOCS, TURNED_OFF, DocsetLimits, ReleaseDocsets
from tests.conftest import make_settings
from tests.docset.sdists import MKDOCS_PROJECT, SPHINX_PROJECT, add_tar_file, add_tar_link, make_sdist
from tests.support.fake_index import FakeIndex, Fault

WAIT = 60.0


def unique(prefix: str = "docs") -> str:
    return f"{prefix}{time.monotonic_ns()}"


def serve(
    index: FakeIndex,
    folder: Path,
    name: str,
    files: dict[str, str | bytes] | bytes,
    *,
    version: str = "1.0",
    sha256: str | None = None,
    wheel_only: bool = False,
) -> int:
    """Serve ``files`` (or raw archive bytes) as the sdist of ``name`` ``version``; returns its size."""
    if isinstance(files, bytes):
        data = files
    else:
        folder.mkdir(parents=True, exist_ok=True)
        data = make_sdist(folder, files, top=f"{name}-{version}").read_bytes()
    filename = f"{name}-{version}-py3-none-any.whl" if wheel_only else f"{name}-{version}.tar.gz"
    entry: dict[str, Any] = {
        "filename": filename,
        "url": index.add_file(filename, data),
        "packagetype": "bdist_wheel" if wheel_only else "sdist",
        "size": len(data),
        "digests": {"sha256": sha256 or hashlib.sha256(data).hexdigest()},
        "yanked": False,
    }
    info = {"name": name, "version": version, "summary": "demo"}
    index.add_project(name, {"info": info, "releases": {version: [entry]}, "urls": [entry]})
    return len(data)


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[AutoDocsService]:
    async with AutoDocsService.running(settings) as running:
        yield running


def temp_left(docsets: ReleaseDocsets) -> list[Path]:
    folder = docsets.temp_folder
    return list(folder.iterdir()) if folder.exists() else []


async def test_a_sphinx_sdist_becomes_a_stored_docs_set_read_back_after_a_restart(
    fake_index: FakeIndex, settings: Settings, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    async with AutoDocsService.running(settings) as service:
        found = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
        assert found.docset is not None and not found.pending and not found.missing_reason
        assert found.docset.flavour == "sphinx"
        assert "docs/usage.rst" in [page.path for page in found.docset.pages]
        assert temp_left(service.docsets) == []
    downloads = fake_index.count(f"/files/{name}")
    async with AutoDocsService.running(settings) as service:
        again = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    assert again.docset == found.docset
    assert fake_index.count(f"/files/{name}") == downloads == 1


async def test_an_mkdocs_sdist_becomes_a_docs_set_ordered_by_its_nav(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, MKDOCS_PROJECT)
    found = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    assert found.docset is not None and found.docset.flavour == "mkdocs"
    paths = [page.path for page in found.docset.pages]
    assert paths.index("docs/index.md") < paths.index("docs/tutorial/first.md") < paths.index("docs/api.md")
    hits = await service.store.docset_sections(service.index.cache_key, name, "1.0", "deeper", 3)
    assert hits and hits[0].page_path == "docs/tutorial/first.md"


async def test_a_first_lookup_answers_pending_within_its_wait_and_one_build_serves_every_caller(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    fake_index.set_fault(Fault.slow_drip(128, 0.1), path_contains=f"/files/{name}")
    key = service.index.cache_key
    started = time.monotonic()
    first = await asyncio.gather(*(service.docsets.lookup(name, "1.0", index_key=key, wait_s=0.2) for _ in range(3)))
    assert time.monotonic() - started < 1.0
    assert all(lookup.pending and lookup.docset is None for lookup in first)
    ready = await service.docsets.lookup(name, "1.0", index_key=key, wait_s=WAIT)
    assert ready.docset is not None and not ready.pending
    assert fake_index.count(f"/files/{name}") == 1


async def test_a_release_without_an_sdist_has_a_reason_stored_for_next_time(
    fake_index: FakeIndex, settings: Settings, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, b"PK not really a wheel", wheel_only=True)
    async with AutoDocsService.running(settings) as service:
        found = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    assert found.docset is None and "no sdist" in found.missing_reason
    async with AutoDocsService.running(settings) as service:
        assert await service.store.docset_missing_reason(service.index.cache_key, name, "1.0") == found.missing_reason


async def test_an_sdist_over_the_cap_is_not_downloaded(fake_index: FakeIndex, tmp_path: Path) -> None:
    name = unique()
    size = serve(fake_index, tmp_path / "sdist", name, {**SPHINX_PROJECT, "docs/pad.txt": bytes(range(256)) * 40})
    settings = make_settings(fake_index, tmp_path / "cache", max_sdist_bytes=size - 1)
    async with AutoDocsService.running(settings) as service:
        found = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    assert found.docset is None and "AUTODOCS_MAX_SDIST_BYTES" in found.missing_reason
    assert fake_index.count(f"/files/{name}") == 0


async def test_an_sdist_without_a_docs_folder_gives_its_readme_and_changelog_pages(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = unique()
    readme_only = {"README.md": "# Demo\n\nHow to retry.\n", "CHANGES.rst": "Changes\n=======\n\nFirst.\n"}
    serve(fake_index, tmp_path / "sdist", name, {**readme_only, "demo/__init__.py": "x = 1\n"})
    found = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    assert found.docset is not None and found.docset.flavour == "plain"
    assert [page.path for page in found.docset.pages] == ["README.md", "CHANGES.rst"]


async def test_an_sdist_without_any_docs_text_has_a_reason(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, {"demo/__init__.py": "x = 1\n", "setup.py": "pass\n"})
    found = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    assert found.docset is None and found.missing_reason == NO_DOCS


async def test_release_docs_turned_off_builds_nothing(fake_index: FakeIndex, tmp_path: Path) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    settings = make_settings(fake_index, tmp_path / "cache", release_docs=False)
    async with AutoDocsService.running(settings) as service:
        found = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    assert found.docset is None and found.missing_reason == TURNED_OFF
    assert fake_index.count(name) == 0


async def test_an_sdist_that_does_not_match_its_listed_hash_is_a_reason_not_an_error(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT, sha256="0" * 64)
    found = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    assert found.docset is None and "SHA-256" in found.missing_reason
    assert await service.store.get_docset(service.index.cache_key, name, "1.0") is None


async def test_a_full_queue_answers_busy_without_starting_a_build(
    fake_index: FakeIndex, service: AutoDocsService, settings: Settings, tmp_path: Path
) -> None:
    names = [unique() for _ in range(3)]
    for name in names:
        serve(fake_index, tmp_path / name, name, SPHINX_PROJECT)
        fake_index.set_fault(Fault.slow_drip(256, 0.1), path_contains=f"/files/{name}")
    docsets = ReleaseDocsets(settings, service.store, service.index, limits=DocsetLimits(builds=1, queued=1))
    try:
        key = service.index.cache_key
        first = [await docsets.lookup(name, "1.0", index_key=key, wait_s=0.0) for name in names]
        assert [lookup.pending for lookup in first] == [True, True, False]
        assert first[2].missing_reason == BUSY
        await docsets.wait_for_builds()
        assert fake_index.count(f"/files/{names[2]}") == 0
    finally:
        await docsets.aclose()


def tar(name: str, members: list[tuple[str, bytes]], links: list[tuple[str, str]] | None = None) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        for path, data in members:
            add_tar_file(bundle, path if path.startswith(("/", "..")) else f"{name}-1.0/{path}", data)
        for path, target in links or []:
            add_tar_link(bundle, f"{name}-1.0/{path}", target)
    return buffer.getvalue()


INDEX_PAGE = b"Index\n=====\n\nThe first page.\n"
HOSTILE: dict[str, tuple[list[tuple[str, bytes]], list[tuple[str, str]], str]] = {
    "bomb": ([("docs/index.rst", INDEX_PAGE), ("docs/bomb.rst", bytes(48 << 20))], [], "bomb"),
    "traversal": (
        [("docs/index.rst", INDEX_PAGE), ("../evil.rst", b"Evil\n"), ("/tmp/abs.rst", b"Abs\n")],
        [],
        "outside its folder",
    ),
    "links": (
        [("docs/index.rst", INDEX_PAGE)],
        [("docs/passwd.rst", "/etc/passwd"), ("docs/up.rst", "../..")],
        "links",
    ),
    "many files": (
        [("docs/index.rst", INDEX_PAGE)] + [(f"docs/p{n}.rst", b"P\n=\n\nx\n") for n in range(1_200)],
        [],
        "more than 1000 entries",
    ),
    "binary rst": ([("docs/index.rst", INDEX_PAGE), ("docs/bin.rst", b"Bin\n===\n\x00\x01\x02")], [], "binary"),
    "invalid utf-8": ([("docs/index.rst", INDEX_PAGE + b"\xff\xfe caf\xe9\n")], [], "UTF-8"),
    "recursive include": ([("docs/index.rst", INDEX_PAGE + b"\n.. include:: index.rst\n")], [], "include"),
    "include outside": (
        [("docs/index.rst", INDEX_PAGE + b"\n.. include:: /etc/passwd\n\n.. include:: ../../../../etc/passwd\n")],
        [],
        "include",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
async def test_a_hostile_sdist_yields_a_warning_and_reads_nothing_outside(
    case: str, fake_index: FakeIndex, service: AutoDocsService, settings: Settings, tmp_path: Path
) -> None:
    members, links, warning = HOSTILE[case]
    name = unique("hostile")
    serve(fake_index, tmp_path, name, tar(name, members, list(links)))
    docsets = ReleaseDocsets(settings, service.store, service.index, limits=DocsetLimits(archive_entries=1_000))
    try:
        started = time.monotonic()
        found = await docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
        assert time.monotonic() - started < 30
    finally:
        await docsets.aclose()
    assert found.docset is not None, found.missing_reason
    assert "docs/index.rst" in [page.path for page in found.docset.pages]
    assert any(warning.lower() in text.lower() for text in found.docset.warnings), found.docset.warnings
    text = "\n".join(page.text for page in found.docset.pages)
    assert "root:" not in text and "Evil" not in text
    assert temp_left(docsets) == []


async def test_closing_mid_download_leaves_no_temporary_folder_and_no_rows(
    fake_index: FakeIndex, service: AutoDocsService, settings: Settings, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    fake_index.set_fault(Fault.slow_drip(64, 0.2), path_contains=f"/files/{name}")
    docsets = ReleaseDocsets(settings, service.store, service.index)
    key = service.index.cache_key
    assert (await docsets.lookup(name, "1.0", index_key=key, wait_s=0.5)).pending
    assert temp_left(docsets)
    await docsets.aclose()
    assert temp_left(docsets) == [] and not docsets.temp_folder.exists()
    assert await service.store.get_docset(key, name, "1.0") is None
    assert await service.store.docset_missing_reason(key, name, "1.0") is None


async def test_closing_while_pages_are_read_leaves_no_temporary_folder_and_no_rows(
    fake_index: FakeIndex, service: AutoDocsService, settings: Settings, tmp_path: Path
) -> None:
    name = unique()
    paragraph = "Some *text* with ``code`` and a `link <https://example.invalid>`_.\n\n" * 400
    pages = {f"docs/page{n}.rst": f"Page {n}\n=======\n\n{paragraph}" for n in range(300)}
    serve(fake_index, tmp_path / "sdist", name, {"docs/index.rst": "Index\n=====\n", **pages})
    docsets = ReleaseDocsets(settings, service.store, service.index)
    key = service.index.cache_key
    assert (await docsets.lookup(name, "1.0", index_key=key, wait_s=0.0)).pending
    deadline = time.monotonic() + 30
    while not any((folder / "tree" / "docs").is_dir() for folder in temp_left(docsets)):
        assert time.monotonic() < deadline, "the build never reached its pages"
        await asyncio.sleep(0.02)
    await asyncio.sleep(0.3)  # into the pages
    await docsets.aclose()
    assert not docsets.temp_folder.exists()
    assert await service.store.get_docset(key, name, "1.0") is None


async def test_search_docs_covers_the_docs_pages_of_cached_releases(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    result = await service.search_docs("retrying")
    hit = result.results[0]
    assert (hit.kind, hit.package, hit.version) == ("docs", name, "1.0")
    assert hit.page_path == "docs/usage.rst" and hit.heading_path == ["Usage", "Retrying"]


async def test_a_stored_docs_set_is_the_same_object_on_every_lookup_while_remembered(
    fake_index: FakeIndex, settings: Settings, tmp_path: Path
) -> None:
    """The docs use case's memos key on the docs set's identity: a new object per lookup would
    rebuild its ranking index on every query."""
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    async with AutoDocsService.running(settings) as service:
        await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    async with AutoDocsService.running(settings) as service:  # read from the store, not built here
        first = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
        second = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    assert first.docset is not None
    assert second.docset is first.docset


async def test_a_build_downloads_the_sdist_from_the_client_that_serves_the_call(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = unique()
    (tmp_path / "other-data").mkdir()
    with FakeIndex(data_dir=tmp_path / "other-data") as other:
        serve(other, tmp_path / "sdist", name, SPHINX_PROJECT)
        client = IndexClient(service.settings, indexes=[other.url])

        @contextlib.asynccontextmanager
        async def opened() -> AsyncIterator[IndexClient]:
            yield client

        try:
            found = await service.docsets.lookup(name, "1.0", index_key=client.cache_key, wait_s=WAIT, client=opened)
        finally:
            await client.aclose()
    assert found.docset is not None
    assert other.count(f"/files/{name}") == 1 and fake_index.count(f"/files/{name}") == 0
    assert await service.store.get_docset(client.cache_key, name, "1.0") == found.docset
    assert await service.store.get_docset(service.index.cache_key, name, "1.0") is None, "filed under its index"


async def test_a_refreshed_package_s_docs_set_is_not_served_from_memory(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    first = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    await service.refresh(name)  # the store drops the docs set; memory must too
    again = await service.docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
    assert first.docset is not None and again.docset is not None
    assert again.docset is not first.docset and again.docset == first.docset
    assert fake_index.count(f"/files/{name}") == 2, "built again from the index"


async def test_a_call_waits_no_longer_than_its_patience_for_a_slow_download_and_the_build_goes_on(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    fake_index.set_fault(Fault.slow_drip(64, 0.1), path_contains=f"/files/{name}")  # seconds for the sdist
    key = service.index.cache_key
    started = time.monotonic()
    first = await service.docsets.lookup(name, "1.0", index_key=key, wait_s=WAIT)
    took = time.monotonic() - started
    assert first.pending and first.docset is None
    assert took < DocsetLimits().download_patience_s + 0.5, "a slow index costs a call only the patience"
    await service.docsets.wait_for_builds()
    ready = await service.docsets.lookup(name, "1.0", index_key=key, wait_s=0.0)
    assert ready.docset is not None


async def test_a_call_does_not_wait_for_a_big_docs_tree_once_its_sdist_is_downloaded(
    fake_index: FakeIndex, service: AutoDocsService, settings: Settings, tmp_path: Path
) -> None:
    name = unique()
    size = serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    gate = DocsetLimits(quick_sdist_bytes=size - 1, download_patience_s=WAIT)  # this sdist counts as big
    docsets = ReleaseDocsets(settings, service.store, service.index, limits=gate)
    try:
        big = await docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
        assert big.pending and big.docset is None
        await docsets.wait_for_builds()
        built = await docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=0.0)
        assert built.docset is not None
    finally:
        await docsets.aclose()
    other = unique()
    other_size = serve(fake_index, tmp_path / "sdist2", other, SPHINX_PROJECT)
    quick = DocsetLimits(quick_sdist_bytes=other_size, download_patience_s=WAIT)  # small enough to wait for
    docsets = ReleaseDocsets(settings, service.store, service.index, limits=quick)
    try:
        found = await docsets.lookup(other, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
        assert found.docset is not None and not found.pending
    finally:
        await docsets.aclose()


async def test_a_call_told_the_listed_sdist_is_big_answers_pending_at_once_and_the_build_goes_on(
    fake_index: FakeIndex, service: AutoDocsService, settings: Settings, tmp_path: Path
) -> None:
    name = unique()
    size = serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    fake_index.set_fault(Fault.latency(1.0), path_contains=f"/{name}")  # every request of this release: 1 s
    gate = DocsetLimits(quick_sdist_bytes=size - 1, download_patience_s=WAIT)  # this sdist counts as big
    docsets = ReleaseDocsets(settings, service.store, service.index, limits=gate)
    try:
        started = time.monotonic()
        big = await docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT, listed_sdist_bytes=size)
        assert big.pending and big.docset is None
        assert time.monotonic() - started < 0.5, "no index request is waited for"
        await docsets.wait_for_builds()
        built = await docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=0.0)
        assert built.docset is not None
    finally:
        await docsets.aclose()


async def test_a_call_does_not_wait_for_the_download_of_an_sdist_its_listing_says_is_big(
    fake_index: FakeIndex, service: AutoDocsService, settings: Settings, tmp_path: Path
) -> None:
    name = unique()
    size = serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    fake_index.set_fault(Fault.latency(2.0), path_contains=f"/files/{name}")  # the download: 2 s
    gate = DocsetLimits(quick_sdist_bytes=size - 1, download_patience_s=WAIT)  # this sdist counts as big
    docsets = ReleaseDocsets(settings, service.store, service.index, limits=gate)
    try:
        started = time.monotonic()
        big = await docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=WAIT)
        assert big.pending and big.docset is None
        assert time.monotonic() - started < 1.5, "answered once the listing is read, not after the download"
        await docsets.wait_for_builds()
        built = await docsets.lookup(name, "1.0", index_key=service.index.cache_key, wait_s=0.0)
        assert built.docset is not None
    finally:
        await docsets.aclose()


async def test_a_docs_query_on_a_release_listed_with_a_big_sdist_does_not_wait_for_its_docs_set(
    fake_index: FakeIndex, settings: Settings, tmp_path: Path
) -> None:
    name = unique()
    blob = random.Random(7).randbytes(DocsetLimits().quick_sdist_bytes + 1)  # stays big once compressed
    serve(fake_index, tmp_path / "sdist", name, {**SPHINX_PROJECT, "data/blob.bin": blob})
    fake_index.set_fault(Fault.latency(1.5), path_contains=f"/files/{name}")  # the download: 1.5 s
    async with AutoDocsService.running(settings, one_shot=True) as cli:
        started = time.monotonic()
        page = await cli.get_package_docs(name, "==1.0", query="usage")
        took = time.monotonic() - started
        assert page.docs_pending is None and "docs" not in {ref.origin for ref in page.section_refs}
        assert took < 1.2, f"the query call waited for the docs set's download ({took:.1f} s)"
        # The call knew from the release's listing that the build is not quick: a one-shot
        # process (the CLI) starts none, since it would only cancel it on exit.
        await cli.docsets.wait_for_builds()
        assert fake_index.count(f"/files/{name}") == 0, "no sdist downloaded"


async def test_a_build_s_index_requests_never_take_the_calls_request_slots(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    fetcher = service.index.fetcher
    through_call_slots: list[bool] = []
    download = fetcher.download

    async def recorded(*args: Any, **kwargs: Any) -> Any:
        through_call_slots.append(admission(fetcher.slots) is fetcher.slots)
        return await download(*args, **kwargs)

    monkeypatch.setattr(fetcher, "download", recorded)
    first = await service.get_package_docs(name, "==1.0")
    assert first.docs_pending is True
    await service.docsets.wait_for_builds()
    assert through_call_slots == [False], "the sdist download went through the build's own slots"
    assert admission(fetcher.slots) is fetcher.slots, "a call's requests use the calls' slots"


async def test_a_docs_call_without_a_query_never_waits_for_a_build_and_a_later_call_shows_its_contents(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    fake_index.set_fault(Fault.slow_drip(512, 0.05), path_contains=f"/files/{name}")  # a download of a moment
    first = await service.get_package_docs(name, "==1.0")
    assert first.docs_pending is True and first.docs_toc is None
    await service.docsets.wait_for_builds()
    later = await service.get_package_docs(name, "==1.0")
    assert later.docs_pending is None and later.docs_toc
    queried = await service.get_package_docs(name, "==1.0", query="usage")
    assert "docs" in {ref.origin for ref in queried.section_refs}


async def test_a_one_shot_process_starts_no_build_for_a_call_that_would_not_wait_for_it(
    fake_index: FakeIndex, settings: Settings, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    async with AutoDocsService.running(settings, one_shot=True) as cli:
        page = await cli.get_package_docs(name, "==1.0")
        assert page.docs_pending is None and page.docs_toc is None
        await cli.docsets.wait_for_builds()
        assert fake_index.count(f"/files/{name}") == 0, "no sdist downloaded for a call without a query"
        queried = await cli.get_package_docs(name, "==1.0", query="usage")  # waits for a quick build
        assert "docs" in {ref.origin for ref in queried.section_refs}


def count_docset_reads(service: AutoDocsService, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The store's docs-set reads from now on (the real store answers them)."""
    reads: list[str] = []
    for method in ("get_docset", "get_docset_outline", "docset_missing_reason"):
        read = getattr(service.store, method)

        async def counted(*args: Any, _read: Any = read, _method: str = method) -> Any:
            reads.append(_method)
            return await _read(*args)

        monkeypatch.setattr(service.store, method, counted)
    return reads


async def test_a_cold_call_without_a_query_reads_no_docs_set_the_package_state_says_is_not_stored(
    fake_index: FakeIndex, service: AutoDocsService, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    reads = count_docset_reads(service, monkeypatch)
    first = await service.get_package_docs(name, "==1.0")
    assert first.docs_pending is True
    assert reads == [], "the call's batched state read already said nothing is stored"
    await service.docsets.wait_for_builds()
    later = await service.get_package_docs(name, "==1.0")
    assert later.docs_toc and fake_index.count(f"/files/{name}") == 1


async def test_a_new_process_shows_a_stored_docs_set_on_its_first_call_without_a_query(
    fake_index: FakeIndex, settings: Settings, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    async with AutoDocsService.running(settings) as service:
        await service.get_package_docs(name, "==1.0")
        await service.docsets.wait_for_builds()
    async with AutoDocsService.running(settings) as service:
        page = await service.get_package_docs(name, "==1.0")  # the document and its docs set from the store
        assert page.source == "cache" and page.docs_toc and page.docs_pending is None
    assert fake_index.count(f"/files/{name}") == 1


async def test_a_build_started_without_a_store_read_finds_a_docs_set_stored_meanwhile_and_downloads_nothing(
    fake_index: FakeIndex, settings: Settings, tmp_path: Path
) -> None:
    name = unique()
    serve(fake_index, tmp_path / "sdist", name, SPHINX_PROJECT)
    async with AutoDocsService.running(settings) as other:  # another process stores it
        built = await other.docsets.lookup(name, "1.0", index_key=other.index.cache_key, wait_s=WAIT)
    async with AutoDocsService.running(settings) as service:
        key = service.index.cache_key
        first = await service.docsets.lookup(name, "1.0", index_key=key, wait_s=0, stored=False)  # a stale state
        assert first.pending
        await service.docsets.wait_for_builds()
        again = await service.docsets.lookup(name, "1.0", index_key=key, wait_s=0)
    assert again.docset == built.docset is not None
    assert fake_index.count(f"/files/{name}") == 1, "built once, by the other process"
