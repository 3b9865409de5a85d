"""The ``search_docs`` use case: full-text search over the cached docs of a project's dependencies.

Search reads only the cache (documents, API references and release docs sets, indexed when they
were stored; a docs hit names its page and heading path):
it never asks the package index, so it answers at once and offline, and finds only what an
earlier call cached. The reply says which cached versions it searched and names what was
asked for but is not cached, with how to cache it. The words are matched by the store
(:meth:`autodocs.cache.Store.search`): all of them first, any of them when nothing has all.
A search of the whole cache covers every index and each hit names its index; a search limited
to a project's or named packages reads what the service's index client answered (its
``cache_key``), the docs a docs call would serve.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

from autodocs.cache import SearchHit, Store
from autodocs.cache.base import MAX_SEARCH_LIMIT
from autodocs.cache.search import parse_search
from autodocs.errors import InvalidArgument
from autodocs.index import normalize_package_name
from autodocs.index.names import validate_version_string
from autodocs.manifests import ScanResult
from autodocs.usecases.replies import SearchResult

__all__ = [
    "CLI_HINTS",
    "MAX_SEARCH_PACKAGES",
    "TOOL_HINTS",
    "SearchHints",
    "SearchScope",
    "search_cached_docs",
]

#: Most entries ``packages`` may name (a project's dependency list is far shorter).
MAX_SEARCH_PACKAGES = 500
#: Most names a note lists before saying how many more there are.
_NAMES_SHOWN = 20

#: Exact versions wanted per package; None: whichever versions are cached.
_Wanted = dict[str, set[str] | None]


@dataclass(frozen=True)
class SearchHints:
    """How a search's notes tell the caller to fetch docs and to read a hit, in the words of
    the caller's own interface: the MCP tools (:data:`TOOL_HINTS`) or the command line."""

    fetch: str
    read_hits: str


TOOL_HINTS = SearchHints(
    fetch="get_package_docs (or `autodocs context PATH` for a whole project)",
    read_hits="Read a section hit with get_package_docs(package_name, '==<version>', sections=[path]); "
    "an api hit with get_api_reference(package_name, path); a docs hit with "
    "get_package_docs(package_name, '==<version>', sections=[page_path]).",
)
CLI_HINTS = SearchHints(
    fetch="`autodocs docs NAME` (or `autodocs context PATH` for a whole project)",
    read_hits="Read a section hit with `autodocs docs PACKAGE --version ==VERSION --section 'PATH'`; "
    "an api hit with `autodocs api PACKAGE:PATH`; a docs hit with its page_path as the section.",
)


class SearchScope(Protocol):
    """What a search needs besides the query: the store, the key of the index whose docs a
    limited search reads, a project scan (which checks the allowed roots), and a wait for the
    cache writes queued so far."""

    @property
    def store(self) -> Store: ...

    @property
    def index_key(self) -> str: ...

    async def scan(self, project_path: str) -> ScanResult: ...

    async def flush_writes(self) -> None: ...


async def search_cached_docs(
    service: SearchScope,
    query: str,
    *,
    project_path: str | None = None,
    packages: list[str] | None = None,
    limit: int = 10,
    hints: SearchHints = TOOL_HINTS,
) -> SearchResult:
    """Search the cache, limited to the project's dependencies and/or the named packages.

    ``project_path``: its dependencies' lock pins when locked, else every cached version of
    each. ``packages``: ``name`` (any cached version) or ``name==version``; with
    ``project_path`` too, only the project's dependencies among them.
    """
    request = parse_search(query, limit)  # a bad query fails before any work
    asked = _parse_packages(packages) if packages else None  # [] restricts nothing, like None
    wanted: _Wanted | None = None
    scope: Literal["cache", "project", "packages"] = "cache"
    notes: list[str] = []
    if project_path is not None:
        scope = "project"
        wanted = _dependencies(await service.scan(project_path))
        if asked is not None:
            outside = sorted(set(asked) - set(wanted))
            if outside:
                notes.append(f"Not dependencies of the project, so not searched: {_listing(outside)}.")
            wanted = {name: _both(wanted[name], versions) for name, versions in asked.items() if name in wanted}
    elif asked is not None:
        scope, wanted = "packages", asked
    await service.flush_writes()  # what this process has just cached counts too
    index_key = None if wanted is None else service.index_key  # the whole cache: every index
    pairs, not_cached = (None, []) if wanted is None else await _cached_pairs(service.store, service.index_key, wanted)
    hits = await _search_both(service.store, query, pairs, index_key, limit) if pairs is None or pairs else []
    if not_cached:
        notes.append(
            f"Nothing cached for {_listing(not_cached)}: search reads only cached docs. Fetch them first with "
            f"{hints.fetch}, then search again."
        )
    if hits:
        notes.append(hints.read_hits)
    elif pairs is not None and not pairs:
        if not not_cached:
            notes.append("There was nothing to search: no cached version matches the packages asked for.")
    elif wanted is None and not await service.store.known_names():
        notes.append(f"Nothing is cached yet: search reads only cached docs. Fetch docs first with {hints.fetch}.")
    else:
        notes.append("No cached docs match these words; try other or fewer words.")
    return SearchResult(
        query=query,
        scope=scope,
        results=hits,
        searched_packages=[f"{name}=={version}" for name, version in pairs or []],
        not_cached=not_cached,
        limit_applied=request.limit,
        notes=notes,
    )


async def _search_both(
    store: Store, query: str, pairs: list[tuple[str, str]] | None, index_key: str | None, limit: int
) -> list[SearchHit]:
    """The best hits of the indexed descriptions and API entries and of the releases' docs sets (of
    ``index_key``'s index; None: every index), merged by score."""
    entries = await store.search(query, packages=pairs, index_key=index_key, limit=limit)
    pages = await store.search_docsets(query, packages=pairs, index_key=index_key, limit=limit)
    merged = sorted([*entries, *pages], key=lambda hit: -hit.score)
    return merged[: min(limit, MAX_SEARCH_LIMIT)]


def _parse_packages(packages: list[str]) -> _Wanted:
    """``name`` or ``name==version`` entries → the versions wanted per normalized name."""
    if len(packages) > MAX_SEARCH_PACKAGES:
        raise InvalidArgument(f"packages names {len(packages)} entries; at most {MAX_SEARCH_PACKAGES} are searched.")
    wanted: _Wanted = {}
    for entry in packages:
        raw_name, pinned, raw_version = entry.partition("==")
        name = normalize_package_name(raw_name)
        if not pinned:
            wanted[name] = None
            continue
        version = validate_version_string(raw_version.strip())
        if name not in wanted or wanted[name] is not None:
            wanted[name] = (wanted.get(name) or set()) | {version}
    return wanted


def _dependencies(scan: ScanResult) -> _Wanted:
    """The project's dependencies: their lock pins when locked, else any cached version."""
    pins: dict[str, set[str]] = {}
    for dependency in scan.dependencies:
        pins.setdefault(dependency.name, set())
        if dependency.pinned_version:
            pins[dependency.name].add(dependency.pinned_version)
    return {name: versions or None for name, versions in pins.items()}


def _both(project: set[str] | None, asked: set[str] | None) -> set[str] | None:
    """The versions wanted by both the project and the caller (None: any)."""
    if project is None or asked is None:
        return asked if project is None else project
    return project & asked


async def _cached_pairs(store: Store, index_key: str, wanted: _Wanted) -> tuple[list[tuple[str, str]], list[str]]:
    """The (name, version) pairs among those wanted that this index's docs are cached for, and
    what is wanted but not cached."""
    pairs: list[tuple[str, str]] = []
    missing: list[str] = []
    for name in sorted(wanted):
        cached = await store.cached_versions(index_key, name)
        versions = wanted[name]
        if versions is None:
            pairs += [(name, version) for version in cached]
            missing += [] if cached else [name]
            continue
        pairs += [(name, version) for version in cached if version in versions]
        missing += [f"{name}=={version}" for version in sorted(versions) if version not in cached]
    return pairs, missing


def _listing(names: list[str]) -> str:
    shown = ", ".join(names[:_NAMES_SHOWN])
    return shown if len(names) <= _NAMES_SHOWN else f"{shown} and {len(names) - _NAMES_SHOWN} more"
