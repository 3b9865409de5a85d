"""What the use cases answer: the reply models the tools and the CLI send back.

They live apart from the use cases that fill them so that a transport can describe its tools
(their output schemas) without importing the machinery behind them: over stdio the server
answers ``initialize`` and ``tools/list`` before the store, the index client and the use cases
are imported (``server/service_slot.py``; ``bench/startup.py`` measures it).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Literal

from pydantic import BaseModel, Field

from autodocs.cache.base import SearchHit
from autodocs.docs.model import DocsPage
from autodocs.manifests.base import ScanResult, SkippedDependency

__all__ = [
    "ContextResult",
    "FailedPackage",
    "ProgressHook",
    "ProjectContextResult",
    "PruneResult",
    "RefreshResult",
    "SearchResult",
]

#: Called as each package of a multi-package call finishes: (name, succeeded, total).
ProgressHook = Callable[[str, bool, int], Awaitable[None]]


class FailedPackage(BaseModel):
    name: str
    error_type: str
    message: str
    retryable: bool
    suggestions: list[str] = Field(default_factory=list)


class ContextResult(BaseModel):
    """A package's docs plus a shorter page for each of its runtime dependencies."""

    package: DocsPage
    succeeded: list[DocsPage] = Field(default_factory=list, description="Dependencies whose docs were fetched.")
    failed: list[FailedPackage] = Field(default_factory=list, description="Dependencies that failed, and why.")
    skipped_dependencies: list[str] = Field(
        default_factory=list, description="Runtime dependencies beyond max_dependencies."
    )
    skipped: list[SkippedDependency] = Field(
        default_factory=list, description="Runtime dependencies not documented here, each with the reason."
    )
    partial: bool = False
    completion_rate: float = 1.0
    tokens: int = 0
    index_notes: list[str] = Field(
        default_factory=list, description="With project_path: the project's indexes not used, and why."
    )


class ProjectContextResult(BaseModel):
    project_path: str
    scan: ScanResult
    succeeded: list[DocsPage] = Field(default_factory=list)
    failed: list[FailedPackage] = Field(default_factory=list)
    skipped: list[SkippedDependency] = Field(default_factory=list, description="Not documented, and why.")
    partial: bool = False
    completion_rate: float = 1.0
    index_notes: list[str] = Field(default_factory=list, description="The project's indexes not used, and why.")


class SearchResult(BaseModel):
    """What ``search_docs`` returns: the best matching sections and API entries, best first."""

    query: str
    scope: Literal["cache", "project", "packages"] = Field(
        description="What was searched: the whole cache, the project's dependencies, or the named packages."
    )
    results: list[SearchHit] = Field(default_factory=list)
    searched_packages: list[str] = Field(
        default_factory=list,
        description="name==version of each cached version searched (left out when the whole cache was searched).",
    )
    not_cached: list[str] = Field(
        default_factory=list, description="Packages asked for that have nothing cached, so were not searched."
    )
    limit_applied: int = Field(description="The number of hits asked for, after lowering to the maximum (50).")
    notes: list[str] = Field(default_factory=list, description="What to do next (e.g. how to cache what is missing).")


class PruneResult(BaseModel):
    removed_entries: int
    max_versions: int
    cleanup_days: int


class RefreshResult(BaseModel):
    scope: str
    removed_entries: int
    message: str
