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
* **approximate** (the counts not made yet, for a docs set of over :data:`COUNT_AT_ONCE`
  sections — a smaller one is counted first, in tens of ms — on the first query after it was
  built or read back): ranks the README, the API entries and the :data:`CANDIDATES` sections the store's
  full-text index finds best for the question (FTS5's bm25, PostgreSQL's ``ts_rank``) by the
  same BM25F, over that smaller set (:func:`approximate_unit_set`), while the counts are made.

:class:`Rankings` keeps those counts per release and says which of the two a page is.

Every unit keeps the number it has in the whole set (README, then the docs sections with
content in reading order, then the API entries), so the page's cursor reads the same as one cut
from the whole set: a later page goes on from the units this one delivered.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import structlog

from autodocs.cache import Store
from autodocs.cache.base import DocsetCandidate
from autodocs.docs.model import PackageDocument
from autodocs.docs.placed_ranking import PlacedCounts
from autodocs.docs.unit_pages import UnitSet
from autodocs.docs.units import Unit, api_units, docs_unit, docs_units, readme_units
from autodocs.docset.model import DocSet
from autodocs.memo import LruMap
from autodocs.usecases.stored_docsets import StoredDocset

__all__ = [
    "CANDIDATES",
    "COUNT_AT_ONCE",
    "FETCHED",
    "Bases",
    "Rankings",
    "Release",
    "approximate_unit_set",
    "count_docs_units",
    "ranked_unit_set",
]

log = structlog.get_logger(__name__)

#: Docs sections fetched for an approximate ranking, and the best ones fetched for a ranked page
#: (a 10,000-token page shows a few dozen; a page looks at most 64 past the last that fit).
CANDIDATES = 60
FETCHED = 96
#: A docs set of at most this many sections has its words counted before its first query's page
#: (a few tens of ms); a larger one's first query is ranked approximately while they are counted.
COUNT_AT_ONCE = 800
#: Releases whose docs sections' word counts are kept (Django's take about 9 MB; its docs set, 12 MB).
_MEMORY_COUNTS = 8
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


#: (index key, name, version, number of API entries): the API entries' text fills the docs' API
#: placeholders, so the docs units (and their counts) are of that many entries.
RankingKey = tuple[str, str, str, int]


@dataclass(frozen=True, slots=True)
class Release:
    """What ranking a release's query page needs to know of it."""

    document: PackageDocument
    key: RankingKey
    entries: Sequence[tuple[str, str]]  # its cached API entries (path, text), in stored order

    @property
    def api_texts(self) -> dict[str, str]:
        return dict(reversed(self.entries))


class Rankings:
    """The word counts that rank query pages over stored docs sets, kept per release (a few):
    the README's and API entries' (:class:`Bases`) and the docs sections', these counted in a
    thread — before the page for a small docs set, in the background for a large one (only
    where ``background``: a one-shot process would wait for it at exit)."""

    def __init__(self, store: Store, *, background: bool = True) -> None:
        self._store = store
        self._background = background
        self._bases: LruMap[RankingKey, Bases] = LruMap(_MEMORY_COUNTS * 2)
        self._docs: LruMap[RankingKey, PlacedCounts] = LruMap(_MEMORY_COUNTS)
        self._counting: dict[RankingKey, asyncio.Future[PlacedCounts | None]] = {}

    def kept(self, key: RankingKey) -> tuple[Bases | None, PlacedCounts | None]:
        return self._bases.get(key), self._docs.get(key)

    async def unit_set(
        self, release: Release, stored: StoredDocset, whole: DocSet | None, query: str
    ) -> tuple[UnitSet, tuple[int, int, int], bool]:
        """The units for ``query``'s page, the number of each origin's, and whether they were
        ranked exactly (else :meth:`count_in_background` once the page is made); raises what the
        store raises."""
        bases = self._bases.get(release.key)
        if bases is None:
            bases = Bases.of(readme_units(release.document), api_units(release.entries))
            self._bases.put(release.key, bases)
        docs_counts = self._docs.get(release.key)
        package, api_texts = release.document.name, release.api_texts
        if docs_counts is None and len(await stored.unit_numbers(whole)) <= COUNT_AT_ONCE:
            docs_counts = await asyncio.shield(self._count(release, whole))
        if docs_counts is not None:
            made = await ranked_unit_set(stored, whole, query, bases, docs_counts, api_texts, package=package)
            if made is not None:
                return *made, True
        return *await approximate_unit_set(stored, whole, query, bases, api_texts, package=package), False

    def count_in_background(self, release: Release, whole: DocSet | None) -> None:
        """Count the release's docs sections' words in a thread, unless in a one-shot process."""
        if self._background:
            self._count(release, whole)

    def _count(self, release: Release, docset: DocSet | None) -> asyncio.Future[PlacedCounts | None]:
        """The counting of the docs sections' words (the docs set read whole if not in memory, and
        not kept), started unless under way; its counts are kept (None: the docs set is gone)."""
        key, document = release.key, release.document
        under_way = self._counting.get(key)
        if under_way is not None:
            return under_way
        api_texts = release.api_texts

        async def count() -> PlacedCounts | None:
            whole = docset or await self._store.get_docset(*key[:3])
            if whole is None:
                return None
            return await asyncio.to_thread(
                lambda: count_docs_units(docs_units(whole, api_texts, package=document.name))
            )

        def counted(task: asyncio.Future[PlacedCounts | None]) -> None:
            self._counting.pop(key, None)
            if task.cancelled():
                return
            if task.exception() is not None:
                log.warning("docs.counting_failed", package=document.name, version=document.version)
            elif (made := task.result()) is not None:
                self._docs.put(key, made)

        task = asyncio.ensure_future(count())
        self._counting[key] = task
        task.add_done_callback(counted)
        return task

    def forget(self, name: str | None) -> None:
        """Drop what is kept of ``name`` (None: of all)."""
        if name is None:
            self._bases.clear()
            self._docs.clear()
        else:
            self._bases.discard_where(lambda key: key[1] == name)
            self._docs.discard_where(lambda key: key[1] == name)

    @property
    def counting(self) -> int:
        """Docs sets whose words are being counted."""
        return len(self._counting)

    async def aclose(self) -> None:
        """Stop counting (a count under way in its thread ends unused)."""
        for task in list(self._counting.values()):
            task.cancel()
        await asyncio.gather(*self._counting.values(), return_exceptions=True)

    async def wait(self) -> None:
        """Wait until no docs set's words are being counted (tests, benchmarks)."""
        while self._counting:
            await asyncio.gather(*self._counting.values(), return_exceptions=True)


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
