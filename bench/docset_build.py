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

    python -m bench.docset_build [--workers 2] [--repeat 1]
"""

from __future__ import annotations

import argparse
import io
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

from docutils.core import publish_doctree

from autodocs.docset.build import DocSet, build_docset_from_sdist, read_pages

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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=DEFAULT_CACHE)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=1)
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
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
