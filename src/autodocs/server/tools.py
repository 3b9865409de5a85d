"""The MCP tools: typed parameters in, structured content out, structured errors always.

Each tool is a thin adapter over :class:`~autodocs.service.AutoDocsService`. Success is a
``CallToolResult`` whose ``structuredContent`` follows the tool's output schema; any
failure is ``isError: true`` with ``{"error": {"type", "message", "suggestions",
"retryable", ...}}`` — the client never sees a traceback.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from typing import Annotated, Any

import structlog
from mcp.server.mcpserver import MCPServer
from mcp_types import CallToolResult, TextContent, ToolAnnotations
from pydantic import BaseModel, Field

from autodocs import __version__
from autodocs.cache import CacheStats
from autodocs.config import Settings
from autodocs.docs.model import DocsPage, compact
from autodocs.errors import AutoDocsError, ClientRateLimited, to_error_payload
from autodocs.manifests import ScanResult
from autodocs.server.ratelimit import RateLimiter
from autodocs.service import AutoDocsService, ContextResult, RefreshResult

__all__ = ["build_server"]

log = structlog.get_logger(__name__)

_INSTRUCTIONS = (
    "AutoDocs gives version-exact documentation for Python packages. Start with scan_dependencies on the "
    "project folder to learn the exact dependencies, then get_package_docs for the package you are coding "
    "against (pass its version constraint or lock pin). Long documents come in pages: follow next_cursor or "
    "ask for named sections."
)
#: Over stdio there is one client: the process that started us.
_STDIO_CLIENT = "stdio"
_READ_ONLY = ToolAnnotations(read_only_hint=True, open_world_hint=True)

PackageName = Annotated[str, Field(description="Distribution name as published on the package index, e.g. 'requests'.")]
VersionConstraint = Annotated[
    str | None,
    Field(
        description="PEP 440 constraint ('>=2,<3', '==2.31.0', '~=1.4') or an exact version; "
        "omit for the newest release."
    ),
]
MaxTokens = Annotated[
    int | None, Field(description="Token budget of the reply (100-1000000); default AUTODOCS_MAX_TOKENS.")
]


class _Holder:
    service: AutoDocsService | None = None


def _ok(model: BaseModel) -> CallToolResult:
    payload = compact(model.model_dump(mode="json"))
    text = json.dumps(payload, ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=payload)


def _error(exc: BaseException) -> CallToolResult:
    payload = to_error_payload(exc)
    return CallToolResult(
        content=[TextContent(type="text", text=json.dumps(payload, ensure_ascii=False))],
        structured_content=payload,
        is_error=True,
    )


async def _run(
    tool: str, call: Callable[[], Awaitable[BaseModel]], limiter: RateLimiter, client: str
) -> CallToolResult:
    """Run one tool call: rate limit, call the service, shape the result or the error."""
    wait = limiter.acquire(client)
    if wait > 0:
        log.info("tool.rate_limited", tool=tool, client=client, retry_after_s=round(wait, 2))
        return _error(
            ClientRateLimited(
                f"More than {limiter.per_minute} calls a minute from this client.", retry_after_s=round(wait, 2)
            )
        )
    try:
        return _ok(await call())
    except AutoDocsError as exc:
        log.info("tool.failed", tool=tool, error=exc.type_name, retryable=exc.retryable)
        return _error(exc)
    except Exception as exc:
        log.exception("tool.crashed", tool=tool)
        return _error(exc)


def build_server(settings: Settings) -> MCPServer[Any]:
    """The MCP server with its five tools; the service opens with the server and closes after it."""
    holder = _Holder()

    @asynccontextmanager
    async def lifespan(_: MCPServer[Any]) -> AsyncIterator[None]:
        async with AutoDocsService.running(settings) as service:
            holder.service = service
            try:
                yield None
            finally:
                holder.service = None

    server: MCPServer[Any] = MCPServer(
        "autodocs",
        version=__version__,
        instructions=_INSTRUCTIONS,
        lifespan=lifespan,
        log_level=settings.log_level,
    )

    limiter = RateLimiter(settings.rate_limit_rpm)

    async def run(tool: str, call: Callable[[], Awaitable[BaseModel]]) -> CallToolResult:
        return await _run(tool, call, limiter, _STDIO_CLIENT)

    def service() -> AutoDocsService:
        if holder.service is None:  # pragma: no cover - only between shutdown and exit
            raise AutoDocsError("The server is starting or shutting down.", retryable=True)
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
            Field(description="Only these sections (titles or anchors from an earlier reply)."),
        ] = None,
        cursor: Annotated[
            str | None, Field(description="next_cursor from an earlier reply, to read the next page.")
        ] = None,
    ) -> Annotated[CallToolResult, DocsPage]:
        """Documentation of the exact version of a package that matches the constraint: summary,
        requirements, project URLs and the README split into sections, within a token budget.
        The reply says which version was chosen and how to page through what did not fit."""
        return await run(
            "get_package_docs",
            lambda: service().get_package_docs(
                package_name,
                version_constraint,
                query=query,
                max_tokens=max_tokens,
                sections=sections,
                cursor=cursor,
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
            int | None,
            Field(description="How many runtime dependencies to include (0-100); default AUTODOCS_MAX_DEPS."),
        ] = None,
        max_tokens: MaxTokens = None,
    ) -> Annotated[CallToolResult, ContextResult]:
        """Docs of a package plus shorter docs of its runtime dependencies, fetched concurrently.
        A dependency that fails is listed in `failed`; the rest are still returned."""
        return await run(
            "get_package_docs_with_context",
            lambda: service().get_docs_with_context(
                package_name,
                version_constraint,
                include_dependencies=include_dependencies,
                max_dependencies=max_dependencies,
                max_tokens=max_tokens,
            ),
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

    return server
