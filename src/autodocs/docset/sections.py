"""Collecting blocks into sections as a reader walks a page: shared by the reST and Markdown readers."""

from __future__ import annotations

from autodocs.docset.pages import Block, Section

__all__ = ["SectionCollector"]

#: Headings deeper than this are kept as bold text inside their parent section.
MAX_HEADING_DEPTH = 6


class SectionCollector:
    """Blocks go into the current section; a heading at ``level`` closes it and opens the next."""

    def __init__(self) -> None:
        self._path: list[str] = []
        self._blocks: list[Block] = []
        self.sections: list[Section] = []

    @property
    def heading_path(self) -> tuple[str, ...]:
        return tuple(self._path)

    def heading(self, title: str, level: int) -> None:
        """Open a section titled ``title`` at ``level`` (1 = the page title)."""
        title = " ".join(title.split()) or "(untitled)"
        if level > MAX_HEADING_DEPTH:
            self.add(Block("text", f"**{title}**"))
            return
        self._close()
        del self._path[max(level - 1, 0) :]
        self._path.append(title)

    def add(self, block: Block) -> None:
        if block.text.strip():
            self._blocks.append(block)

    def finish(self) -> tuple[Section, ...]:
        self._close()
        return tuple(self.sections)

    def _close(self) -> None:
        if self._blocks or self._path:
            self.sections.append(Section(tuple(self._path), tuple(self._blocks)))
        self._blocks = []
