"""A cached document + a request → one :class:`DocsPage` that fits the token budget.

The budget covers the whole reply as sent (its JSON), not only the sections. Most first
pages hold the whole document: such a page is built, serialized and counted as a whole, once
(its reply is kept for the transport, :func:`autodocs.docs.model.page_reply`). Otherwise the
page is cut: what a page costs before any section is measured once per version
(:func:`measure_reply_overhead`), each section's rendered cost is counted the first time a page
is cut (:func:`autodocs.docs.budget.section_costs`), and the lists a truncated page adds
(omitted section titles, how to get more) are reserved for before the final pagination. All of
it is kept beside the document (:mod:`autodocs.docs.derived`), which never changes;
:func:`count_costs` makes the counted copy that is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from typing import Any, Literal

from autodocs.docs.budget import Cursor, Page, encode_cursor, paginate, render_page, section_costs
from autodocs.docs.derived import derived, remember
from autodocs.docs.model import (
    MIN_TOKENS,
    DocsPage,
    PackageDocument,
    PageSection,
    remember_reply,
    reply_json,
    reply_payload,
)
from autodocs.docs.tokens import count_tokens, json_string

__all__ = [
    "MIN_TOKENS",
    "PageRequest",
    "count_costs",
    "header_page",
    "make_page",
    "measure_reply_overhead",
    "usable_budget",
]

MAX_OMITTED_LISTED = 50
MAX_AVAILABLE_LISTED = 100
HOW_TO_GET_MORE = (
    "Some sections did not fit in max_tokens. Call again with cursor=next_cursor for the next page, "
    "ask for named sections (sections=[...], titles from omitted_sections), or raise max_tokens."
)
_HOW_TO_GET_MORE_TOKENS = count_tokens(json.dumps(HOW_TO_GET_MORE)) + 2


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Everything besides the document that decides a page's content (hashable: pages are memoized)."""

    budget: int
    constraint: str | None = None
    query: str | None = None
    wanted: tuple[str, ...] = ()
    start: Cursor | None = None
    source: Literal["cache", "index"] = "cache"
    latest: str | None = None
    stale: bool = False


#: A first page whose header (summary, requirements, URLs) would take more than this share of
#: the budget shows only the runtime requirements and the first few URLs instead.
_HEADER_SHARE = 0.4
_COMPACT_URLS = 5


#: A document with more characters of content per token of budget than this is not tried
#: whole: it would not fit, and serializing it to find out would be wasted. Package docs run
#: about four characters to a token; of the 122 recorded packages' first pages at budgets of
#: 400, 1500 and 30000 tokens, none that fits whole has more than 3 (and 22 of 208 tried fail).
_WHOLE_MAX_CHARS_PER_TOKEN = 3
#: What writing the count into the reply's ``"tokens": 0`` adds to it (up to seven digits).
_TOKENS_FIELD = 4


def make_page(document: PackageDocument, request: PageRequest) -> DocsPage:
    if request.start is None and request.query is None and not request.wanted:
        whole = _whole_document_page(document, request)
        if whole is not None:
            return whole
    if request.start is None and _header_tokens(document) > request.budget * _HEADER_SHARE:
        return _compact_header_page(document, request)
    return _to_docs_page(document, request, _fit(document, request))


def count_costs(document: PackageDocument) -> PackageDocument:
    """A copy of ``document`` that carries what its pages need (each section's cost and its
    title's, the first page's header), to be stored; ``document`` itself is left as it is."""
    costs = section_costs(document)
    sections = tuple(
        section.model_copy(update={"tokens": tokens, "title_tokens": title})
        for section, tokens, title in zip(document.sections, costs.tokens, costs.titles, strict=True)
    )
    return document.model_copy(update={"sections": sections, "header_tokens": _header_tokens(document)})


def _whole_document_page(document: PackageDocument, request: PageRequest) -> DocsPage | None:
    """The first page when the whole document fits: every section in the document's order,
    the reply counted as it will be sent. None when it does not fit (the page is then cut)."""
    budget = _usable(request.budget)
    if sum(len(section.content) for section in document.sections) > budget * _WHOLE_MAX_CHARS_PER_TOKEN:
        return None
    escaped: list[str] = []  # the content as a JSON string, when it is rendered in this call
    known = derived(document)
    whole_page = known.whole_page
    if whole_page is None:  # made once per document: it never changes
        whole_page = _whole_content(document, escaped)
        remember(document, replace(known, whole_page=whole_page))
    sections, content, content_tokens = whole_page
    whole = Page(sections=list(sections), omitted=[], missing=[], next_cursor=None, tokens=0)
    page = _to_docs_page(document, request, whole, content=content)
    payload = reply_payload(page)
    # The reply's count is its content's plus the rest's: counted apart, a run of punctuation
    # at the seam is charged twice, never less than counted whole.
    tokens = count_tokens(json.dumps({**payload, "content": ""}, ensure_ascii=False)) + content_tokens + _TOKENS_FIELD
    if tokens > budget:
        return None
    page = page.model_copy(update={"tokens": tokens})
    payload["tokens"] = tokens
    remember_reply(page, _reply_text(payload, escaped[0] if escaped else None))
    return page


def _whole_content(document: PackageDocument, escaped: list[str]) -> tuple[tuple[PageSection, ...], str, int]:
    """Every section as delivered whole, the page content they make, and its tokens as sent;
    the content as a JSON string is appended to ``escaped``."""
    sections = tuple(
        PageSection(title=s.title, anchor=s.anchor, level=s.level, content=s.content, continued=False, complete=True)
        for s in document.sections
    )
    content = render_page(sections)
    as_json = json_string(content)
    escaped.append(as_json)
    return sections, content, count_tokens(as_json[1:-1])


#: Stands for the content in a reply serialized without it (a NUL is escaped, so no other
#: value can serialize the same way unless it is this very string: then it is not used).
_CONTENT_MARK = "\0autodocs:content\0"
_CONTENT_MARK_JSON = json.dumps(_CONTENT_MARK)


def _reply_text(payload: dict[str, Any], escaped_content: str | None) -> str:
    """``payload`` as JSON; with the content already serialized (tens of KB), only the rest is,
    and the content is put in its place."""
    if escaped_content is not None:
        text = json.dumps({**payload, "content": _CONTENT_MARK}, ensure_ascii=False)
        if text.count(_CONTENT_MARK_JSON) == 1:
            return text.replace(_CONTENT_MARK_JSON, escaped_content)
    return json.dumps(payload, ensure_ascii=False)


def _usable(budget: int) -> int:
    """What a page may count up to: a small margin keeps it under ``budget`` despite rounding."""
    return budget - 10 - budget // 100 - (25 if budget < 1000 else 0)


usable_budget = _usable


def header_page(document: PackageDocument, request: PageRequest) -> DocsPage:
    """A page of ``document`` without sections: the header (and warnings) ``request`` gives it."""
    return _to_docs_page(document, request, Page(sections=[], omitted=[], missing=[], next_cursor=None, tokens=0))


def _header_tokens(document: PackageDocument) -> int:
    return document.header_tokens or derived(document).header_tokens or measure_reply_overhead(document)


def _compact_header_page(document: PackageDocument, request: PageRequest) -> DocsPage:
    """A small budget and a long header (a package with a hundred optional requirements): the
    header shrinks so the budget still holds the page, and says what it left out."""
    header = 0
    for level in (1, 2):  # 1: runtime requirements and a few URLs; 2: neither
        header = _empty_reply_tokens(document, request, compact_header=level)
        if header <= request.budget * _HEADER_SHARE:
            break
    return _to_docs_page(document, request, _fit(document, request, header=header), compact_header=level)


def measure_reply_overhead(document: PackageDocument) -> int:
    """What a first page of ``document`` costs before any section is added, counted once per
    version (what a later page costs is counted when one is first asked for: most documents
    never need it)."""
    request = PageRequest(budget=1_000_000, constraint=f"=={document.version}")
    tokens = _empty_reply_tokens(document, request)
    remember(document, replace(derived(document), header_tokens=tokens))
    return tokens


def _continuation_tokens(document: PackageDocument) -> int:
    known = derived(document)
    tokens = document.continuation_tokens or known.continuation_tokens
    if not tokens:
        start = Cursor(document.name, document.version, None, ())
        request = PageRequest(budget=1_000_000, constraint=f"=={document.version}", start=start)
        tokens = _empty_reply_tokens(document, request)
        remember(document, replace(known, continuation_tokens=tokens))
    return tokens


def _empty_reply_tokens(document: PackageDocument, request: PageRequest, *, compact_header: int = 0) -> int:
    """What a reply to ``request`` costs before any section: every list at its longest."""
    every_section = frozenset(range(len(document.sections)))
    probe = encode_cursor(Cursor(document.name, document.version, None, (), every_section, (0, 0)))
    empty = Page(sections=[], omitted=[], missing=[], next_cursor=None, tokens=99_999)
    page = _to_docs_page(document, request, empty, compact_header=compact_header).model_copy(
        update={
            "next_cursor": probe,
            "truncated": True,
            "latest_version": document.version,
            "omitted_count": len(document.sections),
        }
    )
    return count_tokens(reply_json(page))


def _fit(document: PackageDocument, request: PageRequest, *, header: int | None = None) -> Page:
    """Paginate, then again with room for the lists the page carries."""
    budget = _usable(request.budget)
    if header is None:
        header = _continuation_tokens(document) if request.start else _header_tokens(document)
    reserved = _likely_listing_tokens(document, budget - header)
    page = _paginate(document, request, budget, header + reserved)
    for _ in range(3):
        listing = _listing_tokens(document, page)
        if page.tokens - reserved + listing <= budget or not page.sections:
            break
        reserved = listing
        page = _paginate(document, request, budget, header + reserved)
    page.tokens += _listing_tokens(document, page) - reserved
    return page


def _paginate(document: PackageDocument, request: PageRequest, budget: int, header: int) -> Page:
    return paginate(
        document,
        max_tokens=budget,
        query=request.query,
        wanted=request.wanted,
        start=request.start,
        header_tokens=header,
    )


def _likely_listing_tokens(document: PackageDocument, room: int) -> int:
    """A first guess at what the lists of a page cost, so that one pagination usually does:
    nothing when the whole document fits, else the how-to and as many titles as a page of
    this size names. :func:`_fit` checks the guess against the page it gets."""
    sections = document.sections
    costs = section_costs(document)
    if not sections or sum(costs.tokens) <= room:
        return 0
    listed = min(len(sections) - 1, MAX_OMITTED_LISTED, max(5, room // 60))
    mean_title = sum(costs.titles) / len(sections)
    return _HOW_TO_GET_MORE_TOKENS + round(listed * (mean_title + 2))


def _listing_tokens(document: PackageDocument, page: Page) -> int:
    """Tokens of the lists a page carries besides its sections."""
    tokens = 0
    costs = section_costs(document)
    if page.next_cursor is not None:
        titles = {section.anchor: title for section, title in zip(document.sections, costs.titles, strict=True)}
        listed = page.omitted[: _listed_omitted(page)]
        tokens += sum(titles.get(item.anchor, 4) + 2 for item in listed) + _HOW_TO_GET_MORE_TOKENS
    if page.missing:
        tokens += sum(title + 2 for title in costs.titles[:MAX_AVAILABLE_LISTED])
    return tokens


def _listed_omitted(page: Page) -> int:
    """How many omitted sections a page names: enough to choose from, never the bulk of the page."""
    return min(len(page.omitted), MAX_OMITTED_LISTED, max(5, page.tokens // 60))


def _to_docs_page(
    document: PackageDocument,
    request: PageRequest,
    page: Page,
    *,
    compact_header: int = 0,
    content: str | None = None,
) -> DocsPage:
    """The reply for ``page`` of ``document``; ``content``: its sections already rendered."""
    first_page = request.start is None
    warnings = []
    if document.yanked:
        warnings.append(f"Version {document.version} was yanked: {document.yanked_reason or 'no reason given'}.")
    if document.description_truncated:
        warnings.append("The description was longer than AUTODOCS_MAX_DOC_SIZE; its end is not included.")
    if request.stale:
        warnings.append(
            "The package index could not be reached: the version was chosen from cached data and a newer "
            "release may exist. Call refresh_cache later for fresh data."
        )
    next_cursor = encode_cursor(page.next_cursor) if page.next_cursor else None
    project_urls = dict(document.project_urls)
    if document.home_page and document.home_page not in project_urls.values():
        project_urls["Homepage"] = document.home_page
    requirements = document.requirements
    requirements_omitted = 0
    if compact_header:
        project_urls = dict(list(project_urls.items())[: _COMPACT_URLS if compact_header == 1 else 0])
        requirements = tuple(r for r in document.requirements if r.extra is None) if compact_header == 1 else ()
        requirements_omitted = len(document.requirements) - len(requirements)
        if requirements_omitted:
            kind = "requirements of optional extras" if compact_header == 1 else "requirements and the project URLs"
            warnings.append(f"{requirements_omitted} {kind} are not listed to fit max_tokens; raise it to see them.")
    return DocsPage(
        name=document.name,
        version=document.version,
        source=request.source,
        stale=request.stale,
        latest_version=request.latest,
        summary=document.summary,
        requires_python=document.requires_python if first_page else None,
        license=document.license if first_page else None,
        project_urls=project_urls if first_page else {},
        requirements=[r.as_pep508() for r in requirements] if first_page else [],
        yanked=document.yanked,
        format=document.description_format,
        content=render_page(page.sections) if content is None else content,
        sections=[section.title for section in page.sections],
        truncated=next_cursor is not None,
        omitted_sections=[item.title for item in page.omitted[: _listed_omitted(page)]],
        omitted_count=len(page.omitted),
        missing_sections=page.missing,
        available_sections=[s.title for s in document.sections[:MAX_AVAILABLE_LISTED]] if page.missing else [],
        next_cursor=next_cursor,
        how_to_get_more=HOW_TO_GET_MORE if next_cursor else None,
        tokens=page.tokens,
        warnings=warnings,
    )
