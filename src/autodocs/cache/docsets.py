"""What both stores share about docs sets: how a :class:`~autodocs.docset.build.DocSet` becomes
rows and comes back, and what a section search returns.

A docs set is keyed by ``(index_key, name, version)`` — ``index_key`` is
:attr:`autodocs.index.IndexClient.cache_key`, since two indexes can serve different files under
one name and version. It is stored as one ``docsets`` row (flavour, the pages' titles and
toctrees, the table of contents, warnings, or the reason a release has none) and one
``docset_sections`` row per section: its page, its heading path, its blocks kept whole (so a
code block is never cut) and its text, which the full-text index reads (headings weigh three
times the text, the page path and package name a little). A release known to have no docs set
is a ``docsets`` row with a ``missing_reason`` and no sections.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Literal, cast

from autodocs.cache.base import DocsetSectionHit
from autodocs.cache.search import MAX_INDEXED_CHARS, MAX_PATH_CHARS
from autodocs.docset.model import DocSet
from autodocs.docset.pages import Block, BlockKind, Page, Section, TocTreeEntry
from autodocs.docset.toc import TableOfContents, TocEntry

__all__ = [
    "HEADING_SEPARATOR",
    "DocsetHeader",
    "DocsetSectionHit",
    "SectionRow",
    "decode_docset",
    "encode_docset",
    "section_from_row",
]

HEADING_SEPARATOR = " › "
_FLAVOURS = ("mkdocs", "sphinx", "plain")


@dataclass(frozen=True, slots=True)
class DocsetHeader:
    """The ``docsets`` row of a release (JSON texts as stored)."""

    flavour: str
    pages: str
    toc: str
    warnings: str
    missing_reason: str


@dataclass(frozen=True, slots=True)
class SectionRow:
    """One ``docset_sections`` row: page position and path, section position, and its content."""

    page: int
    page_path: str
    page_title: str
    position: int
    heading: str  # the heading path joined: what the full-text index reads as the title
    heading_path: str  # JSON list
    blocks: str  # JSON list of [kind, text, object_path, directive]
    text: str  # indexed text (cut at MAX_INDEXED_CHARS)
    context: str  # the package name and page path: ranks a little, never finds on its own

    @property
    def content(self) -> tuple[str, str, str]:
        """blocks, text, context: the row's last columns."""
        return self.blocks, self.text, self.context


def encode_docset(name: str, docset: DocSet | None, missing_reason: str = "") -> tuple[DocsetHeader, list[SectionRow]]:
    """The rows of a docs set (or of a release that has none: ``docset`` None, ``missing_reason`` set)."""
    if docset is None:
        return DocsetHeader("plain", "[]", "[]", "[]", missing_reason or "no docs set"), []
    pages = [[page.path, page.title, [[e.target, e.title, e.glob] for e in page.toctree], list(page.warnings)]
             for page in docset.pages]  # fmt: skip
    header = DocsetHeader(
        docset.flavour,
        _dumps(pages),
        _dumps([_toc_entry(entry) for entry in docset.toc.entries]),
        _dumps(list(docset.warnings)),
        "",
    )
    return header, list(_section_rows(name, docset.pages))


def _section_rows(name: str, pages: tuple[Page, ...]) -> Iterator[SectionRow]:
    for page_number, page in enumerate(pages):
        for position, section in enumerate(page.sections):
            yield SectionRow(
                page=page_number,
                page_path=_text(page.path),
                page_title=_text(page.title),
                position=position,
                heading=_text(HEADING_SEPARATOR.join(section.heading_path)[:MAX_PATH_CHARS]),
                heading_path=_dumps(list(section.heading_path)),
                blocks=_dumps([_block(block) for block in section.blocks]),
                text=_text(section.text[:MAX_INDEXED_CHARS]),
                context=_text(f"{name} {page.path.replace('/', ' ')}"),
            )


def decode_docset(header: DocsetHeader, sections: list[tuple[int, str, str]]) -> DocSet | None:
    """The docs set from its rows (``sections``: page position, heading path, blocks; in order)."""
    if header.missing_reason:
        return None
    by_page: dict[int, list[Section]] = {}
    for page, heading_path, blocks in sections:
        by_page.setdefault(page, []).append(section_from_row(heading_path, blocks))
    pages = tuple(
        Page(
            str(path),
            str(title),
            tuple(by_page.get(number, ())),
            toctree=tuple(TocTreeEntry(str(t), str(title_), bool(glob)) for t, title_, glob in toctree),
            warnings=tuple(str(w) for w in warnings),
        )
        for number, (path, title, toctree, warnings) in enumerate(json.loads(header.pages))
    )
    toc = TableOfContents(tuple(_toc_from(entry) for entry in json.loads(header.toc)))
    flavour = cast(Literal["mkdocs", "sphinx", "plain"], header.flavour if header.flavour in _FLAVOURS else "plain")
    return DocSet(flavour, pages, toc, tuple(str(w) for w in json.loads(header.warnings)))


def section_from_row(heading_path: str, blocks: str) -> Section:
    return Section(
        tuple(str(title) for title in json.loads(heading_path)),
        tuple(_block_from(raw) for raw in json.loads(blocks)),
    )


def _block(block: Block) -> list[str]:
    return (
        [block.kind, block.text, block.object_path, block.directive] if block.object_path else [block.kind, block.text]
    )


def _block_from(raw: list[Any]) -> Block:
    kind: BlockKind = raw[0] if raw[0] in ("text", "code", "api") else "text"
    return Block(kind, str(raw[1]), *(str(part) for part in raw[2:4]))


def _toc_entry(entry: TocEntry) -> list[Any]:
    return [entry.title, entry.path, [_toc_entry(child) for child in entry.children]]


def _toc_from(raw: list[Any]) -> TocEntry:
    return TocEntry(str(raw[0]), str(raw[1]), tuple(_toc_from(child) for child in raw[2]))


def _dumps(value: Any) -> str:
    return _text(json.dumps(value, ensure_ascii=False, separators=(",", ":")))


def _text(text: str) -> str:
    """PostgreSQL text holds no NUL character: one read from a page is shown as U+FFFD in both stores."""
    return text.replace("\x00", "\ufffd")
