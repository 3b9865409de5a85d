"""A table of contents from what orders the pages: MkDocs' nav, Sphinx's toctrees, or a default.

The default is MkDocs' own when it has no nav: folder by folder, ``index``/``README`` first, then
the other pages by name; sub-folders after the pages. Pages a nav or toctree leaves out are not
dropped: they follow under "Other pages", since search should still find them.
"""

from __future__ import annotations

import fnmatch
import posixpath
from collections.abc import Iterable, Mapping

from autodocs.docset.nav import NavItem, SphinxConfig
from autodocs.docset.pages import Page
from autodocs.docset.toc import TableOfContents, TocEntry

__all__ = ["default_toc", "nav_toc", "sphinx_toc"]

_INDEX_STEMS = ("index", "readme", "contents")
_MAX_ENTRIES = 50_000


def nav_toc(nav: Iterable[NavItem], pages: Mapping[str, Page]) -> TableOfContents:
    placed: set[str] = set()

    def entry(item: NavItem) -> TocEntry | None:
        if item.children or not item.path:
            children = tuple(e for e in (entry(child) for child in item.children) if e is not None)
            return TocEntry(item.title, "", children) if children else None
        page = pages.get(item.path)
        if page is None:
            return None
        placed.add(item.path)
        return TocEntry(item.title or page.title, item.path)

    entries = [e for e in (entry(item) for item in nav) if e is not None]
    return TableOfContents(tuple(entries) + _others(pages, placed))


def sphinx_toc(config: SphinxConfig, pages: Mapping[str, Page]) -> TableOfContents:
    """Depth-first from the root document through each page's toctree entries."""
    by_docname = {_docname(config, path): path for path in pages}
    placed: set[str] = set()
    budget = [_MAX_ENTRIES]

    def visit(docname: str, title: str, depth: int) -> TocEntry | None:
        path = by_docname.get(docname)
        if path is None or path in placed or depth > 30 or budget[0] <= 0:
            return None
        placed.add(path)
        budget[0] -= 1
        page = pages[path]
        children = []
        for item in page.toctree:
            for target in _targets(docname, item.target, item.glob, by_docname):
                child = visit(target, item.title if not item.glob else "", depth + 1)
                if child is not None:
                    children.append(child)
        return TocEntry(title or page.title, path, tuple(children))

    root = visit(config.root_doc, "", 0)
    top = (root,) if root is not None else ()
    return TableOfContents(top + _others(pages, placed))


def default_toc(pages: Mapping[str, Page]) -> TableOfContents:
    return TableOfContents(tuple(TocEntry(pages[p].title, p) for p in sorted(pages, key=default_order_key)))


def default_order_key(path: str) -> tuple[str, int, str]:
    folder, _, name = path.rpartition("/")
    stem = name.rsplit(".", 1)[0].lower()
    return folder, 0 if stem in _INDEX_STEMS else 1, name.lower()


def _others(pages: Mapping[str, Page], placed: set[str]) -> tuple[TocEntry, ...]:
    rest = [p for p in sorted(pages, key=default_order_key) if p not in placed]
    if not rest:
        return ()
    if not placed:
        return tuple(TocEntry(pages[p].title, p) for p in rest)
    return (TocEntry("Other pages", "", tuple(TocEntry(pages[p].title, p) for p in rest)),)


def _docname(config: SphinxConfig, path: str) -> str:
    relative = path[len(config.source_dir) + 1 :] if config.source_dir else path
    for suffix in config.source_suffixes:
        if relative.endswith(suffix):
            return relative[: -len(suffix)]
    return relative.rsplit(".", 1)[0]


def _targets(current: str, target: str, glob: bool, known: Mapping[str, str]) -> list[str]:
    """Docnames a toctree line names, relative to ``current``'s folder (``/x`` from the source root)."""
    base = "" if target.startswith("/") else posixpath.dirname(current)
    joined = posixpath.normpath(posixpath.join(base, target.lstrip("/")))
    for suffix in (".rst", ".txt", ".md"):
        joined = joined.removesuffix(suffix)
    if joined.startswith(".."):
        return []
    if glob:
        return sorted(name for name in known if fnmatch.fnmatchcase(name, joined) and name != current)
    return [joined]
