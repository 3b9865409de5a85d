"""``requirements*.txt``: pip's requirements-file format, read without running pip.

pip has no public API for parsing these files. ``pip-requirements-parser`` vendors pip's
code but has had no release since 2022 and lags pip's syntax, so the format, line-based
and small, is read here: comments, line continuations, ``-r``/``-c`` includes (relative
to the including file, cycle-safe, confined to the project root), ``-e`` and direct
references (archive URLs named by their file name), ``--hash`` and other per-line
options, ``${ENV}`` references (left as written) and the index options ``-i``/``--index-url``
(the project's default index) and ``--extra-index-url`` (asked after it), recorded, never used here. Each
requirement string is parsed by ``packaging``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from autodocs.errors import ManifestError
from autodocs.manifests.base import (
    IndexRole,
    ParsedFile,
    dependency_from_requirement,
    editable_dependency,
    entry_error,
)
from autodocs.manifests.indexes import declared_index

__all__ = ["group_for_requirements_file", "parse_requirements"]

_COMMENT = re.compile(r"(^|\s+)#.*$")
_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s*=\s*|\s+|(?=[^-\s]))(\S+)")
_INDEX_OPTION = re.compile(r"^(-i|--index-url|--extra-index-url)(?:\s*=\s*|\s+|(?<=-i)(?=[^-\s]))(\S+)")
_EDITABLE = re.compile(r"^(-e|--editable)(?:\s*=\s*|\s+)(\S+)")
_PER_LINE_OPTION = re.compile(r"\s--(hash|config-settings|global-option|install-option)(?:=|\s+)\S+")

ReadText = Callable[[Path], str]


def group_for_requirements_file(relative: str) -> str:
    """The group a requirements file's entries belong to, from its name.

    ``requirements.txt`` → main; ``requirements-dev.txt``, ``dev-requirements.txt`` and
    ``requirements/dev.txt`` → dev; every ``requirements/<x>.txt`` → ``<x>``, ``base``
    included (its name is what the project calls it; only the root file is ``main``).
    """
    path = Path(relative)
    stem = path.stem
    if path.parent.name == "requirements":
        return stem
    for pattern in (r"^requirements[-_.](.+)$", r"^(.+)[-_.]requirements$"):
        match = re.match(pattern, stem)
        if match:
            return match.group(1)
    return "main"


def parse_requirements(
    path: Path,
    *,
    root: Path,
    read_text: ReadText,
    group: str | None = None,
    _chain: tuple[Path, ...] = (),
) -> ParsedFile:
    """Dependencies of a requirements file and the ``-r`` files it includes.

    Raises :class:`ManifestError` only when this file cannot be read; a bad line, a
    cycle or an include that cannot be read is recorded as a problem of that line.
    """
    resolved = path.resolve()
    relative = _relative(resolved, root)
    group = group or group_for_requirements_file(relative)
    text = read_text(resolved)
    parsed = ParsedFile()
    for line_number, line in _logical_lines(text):
        try:
            _parse_line(line, line_number, parsed, resolved, relative, root, read_text, group, _chain)
        except ManifestError as exc:
            parsed.problems.append(exc)
    return parsed


def _parse_line(
    line: str,
    line_number: int,
    parsed: ParsedFile,
    resolved: Path,
    relative: str,
    root: Path,
    read_text: ReadText,
    group: str,
    chain: tuple[Path, ...],
) -> None:
    include = _INCLUDE.match(line)
    if include:
        if include.group(1) in ("-c", "--constraint"):
            return  # constraints narrow versions; they do not add dependencies
        try:
            target = (resolved.parent / include.group(2)).resolve()
        except (OSError, ValueError, RuntimeError):  # NUL bytes, symlink loops, unreadable parts
            raise entry_error(
                relative,
                line_number,
                f"include {include.group(2)[:200]!r} is not a usable path; not read",
                "Fix the path after -r.",
            ) from None
        if not target.is_relative_to(root):
            raise entry_error(
                relative,
                line_number,
                f"include {include.group(2)[:200]!r} points outside the project root; not read",
                "Keep included requirement files inside the project.",
            )
        if target in (*chain, resolved):
            cycle = " -> ".join(_relative(p, root) for p in (*chain, resolved, target))
            raise entry_error(relative, line_number, f"include cycle: {cycle}", "Remove one of the -r lines.")
        parsed.extend(
            parse_requirements(target, root=root, read_text=read_text, group=group, _chain=(*chain, resolved))
        )
        return
    editable = _EDITABLE.match(line)
    if editable:
        dependency = editable_dependency(editable.group(2), group=group, file=relative, line=line_number)
        if dependency is not None:
            parsed.dependencies.append(dependency)
        return
    index = _INDEX_OPTION.match(line)
    if index:
        role: IndexRole = "supplemental" if index.group(1) == "--extra-index-url" else "default"
        parsed.indexes.append(declared_index(index.group(2), role=role, file=relative, line=line_number))
        return
    if line.startswith("-"):
        return  # other options do not name dependencies
    requirement = _PER_LINE_OPTION.sub("", line).strip()
    head = requirement.split(" @ ")[0].split(";")[0]
    if "://" in head or head.startswith((".", "/", "~")) or head.endswith((".whl", ".tar.gz", ".zip")):
        reference, _, marker = requirement.partition(" ;")
        dependency = editable_dependency(reference.strip(), group=group, file=relative, line=line_number)
        if dependency is not None:
            if marker.strip():
                dependency.marker = dependency_from_requirement(
                    f"{dependency.name}; {marker.strip()}", group=group, file=relative, line=line_number
                ).marker
            parsed.dependencies.append(dependency)
        return
    parsed.dependencies.append(dependency_from_requirement(requirement, group=group, file=relative, line=line_number))


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Join backslash continuations and drop comments; yields (first line number, text)."""
    lines: list[tuple[int, str]] = []
    buffer = ""
    start = 0
    for number, raw in enumerate(text.splitlines(), start=1):
        if not buffer:
            start = number
        if raw.endswith("\\"):
            buffer += raw[:-1] + " "
            continue
        logical = _COMMENT.sub("", buffer + raw).strip()
        buffer = ""
        if logical:
            lines.append((start, logical))
    if buffer.strip():
        logical = _COMMENT.sub("", buffer).strip()
        if logical:
            lines.append((start, logical))
    return lines


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.name
