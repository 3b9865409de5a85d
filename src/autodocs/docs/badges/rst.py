"""Badges in reStructuredText: image directives, their substitution references and targets."""

from __future__ import annotations

import re

from autodocs.docs.badges.edits import Edits, cut
from autodocs.docs.badges.urls import is_badge_url

__all__ = ["rst_edits"]

_RST_IMAGE = re.compile(r"^([ \t]*)\.\.[ \t]+(?:\|([^|\n]+)\|[ \t]+)?image::[ \t]*(\S*)")
_RST_COMMENTED_OPTION = re.compile(r"^[ \t]*\.\.[ \t]+:[A-Za-z-]+:")
_RST_TARGET = re.compile(r"^[ \t]*\.\.[ \t]+_(`[^`]+`|[^:`]+):")
_RST_DIRECTIVE = re.compile(r"^[ \t]*\.\.[ \t]+([A-Za-z][\w-]*)::")
_RST_CODE_DIRECTIVES = frozenset({"code", "code-block", "sourcecode", "parsed-literal", "highlight"})
_RST_TABLE_BORDER = re.compile(r"^[ \t]*(?:\+[-=+]+\+|=+(?:[ \t]+=+)+|-+(?:[ \t]+-+)+)[ \t]*$")


def rst_edits(lines: list[str]) -> Edits:
    literal = _rst_literal_lines(lines)
    edits: Edits = {}
    badges: set[str] = set()
    index = 0
    while index < len(lines):
        match = _RST_IMAGE.match(lines[index]) if index not in literal else None
        if match is None:
            index += 1
            continue
        end = _rst_block_end(lines, index, len(match.group(1)))
        while end < len(lines) and _RST_COMMENTED_OPTION.match(lines[end]):
            end += 1  # "..    :target: …": an option commented out stays with its image
        url = match.group(3) or _first_argument_line(lines, index + 1, end)
        if is_badge_url(url):
            for line in range(index, end):
                edits[line] = None
            if match.group(2):
                badges.add(match.group(2))
        index = end
    if badges:
        edits.update(_rst_references(lines, edits | dict.fromkeys(literal), badges))
    return {index: line for index, line in edits.items() if index not in literal}


def _rst_literal_lines(lines: list[str]) -> set[int]:
    """Lines of literal blocks (after a paragraph ending in ``::``) and code directives: an
    example of how to add a badge is shown, not stripped."""
    literal: set[int] = set()
    for index, line in enumerate(lines):
        stripped = line.rstrip()
        directive = _RST_DIRECTIVE.match(line)
        if directive is not None and directive.group(1).lower() not in _RST_CODE_DIRECTIVES:
            continue
        if directive is not None or (stripped.endswith("::") and index not in literal):
            indent = len(line) - len(line.lstrip(" \t"))
            literal.update(range(index + 1, _rst_block_end(lines, index, indent)))
    return literal


def _rst_block_end(lines: list[str], start: int, indent: int) -> int:
    """The line after an explicit markup block: its first line and the lines indented under it."""
    end = start + 1
    last = start + 1
    while end < len(lines):
        line = lines[end]
        if line.strip():
            if len(line) - len(line.lstrip(" \t")) <= indent:
                break
            last = end + 1
        end += 1
    return last


def _first_argument_line(lines: list[str], start: int, end: int) -> str:
    for line in lines[start:end]:
        stripped = line.strip()
        if stripped and not stripped.startswith(":"):
            return stripped.split()[0]
    return ""


def _rst_references(lines: list[str], edits: Edits, names: set[str]) -> Edits:
    """Each ``|name|`` (``|name|_``, ``|name|__``) of a removed badge, outside removed lines;
    in a table its width is kept as spaces so the columns stay aligned."""
    found = _rst_targets(lines, edits, names)
    pattern = re.compile("|".join(rf"\|{re.escape(name)}\|(?:__?)?" for name in sorted(names, key=len, reverse=True)))
    in_table = _rst_table_lines(lines)
    for index, line in enumerate(lines):
        if index in edits or index in found or "|" not in line:
            continue
        spans = [match.span() for match in pattern.finditer(line)]
        if not spans:
            continue
        if index in in_table:
            padded = line
            for start, end in spans:
                padded = padded[:start] + " " * (end - start) + padded[end:]
            found[index] = padded
        else:
            found[index] = cut(line, spans)
    return found


def _rst_targets(lines: list[str], edits: Edits, names: set[str]) -> Edits:
    """The hyperlink targets of removed badges (``.. _PyPI version: …`` for ``|PyPI version|_``)
    when no other reference (```PyPI version`_``) uses them."""
    wanted = {" ".join(name.split()).lower() for name in names}
    found: Edits = {}
    lowered: str | None = None
    index = 0
    while index < len(lines):
        match = _RST_TARGET.match(lines[index]) if index not in edits else None
        if match is None:
            index += 1
            continue
        end = _rst_block_end(lines, index, len(lines[index]) - len(lines[index].lstrip(" \t")))
        name = " ".join(match.group(1).strip("`").split()).lower()
        if name in wanted and lowered is None:
            lowered = "\n".join(lines).lower()
        if name in wanted and lowered is not None and f"`{name}`_" not in lowered:
            for line in range(index, end):
                found[line] = None
        index = end
    return found


def _rst_table_lines(lines: list[str]) -> set[int]:
    """Lines of runs of non-blank lines that hold a table border."""
    table: set[int] = set()
    run: list[int] = []
    bordered = False
    for index, line in enumerate([*lines, ""]):
        if line.strip():
            run.append(index)
            bordered = bordered or _RST_TABLE_BORDER.match(line) is not None
            continue
        if bordered:
            table.update(run)
        run, bordered = [], False
    return table
