"""One budgeted page of a release's README, docs pages and API entries, ranked together.

The units (:mod:`autodocs.docs.units`) go in a reading sequence: with a query, by relevance
(:func:`autodocs.docs.ranking.placed_scores`: titles weigh more, release notes less), the
README's unmatched sections after the matches; with named sections, those (a docs page by its
path, a heading of it as ``path#Heading``, or a README heading). A page takes whole units from
the sequence while they fit; the first unit left, when larger than a whole page, is cut between
its blocks — never inside a code block, unless that one block is larger than a whole page: then
it is cut between lines, its fence closed on this page and opened again on the next. The cursor
(:mod:`autodocs.docs.unit_cursor`) records what was delivered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from autodocs.docs.budget import SECTION_OVERHEAD_TOKENS, fitting_prefix, render_section
from autodocs.docs.model import DocsPage, PackageDocument, reply_json, reply_payload
from autodocs.docs.pages import HOW_TO_GET_MORE, MAX_OMITTED_LISTED, PageRequest, header_page, usable_budget
from autodocs.docs.placed_ranking import PlacedCounts, PlacedIndex
from autodocs.docs.tokens import count_json_tokens, count_tokens
from autodocs.docs.unit_cursor import UnitCursor, encode_unit_cursor
from autodocs.docs.unit_names import SectionNames, match_name, nearest_names
from autodocs.docs.units import Unit

__all__ = ["UnitPageRequest", "UnitSet", "make_unit_page", "unit_sequence"]

_SHOWN_LEVEL = 2
_PAGE_ATTEMPTS = 5
#: A page within this many tokens (or a 40th) of its budget is not tried again for a fuller one.
_CLOSE_ENOUGH = 24
#: Sections in a row that do not fit after which a page stops looking for smaller ones to fill it.
_MAX_MISSES = 64
#: What writing the count into the reply's ``"tokens": 0`` adds to it (up to seven digits).
_TOKENS_FIELD = 4
#: A page names one omitted section per this many characters of content (5 at least, 50 at most).
_CHARS_PER_LISTED_TITLE = 240


@dataclass(frozen=True, slots=True)
class UnitPageRequest:
    header: PageRequest  # budget, constraint, source, latest, stale (query and wanted are here too)
    counts: tuple[int, int, int]
    start: UnitCursor | None = None
    warnings: tuple[str, ...] = ()  # besides the header's: what building the docs set noted


def unit_sequence(unit_set: UnitSet, query: str | None, wanted: tuple[str, ...]) -> tuple[list[int], list[str]]:
    """Indices of the units in the order pages take them, and the wanted names that match none."""
    units = unit_set.units
    missing: list[str] = []
    if wanted:
        candidates: list[int] = []
        for name in wanted:
            found = match_name(units, unit_set.names, name)
            if not found:
                missing.append(name)
            candidates.extend(index for index in found if index not in candidates)
    else:
        candidates = list(unit_set.present)
    if not query:
        return candidates, missing
    scores = unit_set.scores(query)
    if not wanted:  # unmatched docs pages and API entries are reached through the TOC and the API tool
        candidates = [i for i in candidates if scores[i] > 0 or units[i].origin == "readme"]
    return sorted(candidates, key=lambda index: -scores[index]), missing


@dataclass(slots=True)
class _Taken:
    index: int
    text: str
    continued: bool
    complete: bool


@dataclass(slots=True)
class _Cut:
    taken: list[_Taken]
    delivered: set[int]
    partial: tuple[int, int, int] | None


class UnitSet:
    """The units one page is cut from, with what is worth keeping between pages of them: each
    unit's cost on a page (its rendered Markdown, its title and its reference, counted when first
    needed) and their ranking index (built at the first query).

    ``counted``: stem counts already made (:class:`~autodocs.docs.placed_ranking.PlacedCounts`,
    kept between questions: a release's README and API entries, its docs sections), whose entries
    are the units ``order`` names, in that order; units ``order`` does not name are counted when
    first ranked. ``present``: when only some units are really there (a query's page over the
    docs sections fetched for it, :mod:`autodocs.usecases.docs_ranking`), their indices; the
    others are stand-ins no page takes. ``costs``: the units' costs counted so far (whole, fixed),
    shared with other sets of the same units.
    """

    def __init__(
        self,
        units: Sequence[Unit],
        *,
        counted: Sequence[PlacedCounts] = (),
        order: Sequence[int] = (),
        present: Sequence[int] | None = None,
        costs: tuple[dict[int, int], dict[int, int]] | None = None,
    ) -> None:
        self.units = units
        self.present: Sequence[int] = range(len(units)) if present is None else present
        self._counted = counted
        self._order = order
        #: Each unit's cost on a page, whole and its fixed part: shared by the unit sets of one
        #: release's query pages (``costs``) when their units are the same at the same numbers.
        self._whole, self._fixed = costs if costs is not None else ({}, {})
        self._index: PlacedIndex | None = None
        self._names: SectionNames | None = None
        self._scored: tuple[str, list[float]] | None = None

    @property
    def names(self) -> SectionNames:
        if self._names is None:
            self._names = SectionNames.of(self.units)
        return self._names

    @property
    def indexed(self) -> bool:
        return self._index is not None

    def build_index(self) -> None:
        """Count the units' words for ranking (done by the first query otherwise); thread-safe enough:
        two builds at once make the same index, and the last one is kept."""
        if self._index is None:
            named = set(self._order)
            rest: Sequence[int] = [index for index in self.present if index not in named] if named else self.present
            self._order = [*self._order, *rest] if named else rest
            entries = [(unit.title, unit.above, unit.content) for unit in (self.units[index] for index in rest)]
            self._index = PlacedIndex(entries, segments=self._counted)

    def scores(self, query: str) -> list[float]:
        """Every unit's relevance to ``query`` (0 for a stand-in); the last question's are kept."""
        if self._scored is not None and self._scored[0] == query:
            return self._scored[1]
        self.build_index()
        assert self._index is not None
        ranked = self._index.scores(query)
        order = self._order
        scores = ranked
        if not (len(order) == len(self.units) and isinstance(order, range)):
            scores = [0.0] * len(self.units)
            for index, score in zip(order, ranked, strict=True):
                scores[index] = score
        self._scored = (query, scores)
        return scores

    def fixed(self, index: int) -> int:
        cost = self._fixed.get(index)
        if cost is None:
            unit = self.units[index]
            ref = reply_payload(unit.ref())
            cost = count_tokens(unit.shown_title) + count_tokens(str(ref)) + SECTION_OVERHEAD_TOKENS + 2
            self._fixed[index] = cost
        return cost

    def piece(self, index: int, text: str, *, continued: bool, complete: bool) -> int:
        shown = self.units[index].shown_title
        rendered = render_section(shown, _SHOWN_LEVEL, text, continued=continued, complete=complete)
        return count_json_tokens(rendered) + self.fixed(index)

    def whole(self, index: int) -> int:
        cost = self._whole.get(index)
        if cost is None:
            cost = self.piece(index, self.units[index].content, continued=False, complete=True)
            self._whole[index] = cost
        return cost


def _paginate(
    units: Sequence[Unit], sequence: Sequence[int], room: int, start: UnitCursor | None, costs: UnitSet
) -> _Cut:
    delivered = set(start.delivered) if start else set()
    partial = start.partial if start else None
    if partial is not None and (partial[0] >= len(units) or partial[1] >= len(units[partial[0]].blocks)):
        partial = None
    taken: list[_Taken] = []
    used = 0
    if partial is not None:
        piece, partial = _cut(units, partial, room, costs)
        taken.append(piece)
        used += costs.piece(piece.index, piece.text, continued=piece.continued, complete=piece.complete)
        if partial is None:
            delivered.add(piece.index)
    else:
        first = next((index for index in sequence if index not in delivered), None)
        if first is not None and costs.whole(first) > room:
            piece, partial = _cut(units, (first, 0, 0), room, costs)
            taken.append(piece)
            used += costs.piece(piece.index, piece.text, continued=False, complete=piece.complete)
            if partial is None:
                delivered.add(first)
    if partial is None:
        misses = 0
        for index in sequence:
            if index in delivered:
                continue
            cost = costs.whole(index)
            if used + cost <= room:
                taken.append(_Taken(index, units[index].content, False, True))
                delivered.add(index)
                used += cost
                misses = 0
            else:
                misses += 1
                if misses > _MAX_MISSES:  # the rest ranks lower still: later pages take it
                    break
    return _Cut(taken, delivered, partial)


def _cut(
    units: Sequence[Unit], at: tuple[int, int, int], room: int, costs: UnitSet
) -> tuple[_Taken, tuple[int, int, int] | None]:
    """The part of unit ``at[0]`` from block ``at[1]`` (``at[2]`` characters in) that fits ``room``:
    whole blocks while they fit, else the first block cut between lines; and where the rest starts."""
    index, block, offset = at
    unit = units[index]
    continued = block > 0 or offset > 0
    parts: list[str] = []
    if offset > 0:
        parts.append(_block_rest(unit, block, offset))
        block += 1
    else:
        while block < len(unit.blocks):
            trial = "\n\n".join([*parts, unit.blocks[block]])
            complete = block == len(unit.blocks) - 1
            if costs.piece(index, trial, continued=continued, complete=complete) > room:
                break
            parts.append(unit.blocks[block])
            block += 1
        if not parts:  # one block larger than the whole page
            return _cut_block(unit, index, block, 0, room, costs, continued)
    if offset > 0 and costs.piece(index, parts[0], continued=True, complete=block >= len(unit.blocks)) > room:
        return _cut_block(unit, index, block - 1, offset, room, costs, continued)
    rest = (index, block, 0) if block < len(unit.blocks) else None
    return _Taken(index, "\n\n".join(parts), continued, rest is None), rest


def _cut_block(
    unit: Unit, index: int, block: int, offset: int, room: int, costs: UnitSet, continued: bool
) -> tuple[_Taken, tuple[int, int, int] | None]:
    opening, body, closing = _fenced(unit, block)
    fences = (opening + "\n" + closing + "\n") if unit.code[block] else ""
    overhead = costs.piece(index, fences, continued=continued, complete=False)
    fit = fitting_prefix(body[offset:], max(room - overhead, 1))
    end = offset + len(fit)
    text = f"{opening}\n{fit.rstrip(chr(10))}\n{closing}" if unit.code[block] else fit
    if end < len(body):
        return _Taken(index, text, continued, False), (index, block, end)
    rest = (index, block + 1, 0) if block + 1 < len(unit.blocks) else None
    return _Taken(index, text, continued, rest is None), rest


def _block_rest(unit: Unit, block: int, offset: int) -> str:
    opening, body, closing = _fenced(unit, block)
    rest = body[offset:]
    return f"{opening}\n{rest.rstrip(chr(10))}\n{closing}" if unit.code[block] else rest


def _fenced(unit: Unit, block: int) -> tuple[str, str, str]:
    """A code block as (opening fence line, body, closing fence); a text block as ("", text, "")."""
    text = unit.blocks[block]
    if not unit.code[block]:
        return "", text, ""
    lines = text.split("\n")
    opening = lines[0]
    fence = opening.strip()[:3]
    if len(lines) > 1 and lines[-1].strip().startswith(fence):
        return opening, "\n".join(lines[1:-1]), lines[-1]
    marks = opening.strip()
    return opening, "\n".join(lines[1:]), marks[: len(marks) - len(marks.lstrip(marks[0]))]


def make_unit_page(document: PackageDocument, unit_set: UnitSet, request: UnitPageRequest) -> DocsPage:
    """The page of ``unit_set`` ``request`` asks for, its reply within the budget as sent."""
    header = request.header
    query = request.start.query if request.start else header.query
    wanted = request.start.sections if request.start else header.wanted
    sequence, missing = unit_sequence(unit_set, query, wanted)
    costs, units = unit_set, unit_set.units
    base = header_page(document, header)
    update: dict[str, Any] = {"warnings": (*base.warnings, *request.warnings)}
    if missing:
        update |= {"missing_sections": tuple(missing), "available_sections": tuple(nearest_names(units, missing))}
    base = base.model_copy(update=update)
    usable = usable_budget(header.budget)
    room = usable - count_tokens(reply_json(base))
    left = [index for index in sequence if request.start is None or index not in request.start.delivered]
    partial = request.start.partial if request.start else None
    if partial is not None or not _all_fit(costs, left, room):
        room -= _listing_reserve(document, request, unit_set, left, room)
    # The room for sections is a guess until a page is counted as sent; each count corrects it
    # (both ways), and the fullest page that fits is kept.
    best: tuple[int, DocsPage, int] | None = None
    page, tokens, tried = base, 0, set()
    for _ in range(_PAGE_ATTEMPTS):
        room = max(room, 1)
        tried.add(room)
        cut = _paginate(units, sequence, room, request.start, costs)
        page = _assemble(document, units, request, base, sequence, cut, query, wanted)
        tokens = count_tokens(reply_json(page))
        if tokens <= usable and (best is None or len(page.content) > best[0]):
            best = (len(page.content), page, tokens)
        slack = usable - tokens
        if 0 <= slack <= max(_CLOSE_ENOUGH, usable // 40) or room + slack in tried or (slack < 0 and room <= 1):
            break
        room += slack if slack > 0 else slack - 4
    if best is not None:
        _, page, tokens = best
    return page.model_copy(update={"tokens": tokens + _TOKENS_FIELD})


def _all_fit(costs: UnitSet, indices: Sequence[int], room: int) -> bool:
    used = 0
    for index in indices:
        used += costs.whole(index)
        if used > room:
            return False
    return True


def _listing_reserve(
    document: PackageDocument, request: UnitPageRequest, unit_set: UnitSet, left: Sequence[int], room: int
) -> int:
    """A first guess at what a cut page adds: the how-to, its cursor and the omitted titles it
    lists (:func:`make_unit_page` checks the page it gets against the budget)."""
    start = request.start
    probe = UnitCursor(
        document.name,
        document.version,
        start.query if start else request.header.query,
        start.sections if start else request.header.wanted,
        request.counts,
        frozenset(range(0, 2 * min(len(left), 16), 2)),
        (len(unit_set.units), 99, 99_999),
    )
    listed = min(len(left), MAX_OMITTED_LISTED, max(5, room * 4 // _CHARS_PER_LISTED_TITLE))
    titles = sum(count_tokens(unit_set.units[index].shown_title) + 2 for index in left[:listed])
    return count_tokens(HOW_TO_GET_MORE) + count_tokens(encode_unit_cursor(probe)) + 24 + titles


def _assemble(
    document: PackageDocument,
    units: Sequence[Unit],
    request: UnitPageRequest,
    base: DocsPage,
    sequence: Sequence[int],
    cut: _Cut,
    query: str | None,
    wanted: tuple[str, ...],
) -> DocsPage:
    remaining = [index for index in sequence if index not in cut.delivered]
    omitted = [index for index in remaining if cut.partial is None or index != cut.partial[0]]
    next_cursor = None
    if remaining:
        counts = request.start.counts if request.start else request.counts
        cursor = UnitCursor(
            document.name, document.version, query, wanted, counts, frozenset(cut.delivered), cut.partial
        )
        next_cursor = encode_unit_cursor(cursor)
    rendered = []
    for piece in cut.taken:
        shown = units[piece.index].shown_title
        rendered.append(
            render_section(shown, _SHOWN_LEVEL, piece.text, continued=piece.continued, complete=piece.complete)
        )
    used = sum(len(text) for text in rendered)
    listed = min(len(omitted), MAX_OMITTED_LISTED, max(5, used // _CHARS_PER_LISTED_TITLE))
    return base.model_copy(
        update={
            "content": "\n\n".join(rendered),
            "sections": tuple(units[piece.index].shown_title for piece in cut.taken),
            "section_refs": tuple(units[piece.index].ref() for piece in cut.taken),
            "truncated": next_cursor is not None,
            "omitted_sections": tuple(units[index].shown_title for index in omitted[:listed]),
            "omitted_count": len(omitted),
            "next_cursor": next_cursor,
            "how_to_get_more": HOW_TO_GET_MORE if next_cursor else None,
        }
    )
