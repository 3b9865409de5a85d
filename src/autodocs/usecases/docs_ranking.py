"""A query's page over a stored docs set without reading it whole.

Ranking a docs set needs its sections' words counted: for Django's 6,000 sections, reading the
set back takes about 80 ms and counting its words 0.4–1 s. A page needs only the few dozen
sections it shows. So the counts are kept apart from the text, per release
(:class:`~autodocs.docs.placed_ranking.PlacedCounts`: the README's and API entries' in
:class:`Bases`, the docs sections' once counted in the background), and a query

* **ranked** (the docs sections' counts known): ranks every unit exactly as a docs set in memory
  is ranked (the same BM25F over the same units), then takes the :data:`FETCHED` best docs
  sections from the docs set in memory or, when it has left memory, from the store
  (:func:`ranked_unit_set`);
* **approximate** (the counts not made yet: the first query after a docs set was built or read
  back): ranks the README, the API entries and the :data:`CANDIDATES` sections the store's
  full-text index finds best for the question (FTS5's bm25, PostgreSQL's ``ts_rank``) by the
  same BM25F, over that smaller set (:func:`approximate_unit_set`), while the counts are made.

Every unit keeps the number it has in the whole set (README, then the docs sections with
content in reading order, then the API entries), so the page's cursor reads the same as one cut
from the whole set: a later page goes on from the units this one delivered.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from autodocs.cache.base import DocsetCandidate
from autodocs.docs.placed_ranking import PlacedCounts
from autodocs.docs.unit_pages import UnitSet
from autodocs.docs.units import Unit, docs_unit
from autodocs.docset.model import DocSet
from autodocs.usecases.stored_docsets import StoredDocset

__all__ = ["CANDIDATES", "FETCHED", "Bases", "approximate_unit_set", "count_docs_units", "ranked_unit_set"]

#: Docs sections fetched for an approximate ranking, and the best ones fetched for a ranked page
#: (a 10,000-token page shows a few dozen; a page looks at most 64 past the last that fit).
CANDIDATES = 60
FETCHED = 96
#: What fills the places of the sections not fetched (no page takes one).
_STAND_IN = Unit("docs", "", (), (), ())


@dataclass(frozen=True, slots=True)
class Bases:
    """A release's README and API units, with their words counted for ranking; and the page costs
    of its units (whole, fixed part) by number, counted as pages need them (kept between
    questions: counting a unit's tokens is most of a page's time)."""

    readme: list[Unit]
    api: list[Unit]
    counts: PlacedCounts
    costs: tuple[dict[int, int], dict[int, int]] = field(default_factory=lambda: ({}, {}))

    @classmethod
    def of(cls, readme: list[Unit], api: list[Unit]) -> Bases:
        return cls(readme, api, PlacedCounts([(unit.title, unit.above, unit.content) for unit in (*readme, *api)]))


def count_docs_units(units: Sequence[Unit]) -> PlacedCounts:
    """The docs units' words counted (a thread: about 0.4–1 s for Django's)."""
    return PlacedCounts([(unit.title, unit.above, unit.content) for unit in units])


async def ranked_unit_set(
    stored: StoredDocset,
    whole: DocSet | None,
    query: str,
    bases: Bases,
    docs_counts: PlacedCounts,
    api_texts: Mapping[str, str],
    *,
    package: str,
) -> tuple[UnitSet, tuple[int, int, int]] | None:
    """The units for ``query``'s page, ranked over the whole set, its best docs sections fetched
    (from ``whole``, the docs set in memory, else the store); None when the counts are not of
    this docs set (the caller ranks it another way)."""
    numbers = await stored.unit_numbers(whole)
    if len(numbers) != docs_counts.count:
        return None
    readme, docs, api = len(bases.readme), docs_counts.count, len(bases.api)
    units: list[Unit] = [*bases.readme, *(_STAND_IN,) * docs, *bases.api]
    order = [*range(readme), *range(readme + docs, readme + docs + api), *range(readme, readme + docs)]
    unit_set = UnitSet(units, counted=[bases.counts, docs_counts], order=order, costs=bases.costs)
    scores = unit_set.scores(query)
    best = sorted((i for i in range(readme, readme + docs) if scores[i] > 0), key=lambda i: -scores[i])[:FETCHED]
    places = await stored.places_by_number(whole)
    found = await stored.sections_at([places[index - readme] for index in best], whole)
    chosen = _place(units, found, numbers, stored, readme, api_texts, package)
    unit_set.present = [*range(readme), *range(readme + docs, readme + docs + api), *chosen]
    return unit_set, (readme, docs, api)


async def approximate_unit_set(
    stored: StoredDocset,
    whole: DocSet | None,
    query: str,
    bases: Bases,
    api_texts: Mapping[str, str],
    *,
    package: str,
) -> tuple[UnitSet, tuple[int, int, int]]:
    """The units for ``query``'s page, ranked over the README, the API entries and the sections
    the store's full-text index finds; raises what the store raises (:class:`~autodocs.errors.CacheError`)."""
    numbers = await stored.unit_numbers(whole)
    found = await stored.candidates(query, CANDIDATES)
    readme, docs, api = len(bases.readme), len(numbers), len(bases.api)
    units: list[Unit] = [*bases.readme, *(_STAND_IN,) * docs, *bases.api]
    chosen = _place(units, found, numbers, stored, readme, api_texts, package)
    present = [*range(readme), *range(readme + docs, readme + docs + api), *chosen]
    unit_set = UnitSet(units, counted=[bases.counts], order=present[: readme + api], present=present, costs=bases.costs)
    return unit_set, (readme, docs, api)


def _place(
    units: list[Unit],
    found: Sequence[DocsetCandidate],
    numbers: Mapping[tuple[int, int], int],
    stored: StoredDocset,
    first_docs: int,
    api_texts: Mapping[str, str],
    package: str,
) -> list[int]:
    """Put the ``found`` sections' units at their numbers in ``units``; those numbers."""
    pages = stored.outline.pages
    chosen: list[int] = []
    for candidate in found:
        number = numbers.get((candidate.page, candidate.position))
        if number is not None:
            index = first_docs + number
            units[index] = docs_unit(pages[candidate.page], candidate.section, api_texts, package=package)
            chosen.append(index)
    return chosen
