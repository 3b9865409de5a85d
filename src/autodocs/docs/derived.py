"""What pages need of a document besides its text: worked out once, kept beside the document.

A :class:`~autodocs.docs.model.PackageDocument` is frozen and handed to every caller that asks
for the same version. Pages need values that follow from the document alone and cost something
to work out: each section's token cost and its title's, what a reply costs before any section
(a first page, a later page), the order sections take without a query, and the whole document
rendered as one page. Each is worked out the first time a page needs it — a document whose whole
first page fits never needs the section costs on its way to the reply
(:mod:`autodocs.docs.pages` counts that reply as a whole: counting every section on a cold call
as well would add 0.1-0.3 ms to most, 3 ms to a 135 kB README), and most documents never have a
later page — and kept here rather than in the document, so no shared document ever changes.

The memo is keyed by the document's identity; each entry holds the document (so its ``id`` is
not reused while the entry lives) and a frozen :class:`Derived`. A value learnt later replaces
the entry whole; an entry is never changed. The memo is bounded like the service's document memo;
an entry it drops is worked out again when next needed, to the same values.

A document read from the store carries its section and header costs in its own fields (counted on
a copy before it was stored, :func:`autodocs.docs.pages.count_costs`): those are used as they are.
"""

from __future__ import annotations

from dataclasses import dataclass

from autodocs.docs.model import PackageDocument, PageSection
from autodocs.memo import LruMap

__all__ = ["Derived", "SectionCosts", "derived", "remember"]

#: Documents whose derived values are kept: as many as the service keeps documents in memory.
_KEPT = 512


@dataclass(frozen=True, slots=True)
class SectionCosts:
    """Per section, in the document's order: its cost on a page as a whole
    (:func:`autodocs.docs.budget.section_cost`) and its title's tokens."""

    tokens: tuple[int, ...]
    titles: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Derived:
    """The values known so far of one document (None or 0: not worked out yet)."""

    sections: SectionCosts | None = None
    #: Tokens of a first page, and of a later page, without sections.
    header_tokens: int = 0
    continuation_tokens: int = 0
    #: The order pages take sections in without a query or named sections.
    default_order: tuple[int, ...] | None = None
    #: The whole document as one page: its sections, their rendered content, and that content's
    #: tokens as sent.
    whole_page: tuple[tuple[PageSection, ...], str, int] | None = None


_kept: LruMap[int, tuple[PackageDocument, Derived]] = LruMap(_KEPT)
_NOTHING = Derived()


def derived(document: PackageDocument) -> Derived:
    """What is known of ``document`` so far."""
    entry = _kept.get(id(document))
    return entry[1] if entry is not None else _NOTHING


def remember(document: PackageDocument, values: Derived) -> Derived:
    """Keep ``values`` (what was known, with what was just worked out) for ``document``."""
    _kept.put(id(document), (document, values))
    return values
