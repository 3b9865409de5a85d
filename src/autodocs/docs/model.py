"""The documents AutoDocs caches and the pages it hands to assistants."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

__all__ = [
    "DocSection",
    "DocsPage",
    "OmittedSection",
    "PackageDocument",
    "PageSection",
    "RequirementInfo",
]


class RequirementInfo(BaseModel):
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
    tokens: int = Field(description="Estimated tokens of title, anchor and content as sent.")
    title_tokens: int = 0


class PackageDocument(BaseModel):
    """Everything AutoDocs knows about one exact version; immutable once cached."""

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
    header_tokens: int = 0


class PageSection(BaseModel):
    title: str
    anchor: str
    level: int
    content: str
    continued: bool = Field(default=False, description="True when this is a later part of a cut section.")
    complete: bool = Field(default=True, description="False when the rest of the section is on a later page.")


class OmittedSection(BaseModel):
    title: str
    anchor: str
    tokens: int


class DocsPage(BaseModel):
    """What ``get_package_docs`` returns: one budgeted page of one exact version's documentation."""

    name: str
    version: str
    requested_constraint: str | None = None
    source: Literal["cache", "index"]
    stale: bool = False
    latest_version: str | None = None
    continuation: bool = Field(
        default=False, description="A later page: metadata (requirements, URLs) is on the first page only."
    )
    summary: str | None = None
    requires_python: str | None = None
    license: str | None = None
    home_page: str | None = None
    project_urls: dict[str, str] = Field(default_factory=dict)
    requirements: list[str] = Field(default_factory=list, description="PEP 508 requirements of this version.")
    yanked: bool = False
    yanked_reason: str | None = None
    query: str | None = None
    sections: list[PageSection] = Field(default_factory=list)
    truncated: bool = Field(default=False, description="True when some content is not on this page.")
    omitted_sections: list[OmittedSection] = Field(
        default_factory=list, description="Sections left for later pages, most important first (at most 50 listed)."
    )
    omitted_count: int = Field(default=0, description="How many sections are left for later pages.")
    missing_sections: list[str] = Field(default_factory=list, description="Requested sections not found.")
    available_sections: list[str] = Field(
        default_factory=list, description="Section titles (when some were cut or not found; at most 100)."
    )
    next_cursor: str | None = Field(default=None, description="Pass as cursor to get the next page.")
    how_to_get_more: str | None = None
    tokens: int = Field(description="Estimated tokens of this page.")
    max_tokens: int
    warnings: list[str] = Field(default_factory=list)
