"""Docs-set build time on a large real docs tree (Django 4.2's sdist) against bare docutils parsing.

Setup (once, cached in ``--cache``): ``pip download --no-deps --no-binary :all: django==4.2.*``.
Then, in one process and the same run:

- **parse alone**: docutils' ``publish_doctree`` of every page of the docs set, one after the other,
  the texts already in memory (what the issue's 8.3 s figure measured);
- **pipeline**: from the sdist file on disk to a built docs set — unpack the docs
  (``sources.doc_archive``), read every page (reST with Sphinx's directives, sections, code blocks,
  API placeholders), order them by toctree — with pages read in a process pool of ``--workers``
  (started before the clock, as a server keeps one) and, for reference, in this process alone.

It prints each time and the ratio pipeline / parse alone (the goal is ≤ 1×).

Then **served**, as a server does it: the sdist is served by the loopback fake index, and
``ReleaseDocsets.lookup`` downloads it, builds the docs set (pages in its memory-bounded worker
pool, started before the clock) and stores it in a fresh SQLite cache; the time from "download
finished" to "docs set searchable" (stored and indexed) is read from its ``docsets.built`` event,
next to the parse-alone time of the same run (goal ≤ 1×). Last, a warm one-release section query
(``Store.docset_sections``) over it: median of ``--queries`` runs (goal ≤ 20 ms).

    python -m bench.docset_build [--workers 2] [--repeat 1] [--queries 50]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import io
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import structlog
from docutils.core import publish_doctree
from tests.support.fake_index import FakeIndex

from autodocs.config import Settings
from autodocs.docset.build import DocSet, build_docset_from_sdist, read_pages
from autodocs.service import AutoDocsService

DEFAULT_CACHE = Path(tempfile.gettempdir()) / "autodocs-bench-docset"


def fetch_django(cache: Path) -> Path:
    """The Django 4.2 sdist, downloaded once with pip into ``cache``."""
    cache.mkdir(parents=True, exist_ok=True)
    found = sorted(cache.glob("[Dd]jango-4.2*.tar.gz"))
    if not found:
        command = [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:", "-d", str(cache)]
        subprocess.run([*command, "django==4.2.*"], check=True)
        found = sorted(cache.glob("[Dd]jango-4.2*.tar.gz"))
    return found[-1]


def parse_alone(root: Path, paths: list[str]) -> float:
    texts = [(path, (root / path).read_text(encoding="utf-8", errors="replace")) for path in paths]
    overrides = {"report_level": 5, "halt_level": 5, "warning_stream": io.StringIO()}
    started = time.perf_counter()
    for path, text in texts:
        publish_doctree(text, source_path=path, settings_overrides=overrides)
    return time.perf_counter() - started


def pipeline(sdist: Path, work: Path, pool: ProcessPoolExecutor | None) -> tuple[float, DocSet]:
    target = work / f"docs-{time.monotonic_ns()}"
    started = time.perf_counter()
    docset = build_docset_from_sdist(sdist, target, executor=pool)
    return time.perf_counter() - started, docset


QUERIES = ("queryset filter related objects", "custom template tags", "database transactions atomic")


async def served(sdist: Path, data: bytes, work: Path, queries: int) -> tuple[float, float, list[float]]:
    """(download s, download finished → searchable s, warm query times in ms) through ReleaseDocsets."""
    version = sdist.name.removesuffix(".tar.gz").split("-", 1)[1]
    with FakeIndex() as index:
        entry = {
            "filename": sdist.name,
            "url": index.add_file(sdist.name, data),
            "packagetype": "sdist",
            "size": len(data),
            "digests": {"sha256": hashlib.sha256(data).hexdigest()},
        }
        info = {"name": "django", "version": version}
        index.add_project("django", {"info": info, "releases": {version: [entry]}, "urls": [entry]})
        settings = Settings(cache_dir=work / "cache", pypi_url=index.url, request_timeout=120.0)
        async with AutoDocsService.running(settings) as service:
            await asyncio.to_thread(service.docsets.warm_up)
            await asyncio.sleep(1.0)  # the workers have started and imported their modules
            key = service.index.cache_key
            with structlog.testing.capture_logs() as events:
                found = await service.docsets.lookup("django", version, index_key=key, wait_s=600.0)
                if found.pending:  # a call does not wait for a big docs tree: the build goes on
                    await service.docsets.wait_for_builds()
                    found = await service.docsets.lookup("django", version, index_key=key, wait_s=0.0)
            assert found.docset is not None, found.missing_reason
            built = next(event for event in events if event["event"] == "docsets.built")
            times = []
            for attempt in range(queries + 1):
                started = time.perf_counter()
                hits = await service.store.docset_sections(key, "django", version, QUERIES[attempt % 3], 10)
                if attempt:  # the first one warms the reader thread and SQLite's page cache
                    times.append((time.perf_counter() - started) * 1000)
                assert hits
    return float(built["download_s"]), float(built["build_s"]), times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--queries", type=int, default=50)
    args = parser.parse_args()
    sdist = fetch_django(args.cache)
    work = Path(tempfile.mkdtemp(prefix="autodocs-docset-bench-"))
    try:
        pool_started = time.perf_counter()
        with ProcessPoolExecutor(args.workers) as pool:
            pool.submit(read_pages, str(work), "", "", []).result()  # workers started and modules imported
            pool_start = time.perf_counter() - pool_started
            pooled: list[float] = []
            alone: list[float] = []
            single: list[float] = []
            docset: DocSet | None = None
            for _ in range(args.repeat):
                seconds, docset = pipeline(sdist, work, pool)
                pooled.append(seconds)
                seconds, _unused = pipeline(sdist, work, None)
                single.append(seconds)
                root = next(work.iterdir())
                alone.append(parse_alone(root, [page.path for page in docset.pages]))
        assert docset is not None
        download_s, searchable_s, query_ms = asyncio.run(served(sdist, sdist.read_bytes(), work, args.queries))
        chars = sum(len(page.text) for page in docset.pages)
        sections = sum(len(page.sections) for page in docset.pages)
        print(f"sdist: {sdist.name} ({sdist.stat().st_size / 1e6:.1f} MB)")
        print(f"docs set: {len(docset.pages)} pages, {sections} sections, {chars / 1e6:.1f} M chars rendered")
        print(
            f"  flavour {docset.flavour}, {len(docset.warnings)} warnings, toc {len(list(docset.toc.walk()))} entries"
        )
        print(f"parse alone (publish_doctree, 1 process):   {min(alone):6.2f} s")
        print(f"pipeline, pool of {args.workers} (unpack+read+order):  {min(pooled):6.2f} s")
        print(f"  (starting the pool, once per server:       {pool_start:6.2f} s)")
        print(f"pipeline, this process only:                {min(single):6.2f} s")
        print(f"ratio pipeline (pool) / parse alone:        {min(pooled) / min(alone):6.2f}x   (goal <= 1x)")
        print(f"ratio pipeline (1 process) / parse alone:   {min(single) / min(alone):6.2f}x")
        print(f"served: download from loopback index:       {download_s:6.2f} s")
        print(f"served: download finished -> searchable:    {searchable_s:6.2f} s  (built, stored, indexed)")
        print(f"ratio served / parse alone:                 {searchable_s / min(alone):6.2f}x   (goal <= 1x)")
        print(
            f"warm one-release section query (SQLite):    {statistics.median(query_ms):6.2f} ms median, "
            f"{max(query_ms):.2f} ms max of {len(query_ms)}   (goal <= 20 ms)"
        )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
