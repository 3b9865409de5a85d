"""Pipenv's ``Pipfile``: ``[packages]`` (main) and ``[dev-packages]`` (``group:dev``).

The ``pipfile`` package on the index is a 2017 pre-release and no longer maintained;
pipenv's own reader needs pipenv installed. The format is TOML with a small value
grammar, read here: ``"*"`` (any version), a PEP 440 specifier string, or a table with
``version``, ``extras``, ``markers``, marker-variable keys (``sys_platform = "== 'win32'"``),
and ``git``/``ref``, ``path``, ``file`` direct references. Other pipenv categories
(``[docs]``, ...) become ``group:<category>``.
"""

from __future__ import annotations

from typing import Any

from autodocs.errors import ManifestError
from autodocs.manifests.base import Dependency, LineFinder, ParsedFile, entry_error, load_toml, make_dependency

__all__ = ["parse_pipfile"]

_NOT_CATEGORIES = frozenset({"source", "requires", "scripts", "pipenv", "pipfile"})
_MARKER_KEYS = (
    "os_name",
    "sys_platform",
    "platform_machine",
    "platform_python_implementation",
    "platform_release",
    "platform_system",
    "platform_version",
    "python_version",
    "python_full_version",
    "implementation_name",
    "implementation_version",
)


def parse_pipfile(text: str, *, file: str) -> ParsedFile:
    """Dependencies of a ``Pipfile`` text; raises ManifestError if it is not valid TOML."""
    data = load_toml(text, file=file)
    lines = LineFinder(text)
    parsed = ParsedFile()
    for category, table in data.items():
        if category in _NOT_CATEGORIES or not isinstance(table, dict):
            continue
        group = {"packages": "main", "dev-packages": "group:dev"}.get(category, f"group:{category}")
        lines.find(f"[{category}]", quoted=False)
        for name, value in table.items():
            line = lines.find(name, key=True)
            try:
                parsed.dependencies.append(_dependency(name, value, group, file, line))
            except ManifestError as exc:
                parsed.problems.append(exc)
    return parsed


def _dependency(name: str, value: Any, group: str, file: str, line: int | None) -> Dependency:
    if isinstance(value, str):
        return make_dependency(name, specifier=_specifier(value), group=group, file=file, line=line)
    if not isinstance(value, dict):
        raise entry_error(file, line, f"{name}: expected a version string or a table, got {type(value).__name__}")
    version = value.get("version", "*")
    extras = value.get("extras", [])
    if not isinstance(version, str) or not isinstance(extras, list) or not all(isinstance(e, str) for e in extras):
        raise entry_error(file, line, f"{name}: version must be a string and extras a list of names")
    markers = [f"({value['markers']})"] if isinstance(value.get("markers"), str) else []
    markers += [f"{key} {value[key]}" for key in _MARKER_KEYS if isinstance(value.get(key), str)]
    return make_dependency(
        name,
        specifier=_specifier(version),
        extras=extras,
        marker=" and ".join(markers) or None,
        url=_direct_reference(value),
        group=group,
        file=file,
        line=line,
    )


def _specifier(version: str) -> str:
    version = version.strip()
    if version in ("", "*"):
        return ""
    return version if version[0] in "<>=!~" else f"=={version}"


def _direct_reference(value: dict[str, Any]) -> str | None:
    if isinstance(value.get("git"), str):
        git = value["git"] if value["git"].startswith("git+") else f"git+{value['git']}"
        return f"{git}@{value['ref']}" if isinstance(value.get("ref"), str) else git
    for key in ("file", "path"):
        if isinstance(value.get(key), str):
            return str(value[key])
    return None
