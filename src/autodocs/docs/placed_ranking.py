"""Ranking the sections of a whole release at once — README, docs pages, API entries — fast enough
for a docs set of thousands of sections.

The same BM25F as :func:`autodocs.docs.ranking.section_scores` (the same words, stems, question
words and synonyms; a section's own title three times, the titles above it once, its content
relative to its length; release notes a fifth unless the question is about changes), except that
each section names the titles above it itself (a docs page's title and the headings of its
heading path) instead of inheriting them from its neighbours in one document.

Why an index: :func:`section_scores` reads the text on every question, which is right for one
README (about 1 ms) but not for a docs set: Django's 5.8 MB would take a good part of a second per
question. :class:`PlacedIndex` counts each section's stems once (one pass over the text, when the
set is first ranked) and a question then costs a few dictionary look-ups per matching section.
"""

from __future__ import annotations

import math
from array import array
from collections.abc import Sequence

from autodocs.docs.ranking import (
    K1,
    RELEASE_NOTES_WEIGHT,
    TITLE_WEIGHT,
    B,
    about_changes,
    query_terms,
    release_notes_titles,
    text_stems,
)

__all__ = ["PlacedCounts", "PlacedIndex", "placed_scores"]

#: Per stem, the entries it occurs in and how often: two arrays, not tuples, so that the garbage
#: collector has nothing to walk (a Django-sized set holds about 250,000 postings).
Postings = dict[str, tuple["array[int]", "array[int]"]]


class PlacedCounts:
    """The stem counts of some entries (title, titles above it, content): one segment of a
    :class:`PlacedIndex`. Counted once and shared: a release's README and API entries are
    counted once for every question ranked over a few docs sections fetched for it."""

    def __init__(self, entries: Sequence[tuple[str, Sequence[str], str]]) -> None:
        self.count = len(entries)
        self.lengths = [len(content) for _, _, content in entries]
        self.content: Postings = {}
        self.titles: Postings = {}
        self.above: Postings = {}
        for index, (title, above, content) in enumerate(entries):
            _post(self.content, index, text_stems(content, skip_links=True))
            _post(self.titles, index, text_stems(title))
            _post(self.above, index, text_stems("\n".join(above)))
        self.notes = release_notes_titles(["\n".join((*above, title)) for title, above, _ in entries])


class PlacedIndex:
    """Stem counts of (title, titles above it, content) entries, ranked for any question by :meth:`scores`.

    Made of segments (:class:`PlacedCounts`) whose entries follow each other; a question is
    ranked over them all as over one (the same lengths, counts and document frequencies).
    """

    def __init__(
        self, entries: Sequence[tuple[str, Sequence[str], str]] = (), *, segments: Sequence[PlacedCounts] = ()
    ) -> None:
        self._segments = [*segments, PlacedCounts(entries)] if entries or not segments else list(segments)
        self._count = sum(segment.count for segment in self._segments)
        total = sum(sum(segment.lengths) for segment in self._segments)
        self._average = (total / self._count if self._count else 1.0) or 1.0

    def scores(self, query: str) -> list[float]:
        """BM25F relevance of each entry to ``query`` (0 when no word matches), in segment order."""
        terms = query_terms(query)
        scores = [0.0] * self._count
        if not terms or not self._count:
            return scores
        for term, weight in terms.items():
            frequencies: dict[int, float] = {}
            offset = 0
            for segment in self._segments:
                lengths = segment.lengths
                for index, times in _pairs(segment.content, term):
                    frequencies[offset + index] = times / (1 - B + B * lengths[index] / self._average)
                for index, times in _pairs(segment.titles, term):
                    frequencies[offset + index] = frequencies.get(offset + index, 0.0) + TITLE_WEIGHT * times
                for index, times in _pairs(segment.above, term):
                    frequencies[offset + index] = frequencies.get(offset + index, 0.0) + times
                offset += segment.count
            if not frequencies:
                continue
            importance = weight * math.log(1 + (self._count - len(frequencies) + 0.5) / (len(frequencies) + 0.5))
            for index, frequency in frequencies.items():
                scores[index] += importance * frequency * (K1 + 1) / (frequency + K1)
        if not about_changes(terms):
            offset = 0
            for segment in self._segments:
                for index, note in enumerate(segment.notes):
                    if note:
                        scores[offset + index] *= RELEASE_NOTES_WEIGHT
                offset += segment.count
        return scores


def placed_scores(query: str, entries: Sequence[tuple[str, Sequence[str], str]]) -> list[float]:
    """:meth:`PlacedIndex.scores` of ``entries``, for a single question."""
    return PlacedIndex(entries).scores(query)


def _post(postings: Postings, index: int, counts: dict[str, int]) -> None:
    for term, times in counts.items():
        found = postings.get(term)
        if found is None:
            postings[term] = found = (array("I"), array("I"))
        found[0].append(index)
        found[1].append(times)


def _pairs(postings: Postings, term: str) -> zip[tuple[int, int]]:
    indices, times = postings.get(term, _NONE)
    return zip(indices, times, strict=True)


_NONE: tuple[array[int], array[int]] = (array("I"), array("I"))
