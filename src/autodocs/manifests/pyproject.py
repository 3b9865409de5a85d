"""``pyproject.toml``: PEP 621 ``[project]`` dependencies and optional dependencies.

tomllib gives no line numbers, so each entry's line is found by looking for its quoted
text in the raw file, searching forward from the last match so repeated strings map to
successive lines.
"""

from __future__ import annotations

import tomllib
from typing import Any

from autodocs.errors import ManifestError
from autodocs.manifests.base import Dependency, dependency_from_requirement

__all__ = ["parse_pyproject"]


def parse_pyproject(text: str, *, file: str) -> list[Dependency]:
    """Dependencies declared in a ``pyproject.toml`` text; raises :class:`ManifestError`."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ManifestError(
            f"{file}: invalid TOML: {_with_position(str(exc), text)}",
            suggestions=["Fix the TOML syntax at the line and column named; `python -m tomllib` is not needed."],
            file=file,
        ) from None
    project = data.get("project")
    if project is None:
        return []
    if not isinstance(project, dict):
        raise _shape_error(file, "[project] must be a table")
    lines = _LineFinder(text)
    found: list[Dependency] = []
    for requirement in _string_list(project.get("dependencies", []), file, "project.dependencies"):
        found.append(_dependency(requirement, "main", file, lines))
    optional = project.get("optional-dependencies", {})
    if not isinstance(optional, dict):
        raise _shape_error(file, "[project.optional-dependencies] must be a table")
    for extra, requirements in optional.items():
        where = f"project.optional-dependencies.{extra}"
        for requirement in _string_list(requirements, file, where):
            found.append(_dependency(requirement, f"optional:{extra}", file, lines))
    return found


def _with_position(message: str, text: str) -> str:
    """tomllib says "(at end of document)" for errors at EOF; name the line and column instead."""
    if "(at end of document)" not in message:
        return message
    lines = text.splitlines() or [""]
    return message.replace(
        "(at end of document)", f"(at end of document, line {len(lines)}, column {len(lines[-1]) + 1})"
    )


def _dependency(requirement: str, group: str, file: str, lines: _LineFinder) -> Dependency:
    return dependency_from_requirement(requirement, group=group, file=file, line=lines.find(requirement))


def _string_list(value: Any, file: str, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise _shape_error(file, f"{where} must be a list of requirement strings")
    return value


def _shape_error(file: str, problem: str) -> ManifestError:
    return ManifestError(
        f"{file}: {problem}",
        suggestions=['See PEP 621: dependencies = ["requests>=2"] under [project].'],
        file=file,
    )


class _LineFinder:
    def __init__(self, text: str) -> None:
        self._lines = text.splitlines()
        self._cursor = 0

    def find(self, requirement: str) -> int | None:
        needles = (f'"{requirement}"', f"'{requirement}'")
        for start in (self._cursor, 0):
            for index in range(start, len(self._lines)):
                if any(needle in self._lines[index] for needle in needles):
                    self._cursor = index + 1
                    return index + 1
        return None
