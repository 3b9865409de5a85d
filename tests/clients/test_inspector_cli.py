"""The official MCP Inspector CLI (pinned 0.x, Node 18-20) against `autodocs serve` over stdio:
it lists the tools, then calls each one, one Inspector process (and server) per call, as a user
would. Its client checks every result against the tool's output schema; each error must reach
its output with type and message."""

from __future__ import annotations

import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.clients.conftest import NODE_DIR
from tests.clients.scenario import Call, Outcome, calls, check_outcomes
from tests.server.test_http import http_server

INSPECTOR = NODE_DIR / "node_modules" / "@modelcontextprotocol" / "inspector-cli" / "build" / "index.js"
#: Inspector processes at a time: enough to overlap their start-up on 2 cores.
PARALLEL = 4
#: The errors the acceptance names, shown over stdio (each call starts its own server).
STDIO_ERRORS = (
    "package_not_found",
    "version_not_found",
    "invalid_name",
    "missing_path",
    "object_not_found",
    "invalid_object_path",
)


def inspect(node: str, env: dict[str, str], target: list[str], *options: str) -> subprocess.CompletedProcess[str]:
    # cwd: the CLI finds its own package.json by a path it checks against the working folder.
    return subprocess.run(
        [node, str(INSPECTOR), *target, *options],
        env=env,
        cwd=INSPECTOR.parent,
        capture_output=True,
        text=True,
        timeout=120,
    )


def tool_args(arguments: dict[str, Any]) -> list[str]:
    """``--tool-arg key=value`` pairs; the Inspector reads each value as JSON when it parses."""
    pairs = [f"{key}={value if isinstance(value, str) else json.dumps(value)}" for key, value in arguments.items()]
    return ["--tool-arg", *pairs] if pairs else []


def call_with_inspector(node: str, env: dict[str, str], target: list[str], call: Call) -> Outcome:
    options = ["--method", "tools/call", "--tool-name", call.tool, *tool_args(call.arguments)]
    completed = inspect(node, env, target, *options)
    if completed.returncode != 0:
        message = completed.stderr.strip()[-2000:]
        if "MCP error -32602: Unknown tool" in message:  # the Inspector prints a protocol error's message only
            return Outcome(protocol_code=-32602, protocol_data={"error": {"type": "UnknownTool"}})
        return Outcome(refused=message)
    result = json.loads(completed.stdout)
    texts = [block["text"] for block in result.get("content", []) if block.get("type") == "text"]
    return Outcome(
        is_error=bool(result.get("isError")),
        structured=result.get("structuredContent"),
        text=texts[0] if len(texts) == 1 else None,
    )


def run_calls(node: str, env: dict[str, str], target: list[str], script: list[Call]) -> dict[str, Outcome]:
    with ThreadPoolExecutor(PARALLEL) as pool:
        seen = pool.map(lambda call: call_with_inspector(node, env, target, call), script)
        return dict(zip((call.id for call in script), seen, strict=True))


def test_over_stdio_the_inspector_lists_the_tools_and_shows_each_error_type_and_message(
    node: str, interop_env: dict[str, str], interop_project: Path
) -> None:
    server = [str(Path(sys.executable).with_name("autodocs")), "serve"]
    listed = inspect(node, interop_env, server, "--method", "tools/list")
    assert listed.returncode == 0, listed.stderr
    assert len(json.loads(listed.stdout)["tools"]) == 10
    script = [call for call in calls(interop_project) if call.id in STDIO_ERRORS]
    outcomes = run_calls(node, interop_env, server, script)
    check_outcomes(interop_project, outcomes, only=STDIO_ERRORS)


def test_over_http_every_tool_passes_the_inspectors_schema_checks_and_every_error_shows(
    node: str, interop_env: dict[str, str], interop_project: Path
) -> None:
    with http_server(interop_env) as server:
        script = calls(interop_project)
        first, rest = script[:2], script[2:]  # scan and docs first: did_you_mean needs the name known
        outcomes = run_calls(node, interop_env, [f"{server.url}/mcp"], first)
        outcomes.update(run_calls(node, interop_env, [f"{server.url}/mcp"], rest[:-1]))
        outcomes.update(run_calls(node, interop_env, [f"{server.url}/mcp"], rest[-1:]))  # refresh_cache last
    check_outcomes(interop_project, outcomes)
