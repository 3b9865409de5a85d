"""The table of contents of a docs set: page titles and paths as a tree, in reading order."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["TableOfContents", "TocEntry"]


@dataclass(frozen=True, slots=True)
class TocEntry:
    """A page (``path`` set) or a nav section without a page of its own (``path`` empty)."""

    title: str
    path: str
    children: tuple[TocEntry, ...] = ()


@dataclass(frozen=True, slots=True)
class TableOfContents:
    entries: tuple[TocEntry, ...]

    def __iter__(self) -> Iterator[TocEntry]:
        return iter(self.entries)

    def walk(self) -> Iterator[tuple[int, TocEntry]]:
        """Every entry with its depth (0 at the top), in reading order."""
        stack = [(0, entry) for entry in reversed(self.entries)]
        while stack:
            depth, entry = stack.pop()
            yield depth, entry
            stack.extend((depth + 1, child) for child in reversed(entry.children))

    def paths(self) -> list[str]:
        """The page paths in reading order, each once."""
        seen: dict[str, None] = {}
        for _depth, entry in self.walk():
            if entry.path:
                seen.setdefault(entry.path, None)
        return list(seen)

    def render(self, max_entries: int = 500) -> str:
        """An indented Markdown list of titles and paths (what a reply shows to pick a page)."""
        lines: list[str] = []
        for depth, entry in self.walk():
            if len(lines) >= max_entries:
                lines.append("- …")
                break
            shown = f"{entry.title} (`{entry.path}`)" if entry.path else entry.title
            lines.append("  " * depth + "- " + shown)
        return "\n".join(lines)
