"""What the docs use case asks of a release's docs sets, and what it gets back.

The provider's interface (:class:`DocsetProvider`: one ``lookup``), its answer
(:class:`DocsetLookup`), the bounds of the one implementation
(:class:`~autodocs.usecases.docsets.ReleaseDocsets`, which builds, stores and remembers them)
and the reasons a release has none. Kept apart from it so the use cases and tests that only
ask for docs sets import neither the build machinery nor its workers.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from autodocs.docset.model import DocSet
from autodocs.usecases.stored_docsets import StoredDocset

if TYPE_CHECKING:
    from autodocs.index import IndexClient

__all__ = ["BUSY", "NO_DOCS", "TURNED_OFF", "ClientOpener", "DocsetLimits", "DocsetLookup", "DocsetProvider"]

TURNED_OFF = "release docs sets are turned off (AUTODOCS_RELEASE_DOCS=false)"
NO_DOCS = "the sdist has no docs folder and no top-level README or changelog"
BUSY = "too many docs sets are being built right now; this release's was not started (ask again later)"


@dataclass(frozen=True, slots=True)
class DocsetLookup:
    docset: DocSet | None  # built (memory or store)
    pending: bool = False  # a build is under way; the caller answers without it
    #: Why there is no docs set, when ``docset`` is None and not ``pending``.
    missing_reason: str = ""
    warnings: tuple[str, ...] = ()
    #: The docs set read in parts: with ``docset``, or alone when an ``outline`` lookup found
    #: it stored but not in memory.
    stored: StoredDocset | None = None

    @property
    def outline(self) -> DocSet | None:
        """The docs set, or its pages without their sections: enough for a table of contents."""
        return self.docset if self.docset is not None else (self.stored.outline if self.stored else None)


#: Opens the index client that serves a release for as long as its block runs (a pooled
#: project client is leased, not borrowed past its lease, by a build that outlives the call).
ClientOpener = Callable[[], AbstractAsyncContextManager["IndexClient"]]


class DocsetProvider(Protocol):
    async def lookup(
        self,
        name: str,
        version: str,
        *,
        index_key: str,
        wait_s: float,
        client: ClientOpener | None = None,
        stored: bool | None = None,
        outline: bool = False,
        listed_sdist_bytes: int | None = None,
    ) -> DocsetLookup:
        """The docs set of ``name`` ``version`` from the index(es) ``index_key`` names, waiting at
        most ``wait_s`` seconds for a build under way; ``client`` opens the client of that index
        (None: the server's own). ``stored``: whether the store holds a docs set, or the reason
        for none, for this release, when the caller has just read that (None: not known).
        ``outline``: a stored docs set not in memory may come as its :class:`StoredDocset` alone
        (``docset`` None). ``listed_sdist_bytes``: the release's sdist size as the index listed
        it, when the caller has the listing (a big one is not waited for)."""
        ...


@dataclass(frozen=True, slots=True)
class DocsetLimits:
    """Bounds on building docs sets, per server process."""

    builds: int = 1  # at once (each reads its pages on every worker)
    queued: int = 16  # waiting for a build slot; past this a lookup answers BUSY
    processes: int = 2  # page-reading worker processes
    build_seconds: float = 300.0  # the whole build, download excluded
    batch_seconds: float = 60.0  # one batch of pages in a worker
    page_seconds: float = 20.0  # one page in a worker (past it, that page is a warning)
    unpack_seconds: float = 60.0
    archive_entries: int = 100_000  # entries of the sdist read before unpacking stops (a warning)
    retry_after_s: float = 300.0  # how long a passing failure is remembered
    memory_docsets: int = 4  # built docs sets kept in memory
    #: A call waits for a build only while it looks quick: the sdist downloaded within
    #: ``download_patience_s`` of the call's lookup, and no bigger than ``quick_sdist_bytes``
    #: (a few MB of docs read in a few seconds). Otherwise it answers ``pending`` at once and
    #: the build goes on: a slow index costs a call at most this patience, and a big docs tree
    #: (Django's: 10 MB, half a minute of parsing) costs the first call nothing.
    download_patience_s: float = 0.75
    quick_sdist_bytes: int = 4 << 20
