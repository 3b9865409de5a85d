"""The documents AutoDocs caches and the pages it hands to assistants."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr

from autodocs.memo import LruMap

__all__ = [
    "DocSection",
    "DocsPage",
    "OmittedSection",
    "PackageDocument",
    "PageSection",
    "RequirementInfo",
    "compact",
    "page_reply",
    "remember_reply",
    "reply_json",
    "reply_payload",
]


class RequirementInfo(BaseModel):
    model_config = ConfigDict(frozen=True)  # parsed once per string and shared (see docs.build)

    name: str
    specifier: str = ""
    extras: list[str] = Field(default_factory=list)
    marker: str | None = None
    extra: str | None = Field(default=None, description="The extra that pulls this requirement in, if any.")

    def as_pep508(self) -> str:
        """The compact form shown to assistants, e.g. ``h2<5,>=3; extra == "http2"``."""
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        marker = f"; {self.marker}" if self.marker else ""
        return f"{self.name}{extras}{self.specifier}{marker}"


class DocSection(BaseModel):
    title: str
    anchor: str
    level: int
    content: str
    tokens: int = Field(
        default=0,
        description="Estimated tokens of title, anchor and content as sent; 0 until counted "
        "(autodocs.docs.budget.count_section_costs).",
    )
    title_tokens: int = Field(default=0, description="Estimated tokens of the title; counted with ``tokens``.")


#: How documents are built from metadata: raised whenever ``docs.build`` makes a different
#: document from the same metadata (1: badges stripped before sectioning, changelog titles;
#: 2: headings found by docutils and markdown-it-py instead of hand-written readers).
#: A stored document of an older build is read as a miss (``cache.base``), so it is rebuilt.
DOCUMENT_BUILD = 2


class PackageDocument(BaseModel):
    """Everything AutoDocs knows about one exact version; immutable once cached."""

    build: int = Field(
        default=DOCUMENT_BUILD,
        description="DOCUMENT_BUILD of the code that built it; absent from documents stored before there was one.",
    )
    name: str
    version: str
    summary: str | None = None
    requires_python: str | None = None
    license: str | None = None
    home_page: str | None = None
    project_urls: dict[str, str] = Field(default_factory=dict)
    requirements: list[RequirementInfo] = Field(default_factory=list)
    yanked: bool = False
    yanked_reason: str | None = None
    description_format: str = "text"
    description_truncated: bool = False
    sections: list[DocSection] = Field(default_factory=list)
    header_tokens: int = Field(default=0, description="Tokens of a first page without sections.")
    continuation_tokens: int = Field(default=0, description="Tokens of a later page without sections.")

    _default_order: tuple[int, ...] | None = PrivateAttr(default=None)
    #: The whole document as one page: its sections, their rendered content and that content's
    #: tokens as sent (kept by autodocs.docs.pages, which makes it once per document).
    _whole: tuple[list[PageSection], str, int] | None = PrivateAttr(default=None)

    def whole_page(
        self, compute: Callable[[], tuple[list[PageSection], str, int]]
    ) -> tuple[list[PageSection], str, int]:
        """The whole document as one page (sections, rendered content, its tokens): ``compute``d
        once, since the document never changes."""
        if self._whole is None:
            self._whole = compute()
        return self._whole

    def default_order(self, compute: Callable[[], list[int]]) -> tuple[int, ...]:
        """The order pages take sections in without a query or named sections: ``compute``d
        once per document, since every page of a document (and every probe) needs it."""
        if self._default_order is None:
            self._default_order = tuple(compute())
        return self._default_order


@dataclass(frozen=True, slots=True)
class PageSection:
    """A (part of a) section placed on a page. A plain dataclass: pages build dozens of these
    per reply and never send them as they are (they are rendered into ``DocsPage.content``)."""

    title: str
    anchor: str
    level: int
    content: str
    continued: bool = False  # a later part of a cut section
    complete: bool = True  # False when the rest of the section is on a later page


@dataclass(frozen=True, slots=True)
class OmittedSection:
    """A section left for a later page (its title is listed in ``DocsPage.omitted_sections``)."""

    title: str
    anchor: str
    tokens: int


class ApiMatch(BaseModel):
    """An entry of the version's cached API reference that matches the query."""

    path: str = Field(description="Dotted path; get_api_reference(object_path=path) shows it in full.")
    snippet: str


class DocsPage(BaseModel):
    """What ``get_package_docs`` returns: one budgeted page of one exact version's documentation.

    Keys whose value is empty (null, [], {}) are left out of the reply (see :func:`compact`).
    """

    name: str
    version: str = Field(description="The exact version these docs describe.")
    source: Literal["cache", "index"] = Field(description="Where this reply came from.")
    stale: bool = Field(default=False, description="True when the index was unreachable and the cache answered.")
    latest_version: str | None = Field(default=None, description="Newest release, when known.")
    summary: str | None = None
    requires_python: str | None = None
    license: str | None = None
    project_urls: dict[str, str] = Field(default_factory=dict)
    requirements: list[str] = Field(default_factory=list, description="PEP 508 requirements of this version.")
    yanked: bool = False
    format: str = Field(default="text", description="Markup of content: markdown, rst or text.")
    content: str = Field(
        default="",
        description="This page's documentation: each section under a Markdown heading, in the document's "
        "order; a cut section says where it continues. Later pages omit the metadata of the first.",
    )
    sections: list[str] = Field(default_factory=list, description="Titles of the sections on this page.")
    truncated: bool = Field(default=False, description="True when some content is not on this page.")
    omitted_sections: list[str] = Field(
        default_factory=list,
        description="Titles of sections left for later pages, most important first (at most 50 listed).",
    )
    omitted_count: int = Field(default=0, description="How many sections are left for later pages.")
    missing_sections: list[str] = Field(default_factory=list, description="Requested sections not found.")
    available_sections: list[str] = Field(
        default_factory=list, description="Section titles, when requested sections were not found (at most 100)."
    )
    next_cursor: str | None = Field(default=None, description="Pass as cursor to get the next page.")
    how_to_get_more: str | None = None
    tokens: int = Field(description="Estimated tokens of this reply.")
    api_matches: list[ApiMatch] = Field(
        default_factory=list,
        description="With a query: matching entries of this version's API reference, when one is cached.",
    )
    warnings: list[str] = Field(default_factory=list)


def compact(value: Any) -> Any:
    """A JSON value without the object keys whose value is null, [] or {} (recursively).

    Replies carry many optional fields that are usually empty; leaving them out saves the
    assistant tokens and the client validation work, and the schema marks them optional.
    """
    if isinstance(value, dict):
        return {k: compact(v) for k, v in value.items() if v is not None and v != [] and v != {}}
    if isinstance(value, list):
        return [compact(item) for item in value]
    return value


def reply_payload(model: BaseModel) -> dict[str, Any]:
    """The structured content an assistant receives for ``model``."""
    payload: dict[str, Any] = compact(model.model_dump(mode="json"))
    return payload


def reply_json(model: BaseModel) -> str:
    """The text an assistant receives for ``model``: compact JSON."""
    return json.dumps(reply_payload(model), ensure_ascii=False)


#: The replies of the last pages handed out, by identity: the service memoizes its pages, so a
#: repeated call returns the same object, and its reply is serialized once (0.1-0.25 ms a call);
#: a first page counted as a whole (:mod:`autodocs.docs.pages`) arrives serialized already.
#: Each entry holds its page, so an ``id`` is never reused while it is a key. Replies over
#: ``_REPLY_KEPT_MAX_CHARS`` are not kept: their transfer dwarfs their serialization.
_REPLIES_KEPT = 64
_REPLY_KEPT_MAX_CHARS = 256 * 1024
_replies: LruMap[int, tuple[DocsPage, dict[str, Any], str]] = LruMap(_REPLIES_KEPT)


def page_reply(page: DocsPage) -> tuple[dict[str, Any], str]:
    """The structured content and the JSON text of ``page``'s reply (do not change either)."""
    kept = _replies.get(id(page))
    if kept is not None:
        return kept[1], kept[2]
    payload = reply_payload(page)
    text = json.dumps(payload, ensure_ascii=False)
    remember_reply(page, payload, text)
    return payload, text


def remember_reply(page: DocsPage, payload: dict[str, Any], text: str) -> None:
    """Keep ``page``'s serialized reply for :func:`page_reply` (the page must not change after)."""
    if len(text) <= _REPLY_KEPT_MAX_CHARS:
        _replies.put(id(page), (page, payload, text))
