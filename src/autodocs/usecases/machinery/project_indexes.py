"""Which index client serves a project-aware call, and at which version: the one place it is chosen.

With ``project_path`` (``get_package_docs``, ``get_package_docs_with_context``,
``get_api_reference``, the project context) the project is scanned (inside the allowed roots:
the scan checks them) and its index plan made (:mod:`autodocs.index.project`: an explicit
``AUTODOCS_INDEX_URL`` wins; in HTTP mode only allow-listed indexes). Then, per package:

* **blocked** (locked to an index this transport may not use), or taken from a git or path
  reference without a version: :class:`~autodocs.errors.IndexNotAllowed`. It is never fetched
  from another index under the same name (dependency confusion);
* **locked** to an index: a client of that index alone. A package locked to the default public
  index is served by the server's own indexes: they are that index, or the operator's mirror of it;
* otherwise the plan's indexes, in order: the first that has the package wins (uv's rule).

A client whose indexes and credentials are the server's own is the service's client; any other
comes from the pool (:mod:`autodocs.index.pool`), leased for the call. Every memo, store read and
write of the call is made with the client chosen here (:meth:`ProjectIndexes.client`), so the
index part of their keys has one source.

The version, when the caller gives no constraint: the project's lock pin, else its declared
specifier (:func:`~autodocs.manifests.docs_requests`). Credentials are the operator's only
(settings, ``~/.netrc``, keyring, uv's and Poetry's variables: :mod:`autodocs.index.env_credentials`);
a project's name for an index selects uv's or Poetry's variables only in stdio mode.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from autodocs.config import Settings, mask_url
from autodocs.errors import IndexNotAllowed
from autodocs.manifests import ScanResult
from autodocs.manifests.documentable import docs_requests

if TYPE_CHECKING:  # the index's HTTP stack is imported when a service opens, not with this module
    from autodocs.index import IndexClient
    from autodocs.index.env_credentials import CredentialSource
    from autodocs.index.pool import IndexClients
    from autodocs.index.project import ProjectIndexPlan, Transport

__all__ = ["ProjectIndexes", "ProjectPlan"]


@dataclass(frozen=True)
class ProjectPlan:
    """One project's scan, its index plan, and the credential variables its indexes may use."""

    scan: ScanResult
    plan: ProjectIndexPlan
    credentials: tuple[CredentialSource, ...] = ()
    requests: dict[str, str | None] = field(default_factory=dict)

    @property
    def notes(self) -> list[str]:
        """Why some of the project's indexes are not used (URLs masked)."""
        return list(self.plan.notes)

    def constraint(self, name: str, given: str | None) -> str | None:
        """The caller's constraint, else the project's lock pin, else its declared specifier."""
        return given if given else self.requests.get(name)

    def pinned(self, name: str) -> bool:
        return (self.requests.get(name) or "").startswith("==")


class ProjectIndexes:
    """Plans a project's indexes and lends the client that serves one package of it."""

    def __init__(
        self,
        settings: Settings,
        scan: Callable[[str], Awaitable[ScanResult]],
        default: IndexClient,
        clients: IndexClients,
        *,
        transport: Transport,
    ) -> None:
        from autodocs.index.auth import without_credentials
        from autodocs.index.env_credentials import credential_sources

        self._settings = settings
        self._scan = scan
        self._default = default
        self._clients = clients
        self._transport = transport
        self._server = tuple(without_credentials(url) for url in (settings.pypi_url, *settings.extra_index_urls))
        self._operator_credentials = credential_sources((), trust_project_names=False)

    @property
    def default(self) -> IndexClient:
        """The server's own client (what a call without a project uses)."""
        return self._default

    async def plan(self, project_path: str) -> ProjectPlan:
        """Scan the project (inside the allowed roots) and plan its indexes; sends no request."""
        from autodocs.index.env_credentials import NamedIndex, credential_sources
        from autodocs.index.project import plan_project_indexes

        scan = await self._scan(project_path)
        locked = [*scan.dependencies, *scan.locked_only]
        plan = plan_project_indexes(scan.indexes, locked, settings=self._settings, transport=self._transport)
        named = [NamedIndex(i.url, i.name, i.tool) for i in scan.indexes if i.name and i.tool]
        credentials = credential_sources(named, trust_project_names=self._transport == "stdio")
        return ProjectPlan(scan, plan, credentials, docs_requests(locked))

    @asynccontextmanager
    async def client(self, project: ProjectPlan | None, name: str) -> AsyncIterator[IndexClient]:
        """The client that serves ``name`` for ``project`` (None: the server's own), for the
        duration of the block; :class:`IndexNotAllowed` when the project takes it from no index
        this server may use."""
        indexes = self._indexes_for(project, name) if project is not None else self._server
        credentials = self._credentials_for(project, indexes)
        if indexes == self._server and credentials == self._credentials_for(None, indexes):
            yield self._default
            return
        async with self._clients.lease(indexes, credentials) as client:
            yield client

    def _indexes_for(self, project: ProjectPlan, name: str) -> tuple[str, ...]:
        from autodocs.index.auth import without_credentials
        from autodocs.index.project import same_index

        plan = project.plan
        if name in plan.blocked:
            raise IndexNotAllowed(f"{name!r}: {plan.blocked[name]}; it is not fetched from another index.")
        skipped = next((s for s in project.scan.skipped if s.name == name), None)
        if skipped is not None and name not in project.requests:
            where = f" ({skipped.source.file})" if skipped.source else ""
            raise IndexNotAllowed(
                f"The project takes {name!r} from {skipped.reason.split(':')[0]}{where}, not from a package "
                "index; the index's package of that name is not its code.",
                suggestions=["Omit project_path to document the index's package of that name."],
            )
        locked = plan.locked.get(name)
        if locked is not None:
            from autodocs.config import DEFAULT_INDEX_URL

            return self._server if same_index(locked, DEFAULT_INDEX_URL) else (without_credentials(locked),)
        return tuple(without_credentials(url) for url in plan.indexes)

    def _credentials_for(self, project: ProjectPlan | None, indexes: tuple[str, ...]) -> tuple[CredentialSource, ...]:
        """The credential variables for these indexes' origins (the operator's, and the project's in stdio)."""
        origins = {_origin(url) for url in indexes}
        sources = self._operator_credentials if project is None else project.credentials
        return tuple(source for source in sources if _origin(source[0]) in origins)


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def served_by(client: IndexClient, name: str) -> str:
    """The index that serves ``name``, as a reply shows it (credentials masked)."""
    return mask_url(client.index_of(name))
