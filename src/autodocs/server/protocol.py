"""How a tool call's outcome goes on the wire, so that every MCP client shows it.

**Error results.** A failed call is ``isError: true`` whose text content is the structured
error as JSON, ``{"error": {"type", "message", "suggestions", "retryable", ...}}``, and which
carries no ``structuredContent``. The TypeScript SDK's client (under the Inspector, Claude
Desktop, VS Code and Cursor) checks any ``structuredContent`` against the tool's
``outputSchema`` even when ``isError`` is true, and rejects the whole result when
``{"error": ...}`` does not match it, so the user would see a schema complaint instead of our
error. Without ``structuredContent`` an error result passes both that client and the Python
SDK's (which validates successes only), and the model reads the JSON as the spec intends for
tool execution errors. A success carries both: the object in ``structuredContent`` and the
same JSON as text.

**Argument errors** (a wrong type, NaN, a value out of the advertised range, a missing
argument) are tool errors too: ``InvalidArgument`` naming each argument and what is wrong,
never the rejected values. **An unknown tool** is a protocol error (JSON-RPC ``-32602``, as
the 2025-11-25 spec says), with the structured error as its ``data``.

**Capabilities.** The SDK's ``MCPServer`` always registers empty prompt and resource lists,
and advertises them. AutoDocs offers tools only: a middleware (the SDK's public hook for
wrapping ``initialize``) removes those capabilities from what the server announces, and the
methods answer "method not found" like any other the server does not serve.
"""

from __future__ import annotations

import inspect
import json
from collections.abc import Callable
from typing import Any

import structlog
from mcp.server.context import CallNext, HandlerResult, ServerRequestContext
from mcp.server.mcpserver import Context, MCPServer
from mcp.server.mcpserver.exceptions import ToolError, UnexpectedToolError
from mcp.shared.exceptions import MCPError
from mcp_types import (
    INVALID_PARAMS,
    METHOD_NOT_FOUND,
    CallToolResult,
    Icon,
    InputRequiredResult,
    TextContent,
    ToolAnnotations,
)
from pydantic import BaseModel, ValidationError

from autodocs.docs.model import DocsPage, page_reply, reply_payload
from autodocs.errors import InvalidArgument, UnknownTool, to_error_payload

__all__ = ["AutoDocsMCPServer", "error_result", "invalid_arguments", "ok_result"]

log = structlog.get_logger(__name__)

#: Capabilities the SDK would announce for handlers AutoDocs does not use.
_NOT_OFFERED = ("prompts", "resources")
#: Requests that announce the server's capabilities (the handshake; the 2026 era's discovery).
_ANNOUNCING = frozenset({"initialize", "server/discover"})


def ok_result(model: BaseModel | dict[str, Any]) -> CallToolResult:
    """A success: the object as ``structuredContent`` and the same JSON as text."""
    if isinstance(model, DocsPage):
        payload, text = page_reply(model)  # serialized once per page (autodocs.docs.model)
    else:
        payload = model if isinstance(model, dict) else reply_payload(model)
        text = json.dumps(payload, ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], structured_content=payload)


def error_result(exc: BaseException) -> CallToolResult:
    """A failure: ``isError`` with ``{"error": {...}}`` as JSON text, no ``structuredContent``."""
    text = json.dumps(to_error_payload(exc), ensure_ascii=False)
    return CallToolResult(content=[TextContent(type="text", text=text)], is_error=True)


def invalid_arguments(tool: str, error: ValidationError) -> InvalidArgument:
    """The arguments' validation failure as ``InvalidArgument``: which argument, what is wrong.

    The values themselves are left out: they are the caller's data, and may be huge.
    """
    problems = [
        {"argument": ".".join(str(part) for part in detail["loc"]) or "arguments", "problem": detail["msg"]}
        for detail in error.errors(include_url=False, include_input=False)
    ]
    listed = "; ".join(f"{problem['argument']}: {problem['problem']}" for problem in problems)
    return InvalidArgument(
        f"Invalid arguments for {tool}: {listed}.",
        suggestions=["Pass each argument with the type and within the range the tool's input schema gives."],
        invalid_arguments=problems,
    )


class AutoDocsMCPServer(MCPServer[Any]):
    """The SDK's ``MCPServer`` with AutoDocs' shape for argument errors, unknown tools and
    capabilities (see the module docstring), and tool descriptions dedented.

    Only public ``MCPServer`` methods are overridden (``add_tool``, ``call_tool``), keeping
    their documented contracts.
    """

    def __init__(self, name: str, **options: Any) -> None:
        super().__init__(name, **options)
        self.autodocs_tools: set[str] = set()
        self.middleware.append(_announce_only_tools)

    def add_tool(
        self,
        fn: Callable[..., Any],
        name: str | None = None,
        title: str | None = None,
        description: str | None = None,
        annotations: ToolAnnotations | None = None,
        icons: list[Icon] | None = None,
        meta: dict[str, Any] | None = None,
        structured_output: bool | None = None,
    ) -> None:
        """Register a tool; its description (the docstring unless given) is dedented."""
        text = description if description is not None else fn.__doc__
        super().add_tool(
            fn,
            name=name,
            title=title,
            description=inspect.cleandoc(text) if text else None,
            annotations=annotations,
            icons=icons,
            meta=meta,
            structured_output=structured_output,
        )
        self.autodocs_tools.add(name or fn.__name__)

    async def call_tool(
        self, name: str, arguments: dict[str, Any], context: Context[Any, Any] | None = None
    ) -> CallToolResult | InputRequiredResult:
        """Call a tool: an unknown name is a protocol error, invalid arguments a tool error."""
        if name not in self.autodocs_tools:
            unknown = UnknownTool(
                f"Unknown tool: {name}.",
                suggestions=["Call tools/list for the tools this server offers."],
                available_tools=sorted(self.autodocs_tools),
            )
            log.info("tool.unknown", tool=name[:100])
            raise MCPError(INVALID_PARAMS, unknown.message, data=to_error_payload(unknown))
        try:
            return await super().call_tool(name, arguments, context)
        except ToolError as exc:
            if isinstance(exc, UnexpectedToolError) or not isinstance(exc.__cause__, ValidationError):
                raise
            error = invalid_arguments(name, exc.__cause__)
            named = [problem["argument"] for problem in error.details["invalid_arguments"]]
            log.info("tool.invalid_arguments", tool=name, arguments=named)  # names only: values are the caller's
            return error_result(error)


async def _announce_only_tools(ctx: ServerRequestContext[Any, Any], call_next: CallNext) -> HandlerResult:
    """Announce no prompt or resource capability, and serve none of their methods."""
    if ctx.method.startswith(tuple(f"{kind}/" for kind in _NOT_OFFERED)):
        raise MCPError(METHOD_NOT_FOUND, "Method not found", data=ctx.method)
    result = await call_next(ctx)
    if ctx.method in _ANNOUNCING and isinstance(result, dict):
        capabilities = result.get("capabilities")
        if isinstance(capabilities, dict):
            result["capabilities"] = {key: value for key, value in capabilities.items() if key not in _NOT_OFFERED}
    return result
