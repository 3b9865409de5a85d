"""The documents AutoDocs caches and the pages it hands to assistants."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, PlainSerializer

from autodocs.memo import LruMap

__all__ = [
    "MIN_TOKENS",
    "DocSection",
    "DocsPage",
    "FrozenStrMap",
    "OmittedSection",
    "PackageDocument",
    "PageSection",
    "RequirementInfo",
    "SectionRef",
    "compact",
    "page_reply",
    "remember_reply",
    "reply_json",
    "reply_payload",
]


#: Documents and pages are memoized and handed to every caller that asks for the same thing:
#: frozen, with tuples for their sequences, so no caller can change what the next one gets.
#: A changed value is a new one (``model_copy(update=...)``). (``frozen=True`` is written in
#: each class, not shared through a variable, so that mypy sees it too.)

#: A read-only ``dict[str, str]`` field: validated into a ``MappingProxyType``, sent as a dict
#: (the same JSON and schema as ``dict[str, str]``).
FrozenStrMap = Annotated[
    Mapping[str, str], AfterValidator(MappingProxyType), PlainSerializer(dict, return_type=dict[str, str])
]


def _empty_map() -> Mapping[str, str]:
    return MappingProxyType({})


class RequirementInfo(BaseModel):
    model_config = ConfigDict(frozen=True)  # parsed once per string and shared (see docs.build)

    name: str
    specifier: str = ""
    extras: tuple[str, ...] = Field(default_factory=tuple)
    marker: str | None = None
    extra: str | None = Field(default=None, description="The extra that pulls this requirement in, if any.")

    def as_pep508(self) -> str:
        """The compact form shown to assistants, e.g. ``h2<5,>=3; extra == "http2"``."""
        extras = f"[{','.join(self.extras)}]" if self.extras else ""
        marker = f"; {self.marker}" if self.marker else ""
        return f"{self.name}{extras}{self.specifier}{marker}"


class DocSection(BaseModel):
    model_config = ConfigDict(frozen=True)

    title: str
    anchor: str
    level: int
    content: str
    tokens: int = Field(
        default=0,
        description="Estimated tokens of title, anchor and content as sent, in a stored copy; 0 when not "
        "counted (autodocs.docs.derived keeps the counts of a document in memory).",
    )
    title_tokens: int = Field(default=0, description="Estimated tokens of the title; counted with ``tokens``.")


#: The smallest budget a reply can honour: the header, a cursor and the start of a section.
MIN_TOKENS = 400
#: How documents are built from metadata: raised whenever ``docs.build`` makes a different
#: document from the same metadata (1: badges stripped before sectioning, changelog titles;
#: 2: headings found by docutils and markdown-it-py instead of hand-written readers).
#: A stored document of an older build is read as a miss (``cache.base``), so it is rebuilt.
DOCUMENT_BUILD = 2


class PackageDocument(BaseModel):
    """Everything AutoDocs knows about one exact version.

    Frozen, like its sections, with tuples for its sequences and read-only URLs: it is cached and
    handed to every caller. What pages work out from it (token counts, the default order, the
    whole page) is kept beside it, in :mod:`autodocs.docs.derived`, never in it. Its count fields
    (``header_tokens``, ``continuation_tokens``, each section's ``tokens`` and ``title_tokens``)
    are 0 in a document built from metadata, and filled in the copy that is stored
    (:func:`autodocs.docs.pages.count_costs`), so a document read back need not count them again.
    """

    model_config = ConfigDict(frozen=True)

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
    project_urls: FrozenStrMap = Field(default_factory=_empty_map)
    requirements: tuple[RequirementInfo, ...] = Field(default_factory=tuple)
    yanked: bool = False
    yanked_reason: str | None = None
    description_format: str = "text"
    description_truncated: bool = False
    sections: tuple[DocSection, ...] = Field(default_factory=tuple)
    header_tokens: int = Field(default=0, description="Tokens of a first page without sections (a stored copy).")
    continuation_tokens: int = Field(default=0, description="Tokens of a later page without sections.")


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

    model_config = ConfigDict(frozen=True)

    path: str = Field(description="Dotted path; get_api_reference(object_path=path) shows it in full.")
    snippet: str


class SectionRef(BaseModel):
    """Where one section of a page comes from (replies of releases with a docs set)."""

    model_config = ConfigDict(frozen=True)

    origin: Literal["readme", "docs", "api"] = Field(
        description="readme: the release's description on the index; docs: a page of the docs folder "
        "in its sdist; api: an entry of its cached API reference."
    )
    page: str | None = Field(default=None, description="The docs page's path in the sdist (origin docs).")
    heading_path: tuple[str, ...] = Field(
        default_factory=tuple, description="The headings the section sits under, its own last (origin docs)."
    )
    object_path: str | None = Field(default=None, description="The documented object (origin api).")


class DocsPage(BaseModel):
    """What ``get_package_docs`` returns: one budgeted page of one exact version's documentation.

    Keys whose value is empty (null, [], {}) are left out of the reply (see :func:`compact`).
    """

    model_config = ConfigDict(frozen=True)

    name: str
    version: str = Field(description="The exact version these docs describe.")
    source: Literal["cache", "index"] = Field(description="Where this reply came from.")
    stale: bool = Field(default=False, description="True when the index was unreachable and the cache answered.")
    latest_version: str | None = Field(default=None, description="Newest release, when known.")
    summary: str | None = None
    requires_python: str | None = None
    license: str | None = None
    project_urls: FrozenStrMap = Field(default_factory=_empty_map)
    requirements: tuple[str, ...] = Field(default_factory=tuple, description="PEP 508 requirements of this version.")
    yanked: bool = False
    format: str = Field(default="text", description="Markup of content: markdown, rst or text.")
    content: str = Field(
        default="",
        description="This page's documentation: each section under a Markdown heading, in the document's "
        "order; a cut section says where it continues. Later pages omit the metadata of the first.",
    )
    sections: tuple[str, ...] = Field(default_factory=tuple, description="Titles of the sections on this page.")
    truncated: bool = Field(default=False, description="True when some content is not on this page.")
    omitted_sections: tuple[str, ...] = Field(
        default_factory=tuple,
        description="Titles of sections left for later pages, most important first (at most 50 listed).",
    )
    omitted_count: int = Field(default=0, description="How many sections are left for later pages.")
    missing_sections: tuple[str, ...] = Field(default_factory=tuple, description="Requested sections not found.")
    available_sections: tuple[str, ...] = Field(
        default_factory=tuple, description="Section titles, when requested sections were not found (at most 100)."
    )
    next_cursor: str | None = Field(default=None, description="Pass as cursor to get the next page.")
    how_to_get_more: str | None = None
    tokens: int = Field(description="Estimated tokens of this reply.")
    api_matches: tuple[ApiMatch, ...] = Field(
        default_factory=tuple,
        description="With a query: matching entries of this version's API reference, when one is cached.",
    )
    section_refs: tuple[SectionRef, ...] = Field(
        default_factory=tuple,
        description="When the release has a docs set: where each section of this page comes from, in the "
        "order of `sections` (absent: every section is from the README).",
    )
    docs_toc: str | None = Field(
        default=None,
        description="The release's docs pages (titles and paths, from its sdist) as an indented list; name a "
        "path, or path#Heading, in sections=[...] to read it, or ask with query.",
    )
    docs_toc_omitted: int | None = Field(default=None, description="Docs pages not listed in docs_toc (budget).")
    docs_pending: bool | None = Field(
        default=None,
        description="True while the release's docs set is being built: this reply comes from the README and "
        "API reference; ask again shortly for the docs pages.",
    )
    docs_missing: str | None = Field(default=None, description="Why this release has no docs set.")
    hosted_docs_url: str | None = Field(
        default=None, description="The hosted documentation the release's metadata names, when it has no docs set."
    )
    warnings: tuple[str, ...] = Field(default_factory=tuple)
    index: str | None = Field(
        default=None,
        description="With project_path: the package index this release comes from (credentials masked).",
    )
    index_notes: tuple[str, ...] = Field(
        default_factory=tuple, description="With project_path: the project's indexes not used, and why."
    )


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
#: Only the JSON text is kept (a str cannot change): each call gets its own structured content,
#: parsed from it (25 us for 30 KB), so no caller can change what the next one is sent.
#: Each entry holds its page, so an ``id`` is never reused while it is a key. Replies over
#: ``_REPLY_KEPT_MAX_CHARS`` are not kept: their transfer dwarfs their serialization.
_REPLIES_KEPT = 64
_REPLY_KEPT_MAX_CHARS = 256 * 1024
_replies: LruMap[int, tuple[DocsPage, str]] = LruMap(_REPLIES_KEPT)


def page_reply(page: DocsPage) -> tuple[dict[str, Any], str]:
    """The structured content (the caller's own) and the JSON text of ``page``'s reply."""
    kept = _replies.get(id(page))
    if kept is not None:
        payload: dict[str, Any] = json.loads(kept[1])
        return payload, kept[1]
    payload = reply_payload(page)
    text = json.dumps(payload, ensure_ascii=False)
    remember_reply(page, text)
    return payload, text


def remember_reply(page: DocsPage, text: str) -> None:
    """Keep ``page``'s reply as sent (its JSON ``text``) for :func:`page_reply`."""
    if len(text) <= _REPLY_KEPT_MAX_CHARS:
        _replies.put(id(page), (page, text))
