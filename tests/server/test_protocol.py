"""The protocol edges (autodocs.server.protocol, and stdio's malformed lines), read off the wire
of a real `autodocs serve` process: what a client that writes raw JSON-RPC lines gets back."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import httpx
import pytest

from autodocs.server.stdio import malformed_message_reply
from tests.server.test_http import http_server

INITIALIZE = {
    "jsonrpc": "2.0",
    "id": 1,
    "method": "initialize",
    "params": {"protocolVersion": "2025-11-25", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}},
}


def call(request_id: int | str, tool: str, arguments: str) -> str:
    """A tools/call line with ``arguments`` as raw JSON text (NaN is not JSON, but clients send it)."""
    head = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": "tools/call"})[:-1]
    return f'{head}, "params": {{"name": "{tool}", "arguments": {arguments}}}}}'


def exchange(env: dict[str, str], *lines: str) -> dict[Any, dict[str, Any]]:
    """Write the lines after the handshake, close stdin, return every reply by id (None: null id)."""
    handshake = [json.dumps(INITIALIZE), json.dumps({"jsonrpc": "2.0", "method": "notifications/initialized"})]
    completed = subprocess.run(
        [sys.executable, "-m", "autodocs", "serve"],
        input="\n".join([*handshake, *lines]) + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    replies: dict[Any, dict[str, Any]] = {}
    for line in completed.stdout.splitlines():
        reply = json.loads(line)
        assert reply.get("id") not in replies, f"two replies for id {reply.get('id')}"
        replies[reply.get("id")] = reply
    return replies


def test_the_server_announces_tools_only_and_answers_prompt_and_resource_methods_not_found(
    cli_env: dict[str, str],
) -> None:
    replies = exchange(
        cli_env,
        json.dumps({"jsonrpc": "2.0", "id": 2, "method": "prompts/list"}),
        json.dumps({"jsonrpc": "2.0", "id": 3, "method": "resources/list"}),
        json.dumps({"jsonrpc": "2.0", "id": 4, "method": "resources/templates/list"}),
    )
    assert set(replies[1]["result"]["capabilities"]) == {"tools"}
    for request_id in (2, 3, 4):
        assert replies[request_id]["error"]["code"] == -32601


def test_wrong_argument_types_are_structured_tool_errors_and_an_unknown_tool_a_protocol_error(
    cli_env: dict[str, str],
) -> None:
    replies = exchange(
        cli_env,
        call(2, "get_package_docs", '{"package_name": "requests", "max_tokens": NaN}'),
        call(3, "get_package_docs", '{"package_name": "requests", "max_tokens": [5000]}'),
        call(4, "get_package_docs", '{"version_constraint": ">=2"}'),
        call(5, "search_docs", '{"query": "retry", "limit": 1e400}'),
        call(6, "no_such_tool", "{}"),
    )
    for request_id, argument in ((2, "max_tokens"), (3, "max_tokens"), (4, "package_name"), (5, "limit")):
        result = replies[request_id]["result"]
        assert result["isError"] is True and "structuredContent" not in result
        error = json.loads(result["content"][0]["text"])["error"]
        assert error["type"] == "InvalidArgument" and error["retryable"] is False and error["suggestions"]
        assert [problem["argument"] for problem in error["invalid_arguments"]] == [argument]
        assert argument in error["message"]
    unknown = replies[6]["error"]
    assert unknown["code"] == -32602
    assert unknown["data"]["error"]["type"] == "UnknownTool"
    assert "get_package_docs" in unknown["data"]["error"]["available_tools"]


def test_stdio_answers_malformed_lines_as_http_does_and_keeps_serving(cli_env: dict[str, str]) -> None:
    replies = exchange(
        cli_env,
        "this is not json",
        "",
        json.dumps({"jsonrpc": "2.0", "id": 41, "method": 5}),
        json.dumps({"jsonrpc": "2.0", "id": "s-42", "method": "tools/list", "params": 7}),
        json.dumps({"jsonrpc": "2.0", "id": 43, "method": "tools/list"}),
    )
    assert replies[None]["error"]["code"] == -32700  # not JSON: no id can be read
    assert replies[41]["error"]["code"] == -32600
    assert replies[41]["error"]["message"]
    assert replies["s-42"]["error"]["code"] == -32600
    assert len(replies[43]["result"]["tools"]) == 10  # still serving
    assert set(replies) == {1, None, 41, "s-42", 43}  # the blank line is skipped, not answered


@pytest.mark.parametrize(
    ("line", "code", "request_id"),
    [
        ("{", -32700, None),
        ("[1, 2]", -32600, None),
        ('{"jsonrpc": "2.0", "id": 9, "method": "x", "params": "p"}', -32600, 9),
        ('{"jsonrpc": "1.0", "id": 7, "method": "x"}', -32600, 7),
        ('{"id": 8}', -32600, 8),
    ],
)
def test_a_malformed_line_gets_the_right_code_and_its_id_when_usable(line: str, code: int, request_id: Any) -> None:
    reply = malformed_message_reply(line)
    assert reply is not None
    assert (reply.error.code, reply.id) == (code, request_id)


def test_a_well_formed_line_is_left_to_the_sdk() -> None:
    assert malformed_message_reply(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "anything"})) is None
    assert malformed_message_reply(json.dumps({"jsonrpc": "2.0", "method": "notifications/x"})) is None


def test_over_http_nan_is_an_invalid_argument_and_an_unknown_tool_a_protocol_error(cli_env: dict[str, str]) -> None:
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json, text/event-stream",
        "MCP-Protocol-Version": "2025-11-25",
    }
    with http_server(cli_env) as server:
        nan = httpx.post(
            f"{server.url}/mcp",
            content=call(7, "get_package_docs", '{"package_name": "requests", "max_tokens": NaN}'),
            headers=headers,
        ).json()
        unknown = httpx.post(f"{server.url}/mcp", content=call(8, "no_such_tool", "{}"), headers=headers).json()
    assert nan["id"] == 7 and nan["result"]["isError"] and "structuredContent" not in nan["result"]
    error = json.loads(nan["result"]["content"][0]["text"])["error"]
    assert error["type"] == "InvalidArgument" and error["invalid_arguments"][0]["argument"] == "max_tokens"
    assert unknown["id"] == 8 and unknown["error"]["code"] == -32602
    assert unknown["error"]["data"]["error"]["type"] == "UnknownTool"
