"""The TypeScript SDK's client (``node/call_tools.mjs``, one process, many calls) runs the
interop script over stdio and HTTP: it checks every result against the tool's output schema,
as the Inspector, Claude Desktop, VS Code and Cursor do."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.clients.conftest import NODE_DIR
from tests.clients.scenario import check_outcomes, outcome_from_ts, scenario_json
from tests.server.test_http import http_server


def run_ts_client(node: str, env: dict[str, str], project: Path, tmp_path: Path, url: str | None = None) -> Any:
    script = tmp_path / "scenario.json"
    script.write_text(scenario_json([sys.executable, "-m", "autodocs", "serve"], project))
    completed = subprocess.run(
        [node, str(NODE_DIR / "call_tools.mjs"), str(script), *([url] if url else [])],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(completed.stdout)


def check_listing(report: dict[str, Any]) -> None:
    """Tools only, ranges in the schema, descriptions without the docstring's indentation."""
    assert set(report["capabilities"]) == {"tools"}, report["capabilities"]
    tools = report["tools"]
    max_tokens = next(
        branch
        for branch in tools["get_package_docs"]["inputSchema"]["properties"]["max_tokens"]["anyOf"]
        if branch.get("type") == "integer"
    )
    assert (max_tokens["minimum"], max_tokens["maximum"]) == (400, 1_000_000)
    limit = tools["search_docs"]["inputSchema"]["properties"]["limit"]
    assert (limit["minimum"], limit["maximum"]) == (1, 50)
    for name, tool in tools.items():
        assert "\n " not in tool["description"], f"{name}'s description keeps its indentation"


def test_the_script_over_stdio(node: str, interop_env: dict[str, str], interop_project: Path, tmp_path: Path) -> None:
    report = run_ts_client(node, interop_env, interop_project, tmp_path)
    check_listing(report)
    check_outcomes(interop_project, {key: outcome_from_ts(value) for key, value in report["calls"].items()})


def test_the_script_over_http(node: str, interop_env: dict[str, str], interop_project: Path, tmp_path: Path) -> None:
    with http_server(interop_env) as server:
        report = run_ts_client(node, interop_env, interop_project, tmp_path, f"{server.url}/mcp")
    check_listing(report)
    check_outcomes(interop_project, {key: outcome_from_ts(value) for key, value in report["calls"].items()})
