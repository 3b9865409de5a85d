"""A docs page as the readers leave it: a title, its path, and titled sections of whole blocks.

A section is a run of blocks under one heading path (``("Tutorial", "Retrying", "Backoff")``).
A block is the unit a later cut may never split: a paragraph, a list, a table, an admonition, a
whole fenced code block, or an API placeholder — the mark a ``autoclass``/``::: path`` directive
leaves, which a later step replaces with the API reference entry of the same release. Values are
frozen and picklable, so pages can be read in worker processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Block", "Page", "Section", "TocTreeEntry", "api_block", "code_block", "text_block"]

BlockKind = Literal["text", "code", "api"]


@dataclass(frozen=True, slots=True)
class Block:
    """One uncuttable piece of a section; ``text`` is its Markdown-ish rendering."""

    kind: BlockKind
    text: str
    #: The dotted object path of an API placeholder (``kind == "api"``), else "".
    object_path: str = ""
    #: The directive that asked for it (``autoclass``, ``mkdocstrings``…), for an API placeholder.
    directive: str = ""


def text_block(text: str) -> Block:
    return Block("text", text)


def code_block(code: str, language: str = "") -> Block:
    """A fenced code block, its fence longer than any backtick run inside, so it stays whole."""
    longest = max((len(run) for run in code.split("\n") if set(run.strip()) == {"`"}), default=0)
    fence = "`" * max(3, longest + 1)
    return Block("code", f"{fence}{language}\n{code.rstrip()}\n{fence}")


def api_block(object_path: str, directive: str) -> Block:
    """The placeholder for ``object_path``'s API reference entry, readable until it is replaced."""
    return Block("api", f"API reference: `{object_path}` ({directive})", object_path, directive)


@dataclass(frozen=True, slots=True)
class Section:
    """The blocks under one heading; ``heading_path`` is empty for text before the first heading."""

    heading_path: tuple[str, ...]
    blocks: tuple[Block, ...]

    @property
    def title(self) -> str:
        return self.heading_path[-1] if self.heading_path else ""

    @property
    def text(self) -> str:
        return "\n\n".join(block.text for block in self.blocks)


@dataclass(frozen=True, slots=True)
class TocTreeEntry:
    """One line of a Sphinx ``toctree`` (or MyST ``{toctree}``): a document name, maybe a title, or a glob."""

    target: str
    title: str = ""
    glob: bool = False


@dataclass(frozen=True, slots=True)
class Page:
    """One source file of the docs set, read."""

    #: The file's path inside the unpacked sdist (``docs/userguide/tasks.rst``).
    path: str
    title: str
    sections: tuple[Section, ...]
    #: Toctrees in the page, in order: Sphinx's page order comes from them.
    toctree: tuple[TocTreeEntry, ...] = ()
    warnings: tuple[str, ...] = field(default=())

    @property
    def api_objects(self) -> tuple[str, ...]:
        """The object paths of the page's API placeholders, in reading order, each once."""
        seen: dict[str, None] = {}
        for section in self.sections:
            for block in section.blocks:
                if block.kind == "api":
                    seen.setdefault(block.object_path, None)
        return tuple(seen)

    @property
    def text(self) -> str:
        parts: list[str] = []
        for section in self.sections:
            if section.heading_path:
                parts.append("#" * len(section.heading_path) + " " + section.title)
            parts.extend(block.text for block in section.blocks)
        return "\n\n".join(parts)
