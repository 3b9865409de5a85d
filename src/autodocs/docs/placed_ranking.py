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

__all__ = ["PlacedIndex", "placed_scores"]

#: Per stem, the entries it occurs in and how often: two arrays, not tuples, so that the garbage
#: collector has nothing to walk (a Django-sized set holds about 250,000 postings).
Postings = dict[str, tuple["array[int]", "array[int]"]]


class PlacedIndex:
    """Stem counts of (title, titles above it, content) entries, ranked for any question by :meth:`scores`."""

    def __init__(self, entries: Sequence[tuple[str, Sequence[str], str]]) -> None:
        self._count = len(entries)
        self._lengths = [len(content) for _, _, content in entries]
        self._average = (sum(self._lengths) / self._count) if self._count else 1.0
        self._average = self._average or 1.0
        self._content: Postings = {}
        self._titles: Postings = {}
        self._above: Postings = {}
        for index, (title, above, content) in enumerate(entries):
            _post(self._content, index, text_stems(content, skip_links=True))
            _post(self._titles, index, text_stems(title))
            _post(self._above, index, text_stems("\n".join(above)))
        self._notes = release_notes_titles(["\n".join((*above, title)) for title, above, _ in entries])

    def scores(self, query: str) -> list[float]:
        """BM25F relevance of each entry to ``query`` (0 when no word matches)."""
        terms = query_terms(query)
        scores = [0.0] * self._count
        if not terms or not self._count:
            return scores
        for term, weight in terms.items():
            frequencies: dict[int, float] = {}
            for index, times in _pairs(self._content, term):
                frequencies[index] = times / (1 - B + B * self._lengths[index] / self._average)
            for index, times in _pairs(self._titles, term):
                frequencies[index] = frequencies.get(index, 0.0) + TITLE_WEIGHT * times
            for index, times in _pairs(self._above, term):
                frequencies[index] = frequencies.get(index, 0.0) + times
            if not frequencies:
                continue
            importance = weight * math.log(1 + (self._count - len(frequencies) + 0.5) / (len(frequencies) + 0.5))
            for index, frequency in frequencies.items():
                scores[index] += importance * frequency * (K1 + 1) / (frequency + K1)
        if not about_changes(terms):
            for index, note in enumerate(self._notes):
                if note:
                    scores[index] *= RELEASE_NOTES_WEIGHT
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
