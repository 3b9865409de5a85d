"""The docs set as a value: pages in reading order, the table of contents, warnings.

Apart from :mod:`autodocs.docset.build` so that what stores and passes docs sets around (the
cache, the use cases) imports no parser: docutils and markdown-it load only where pages are read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from autodocs.docset.pages import Page
from autodocs.docset.toc import TableOfContents

__all__ = ["DocSet", "Flavour"]

Flavour = Literal["mkdocs", "sphinx", "plain"]


@dataclass(frozen=True, slots=True)
class DocSet:
    """A release's docs: pages in reading order, the table of contents, and what went wrong."""

    flavour: Flavour
    pages: tuple[Page, ...]
    toc: TableOfContents
    warnings: tuple[str, ...] = ()

    def page(self, path: str) -> Page | None:
        return next((page for page in self.pages if page.path == path), None)

    @property
    def api_objects(self) -> dict[str, tuple[str, ...]]:
        """Per page path, the object paths its API placeholders name (pages without any left out)."""
        return {page.path: page.api_objects for page in self.pages if page.api_objects}
