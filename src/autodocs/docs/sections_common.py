"""What the Markdown and reStructuredText section readers share: a heading's place and a clean title."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Heading", "Placement", "clean_title"]

_CONTROL = {code: " " for code in (*range(32), *range(127, 160))}


@dataclass(frozen=True, slots=True)
class Heading:
    """A section break: its source lines are ``start:end`` (0-based), the body starts at ``end``."""

    start: int
    end: int
    level: int
    title: str


@dataclass(frozen=True, slots=True)
class Placement:
    """Source lines after edits (badges cut out): the new ``lines``, and ``where`` each source
    line went (its index in ``lines``, or -1 when it was dropped)."""

    lines: list[str]
    where: list[int]


def clean_title(text: str) -> str:
    """``text`` on one line: control characters as spaces, runs of whitespace as one space."""
    if not text.isprintable():
        text = text.translate(_CONTROL)
    return " ".join(text.split())
