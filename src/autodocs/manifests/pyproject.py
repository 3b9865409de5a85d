"""``pyproject.toml``: every dependency table a common tool defines there.

* PEP 621 ``[project]`` dependencies (main) and optional-dependencies (``optional:<extra>``);
* PEP 735 ``[dependency-groups]`` (``group:<name>``), ``{include-group = ...}`` expanded and
  cycles reported by ``packaging.dependency_groups`` (the PyPA reference implementation);
* Poetry (``poetry.py``); PDM ``[tool.pdm.dev-dependencies]`` (``group:<g>``); Hatch
  ``[tool.hatch.envs.<env>]`` dependencies and extra-dependencies (``group:hatch-<env>``), and
  the same ``[envs.<env>]`` tables of a ``hatch.toml`` (:func:`parse_hatch_toml`);
  uv ``[tool.uv] dev-dependencies`` (``group:dev``), ``[tool.uv.sources]`` (git, path, url and
  workspace sources become the entry's ``url``) and ``[tool.uv.workspace]`` member globs;
* the package indexes uv and Poetry name, and the packages pinned to one (``indexes.py``).

tomllib gives no line numbers, so each entry's line is looked up within the table or
array that holds it (:class:`~autodocs.manifests.toml_lines.TomlLines`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from packaging.dependency_groups import DependencyGroupResolver
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from autodocs.errors import ManifestError
from autodocs.manifests.base import (
    ParsedFile,
    check_url,
    entry_error,
    load_toml,
    parse_requirement_list,
)
from autodocs.manifests.indexes import apply_index_pins, pyproject_indexes
from autodocs.manifests.poetry import parse_poetry
from autodocs.manifests.toml_lines import StringLines, TomlLines

__all__ = ["parse_hatch_toml", "parse_pyproject"]


def parse_pyproject(text: str, *, file: str) -> ParsedFile:
    """Dependencies declared in a ``pyproject.toml`` text; raises ManifestError if unreadable."""
    data = load_toml(text, file=file)
    lines = TomlLines(text)
    parsed = ParsedFile()
    project = data.get("project", {})
    if not isinstance(project, dict):
        project = {}
        parsed.problems.append(entry_error(file, None, "[project] must be a table"))
    declared: set[str] = set()
    if "dependencies" in project:
        main = parse_requirement_list(
            project["dependencies"],
            group="main",
            file=file,
            where="project.dependencies",
            lines=lines.strings("project", "dependencies"),
        )
        declared = {dependency.name for dependency in main.dependencies}
        parsed.extend(main)
    optional = project.get("optional-dependencies", {})
    if isinstance(optional, dict):
        for extra, requirements in optional.items():
            group, where = f"optional:{canonicalize_name(extra)}", f"project.optional-dependencies.{extra}"
            found = lines.strings("project", "optional-dependencies", extra)
            parsed.extend(parse_requirement_list(requirements, group=group, file=file, where=where, lines=found))
    else:
        parsed.problems.append(entry_error(file, None, "[project.optional-dependencies] must be a table"))
    parsed.extend(_dependency_groups(data.get("dependency-groups"), file, lines))
    tool = data.get("tool", {})
    if isinstance(tool, dict):
        parsed.extend(parse_poetry(data, file=file, lines=lines, skip=declared))
        parsed.extend(_pdm(tool.get("pdm"), file, lines))
        parsed.extend(_hatch(tool.get("hatch"), file, lines))
        parsed.extend(_uv(tool.get("uv"), file, lines))
        _apply_uv_sources(parsed, tool.get("uv"))
        indexes = pyproject_indexes(data, file=file, text=text)
        apply_index_pins(parsed.dependencies, indexes, file=file)
        parsed.indexes.extend(indexes.indexes)
        parsed.problems.extend(indexes.problems)
    return parsed


def _dependency_groups(groups: Any, file: str, lines: TomlLines) -> ParsedFile:
    """PEP 735 groups, each with the entries of the groups it includes."""
    parsed = ParsedFile()
    if groups is None:
        return parsed
    if not isinstance(groups, dict):
        parsed.problems.append(entry_error(file, None, "[dependency-groups] must be a table"))
        return parsed
    try:
        resolver = DependencyGroupResolver(groups)
    except (ExceptionGroup, ValueError, TypeError) as exc:
        parsed.problems.append(entry_error(file, None, f"[dependency-groups]: {_reason(exc)}"))
        return parsed
    for name in groups:
        try:
            resolver.resolve(name)  # validates entries and detects include cycles
        except (ExceptionGroup, ValueError, TypeError, LookupError) as exc:
            parsed.problems.append(
                entry_error(
                    file,
                    lines.key_line("dependency-groups", name),
                    f"[dependency-groups] {name}: {_reason(exc)}",
                    "Fix the entry; an include-group cycle must be broken by removing one include.",
                )
            )
            continue
        in_group: dict[str, StringLines] = {}  # fresh per resolved group: an include is read again
        for group_name, item in _walk(resolver, groups, name, set()):
            raw = str(item)
            found = in_group.setdefault(group_name, lines.strings("dependency-groups", group_name))
            line = found.find(raw) or lines.key_line("dependency-groups", group_name)
            parsed.extend(
                parse_requirement_list([raw], group=f"group:{name}", file=file, where=name, lines=_Fixed(line))
            )
    return parsed


def _walk(
    resolver: DependencyGroupResolver, groups: Mapping[str, Sequence[Any]], name: str, seen: set[str]
) -> list[tuple[str, str]]:
    """(group the entry is written in, its raw text) for a group and its includes, in order."""
    normalized = {_group_key(key): key for key in groups}
    key = normalized[_group_key(name)]
    seen.add(key)
    found: list[tuple[str, str]] = []
    for raw, item in zip(groups[key], resolver.lookup(key), strict=True):
        if isinstance(item, Requirement):
            found.append((key, str(raw)))
        elif normalized.get(_group_key(item.include_group), "") not in seen:
            found.extend(_walk(resolver, groups, item.include_group, seen))
    return found


def _group_key(name: str) -> str:
    return str(canonicalize_name(name))


def _reason(exc: BaseException) -> str:
    if isinstance(exc, ExceptionGroup):
        return "; ".join(_reason(inner) for inner in exc.exceptions)[:500]
    return str(exc)[:500]


def _pdm(pdm: Any, file: str, lines: TomlLines) -> ParsedFile:
    parsed = ParsedFile()
    groups = pdm.get("dev-dependencies") if isinstance(pdm, dict) else None
    if isinstance(groups, dict):
        for name, requirements in groups.items():
            where = f"tool.pdm.dev-dependencies.{name}"
            found = lines.strings("tool", "pdm", "dev-dependencies", name)
            parsed.extend(
                parse_requirement_list(requirements, group=f"group:{name}", file=file, where=where, lines=found)
            )
    return parsed


def parse_hatch_toml(text: str, *, file: str) -> ParsedFile:
    """``hatch.toml``: Hatch's own file, whose ``[envs.<env>]`` tables read like ``[tool.hatch.envs]``."""
    return _hatch(load_toml(text, file=file), file, TomlLines(text), at=())


def _hatch(hatch: Any, file: str, lines: TomlLines, at: tuple[str, ...] = ("tool", "hatch")) -> ParsedFile:
    parsed = ParsedFile()
    envs = hatch.get("envs") if isinstance(hatch, dict) else None
    if not isinstance(envs, dict):
        return parsed
    for env, config in envs.items():
        if not isinstance(config, dict):
            continue
        for key in ("dependencies", "extra-dependencies"):
            if key in config:
                where = ".".join((*at, "envs", env, key))
                group = f"group:hatch-{env}"
                found = lines.strings(*at, "envs", env, key)
                parsed.extend(parse_requirement_list(config[key], group=group, file=file, where=where, lines=found))
    return parsed


def _uv(uv: Any, file: str, lines: TomlLines) -> ParsedFile:
    parsed = ParsedFile()
    if not isinstance(uv, dict):
        return parsed
    if "dev-dependencies" in uv:
        where = "tool.uv.dev-dependencies"
        found = lines.strings("tool", "uv", "dev-dependencies")
        parsed.extend(
            parse_requirement_list(uv["dev-dependencies"], group="group:dev", file=file, where=where, lines=found)
        )
    workspace = uv.get("workspace")
    if isinstance(workspace, dict):
        for key, target in (("members", parsed.workspace_members), ("exclude", parsed.workspace_exclude)):
            globs = workspace.get(key, [])
            if isinstance(globs, list):
                target.extend(glob for glob in globs if isinstance(glob, str))
    return parsed


def _apply_uv_sources(parsed: ParsedFile, uv: Any) -> None:
    """``[tool.uv.sources]``: entries served from git, a path, a URL or the workspace are not on the index."""
    sources = uv.get("sources") if isinstance(uv, dict) else None
    if not isinstance(sources, dict):
        return
    where: dict[str, str] = {}
    for name, source in sources.items():
        first = source[0] if isinstance(source, list) and source else source
        if not isinstance(first, dict):
            continue
        if isinstance(first.get("git"), str):
            ref = next((first[key] for key in ("rev", "tag", "branch") if isinstance(first.get(key), str)), None)
            where[_group_key(name)] = f"git+{first['git']}" + (f"@{ref}" if ref else "")
        elif isinstance(first.get("path"), str) or isinstance(first.get("url"), str):
            where[_group_key(name)] = str(first.get("path") or first.get("url"))
        elif first.get("workspace") is True:
            where[_group_key(name)] = "workspace"
    kept = []
    for dependency in parsed.dependencies:
        if dependency.url is None and dependency.name in where:
            dependency.url = where[dependency.name]
            try:
                check_url(dependency.url, file=dependency.source.file, line=dependency.source.line)
            except ManifestError as exc:
                parsed.problems.append(exc)
                continue
        kept.append(dependency)
    parsed.dependencies[:] = kept


class _Fixed:
    """A line lookup that always answers one line (entries already located)."""

    def __init__(self, line: int | None) -> None:
        self._line = line

    def find(self, text: str) -> int | None:
        return self._line
