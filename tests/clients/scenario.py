"""One script of tool calls that every real client runs against AutoDocs, and what each must see.

Every tool is called once for success, and each error the interop issue lists is triggered:
PackageNotFound, VersionNotFound, an invalid name, a missing project path, an object that does
not exist and an object path that is not one, arguments of the wrong type or out of range, and
a tool that does not exist (a protocol error, the structured error in its data). The clients
report what they saw as :class:`Outcome`; :func:`check_outcomes` holds them all to one standard.
"""

from __future__ import annotations

import json
import venv
from dataclasses import dataclass
from pathlib import Path
from typing import Any

TINY_PACKAGE = '''"""A tiny installed package, read for its API reference."""

__all__ = ["Greeter", "greet"]


def greet(name: str, *, times: int = 1) -> str:
    """Greet someone.

    Args:
        name: Who to greet.
        times: How many times.
    """
    return ("hello " + name) * times


class Greeter:
    """Greets with a fixed punctuation."""

    def __init__(self, punctuation: str = "!") -> None:
        self.punctuation = punctuation
'''


@dataclass(frozen=True)
class Call:
    id: str
    tool: str
    arguments: dict[str, Any]
    #: None: a success; an error type: a tool error of that type; "protocol:<code>": a JSON-RPC error.
    expect: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What a client saw for one call: a result it accepted, or a protocol error it raised."""

    is_error: bool = False
    structured: dict[str, Any] | None = None
    text: str | None = None
    protocol_code: int | None = None
    protocol_data: Any = None
    #: The client refused the result (e.g. it failed the output schema): the message it gave.
    refused: str | None = None


def make_project(root: Path) -> Path:
    """A project folder: a pyproject with one dependency, and a .venv holding ``tinypkg``."""
    project = root / "interop-project"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "p"\nversion = "0"\ndependencies = ["requests>=2"]\n')
    venv.create(project / ".venv", with_pip=False, symlinks=True)
    site = next((project / ".venv").glob("lib/python3*/site-packages"))
    (site / "tinypkg").mkdir()
    (site / "tinypkg" / "__init__.py").write_text(TINY_PACKAGE)
    info = site / "tinypkg-1.0.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: tinypkg\nVersion: 1.0.0\n")
    (info / "top_level.txt").write_text("tinypkg\n")
    (info / "RECORD").write_text("tinypkg/__init__.py,,\n")
    return project


def calls(project: Path) -> list[Call]:
    """The script, in order: successes first (refresh_cache last of all), then the errors.

    ``did_you_mean`` needs ``ok_docs`` to have run before it (the name it misspells is then known).
    """
    path = str(project)
    docs = "get_package_docs"
    return [
        Call("ok_scan", "scan_dependencies", {"project_path": path}),
        Call("ok_docs", docs, {"package_name": "requests", "version_constraint": "==2.31.0", "max_tokens": 2000}),
        Call("ok_context", "get_package_docs_with_context", {"package_name": "requests", "max_dependencies": 2}),
        Call("ok_api", "get_api_reference", {"package_name": "tinypkg", "project_path": path}),
        Call("ok_search", "search_docs", {"query": "http requests", "packages": ["requests"], "limit": 5}),
        Call("ok_stats", "get_cache_stats", {}),
        Call("ok_health", "health_check", {}),
        Call("ok_ready", "ready_check", {}),
        Call("ok_metrics", "get_metrics", {}),
        Call("package_not_found", docs, {"package_name": "no-such-package-xyz"}, "PackageNotFound"),
        Call("did_you_mean", docs, {"package_name": "reqeusts"}, "PackageNotFound"),
        Call("version_not_found", docs, {"package_name": "requests", "version_constraint": ">=99"}, "VersionNotFound"),
        Call("invalid_name", docs, {"package_name": "../../etc/passwd"}, "InvalidPackageName"),
        Call("missing_path", "scan_dependencies", {"project_path": str(project / "no-such-dir")}, "PathNotFound"),
        Call(
            "object_not_found",
            "get_api_reference",
            {"package_name": "tinypkg", "object_path": "Nope", "project_path": path},
            "ObjectNotFound",
        ),
        Call(
            "invalid_object_path",
            "get_api_reference",
            {"package_name": "tinypkg", "object_path": "not a path!", "project_path": path},
            "InvalidArgument",
        ),
        Call("max_tokens_out_of_range", docs, {"package_name": "requests", "max_tokens": 1}, "InvalidArgument"),
        Call("max_tokens_a_list", docs, {"package_name": "requests", "max_tokens": [1]}, "InvalidArgument"),
        Call("package_name_missing", docs, {}, "InvalidArgument"),
        Call("unknown_tool", "no_such_tool", {}, "protocol:-32602"),
        Call("ok_refresh", "refresh_cache", {"package_name": "requests"}),
    ]


def scenario_json(command: list[str], project: Path) -> str:
    """The script as the TypeScript client reads it."""
    return json.dumps(
        {
            "command": command[0],
            "args": command[1:],
            "calls": [{"id": call.id, "tool": call.tool, "arguments": call.arguments} for call in calls(project)],
        }
    )


def outcome_from_ts(report: dict[str, Any]) -> Outcome:
    """One call of ``node/call_tools.mjs``'s report as an :class:`Outcome`."""
    if report["accepted"]:
        result = report["result"]
        texts = [block["text"] for block in result.get("content", []) if block.get("type") == "text"]
        return Outcome(
            is_error=bool(result.get("isError")),
            structured=result.get("structuredContent"),
            text=texts[0] if len(texts) == 1 else None,
        )
    if report.get("data") is not None:  # an error the server sent (the client's own carry no data)
        return Outcome(protocol_code=report["code"], protocol_data=report["data"])
    return Outcome(refused=f"{report.get('code')}: {report['message']}")


def check_outcomes(project: Path, outcomes: dict[str, Outcome], only: tuple[str, ...] | None = None) -> None:
    """Every call of the script (or those ``only`` names) saw what it must; all failures at once."""
    problems: list[str] = []
    for call in calls(project):
        if only is not None and call.id not in only:
            continue
        outcome = outcomes.get(call.id)
        if outcome is None:
            problems.append(f"{call.id}: no outcome")
            continue
        problem = _check(call, outcome)
        if problem:
            problems.append(f"{call.id}: {problem}")
    assert not problems, "\n".join(problems)


def _check(call: Call, outcome: Outcome) -> str | None:
    if outcome.refused is not None:
        return f"the client refused the result: {outcome.refused}"
    if call.expect is None:
        if outcome.is_error or outcome.structured is None:
            return f"expected a success with structured content, got {outcome}"
        if outcome.text is None or json.loads(outcome.text) != outcome.structured:
            return "the text content is not the structured content as JSON"
        return None
    if call.expect.startswith("protocol:"):
        code = int(call.expect.removeprefix("protocol:"))
        if outcome.protocol_code != code:
            return f"expected JSON-RPC error {code}, got {outcome}"
        data = outcome.protocol_data
        if not isinstance(data, dict) or data.get("error", {}).get("type") != "UnknownTool":
            return f"the protocol error's data is not the structured error: {data!r}"
        return None
    if not outcome.is_error:
        return f"expected an error result, got {outcome}"
    if outcome.structured is not None:
        return "an error result carries structuredContent (clients check it against the output schema)"
    error = json.loads(outcome.text or "null")
    if not isinstance(error, dict) or set(error) != {"error"}:
        return f"the text is not {{'error': ...}}: {outcome.text!r}"
    error = error["error"]
    missing = {"type", "message", "suggestions", "retryable"} - set(error)
    if missing:
        return f"the error lacks {sorted(missing)}"
    if error["type"] != call.expect:
        return f"expected {call.expect}, got {error['type']}: {error['message']}"
    if not error["message"] or not isinstance(error["suggestions"], list):
        return f"an empty message or suggestions that are not a list: {error}"
    return _check_extras(call, error)


def _check_extras(call: Call, error: dict[str, Any]) -> str | None:
    """The extra fields that make an error useful survive the trip."""
    if call.expect == "VersionNotFound" and not error.get("available_versions"):
        return "VersionNotFound without available_versions"
    if call.id == "did_you_mean" and "requests" not in error.get("candidates", []):
        return f"PackageNotFound for a misspelt cached name without it in candidates: {error}"
    if call.expect == "InvalidArgument" and call.id.startswith(("max_tokens", "package_name")):
        named = {problem["argument"] for problem in error.get("invalid_arguments", [])}
        wanted = "package_name" if call.id.startswith("package_name") else "max_tokens"
        if wanted not in named:
            return f"invalid_arguments does not name {wanted}: {error}"
    return None
