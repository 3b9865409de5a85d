"""Poetry's ``[tool.poetry]`` dependency tables, with Poetry constraints turned into PEP 440.

Hand-written because no maintained library converts Poetry constraints without
installing Poetry itself (``poetry-core`` is the only implementation and brings the whole
build backend). The rules follow poetry-core's ``parse_single_constraint`` exactly:

* ``^X.Y.Z`` → ``>=X.Y.Z`` and below the next *breaking* release: bump the first
  non-zero component among those written (``^1.2.3`` → ``<2.0.0``, ``^0.2.3`` →
  ``<0.3.0``, ``^0.0.3`` → ``<0.0.4``, ``^0.0`` → ``<0.1``, ``^0`` → ``<1``).
* ``~X`` → ``<X+1``; ``~X.Y`` and ``~X.Y.Z`` → ``<X.(Y+1)`` (padded to the written precision).
* ``~=`` is PEP 440's compatible release and kept; ``*`` is no constraint; a bare version
  is ``==``; ``,`` or spaces join (and); ``||`` (or) becomes the smallest single range that
  covers every alternative, since PEP 440 has no "or".
* ``python = "..."`` in a table becomes a ``python_version``/``python_full_version`` marker.
"""

from __future__ import annotations

import re
from typing import Any

from packaging.specifiers import InvalidSpecifier, Specifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from autodocs.errors import ManifestError
from autodocs.manifests.base import Dependency, ParsedFile, entry_error, make_dependency
from autodocs.manifests.toml_lines import TomlLines

__all__ = ["parse_poetry", "poetry_constraint_to_pep440", "poetry_python_to_marker"]

_CARET_OR_TILDE = re.compile(r"^([~^])(?!=)\s*v?(\d+(?:\.\d+)*)(.*)$")
_BARE_VERSION = re.compile(r"^v?\d")
_PART_SPLIT = re.compile(r"\s*,\s*|\s+(?=[<>=!~^\d*])")


def poetry_constraint_to_pep440(constraint: str) -> str:
    """A Poetry version constraint as a PEP 440 specifier string; raises ValueError."""
    alternatives = [part.strip() for part in re.split(r"\|\|?", constraint)]
    ranges = [_and_constraint(alternative) for alternative in alternatives]
    if len(ranges) == 1:
        return ranges[0]
    return _hull(ranges)


def poetry_python_to_marker(constraint: str) -> str | None:
    """``python = "^3.8"`` as a marker: ``python_version >= "3.8" and python_version < "4.0"``."""
    alternatives = []
    for alternative in re.split(r"\|\|?", constraint):
        clauses = []
        for spec in SpecifierSet(_and_constraint(alternative.strip())):
            version = spec.version.rstrip(".*")
            variable = "python_full_version" if version.count(".") >= 2 else "python_version"
            operator = spec.operator
            if spec.version.endswith(".*"):
                operator, version = ("==" if operator == "==" else "!="), version
                variable = "python_version" if version.count(".") <= 1 else "python_full_version"
            clauses.append(f'{variable} {operator} "{version}"')
        if not clauses:
            return None  # one alternative allows every Python: no marker
        clauses.sort(key=lambda clause: 0 if " >" in clause else 1)  # lower bound first
        alternatives.append(" and ".join(clauses))
    if len(alternatives) == 1:
        return alternatives[0]
    return " or ".join(f"({alternative})" for alternative in alternatives)


def _and_constraint(text: str) -> str:
    if text in ("", "*", "x", "X"):
        return ""
    clauses: list[str] = []
    for part in _PART_SPLIT.split(re.sub(r"([<>=!~^]+)\s+", r"\1", text)):
        part = part.strip()
        if part in ("", "*"):
            continue
        clauses.extend(_single(part))
    return str(SpecifierSet(",".join(clauses)))


def _single(part: str) -> list[str]:
    match = _CARET_OR_TILDE.match(part)
    if match:
        kind, release, rest = match.groups()
        lower = Version(release + rest)
        numbers = [int(piece) for piece in release.split(".")]
        upper = _caret_upper(numbers) if kind == "^" else _tilde_upper(numbers)
        return [f">={lower}", f"<{'.'.join(str(n) for n in upper)}"]
    if _BARE_VERSION.match(part):
        part = "==" + part
    Specifier(part)  # raises InvalidSpecifier with the reason
    return [part]


def _caret_upper(numbers: list[int]) -> list[int]:
    """poetry-core's ``next_breaking``: bump the first non-zero written component."""
    if numbers[0] > 0 or len(numbers) == 1:
        return _bump(numbers, 0)
    if numbers[1] > 0 or len(numbers) == 2:
        return _bump(numbers, 1)
    return _bump(numbers, 2)


def _tilde_upper(numbers: list[int]) -> list[int]:
    return _bump(numbers, 0 if len(numbers) == 1 else 1)


def _bump(numbers: list[int], index: int) -> list[int]:
    """Increment component ``index`` and zero the ones after it, keeping the written precision."""
    bumped = list(numbers[: index + 1]) + [0] * (len(numbers) - index - 1)
    bumped[index] += 1
    return bumped


def _hull(ranges: list[str]) -> str:
    """The smallest single range holding every alternative (unbounded on a side any one is)."""
    bounds = [_bounds(text) for text in ranges]
    clauses = []
    lowers = [low for low, _ in bounds]
    if all(low is not None for low in lowers):
        clauses.append(f">={min(low for low in lowers if low is not None)}")
    uppers = [high for _, high in bounds]
    if all(high is not None for high in uppers):
        version, inclusive = max(high for high in uppers if high is not None)
        clauses.append(f"{'<=' if inclusive else '<'}{version}")
    return str(SpecifierSet(",".join(clauses)))


def _bounds(text: str) -> tuple[Version | None, tuple[Version, bool] | None]:
    """Lower bound (taken as inclusive) and (upper bound, inclusive) of one alternative."""
    lower: Version | None = None
    upper: tuple[Version, bool] | None = None
    for spec in SpecifierSet(text):
        if spec.version.endswith(".*") or spec.operator in ("~=", "==="):
            return None, None
        version = Version(spec.version)
        if spec.operator in (">=", ">", "=="):
            lower = version if lower is None else max(lower, version)
        if spec.operator in ("<", "<=", "=="):
            candidate = (version, spec.operator != "<")
            upper = candidate if upper is None else min(upper, candidate)
    return lower, upper


def parse_poetry(data: dict[str, Any], *, file: str, lines: TomlLines, skip: set[str]) -> ParsedFile:
    """Dependencies from ``[tool.poetry]``: main, legacy dev, and every group.

    Extras become ``optional:<extra>`` with the extra's name normalized (PEP 685), as
    PEP 621 extras are.

    ``skip`` holds names already declared in ``[project]`` (Poetry 2 uses the Poetry
    table only to add sources and constraints to those).
    """
    poetry = data.get("tool", {}).get("poetry")
    parsed = ParsedFile()
    if not isinstance(poetry, dict):
        return parsed
    extras_of: dict[str, list[str]] = {}
    extras = poetry.get("extras", {})
    if isinstance(extras, dict):
        for extra, names in extras.items():
            for name in names if isinstance(names, list) else []:
                if isinstance(name, str):
                    extras_of.setdefault(canonicalize_name(name), []).append(f"optional:{canonicalize_name(extra)}")
    sections: list[tuple[str, tuple[str, ...], Any]] = [
        ("main", ("tool", "poetry", "dependencies"), poetry.get("dependencies")),
        ("group:dev", ("tool", "poetry", "dev-dependencies"), poetry.get("dev-dependencies")),
    ]
    groups = poetry.get("group", {})
    if isinstance(groups, dict):
        for name, group in groups.items():
            table = group.get("dependencies") if isinstance(group, dict) else None
            sections.append((f"group:{name}", ("tool", "poetry", "group", name, "dependencies"), table))
    for group, path, table in sections:
        if table is None:
            continue
        if not isinstance(table, dict):
            parsed.problems.append(entry_error(file, lines.key_line(*path), f"[{'.'.join(path)}] must be a table"))
            continue
        for name, value in table.items():
            if group == "main" and (name.lower() == "python" or canonicalize_name(name) in skip):
                continue
            line = lines.key_line(*path, name)
            for entry in value if isinstance(value, list) else [value]:
                # an optional main dependency belongs to every extra that lists it
                entry_groups = extras_of.get(canonicalize_name(name), [group]) if _is_optional(entry) else [group]
                try:
                    parsed.dependencies.extend(_dependency(name, entry, g, file, line) for g in entry_groups)
                except ManifestError as exc:
                    parsed.problems.append(exc)
    return parsed


def _dependency(name: str, value: Any, group: str, file: str, line: int | None) -> Dependency:
    if isinstance(value, str):
        return make_dependency(name, specifier=_convert(name, value, file, line), group=group, file=file, line=line)
    if not isinstance(value, dict):
        raise entry_error(file, line, f"{name}: expected a version string or a table, got {type(value).__name__}")
    markers = [value["markers"]] if isinstance(value.get("markers"), str) else []
    python = value.get("python")
    if isinstance(python, str):
        try:
            python_marker = poetry_python_to_marker(python)
        except (ValueError, InvalidSpecifier):
            raise entry_error(file, line, f"{name}: invalid python constraint {python[:100]!r}") from None
        if python_marker:
            markers.append(python_marker)
    marker = " and ".join(f"({m})" for m in markers) if len(markers) > 1 else (markers[0] if markers else None)
    extras = value.get("extras", [])
    if not isinstance(extras, list) or not all(isinstance(extra, str) for extra in extras):
        raise entry_error(file, line, f"{name}: extras must be a list of names")
    version = value.get("version", "")
    if not isinstance(version, str):
        raise entry_error(file, line, f"{name}: version must be a string")
    return make_dependency(
        name,
        specifier=_convert(name, version, file, line),
        extras=extras,
        marker=marker,
        url=_direct_reference(value),
        group=group,
        file=file,
        line=line,
    )


def _direct_reference(value: dict[str, Any]) -> str | None:
    if isinstance(value.get("git"), str):
        url = value["git"] if value["git"].startswith("git+") else f"git+{value['git']}"
        ref = next((value[key] for key in ("rev", "tag", "branch") if isinstance(value.get(key), str)), None)
        return f"{url}@{ref}" if ref else url
    for key in ("url", "path"):
        if isinstance(value.get(key), str):
            return str(value[key])
    return None


def _convert(name: str, constraint: str, file: str, line: int | None) -> str:
    try:
        return poetry_constraint_to_pep440(constraint.strip())
    except (InvalidSpecifier, InvalidVersion, ValueError):
        raise entry_error(
            file,
            line,
            f"{name}: invalid Poetry constraint {constraint[:100]!r}",
            "Use e.g. '^1.2', '~1.2.3' or '>=1,<2'.",
        ) from None


def _is_optional(value: Any) -> bool:
    return isinstance(value, dict) and value.get("optional") is True
