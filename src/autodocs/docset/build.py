"""Building a release's docs set: files → pages → table of contents.

``build_docset`` reads an unpacked tree (``sources.doc_archive.unpack_docs`` makes one from an
sdist): it finds the flavour (MkDocs when ``mkdocs.yml`` is at the top, Sphinx when a docs folder
holds ``conf.py``, else plain files), reads every page with its markup's reader, and orders them.
The top-level README and changelog are pages too when the docs folder does not cover them.

Pages are independent, so they can be read in worker processes: pass a ``concurrent.futures``
executor (a long-lived process pool in a server) and the pages go out in batches. Without one
they are read in this process. Either way nothing raises: every problem is a warning.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

from autodocs.docset.files import PAGE_SUFFIXES, DocFile, DocsFolder
from autodocs.docset.labels import first_title, scan_labels
from autodocs.docset.markdown import read_markdown
from autodocs.docset.model import DocSet, Flavour
from autodocs.docset.nav import find_sphinx, read_mkdocs
from autodocs.docset.order import default_order_key, default_toc, nav_toc, sphinx_toc
from autodocs.docset.pages import Page
from autodocs.docset.rst import read_rst
from autodocs.sources.doc_archive import DOC_TREES, DocArchiveLimits, unpack_docs

__all__ = ["DocSet", "PageReader", "PageReferences", "build_docset", "build_docset_from_sdist", "read_pages"]

_TOP_LEVEL = ("readme", "changes", "changelog", "history", "news")
_BATCH_PAGES = 24
#: Pages read per docs set (Django has about 600): past it, the rest is named in a warning, so a
#: hostile sdist of 100,000 tiny pages costs seconds, not the minutes docutils would take.
MAX_PAGES = 2_000
#: The setting that bounds the memory of the processes that read pages.
MEMORY_SETTING = "AUTODOCS_ANALYSIS_MEMORY_BYTES"


def build_docset_from_sdist(
    archive: Path,
    target: Path,
    *,
    limits: DocArchiveLimits | None = None,
    executor: Executor | None = None,
    read: PageReader | None = None,
) -> DocSet:
    """Unpack the docs of the sdist ``archive`` into the new folder ``target`` and build their set."""
    unpacked = unpack_docs(archive, target, limits)
    built = build_docset(target, executor=executor, read=read)
    return DocSet(built.flavour, built.pages, built.toc, tuple(unpacked.warnings) + built.warnings)


def build_docset(
    root: Path, *, executor: Executor | None = None, max_pages: int = MAX_PAGES, read: PageReader | None = None
) -> DocSet:
    """The docs set of the unpacked tree at ``root`` (see the module docstring); never raises.

    ``read`` reads one batch of pages (default :func:`read_pages`); with an ``executor`` every
    batch runs there, however few pages there are (a worker's limits then hold for all of them).
    """
    folder = DocsFolder(root)
    warnings: list[str] = []
    mkdocs = read_mkdocs(folder)
    sphinx = find_sphinx(folder) if mkdocs is None else None
    flavour: Flavour
    if mkdocs is not None:
        flavour, docs_dir = "mkdocs", mkdocs.docs_dir
        warnings.extend(mkdocs.warnings)
        files = folder.page_files(mkdocs.docs_dir, (".md", ".markdown"))
    elif sphinx is not None:
        flavour, docs_dir = "sphinx", sphinx.source_dir
        folder = DocsFolder(root, source_dir=sphinx.source_dir)
        files = [f for f in folder.page_files(sphinx.source_dir, sphinx.source_suffixes) if "/_build/" not in f.path]
    else:
        flavour, docs_dir = "plain", ""
        files = [f for tree in DOC_TREES for f in folder.page_files(tree)]
    files = _top_level(folder, files) + files
    if len(files) > max_pages:
        warnings.append(f"The docs have {len(files)} pages; the first {max_pages} in path order were read.")
        files = sorted(files, key=lambda f: default_order_key(f.path))[:max_pages]
    references = _references(folder, files) if flavour != "mkdocs" else PageReferences({}, {})
    pages = _read_all(folder.root, folder.source_dir, docs_dir, files, executor, references, read or read_pages)
    by_path = {page.path: page for page in pages}
    for page in pages:
        warnings.extend(page.warnings)
    if mkdocs is not None and mkdocs.nav is not None:
        toc = nav_toc(mkdocs.nav, by_path)
    elif sphinx is not None:
        toc = sphinx_toc(sphinx, by_path)
    else:
        toc = default_toc(by_path)
    ordered = tuple(by_path[path] for path in toc.paths() if path in by_path)
    return DocSet(flavour, ordered, toc, tuple(dict.fromkeys(warnings)))


def _top_level(folder: DocsFolder, files: list[DocFile]) -> list[DocFile]:
    known = {f.path for f in files}
    wanted = [
        DocFile(path.name, PAGE_SUFFIXES[path.suffix.lower()])
        for path in folder.root.iterdir()
        if path.suffix.lower() in PAGE_SUFFIXES
        and path.stem.lower() in _TOP_LEVEL
        and path.name not in known
        and path.is_file()
        and not path.is_symlink()
    ]
    return sorted(wanted, key=lambda f: (_TOP_LEVEL.index(f.path.rsplit(".", 1)[0].lower()), f.path))


#: Reads one batch of pages: (root, source folder, docs folder, files, references) → pages.
PageReader = Callable[[str, str, str, Sequence[DocFile], "PageReferences | None"], list[Page]]


@dataclass(frozen=True, slots=True)
class PageReferences:
    """What ``:ref:`` and ``:doc:`` show: section titles by label, page titles by path without suffix."""

    labels: Mapping[str, str]
    doc_titles: Mapping[str, str]


def _references(folder: DocsFolder, files: Sequence[DocFile]) -> PageReferences:
    texts = {f.path: folder.read(f.path).text or "" for f in files if f.markup == "rst"}
    titles = {path.rsplit(".", 1)[0]: first_title(text) for path, text in texts.items()}
    return PageReferences(scan_labels(texts.values()), {path: title for path, title in titles.items() if title})


def _read_all(
    root: Path,
    source_dir: str,
    docs_dir: str,
    files: Sequence[DocFile],
    executor: Executor | None,
    references: PageReferences,
    read: PageReader,
) -> list[Page]:
    ordered = sorted(files, key=lambda f: default_order_key(f.path))
    if executor is None:
        return read(str(root), source_dir, docs_dir, ordered, references)
    batches = list(_batches(ordered))
    arguments = [(str(root), source_dir, docs_dir, batch, references) for batch in batches]
    pages: list[Page] = []
    for batch_pages in executor.map(read, *zip(*arguments, strict=True)):
        pages.extend(batch_pages)
    return pages


def _batches(files: Sequence[DocFile]) -> Iterator[list[DocFile]]:
    for start in range(0, len(files), _BATCH_PAGES):
        yield list(files[start : start + _BATCH_PAGES])


def read_pages(
    root: str, source_dir: str, docs_dir: str, files: Sequence[DocFile], references: PageReferences | None = None
) -> list[Page]:
    """Read ``files`` (a worker process's batch): each page with its markup's reader. A page whose
    reading runs out of memory is skipped with a warning (in a worker, at its memory bound)."""
    folder = DocsFolder(Path(root), source_dir=source_dir)
    pages = []
    for file in files:
        read = folder.read(file.path)
        page: Page | None = None
        try:
            if read.text is None:
                page = Page(file.path, file.path, (), warnings=(f"{file.path}: {read.warning}",))
            elif file.markup == "md":
                page = read_markdown(folder, file.path, read.text, docs_dir=docs_dir or "docs")
            else:
                labels, titles = (references.labels, references.doc_titles) if references else (None, None)
                page = read_rst(folder, file.path, read.text, labels=labels, doc_titles=titles)
        except MemoryError:
            page = None
        if page is None:  # out of the handler: its traceback (and the page's tree) is gone
            gc.collect()
            warning = f"{file.path}: reading it needed more memory than {MEMORY_SETTING} allows; the page was skipped."
            page = Page(file.path, file.path, (), warnings=(warning,))
        pages.append(page)
    return pages
