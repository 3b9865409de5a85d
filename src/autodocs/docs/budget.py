"""Fit a document into a token budget, page by page, without losing anything.

Sections are put in a reading sequence — by priority (overview, installation and usage
first; changelog, license and contributing last), by relevance when there is a query,
or only the sections asked for — and a page takes whole sections from that sequence
while they fit. A section larger than a whole page is cut at a paragraph (else line)
boundary and continues on the next page. The continuation cursor records where the
next page starts, so an assistant can page through every section exactly once.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from autodocs.docs.derived import SectionCosts, derived, remember
from autodocs.docs.model import DocSection, OmittedSection, PackageDocument, PageSection
from autodocs.docs.ranking import section_scores
from autodocs.docs.tokens import count_json_tokens, count_tokens
from autodocs.errors import InvalidArgument

__all__ = [
    "SECTION_OVERHEAD_TOKENS",
    "Cursor",
    "Page",
    "decode_cursor",
    "encode_cursor",
    "fitting_prefix",
    "paginate",
    "render_page",
    "render_section",
    "section_cost",
    "section_costs",
]

_LOW_PRIORITY = re.compile(
    r"change ?log|changes|history|release notes|what'?s new|news|license|licence|contribut|credits|authors|"
    r"acknowledg|sponsor|backers|code of conduct|security|support|donat|funding|thanks|maintainers|citation|"
    r"badges|status|community",
    re.IGNORECASE,
)
_MAX_CURSOR_LENGTH = 20_000
#: More characters than the token estimate ever packs into one token (six letters and a few spaces).
_MAX_CHARS_PER_TOKEN = 12
CONTINUES_NOTE = "\n\n[... this section continues on the next page]"
#: Besides its rendered Markdown, a section on a page costs its separator and its title in ``sections``.
SECTION_OVERHEAD_TOKENS = 4
_HIGH_PRIORITY = re.compile(
    r"install|quick ?start|getting started|usage|example|tutorial|basic|introduction|overview|features|"
    r"how to use|api|documentation|configuration",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Cursor:
    """Where paging stands: which sections were delivered, and the section cut mid-way (if any)."""

    name: str
    version: str
    query: str | None
    sections: tuple[str, ...]
    delivered: frozenset[int] = frozenset()
    partial: tuple[int, int] | None = None  # (section index, characters already delivered)


@dataclass(slots=True)
class Page:
    sections: list[PageSection]
    omitted: list[OmittedSection]
    missing: list[str]
    next_cursor: Cursor | None
    tokens: int


def encode_cursor(cursor: Cursor) -> str:
    mask = sum(1 << index for index in cursor.delivered)
    raw = json.dumps(
        [2, cursor.name, cursor.version, cursor.query, list(cursor.sections), format(mask, "x"), cursor.partial],
        separators=(",", ":"),
    )
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(text: str) -> Cursor:
    """Parse a cursor from a previous page; :class:`InvalidArgument` when it is not one."""
    try:
        if len(text) > _MAX_CURSOR_LENGTH:
            raise ValueError
        padded = text + "=" * (-len(text) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode()))
        tag, name, version, query, sections, mask_hex, partial = data
        if tag != 2 or not isinstance(name, str) or not isinstance(version, str):
            raise ValueError
        if query is not None and not isinstance(query, str):
            raise ValueError
        mask = int(mask_hex, 16)
        delivered = frozenset(index for index in range(mask.bit_length()) if mask >> index & 1)
        if partial is not None:
            index, offset = partial
            if not isinstance(index, int) or not isinstance(offset, int) or index < 0 or offset < 0:
                raise ValueError
            partial = (index, offset)
        return Cursor(name, version, query, tuple(str(s) for s in sections), delivered, partial)
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):  # deep nesting: json recurses
        raise InvalidArgument(
            "The cursor is not one AutoDocs issued (or it was altered).",
            suggestions=["Pass next_cursor exactly as a previous reply gave it, or call without a cursor."],
        ) from None


def reading_sequence(
    document: PackageDocument, *, query: str | None, wanted: tuple[str, ...]
) -> tuple[list[int], list[str]]:
    """Indices of the document's sections in the order pages take them, and unknown wanted names."""
    sections = document.sections
    missing: list[str] = []
    if wanted:
        chosen: list[int] = []
        for name in wanted:
            matches = _match_section(sections, name)
            if not matches:
                missing.append(name)
            chosen.extend(index for index in matches if index not in chosen)
        candidates = chosen
    else:
        candidates = list(range(len(sections)))
    if query:
        scores = section_scores(query, sections)  # the whole document: sections inherit their parents' titles
        return sorted(candidates, key=lambda index: (-scores[index], _priority(sections, index))), missing
    if wanted:
        return candidates, missing
    known = derived(document)  # the order is the same for every page of a document (and every probe)
    order = known.default_order
    if order is None:
        order = tuple(sorted(candidates, key=lambda i: _priority(sections, i)))
        remember(document, replace(known, default_order=order))
    return list(order), missing


def paginate(
    document: PackageDocument,
    *,
    max_tokens: int,
    query: str | None = None,
    wanted: tuple[str, ...] = (),
    start: Cursor | None = None,
    header_tokens: int | None = None,
) -> Page:
    """One page of ``document`` within ``max_tokens`` and the cursor of the next.

    Rules, in order: finish a section cut on the previous page; if the most important
    section left is larger than a whole page, cut it at a paragraph break and continue it
    on the next page; otherwise take every remaining section that still fits, most
    important first, leaving the others whole for later pages.
    """
    costs = section_costs(document)
    sections = document.sections
    sequence, missing = reading_sequence(document, query=query, wanted=wanted)
    delivered = set(start.delivered) if start else set()
    partial = start.partial if start else None
    if partial is not None and partial[0] >= len(sections):
        partial = None
    header = document.header_tokens if header_tokens is None else header_tokens
    budget = max(1, max_tokens - header)
    used = 0
    taken: list[tuple[int, PageSection]] = []

    def cut(index: int, offset: int) -> None:
        nonlocal used, partial
        section, title_tokens = sections[index], costs.titles[index]
        rest = section.content[offset:]
        overhead = section_cost(section, "", title_tokens, continued=offset > 0, complete=False)
        whole = section_cost(section, rest, title_tokens, continued=offset > 0, complete=True)
        piece = rest if used + whole <= budget else fitting_prefix(rest, max(budget - used - overhead, 1))
        complete = len(piece) >= len(rest)
        taken.append((index, _page_section(section, piece, offset > 0, complete)))
        used += whole if complete else overhead + count_json_tokens(piece)
        if complete:
            delivered.add(index)
            partial = None
        else:
            partial = (index, offset + len(piece))

    if partial is not None:
        cut(*partial)
    else:
        first = next((index for index in sequence if index not in delivered), None)
        if first is not None and costs.tokens[first] > budget:
            cut(first, 0)
    if partial is None:
        for index in sequence:
            if index in delivered:
                continue
            cost = costs.tokens[index]
            if used + cost <= budget:
                taken.append((index, _page_section(sections[index], sections[index].content, False, True)))
                delivered.add(index)
                used += cost
    remaining = [index for index in sequence if index not in delivered]
    omitted = [
        OmittedSection(title=sections[i].title, anchor=sections[i].anchor, tokens=costs.tokens[i])
        for i in remaining
        if partial is None or i != partial[0]
    ]
    next_cursor = None
    if remaining:
        next_cursor = Cursor(document.name, document.version, query, wanted, frozenset(delivered), partial)
    taken.sort(key=lambda pair: pair[0])  # present the page in the document's own order
    return Page(
        sections=[page_section for _, page_section in taken],
        omitted=omitted,
        missing=missing,
        next_cursor=next_cursor,
        tokens=header + used,
    )


def render_section(title: str, level: int, content: str, *, continued: bool = False, complete: bool = True) -> str:
    """One section as Markdown: a heading of its level, its body, and a note when it goes on later."""
    marks = "#" * min(max(level, 1), 6)
    heading = f"{marks} {title} (continued)" if continued else f"{marks} {title}"
    body = content.strip("\n")
    note = "" if complete else CONTINUES_NOTE
    return f"{heading}\n\n{body}{note}" if body or note else heading


def render_page(sections: Sequence[PageSection]) -> str:
    """A page as Markdown: its sections in the order given, a blank line apart."""
    return "\n\n".join(
        render_section(s.title, s.level, s.content, continued=s.continued, complete=s.complete) for s in sections
    )


def section_costs(document: PackageDocument) -> SectionCosts:
    """Each section's :func:`section_cost` of its whole content, and its title's tokens.

    A stored copy carries them (its sections' ``tokens``); otherwise they are counted when a
    page first has to choose among sections, or before the document is stored, and kept
    beside the document (:mod:`autodocs.docs.derived`). A document whose whole first page fits
    its budget never needs them on the way to its reply (:func:`autodocs.docs.pages.make_page`
    counts that reply as a whole).
    """
    sections = document.sections
    if all(section.tokens for section in sections):
        return SectionCosts(tuple(s.tokens for s in sections), tuple(s.title_tokens for s in sections))
    known = derived(document)
    if known.sections is not None:
        return known.sections
    titles = tuple(count_tokens(section.title) for section in sections)
    counted = SectionCosts(tuple(section_cost(s, s.content, t) for s, t in zip(sections, titles, strict=True)), titles)
    remember(document, replace(known, sections=counted))
    return counted


def section_cost(
    section: DocSection, content: str, title_tokens: int, *, continued: bool = False, complete: bool = True
) -> int:
    """Tokens a (part of a) section adds to a page: rendered Markdown, JSON-escaped, plus overhead
    (the title listed in the reply's ``sections``: ``title_tokens``)."""
    rendered = render_section(section.title, section.level, content, continued=continued, complete=complete)
    return count_json_tokens(rendered) + title_tokens + SECTION_OVERHEAD_TOKENS


def _page_section(section: DocSection, content: str, continued: bool, complete: bool) -> PageSection:
    return PageSection(
        title=section.title,
        anchor=section.anchor,
        level=section.level,
        content=content,
        continued=continued,
        complete=complete,
    )


def fitting_prefix(text: str, budget: int) -> str:
    """The longest prefix of ``text`` ending at a paragraph (else line) break that fits ``budget``.

    Only the first ``budget x _MAX_CHARS_PER_TOKEN`` characters are searched: no text the
    estimate charges fewer tokens than that can hold more, and cutting a small page out of a
    long section would otherwise re-count the whole section at every step of the search.
    """
    text = text[: budget * _MAX_CHARS_PER_TOKEN]
    for separator in ("\n\n", "\n"):
        breaks = [match.end() for match in re.finditer(re.escape(separator), text)]
        low, high, best = 0, len(breaks) - 1, 0
        while low <= high:
            middle = (low + high) // 2
            if count_json_tokens(text[: breaks[middle]]) <= budget:
                best = breaks[middle]
                low = middle + 1
            else:
                high = middle - 1
        if best:
            return text[:best]
    # No break fits: cut by characters, but always make progress.
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if count_json_tokens(text[:middle]) <= budget:
            low = middle
        else:
            high = middle - 1
    return text[:low]


def _match_section(sections: Sequence[DocSection], name: str) -> list[int]:
    wanted = name.strip().casefold()
    exact = [i for i, s in enumerate(sections) if s.title.casefold() == wanted or s.anchor == wanted]
    if exact:
        return exact
    return [i for i, s in enumerate(sections) if wanted and wanted in s.title.casefold()]


def _priority(sections: Sequence[DocSection], index: int) -> tuple[int, int]:
    section = sections[index]
    if section.level == 0 or index == 0:
        rank = 0
    elif _LOW_PRIORITY.search(section.title):
        rank = 3
    elif _HIGH_PRIORITY.search(section.title):
        rank = 1
    else:
        rank = 2
    return rank, index
