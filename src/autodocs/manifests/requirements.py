"""``requirements*.txt``: pip's requirements-file format, read without running pip.

pip has no public API for parsing these files, and the few libraries that do either
lag behind pip's syntax or import pip internals; the format is line-based and small, so
it is read here: comments, line continuations, ``-r``/``-c`` includes (relative to the
including file, cycle-safe, confined to the project root), ``-e`` and direct references,
``--hash`` and other per-line options, and index options (ignored).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

from autodocs.errors import ManifestError
from autodocs.manifests.base import Dependency, SourceLocation, dependency_from_requirement

__all__ = ["group_for_requirements_file", "parse_requirements"]

_COMMENT = re.compile(r"(^|\s+)#.*$")
_INCLUDE = re.compile(r"^(-r|--requirement|-c|--constraint)(?:\s+|=)(\S+)")
_EDITABLE = re.compile(r"^(-e|--editable)(?:\s+|=)(\S+)")
_EGG = re.compile(r"#egg=([A-Za-z0-9][A-Za-z0-9._-]*)")
_PER_LINE_OPTION = re.compile(r"\s--(hash|config-settings|global-option|install-option)(?:=|\s+)\S+")

ReadText = Callable[[Path], str]


def group_for_requirements_file(relative: str) -> str:
    """The group a requirements file's entries belong to, from its name.

    ``requirements.txt`` → main; ``requirements-dev.txt``, ``dev-requirements.txt`` and
    ``requirements/dev.txt`` → dev.
    """
    path = Path(relative)
    stem = path.stem
    if path.parent.name == "requirements":
        return "main" if stem in ("base", "main", "requirements") else stem
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
    _seen: frozenset[Path] = frozenset(),
) -> list[Dependency]:
    """Dependencies of a requirements file and the ``-r`` files it includes."""
    resolved = path.resolve()
    relative = _relative(resolved, root)
    if resolved in _seen:
        raise ManifestError(
            f"{relative}: include cycle ({' -> '.join(sorted(str(p.name) for p in _seen))})", file=relative
        )
    group = group or group_for_requirements_file(relative)
    text = read_text(resolved)
    found: list[Dependency] = []
    for line_number, line in _logical_lines(text):
        include = _INCLUDE.match(line)
        if include:
            if include.group(1) in ("-c", "--constraint"):
                continue  # constraints narrow versions; they do not add dependencies
            target = (resolved.parent / include.group(2)).resolve()
            if not target.is_relative_to(root):
                raise ManifestError(
                    f"{relative}:{line_number}: include {include.group(2)!r} points outside the project root",
                    suggestions=["Keep included requirement files inside the project."],
                    file=relative,
                    line=line_number,
                )
            found.extend(
                parse_requirements(target, root=root, read_text=read_text, group=group, _seen=_seen | {resolved})
            )
            continue
        editable = _EDITABLE.match(line)
        if editable:
            found.extend(_direct_reference(editable.group(2), group, relative, line_number))
            continue
        if line.startswith("-"):
            continue  # index and global options do not name dependencies
        requirement = _PER_LINE_OPTION.sub("", line).strip()
        if "://" in requirement.split(" @ ")[0] or requirement.startswith((".", "/")):
            found.extend(_direct_reference(requirement, group, relative, line_number))
            continue
        found.append(dependency_from_requirement(requirement, group=group, file=relative, line=line_number))
    return found


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
        lines.append((start, _COMMENT.sub("", buffer).strip()))
    return lines


def _direct_reference(target: str, group: str, file: str, line: int) -> list[Dependency]:
    egg = _EGG.search(target)
    if " @ " in target:
        dependency = dependency_from_requirement(target, group=group, file=file, line=line)
        return [dependency]
    if not egg:
        return []  # a local path or URL with no name: nothing we could fetch docs for
    from packaging.utils import canonicalize_name

    return [
        Dependency(
            name=canonicalize_name(egg.group(1)),
            group=group,
            url=target,
            source=SourceLocation(file=file, line=line),
        )
    ]


def _relative(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return path.as_posix()
