"""The ``get_package_docs`` use case: one package's docs as one budgeted page.

The name is normalized (:mod:`autodocs.index.names`: PEP 508 check, PEP 503 form — bad names
never reach a URL), the constraint parsed, and the version and document found
(:mod:`.resolution`) under the ``REQUEST_TIMEOUT`` deadline. The page is cut to the token
budget (:mod:`autodocs.docs.pages`); with a query, the best entries of this version's cached
API reference are listed next to the sections. Pages are pure functions of (document,
request), so they are remembered in memory too.
"""

from __future__ import annotations

import json

from autodocs.cache import Store
from autodocs.cache.search import clip_snippet
from autodocs.docs.budget import decode_cursor
from autodocs.docs.model import ApiMatch, DocsPage, PackageDocument
from autodocs.docs.pages import MIN_TOKENS, PageRequest, make_page
from autodocs.docs.ranking import best_matches
from autodocs.docs.tokens import count_tokens
from autodocs.errors import AutoDocsError, InvalidArgument
from autodocs.index import normalize_package_name
from autodocs.memo import LruMap
from autodocs.usecases.docsets import ReleaseDocsets
from autodocs.usecases.machinery.calls import CallLimits
from autodocs.usecases.resolution import Resolution

__all__ = ["PackageDocs"]

_MEMORY_PAGES = 256
#: API entries a docs page with a query lists next to the sections.
_MAX_API_MATCHES = 3


class PackageDocs:
    def __init__(
        self, store: Store, *, calls: CallLimits, resolution: Resolution, docsets: ReleaseDocsets | None = None
    ) -> None:
        self._store = store
        self._calls = calls
        self._resolution = resolution
        #: Release docs sets (``lookup``); None where docs sets are not served.
        self._docsets = docsets
        self._pages: LruMap[tuple[str, str, PageRequest], DocsPage] = LruMap(_MEMORY_PAGES)

    async def get(
        self,
        package_name: str,
        version_constraint: str | None = None,
        *,
        query: str | None = None,
        max_tokens: int | None = None,
        sections: list[str] | None = None,
        cursor: str | None = None,
    ) -> DocsPage:
        name = normalize_package_name(package_name)
        budget = self._calls.budget(max_tokens)
        wanted = tuple(s for s in (sections or []) if s.strip())
        start = None
        if cursor:
            start = decode_cursor(cursor)
            if start.name != name:
                raise InvalidArgument(f"That cursor belongs to {start.name!r}, not {name!r}.")
            version_constraint, query, wanted = f"=={start.version}", start.query, start.sections
        async with self._calls.deadline(f"docs for {name}"):
            resolved = await self._resolution.resolve(name, version_constraint)
        matches = await self._api_matches(name, resolved.document.version, query) if query and not start else []
        reserve = count_tokens(json.dumps([m.model_dump() for m in matches])) + 8 if matches else 0
        if budget - reserve < MIN_TOKENS:
            matches, reserve = [], 0
        request = PageRequest(
            budget=budget - reserve,
            constraint=version_constraint,
            query=query,
            wanted=wanted,
            start=start,
            source=resolved.source,
            latest=resolved.latest,
            stale=resolved.stale,
        )
        page = self.page(resolved.document, request)
        return page.model_copy(update={"api_matches": matches}) if matches else page

    def page(self, document: PackageDocument, request: PageRequest) -> DocsPage:
        key = (document.name, document.version, request)
        page = self._pages.get(key)
        if page is None:
            page = make_page(document, request)
            self._pages.put(key, page)
        return page

    def forget(self, name: str | None) -> None:
        """Drop the pages of ``name`` (None: all) remembered in memory."""
        if name is None:
            self._pages.clear()
        else:
            self._pages.discard_where(lambda key: key[0] == name)

    async def _api_matches(self, name: str, version: str, query: str) -> list[ApiMatch]:
        """The best entries of this version's cached API reference for the query (none if not
        cached). Only this version's entries are read and ranked, never the cache's search
        index, so the cost does not grow with the cache (bench/docs_query.py)."""
        try:
            entries = await self._store.api_entries(name, version)
        except AutoDocsError:  # the store is unavailable: the page goes without
            return []
        best = best_matches(query, [(entry.path, entry.text) for entry in entries], _MAX_API_MATCHES)
        return [ApiMatch(path=entries[i].path, snippet=clip_snippet(entries[i].text)) for i in best]
