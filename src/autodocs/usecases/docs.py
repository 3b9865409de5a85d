"""The ``get_package_docs`` use case: one package's docs as one budgeted page.

The name is normalized (:mod:`autodocs.index.names`: PEP 508 check, PEP 503 form — bad names
never reach a URL), the constraint parsed, and the version and document found
(:mod:`.resolution`) under the ``REQUEST_TIMEOUT`` deadline. The page is cut to the token
budget (:mod:`autodocs.docs.pages`); with a query, the best entries of this version's cached
API reference are listed next to the sections. Pages are pure functions of (document,
request), so they are remembered in memory too, keyed by the index that answered as well.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Sequence

import structlog

from autodocs.cache import Store
from autodocs.cache.base import CachedState
from autodocs.cache.search import clip_snippet
from autodocs.deadline import remaining
from autodocs.docs.budget import Cursor, decode_cursor
from autodocs.docs.model import ApiMatch, DocsPage, PackageDocument
from autodocs.docs.overview import status_fields, status_tokens, toc_page
from autodocs.docs.pages import MIN_TOKENS, PageRequest, make_page
from autodocs.docs.ranking import best_matches
from autodocs.docs.tokens import count_tokens
from autodocs.docs.unit_cursor import UnitCursor, decode_unit_cursor
from autodocs.docs.unit_pages import UnitPageRequest, UnitSet, make_unit_page
from autodocs.docs.units import Unit, api_units, docs_units, readme_units
from autodocs.docset.model import DocSet
from autodocs.errors import AutoDocsError, InvalidArgument
from autodocs.index import normalize_package_name
from autodocs.index.models import DistFile
from autodocs.memo import LruMap
from autodocs.sources.sdist import choose_sdist
from autodocs.usecases.docs_ranking import Rankings, Release
from autodocs.usecases.docsets import ClientOpener, DocsetLookup, DocsetProvider
from autodocs.usecases.machinery.calls import CallLimits
from autodocs.usecases.machinery.project_indexes import ProjectIndexes, ProjectPlan, served_by
from autodocs.usecases.resolution import Resolution, Resolved
from autodocs.usecases.stored_docsets import StoredDocset

__all__ = ["PackageDocs"]

log = structlog.get_logger(__name__)

_MEMORY_PAGES = 256
_MEMORY_UNITS = 16
#: API entries a docs page with a query lists next to the sections.
_MAX_API_MATCHES = 3
#: Time kept back from the call's deadline for the reply when waiting for a docs set.
_LOOKUP_MARGIN_S = 1.0


class PackageDocs:
    """``docsets``: where releases' docs sets come from (None: none are looked up)."""

    def __init__(
        self,
        store: Store,
        *,
        calls: CallLimits,
        resolution: Resolution,
        projects: ProjectIndexes,
        docsets: DocsetProvider | None = None,
        background: bool = True,
    ) -> None:
        """``background``: a docs set's words may be counted after the call that needs them
        returns (a server); False in a one-shot process (the CLI), which would only wait for it at exit."""
        self._store = store
        self._calls = calls
        self._resolution = resolution
        self._projects = projects
        self.docsets = docsets
        # Every memo is keyed by the index first (a private and a public ``foo`` never share), the name second.
        self._pages: LruMap[tuple[str, str, str, PageRequest], DocsPage] = LruMap(_MEMORY_PAGES)
        self._unit_pages: LruMap[tuple[str, str, str, int, int, UnitPageRequest], tuple[DocSet | None, DocsPage]] = (
            LruMap(_MEMORY_PAGES)
        )
        self._unit_sets: LruMap[tuple[str, str, str, int, int, tuple[int, int, int]], tuple[DocSet | None, UnitSet]] = (
            LruMap(_MEMORY_UNITS)
        )
        self._units: LruMap[tuple[str, str, str], tuple[DocSet | None, int, list[Unit], list[Unit], list[Unit]]] = (
            LruMap(_MEMORY_UNITS)
        )
        #: The word counts that rank query pages over stored docs sets (:mod:`.docs_ranking`).
        self.rankings = Rankings(store, background=background)

    async def get(
        self,
        package_name: str,
        version_constraint: str | None = None,
        *,
        query: str | None = None,
        max_tokens: int | None = None,
        sections: list[str] | None = None,
        cursor: str | None = None,
        project: str | ProjectPlan | None = None,
        with_docset: bool = True,
    ) -> DocsPage:
        """``project`` (a project folder, or its plan already made): use that project's indexes and,
        without a constraint, its lock pin (:mod:`.machinery.project_indexes`); the reply then names
        the index that served it (and, for a folder, the project's indexes left out).

        ``with_docset``: look the release's docs set up (a dependency's short page in a
        context call does not: it would start a build per dependency for a few hundred tokens)."""
        name = normalize_package_name(package_name)
        budget = self._calls.budget(max_tokens)
        wanted = tuple(s for s in (sections or []) if s.strip())
        start: Cursor | None = None
        unit_start: UnitCursor | None = None
        if cursor:
            unit_start = decode_unit_cursor(cursor)
            begun = unit_start or decode_cursor(cursor)
            if begun.name != name:
                raise InvalidArgument(f"That cursor belongs to {begun.name!r}, not {name!r}.")
            version_constraint, query, wanted = f"=={begun.version}", begun.query, begun.sections
            start = begun if isinstance(begun, Cursor) else None
        needs_docset = with_docset and start is None and not (unit_start is not None and unit_start.counts[1] == 0)
        async with self._calls.deadline(f"docs for {name}"):
            plan = await self._projects.plan(project) if isinstance(project, str) else project
            if plan is not None and not cursor:
                version_constraint = plan.constraint(name, version_constraint)
            async with self._projects.client(plan, name) as index:
                resolved = await self._resolution.resolve(name, version_constraint, index=index)
            key = index.cache_key
            opener = functools.partial(self._projects.client, plan, name)  # a build's download, leased anew
            version = resolved.document.version
            patient = bool(query or wanted)  # asks for content a docs set holds: worth waiting for a quick build
            outline = not wanted and unit_start is None  # a TOC or a query page: the stored set's parts will do
            lookup = None
            if needs_docset:
                lookup = await self.lookup_docset(
                    name,
                    version,
                    key,
                    opener,
                    patient=patient,
                    outline=outline,
                    state=resolved.state,
                    listed=resolved.files,
                )
        page = await self._reply(resolved, key, budget, version_constraint, query, wanted, start, unit_start, lookup)
        if plan is not None:
            notes = plan.notes if isinstance(project, str) else []
            page = page.model_copy(update={"index": served_by(index, name), "index_notes": tuple(notes)})
        return page

    async def _reply(
        self,
        resolved: Resolved,
        key: str,
        budget: int,
        version_constraint: str | None,
        query: str | None,
        wanted: tuple[str, ...],
        start: Cursor | None,
        unit_start: UnitCursor | None,
        lookup: DocsetLookup | None,
    ) -> DocsPage:
        name = resolved.document.name
        available = lookup is not None and lookup.outline is not None
        if unit_start is not None or (available and (query or wanted)):
            return await self._unit_page(resolved, key, budget, query, wanted, unit_start, lookup)
        if start is None and query is None and not wanted:
            return self.first_page(resolved, key, budget, version_constraint, lookup)
        fields = _status(resolved.document, lookup)
        budget -= status_tokens(fields)
        matches = await self._api_matches(key, name, resolved.document.version, query) if query and not start else []
        reserve = count_tokens(json.dumps([m.model_dump() for m in matches])) + 8 if matches else 0
        if budget - reserve < MIN_TOKENS:
            matches, reserve = [], 0
        request = _page_request(resolved, budget - reserve, version_constraint, query, wanted, start)
        page = self.page(resolved.document, request, key)
        page = page.model_copy(update={"api_matches": tuple(matches)}) if matches else page
        return _with_status(page, fields)

    def first_page(
        self, resolved: Resolved, key: str, budget: int, constraint: str | None, lookup: DocsetLookup | None
    ) -> DocsPage:
        """The page without a query or named sections: with a docs set, its table of contents too."""
        document = resolved.document
        if lookup is not None and lookup.outline is not None:
            toc = lookup.outline.toc
            return toc_page(
                toc,
                budget,
                lambda room: self.page(document, _page_request(resolved, room, constraint), key),
                warnings=lookup.warnings,
            )
        fields = _status(document, lookup)
        page = self.page(document, _page_request(resolved, budget - status_tokens(fields), constraint), key)
        return _with_status(page, fields)

    def page(self, document: PackageDocument, request: PageRequest, index_key: str) -> DocsPage:
        """The page of ``document`` (from the indexes ``index_key`` names) for ``request``, remembered in memory."""
        key = (index_key, document.name, document.version, request)
        page = self._pages.get(key)
        if page is None:
            page = make_page(document, request)
            self._pages.put(key, page)
        return page

    def forget(self, name: str | None) -> None:
        """Drop the pages of ``name`` (None: all) remembered in memory."""
        if name is None:
            self._pages.clear()
            self._unit_pages.clear()
            self._units.clear()
            self._unit_sets.clear()
            self.rankings.forget(None)
        else:
            self._pages.discard_where(lambda key: key[1] == name)
            self._unit_pages.discard_where(lambda key: key[1] == name)
            self._units.discard_where(lambda key: key[1] == name)
            self._unit_sets.discard_where(lambda key: key[1] == name)
            self.rankings.forget(name)

    async def lookup_docset(
        self,
        name: str,
        version: str,
        index_key: str,
        client: ClientOpener | None = None,
        *,
        patient: bool = False,
        outline: bool = False,
        state: CachedState | None = None,
        listed: tuple[DistFile, ...] = (),
    ) -> DocsetLookup | None:
        """The release's docs set; None without a provider. ``patient`` (a call with a query or
        named sections): wait for a build under way — while it looks quick, see
        :class:`~autodocs.usecases.docsets.DocsetLimits` — at most until the call's deadline less
        :data:`_LOOKUP_MARGIN_S`; otherwise a stored docs set or ``pending`` at once, so a call
        without a query costs what it did before docs sets. Never raises: a provider that fails
        is a warning, one that overstays is a build still pending. ``outline``: the stored set's
        parts will do (:class:`~autodocs.usecases.stored_docsets.StoredDocset`). ``state``: the
        package's cached state as this call read it (:attr:`Resolved.state`), which tells whether
        anything is stored for the release without asking the store again. ``listed``: the
        release's files, when this call fetched its metadata (:attr:`Resolved.files`): a listed
        sdist too big for a quick build is not waited for."""
        if self.docsets is None:
            return None
        left = remaining(0.0)
        wait = max(0.0, left - _LOOKUP_MARGIN_S) if patient else 0.0
        stored = None if state is None else version in state.docsets
        sdist = choose_sdist(listed) if listed else None
        try:
            async with asyncio.timeout(max(0.0, left - _LOOKUP_MARGIN_S / 2)):
                return await self.docsets.lookup(
                    name,
                    version,
                    index_key=index_key,
                    wait_s=wait,
                    client=client,
                    outline=outline,
                    stored=stored,
                    listed_sdist_bytes=sdist.size if sdist is not None else None,
                )
        except TimeoutError:
            log.info("docs.docset_lookup_late", package=name, version=version, wait_s=round(wait, 2))
            return DocsetLookup(None, pending=True)
        except AutoDocsError as exc:
            log.warning("docs.docset_lookup_failed", package=name, version=version, error=exc.type_name)
            return DocsetLookup(None, warnings=(f"The release's docs pages could not be read: {exc.message}",))
        except Exception:  # a bug behind the provider must not cost the README reply
            log.exception("docs.docset_lookup_crashed", package=name, version=version)
            return DocsetLookup(None, warnings=("The release's docs pages could not be read.",))

    async def _unit_page(
        self,
        resolved: Resolved,
        index_key: str,
        budget: int,
        query: str | None,
        wanted: tuple[str, ...],
        start: UnitCursor | None,
        lookup: DocsetLookup | None,
    ) -> DocsPage:
        document = resolved.document
        docset = lookup.docset if lookup is not None else None
        if start is not None and start.counts[1] and docset is None:
            raise InvalidArgument(
                "The docs pages this cursor reads are not available now.",
                suggestions=["Call again without the cursor."],
            )
        entries = await self._api_entries(index_key, document.name, document.version)
        header = _page_request(
            resolved, budget, f"=={document.version}" if start else None, query, wanted, _later(start)
        )
        warnings = lookup.warnings if lookup is not None else ()
        stored = lookup.stored if lookup is not None else None
        if start is None and query and not wanted and stored is not None:
            page = await self._stored_page(document, (stored, docset), index_key, entries, header, warnings, query)
            if page is not None:
                return page
            docset = docset or await self._whole_docset(index_key, document)
        readme, docs, api = self._units_of(index_key, document, docset, entries)
        counts = start.counts if start is not None else (len(readme), len(docs), len(api))
        units = readme[: counts[0]] + docs[: counts[1]] + api[: counts[2]]
        request = UnitPageRequest(header, counts, start, warnings)
        key = (index_key, document.name, document.version, id(docset), len(entries), request)
        kept = self._unit_pages.get(key)
        if kept is not None and kept[0] is docset:
            return kept[1]
        set_key = (index_key, document.name, document.version, id(docset), len(entries), counts)
        kept_set = self._unit_sets.get(set_key)
        if kept_set is None or kept_set[0] is not docset:
            kept_set = (docset, self._unit_set(index_key, document, entries, units, counts))
            self._unit_sets.put(set_key, kept_set)
        if query and not kept_set[1].indexed:  # one pass over the text (about 1 s for Django's docs): off the loop
            await asyncio.to_thread(kept_set[1].build_index)
        page = make_unit_page(document, kept_set[1], request)
        self._unit_pages.put(key, (docset, page))
        return page

    def _unit_set(
        self,
        index_key: str,
        document: PackageDocument,
        entries: Sequence[tuple[str, str]],
        units: list[Unit],
        counts: tuple[int, int, int],
    ) -> UnitSet:
        """The units as a set, their words' counts taken from those kept when they are these units'."""
        bases, docs_counts = self.rankings.kept((index_key, document.name, document.version, len(entries)))
        readme, docs, api = counts
        if docs_counts is None or bases is None or (len(bases.readme), docs_counts.count, len(bases.api)) != counts:
            return UnitSet(units)
        order = [*range(readme), *range(readme + docs, readme + docs + api), *range(readme, readme + docs)]
        return UnitSet(units, counted=[bases.counts, docs_counts], order=order)

    async def _stored_page(
        self,
        document: PackageDocument,
        docs: tuple[StoredDocset, DocSet | None],
        index_key: str,
        entries: Sequence[tuple[str, str]],
        header: PageRequest,
        warnings: tuple[str, ...],
        query: str,
    ) -> DocsPage | None:
        """A query's page without the docs set read whole (:mod:`.docs_ranking`). ``docs``: the
        stored docs set, and the whole set when it is in memory. None when the store cannot search."""
        release = Release(document, (index_key, document.name, document.version, len(entries)), entries)
        try:
            unit_set, counts, exact = await self.rankings.unit_set(release, *docs, query)
        except AutoDocsError as exc:
            log.info("docs.stored_page_failed", package=document.name, error=exc.type_name)
            return None
        page = make_unit_page(document, unit_set, UnitPageRequest(header, counts, None, warnings))
        if not exact:  # after the page: counting holds the GIL
            self.rankings.count_in_background(release, docs[1])
        return page

    async def _whole_docset(self, index_key: str, document: PackageDocument) -> DocSet | None:
        """The docs set read whole (a query the store could not search for: SQLite without FTS5)."""
        if self.docsets is None:
            return None
        try:
            found = await self.docsets.lookup(document.name, document.version, index_key=index_key, wait_s=0.0)
        except AutoDocsError:
            return None
        return found.docset

    def _units_of(
        self, index_key: str, document: PackageDocument, docset: DocSet | None, entries: Sequence[tuple[str, str]]
    ) -> tuple[list[Unit], list[Unit], list[Unit]]:
        """The release's units by origin, remembered while the docs set and the API entries stay."""
        key = (index_key, document.name, document.version)
        kept = self._units.get(key)
        if kept is not None and kept[0] is docset and kept[1] == len(entries):
            return kept[2], kept[3], kept[4]
        readme = readme_units(document)
        docs = docs_units(docset, dict(reversed(entries)), package=document.name) if docset is not None else []
        api = api_units(entries)
        self._units.put(key, (docset, len(entries), readme, docs, api))
        return readme, docs, api

    async def _api_entries(self, index_key: str, name: str, version: str) -> list[tuple[str, str]]:
        """This version's cached API entries (path, text), in stored order; [] when none or the store fails."""
        try:
            entries = await self._store.api_entries(index_key, name, version)
        except AutoDocsError:
            return []
        return [(entry.path, entry.text) for entry in entries]

    async def _api_matches(self, index_key: str, name: str, version: str, query: str) -> list[ApiMatch]:
        """The best entries of this version's cached API reference for the query (none if not
        cached). Only this version's entries are read and ranked, never the cache's search
        index, so the cost does not grow with the cache (bench/docs_query.py)."""
        try:
            entries = await self._store.api_entries(index_key, name, version)
        except AutoDocsError:  # the store is unavailable: the page goes without
            return []
        best = best_matches(query, [(entry.path, entry.text) for entry in entries], _MAX_API_MATCHES)
        return [ApiMatch(path=entries[i].path, snippet=clip_snippet(entries[i].text)) for i in best]


def _page_request(
    resolved: Resolved,
    budget: int,
    constraint: str | None,
    query: str | None = None,
    wanted: tuple[str, ...] = (),
    start: Cursor | None = None,
) -> PageRequest:
    return PageRequest(
        budget=budget,
        constraint=constraint,
        query=query,
        wanted=wanted,
        start=start,
        source=resolved.source,
        latest=resolved.latest,
        stale=resolved.stale,
    )


def _later(start: UnitCursor | None) -> Cursor | None:
    """A README cursor standing for ``start`` in a page header: later pages carry no metadata."""
    return Cursor(start.name, start.version, start.query, start.sections) if start is not None else None


def _status(document: PackageDocument, lookup: DocsetLookup | None) -> dict[str, object]:
    if lookup is None:
        return {}
    return status_fields(
        document, pending=lookup.pending, missing_reason=lookup.missing_reason, warnings=lookup.warnings
    )


def _with_status(page: DocsPage, fields: dict[str, object]) -> DocsPage:
    """``page`` with the docs-set status ``fields`` (the page as it is when there are none)."""
    if not fields:
        return page
    added = fields.get("warnings")
    warnings = (*page.warnings, *(added if isinstance(added, (list, tuple)) else ()))
    return page.model_copy(update={**fields, "warnings": warnings, "tokens": page.tokens + status_tokens(fields)})
