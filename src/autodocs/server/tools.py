"""The MCP tools: typed parameters in, structured content out, structured errors always.

Each tool is a thin adapter over :class:`~autodocs.service.AutoDocsService`. Success is a
``CallToolResult`` whose ``structuredContent`` follows the tool's output schema; any
failure is ``isError: true`` with ``{"error": {"type", "message", "suggestions",
"retryable", ...}}`` as its text (``autodocs.server.protocol`` shapes both, and says why) —
the client never sees a traceback. Numeric ranges are part of the input schemas
(``minimum``/``maximum``), so a client sees them and the SDK enforces them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import structlog
from mcp.server.context import CallNext, HandlerResult, ServerMiddleware, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp_types import CallToolResult, ToolAnnotations
from pydantic import BaseModel, Field

from autodocs import __version__
from autodocs.cache.base import MAX_SEARCH_LIMIT, CacheStats
from autodocs.config import Settings
from autodocs.docs.api_model import ApiReference
from autodocs.docs.model import MIN_TOKENS, DocsPage
from autodocs.errors import AutoDocsError, ClientRateLimited, ServerShuttingDown
from autodocs.manifests import ScanResult
from autodocs.server.health import HealthReport, MetricsReport, ReadyReport, health_report, ready_report
from autodocs.server.lifecycle import Lifecycle
from autodocs.server.metrics import Metrics
from autodocs.server.protocol import AutoDocsMCPServer, error_result, ok_result
from autodocs.server.ratelimit import RateLimiter
from autodocs.server.service_slot import ServiceSlot
from autodocs.usecases.replies import ContextResult, ProgressHook, RefreshResult, SearchResult

if TYPE_CHECKING:
    from autodocs.index.project import Transport
    from autodocs.service import AutoDocsService

__all__ = ["ServerParts", "build_server", "current_client"]

T = TypeVar("T")

log = structlog.get_logger(__name__)

_INSTRUCTIONS = (
    "AutoDocs gives version-exact documentation for Python packages. Start with scan_dependencies on the "
    "project folder to learn the exact dependencies, then get_package_docs for the package you are coding "
    "against (pass its version constraint or lock pin). Long documents come in pages: follow next_cursor or "
    "ask for named sections."
)
_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=True)

PackageName = Annotated[str, Field(description="Distribution name as published on the package index, e.g. 'requests'.")]
VersionConstraint = Annotated[
    str | None,
    Field(
        description="PEP 440 constraint ('>=2,<3', '==2.31.0', '~=1.4') or an exact version; "
        "omit for the newest release."
    ),
]
ProjectPath = Annotated[
    str | None,
    Field(
        description="The project folder: its own package indexes (uv, Poetry, requirements files, lock files) "
        "are used, and without version_constraint its lock pin."
    ),
]
#: The largest token budget a reply may ask for (the smallest is docs.model.MIN_TOKENS).
MAX_TOKENS = 1_000_000
#: The most runtime dependencies one context call may include.
MAX_DEPENDENCIES = 100
MaxTokens = Annotated[
    Annotated[int, Field(ge=MIN_TOKENS, le=MAX_TOKENS)] | None,
    Field(description=f"Token budget of the reply ({MIN_TOKENS}-{MAX_TOKENS}); default AUTODOCS_MAX_TOKENS."),
]


#: Who is calling, for the per-client rate limit: set per HTTP request by the transport.
current_client: ContextVar[str] = ContextVar("autodocs_client", default="stdio")


@dataclass
class ServerParts:
    """The MCP server and what the transports around it need to reach."""

    server: MCPServer[Any]
    lifecycle: Lifecycle
    metrics: Metrics
    holder: ServiceSlot


class _Calls:
    """Every tool call passes here: rate limit, in-flight tracking, metrics, error shape."""

    def __init__(
        self, settings: Settings, lifecycle: Lifecycle, metrics: Metrics, slot: ServiceSlot, *, rate_limited: bool
    ) -> None:
        self._lifecycle = lifecycle
        self._slot = slot
        self._metrics = metrics
        self._limiter = RateLimiter(settings.rate_limit_rpm) if rate_limited else None

    async def run(self, tool: str, call: Callable[[], Awaitable[BaseModel | dict[str, Any]]]) -> CallToolResult:
        # No draining check here: the transport refuses new requests; what it accepted is finished.
        client = current_client.get()
        wait = self._limiter.acquire(client) if self._limiter is not None else 0.0
        if wait > 0 and self._limiter is not None:
            self._metrics.rate_limited.inc()
            log.info("tool.rate_limited", tool=tool, client=client, retry_after_s=round(wait, 2))
            return error_result(
                ClientRateLimited(
                    f"More than {self._limiter.per_minute} calls a minute from this client.",
                    retry_after_s=round(wait, 2),
                )
            )
        started = time.perf_counter()
        outcome = "ok"
        with self._lifecycle.track_call():
            try:
                await self._slot.get()  # over stdio, the first call opens the service
                result = ok_result(await call())
            except asyncio.CancelledError:
                if not self._lifecycle.shutdown_cancelled:
                    self._metrics.observe_call(tool, "cancelled", time.perf_counter() - started)
                    raise  # the client cancelled or hung up: nobody is waiting for an answer
                task = asyncio.current_task()
                if task is not None:
                    task.uncancel()
                outcome = "shutdown"
                result = error_result(ServerShuttingDown("The server shut down before this call finished."))
            except AutoDocsError as exc:
                outcome = "error"
                log.info("tool.failed", tool=tool, error=exc.type_name, retryable=exc.retryable)
                result = error_result(exc)
            except Exception as exc:
                outcome = "crash"
                log.exception("tool.crashed", tool=tool)
                result = error_result(exc)
        self._metrics.observe_call(tool, outcome, time.perf_counter() - started)
        return result


def build_server(
    settings: Settings,
    *,
    allowed_roots: list[Path] | None = None,
    lifecycle: Lifecycle | None = None,
    rate_limited: bool = False,
    open_service_on_first_call: bool = False,
    transport: Transport = "stdio",
) -> ServerParts:
    """The MCP server and its tools; the service opens with the server and closes after it.

    ``rate_limited``: apply RATE_LIMIT_RPM per client — for HTTP, where many clients share one
    server. Over stdio the only client is the local process that started us, and throttling an
    assistant's burst of lookups would only hurt its user.

    ``open_service_on_first_call``: for stdio, where ``initialize`` is answered before the
    store and the index client are opened (:mod:`autodocs.server.service_slot`).

    ``transport``: ``http`` uses a project's own indexes only as the operator's allow-list permits.
    """
    holder = ServiceSlot(settings, allowed_roots=allowed_roots, transport=transport)
    lifecycle = lifecycle or Lifecycle()
    metrics = Metrics(lifecycle, lambda: holder.service)
    calls = _Calls(settings, lifecycle, metrics, holder, rate_limited=rate_limited)
    run = calls.run

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[None]:
        async with holder.serving(on_first_call=open_service_on_first_call):
            yield None

    server = AutoDocsMCPServer(
        "autodocs",
        version=__version__,
        instructions=_INSTRUCTIONS,
        lifespan=lifespan,
        log_level=settings.log_level,
    )
    if open_service_on_first_call:
        server.middleware.append(_warm_up_when_initialized(holder))

    def service() -> AutoDocsService:
        if holder.service is None:  # only between shutdown and exit
            raise ServerShuttingDown("The server is starting or shutting down.")
        return holder.service

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def scan_dependencies(
        project_path: Annotated[
            str, Field(description="Absolute path of the project folder (holding pyproject.toml etc.).")
        ],
    ) -> Annotated[CallToolResult, ScanResult]:
        """List the project's dependencies from its manifests (pyproject.toml, requirements files):
        name, version specifier, extras, marker, group, lock pin and where each is declared.
        Files that fail to parse are reported in `errors`; the others are still read."""
        return await run("scan_dependencies", lambda: service().scan(project_path))

    @server.tool(annotations=_READ_ONLY)
    async def get_package_docs(
        package_name: PackageName,
        version_constraint: VersionConstraint = None,
        query: Annotated[
            str | None, Field(description="What you want to know; the most relevant sections come first.")
        ] = None,
        max_tokens: MaxTokens = None,
        sections: Annotated[
            list[str] | None,
            Field(
                description="Only these sections: titles or anchors from an earlier reply; with a docs set, "
                "also a docs page path from docs_toc ('docs/usage.rst') or a heading in it ('docs/usage.rst#Retrying')."
            ),
        ] = None,
        cursor: Annotated[
            str | None, Field(description="next_cursor from an earlier reply, to read the next page.")
        ] = None,
        project_path: ProjectPath = None,
    ) -> Annotated[CallToolResult, DocsPage]:
        """Documentation of the exact version of a package that matches the constraint: summary,
        requirements, project URLs and the README split into sections, within a token budget.
        When the release's sdist has a docs folder, the first page lists its pages (docs_toc) and a
        query searches the README, those pages and the cached API reference together; each
        section then says where it comes from (section_refs). The reply says which version was
        chosen and how to page through what did not fit."""
        return await run(
            "get_package_docs",
            lambda: service().get_package_docs(
                package_name,
                version_constraint,
                query=query,
                max_tokens=max_tokens,
                sections=sections,
                cursor=cursor,
                project_path=project_path,
            ),
        )

    @server.tool(annotations=_READ_ONLY)
    async def get_api_reference(
        package_name: PackageName,
        object_path: Annotated[
            str | None,
            Field(
                description="Dotted path of a module, class or function, e.g. 'httpx.Client' or 'Client.get' "
                "(relative to the package); omit for the package's public top level."
            ),
        ] = None,
        project_path: Annotated[
            str | None,
            Field(
                description="The project folder: its .venv/ or venv/ gives the installed version's code, "
                "and its lock file the pinned version."
            ),
        ] = None,
        version_constraint: VersionConstraint = None,
        max_tokens: MaxTokens = None,
    ) -> Annotated[CallToolResult, ApiReference]:
        """The exact API of the package version the project uses, read from its code without running
        it: signatures with types and defaults, parsed docstrings, and one level of members (public
        and documented first). Says where the code came from (the project's environment or the
        version's wheel from the package index) and which version it is."""
        return await run(
            "get_api_reference",
            lambda: service().get_api_reference(
                package_name,
                object_path,
                project_path=project_path,
                version_constraint=version_constraint,
                max_tokens=max_tokens,
            ),
        )

    @server.tool(annotations=_READ_ONLY)
    async def get_package_docs_with_context(
        package_name: PackageName,
        version_constraint: VersionConstraint = None,
        include_dependencies: Annotated[
            bool, Field(description="Also return short docs of the package's runtime dependencies.")
        ] = True,
        max_dependencies: Annotated[
            Annotated[int, Field(ge=0, le=MAX_DEPENDENCIES)] | None,
            Field(
                description=f"How many runtime dependencies to include (0-{MAX_DEPENDENCIES}); "
                "default AUTODOCS_MAX_DEPS."
            ),
        ] = None,
        max_tokens: MaxTokens = None,
        project_path: ProjectPath = None,
        ctx: Context | None = None,
    ) -> Annotated[CallToolResult, ContextResult]:
        """Docs of a package plus shorter docs of its runtime dependencies, fetched concurrently.
        A dependency that fails is listed in `failed`; the rest are still returned. Sends progress
        notifications as dependencies finish when the client asks for them."""
        return await run(
            "get_package_docs_with_context",
            lambda: service().get_docs_with_context(
                package_name,
                version_constraint,
                include_dependencies=include_dependencies,
                max_dependencies=max_dependencies,
                max_tokens=max_tokens,
                on_progress=_progress_reporter(ctx),
                project_path=project_path,
            ),
        )

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def search_docs(
        query: Annotated[str, Field(description="Words to look for, e.g. 'retry connection pool'.")],
        project_path: Annotated[
            str | None,
            Field(description="Only this project's dependencies (their locked versions when locked)."),
        ] = None,
        packages: Annotated[
            list[str] | None,
            Field(description="Only these packages: 'name' (any cached version) or 'name==version'."),
        ] = None,
        limit: Annotated[
            int, Field(ge=1, le=MAX_SEARCH_LIMIT, description=f"Most hits to return (1-{MAX_SEARCH_LIMIT}).")
        ] = 10,
    ) -> Annotated[CallToolResult, SearchResult]:
        """Full-text search over the cached docs and API references of a project's dependencies:
        which sections or API entries mention the words, best first, with a snippet each. Reads
        only the cache (fetch docs first with get_package_docs); says what was not cached."""
        return await run(
            "search_docs",
            lambda: service().search_docs(query, project_path=project_path, packages=packages, limit=limit),
        )

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def get_cache_stats() -> Annotated[CallToolResult, CacheStats]:
        """What the documentation cache holds (packages, versions, size) and its hit rate."""
        return await run("get_cache_stats", lambda: service().cache_stats())

    @server.tool(annotations=ToolAnnotations(destructive_hint=True, idempotent_hint=True, open_world_hint=False))
    async def refresh_cache(
        package_name: Annotated[
            str | None, Field(description="Forget only this package; omit to clear the whole cache.")
        ] = None,
    ) -> Annotated[CallToolResult, RefreshResult]:
        """Forget cached docs and release lists so the next request asks the package index again."""
        return await run("refresh_cache", lambda: service().refresh(package_name))

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def health_check() -> Annotated[CallToolResult, HealthReport]:
        """Liveness: the process answers (no network or database is touched)."""
        return await run("health_check", lambda: _async(health_report(lifecycle, holder.service, asking=1)))

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def ready_check() -> Annotated[CallToolResult, ReadyReport]:
        """Readiness: the cache store answers and the server is not draining; circuit states per index host."""
        return await run("ready_check", lambda: ready_report(lifecycle, holder.service, asking=1))

    @server.tool(annotations=ToolAnnotations(read_only_hint=True, open_world_hint=False))
    async def get_metrics() -> Annotated[CallToolResult, MetricsReport]:
        """The server's metrics (the same as GET /metrics): calls, latency, upstream, cache, circuits."""
        return await run("get_metrics", lambda: _async(MetricsReport(metrics=metrics.snapshot())))

    return ServerParts(server=server, lifecycle=lifecycle, metrics=metrics, holder=holder)


async def _async(value: T) -> T:
    return value


def _progress_reporter(ctx: Context | None) -> ProgressHook | None:
    """Progress notifications for a multi-package call, when the client asked for them."""
    if ctx is None:
        return None
    done = 0

    async def report(name: str, succeeded: bool, total: int) -> None:
        nonlocal done
        done += 1
        try:
            await ctx.report_progress(done, total, f"{'done' if succeeded else 'failed'}: {name}")
        except Exception as exc:  # a client that went away must not fail the call
            log.debug("tool.progress_not_sent", error=type(exc).__name__)

    return report


def _warm_up_when_initialized(holder: ServiceSlot) -> ServerMiddleware[Any]:
    """A server middleware: the client's ``notifications/initialized`` starts opening the service
    in the background (:meth:`ServiceSlot.warm_up`), so the first tool call finds it open."""

    async def warm_up(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
        if ctx.method == "notifications/initialized":
            holder.warm_up()
        return await call_next(ctx)

    return warm_up
