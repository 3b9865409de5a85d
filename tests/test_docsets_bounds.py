"""A docs set built from a hostile sdist on the loopback index: the page readers' time and memory
bounds, end to end (download, workers, store, reply)."""

from __future__ import annotations

import time
from pathlib import Path

from autodocs.service import AutoDocsService
from autodocs.usecases.docsets import DocsetLimits, ReleaseDocsets
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex
from tests.test_docsets import WAIT, serve, unique

#: markdown-it reads "![" repeated in quadratic time and little memory: about 7 s here, unbounded.
SLOW_PAGE = "# Slow\n\n" + "![" * 250_000
#: docutils makes about 600 MB of nodes of these 2 MB (under the readers' 2 M characters a page).
HUGE_PAGE = "Huge\n====\n\n" + "word\n\n" * 330_000
PAGE_SECONDS = 1.5
MEMORY_BYTES = 128 << 20


def hostile_project() -> dict[str, str | bytes]:
    """Plain docs pages, read in one batch in path order: the slow and huge pages come between two good ones."""
    return {
        "docs/guide.rst": "Guide\n=====\n\nTo frobnicate widgets, call ``frobnicate(widget)``.\n",
        "docs/huge.rst": HUGE_PAGE,
        "docs/slow.md": SLOW_PAGE,
        "docs/zz-after.rst": "After\n=====\n\nThe quux setting comes after the hostile pages.\n",
    }


async def test_slow_and_huge_pages_are_skipped_within_bounds_with_warnings_and_the_rest_is_searchable(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    settings = make_settings(fake_index, tmp_path / "cache", analysis_memory_bytes=MEMORY_BYTES, request_timeout=30.0)
    name, later = unique("bounds"), unique("after")
    serve(fake_index, tmp_path / "sdist", name, hostile_project())
    serve(fake_index, tmp_path / "later", later, {"docs/index.rst": "Later\n=====\n\nA calm page.\n"})
    limits = DocsetLimits(page_seconds=PAGE_SECONDS, batch_seconds=60.0)
    async with AutoDocsService.running(settings) as service:
        docsets = ReleaseDocsets(settings, service.store, service.index, limits=limits)
        service.docs.docsets = docsets  # the docs tool builds with these limits
        key = service.index.cache_key
        try:
            started = time.monotonic()
            found = await docsets.lookup(name, "1.0", index_key=key, wait_s=WAIT)
            took = time.monotonic() - started
            assert found.docset is not None, found.missing_reason
            assert took < 30, f"the build took {took:.1f} s"
            warnings = "\n".join(found.docset.warnings)
            assert f"docs/slow.md: reading it took over {PAGE_SECONDS:g} s" in warnings, warnings
            assert "docs/huge.rst: reading it needed more memory than AUTODOCS_ANALYSIS_MEMORY_BYTES" in warnings
            read = {page.path: bool(page.sections) for page in found.docset.pages}
            assert read == {
                "docs/guide.rst": True,
                "docs/huge.rst": False,
                "docs/slow.md": False,
                "docs/zz-after.rst": True,
            }

            for word, page_path in (("frobnicate", "docs/guide.rst"), ("quux", "docs/zz-after.rst")):
                hits = await service.store.docset_sections(key, name, "1.0", word, 3)
                assert [hit.page_path for hit in hits] == [page_path]
            reply = await service.get_package_docs(name, "==1.0", query="frobnicate widgets")
            assert reply.sections[0] == "Guide (docs/guide.rst)" and "frobnicate(widget)" in reply.content
            assert any("docs/slow.md" in warning for warning in reply.warnings)
            assert any("docs/huge.rst" in warning for warning in reply.warnings)
            toc = await service.get_package_docs(name, "==1.0")
            assert (
                toc.docs_toc and "docs/zz-after.rst" in toc.docs_toc and any("docs/slow.md" in w for w in toc.warnings)
            )

            calm = await docsets.lookup(later, "1.0", index_key=key, wait_s=WAIT)  # the same workers go on
            assert calm.docset is not None and not calm.docset.warnings, calm.missing_reason
        finally:
            await docsets.aclose()
