"""A stored docs set read in parts, for the calls that need only some of it.

A table of contents needs a docs set's outline (one header row); a query needs the sections the
store's full-text index finds for it and where they sit in the set (their reading order, for
the numbers a cursor records). Reading a large set whole is what these avoid: Django's 6,000
sections take about 80 ms to read back and rebuild, its header row about 1 ms.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from autodocs.cache import Store
from autodocs.cache.base import DocsetCandidate
from autodocs.docs.units import is_top_level_readme
from autodocs.docset.model import DocSet

__all__ = ["StoredDocset"]


class StoredDocset:
    """A stored docs set read in parts: its outline (pages without their sections, the table of
    contents, the warnings), where its sections are, and the sections the store's full-text
    index finds for a query. Kept in memory for many more releases than whole docs sets, so it
    holds no section itself: a method given ``whole`` (the docs set, when the lookup found it in
    memory) reads from it instead of the store."""

    def __init__(self, store: Store, key: tuple[str, str, str], outline: DocSet) -> None:
        """``key``: (index key, name, version); ``outline``: the docs set (its sections are dropped)."""
        self._store = store
        self._key = key
        self.outline = outline_of(outline)
        self._places: list[tuple[int, int]] | None = None
        self._numbers: dict[tuple[int, int], int] | None = None
        self._by_number: list[tuple[int, int]] | None = None

    @property
    def key(self) -> tuple[str, str, str]:
        return self._key

    async def places(self, whole: DocSet | None = None) -> list[tuple[int, int]]:
        """(page, position) of every section that has content, in reading order (read once)."""
        if self._places is None:
            if whole is not None:
                self._places = [
                    (number, position)
                    for number, page in enumerate(whole.pages)
                    for position, section in enumerate(page.sections)
                    if section.blocks
                ]
            else:
                self._places = await self._store.docset_places(*self._key)
        return self._places

    async def unit_numbers(self, whole: DocSet | None = None) -> dict[tuple[int, int], int]:
        """The number of each section's unit among the docs units of a reply (the sections with
        content, in reading order, top-level README pages left out: :func:`~autodocs.docs.units.docs_units`)."""
        if self._numbers is None:
            pages = self.outline.pages
            places = [place for place in await self.places(whole) if not is_top_level_readme(pages[place[0]])]
            self._numbers = {place: number for number, place in enumerate(places)}
        return self._numbers

    async def places_by_number(self, whole: DocSet | None = None) -> list[tuple[int, int]]:
        """The place of each docs unit, by its number (:meth:`unit_numbers` turned around)."""
        if self._by_number is None:
            self._by_number = list(await self.unit_numbers(whole))
        return self._by_number

    async def sections_at(
        self, places: Sequence[tuple[int, int]], whole: DocSet | None = None
    ) -> list[DocsetCandidate]:
        """The sections at these (page, position) places: from ``whole`` when given, else the store."""
        if whole is None:
            return await self._store.docset_sections_at(*self._key, places)
        pages = whole.pages
        return [
            DocsetCandidate(page, position, pages[page].sections[position])
            for page, position in places
            if page < len(pages) and position < len(pages[page].sections)
        ]

    async def candidates(self, query: str, limit: int) -> list[DocsetCandidate]:
        """The sections worth ranking for ``query`` (:meth:`~autodocs.cache.Store.docset_candidates`)."""
        return await self._store.docset_candidates(*self._key, query, limit)


def outline_of(docset: DocSet) -> DocSet:
    """``docset`` without its pages' sections (itself when it has none)."""
    if not any(page.sections for page in docset.pages):
        return docset
    pages = tuple(replace(page, sections=()) for page in docset.pages)
    return replace(docset, pages=pages)
