"""A release's docs set, as the docs use case asks for it: built, being built, or missing and why.

This is the interface the docs reply codes against (issue 23); fetching the sdist, building in
the background and storing the set live behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from autodocs.docset.build import DocSet

__all__ = ["DocsetLookup", "DocsetProvider"]


@dataclass(frozen=True, slots=True)
class DocsetLookup:
    docset: DocSet | None  # built
    pending: bool = False  # a background build is under way; answer without it
    missing_reason: str = ""  # when docset is None and not pending ("the sdist has no docs folder", ...)
    warnings: tuple[str, ...] = ()


class DocsetProvider(Protocol):
    async def lookup(self, name: str, version: str, *, index_key: str, wait_s: float) -> DocsetLookup:
        """The docs set of ``name`` ``version`` from the index(es) ``index_key`` names, waiting at
        most ``wait_s`` seconds for a build under way."""
        ...
