"""Reading a tool's error result as every MCP client must: from its JSON text.

An error result carries no ``structuredContent`` (``autodocs.server.protocol`` says why), so
the structured error is read from the text, and this helper checks that shape on the way.
"""

from __future__ import annotations

import json
from typing import Any

from mcp_types import CallToolResult, TextContent


def tool_error(result: CallToolResult) -> dict[str, Any]:
    """The ``{"type", "message", "suggestions", "retryable", ...}`` object of an error result."""
    assert result.is_error, f"expected an error result, got {result}"
    assert result.structured_content is None, "an error result must not carry structuredContent"
    assert len(result.content) == 1 and isinstance(result.content[0], TextContent)
    payload = json.loads(result.content[0].text)
    assert set(payload) == {"error"}
    error: dict[str, Any] = payload["error"]
    assert {"type", "message", "suggestions", "retryable"} <= set(error)
    return error
