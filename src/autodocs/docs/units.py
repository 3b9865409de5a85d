"""The sections a reply of a release with a docs set chooses from: README, docs pages, API entries.

Each :class:`Unit` is one section from one origin, made of whole blocks (a paragraph, a list, a
table, a fenced code block, an API entry) that a page never cuts inside, except a single block
larger than a whole page (:mod:`autodocs.docs.unit_pages`). Units keep what ranking needs (their
own title and the titles they sit under) and where they come from (page path, heading path,
object path).

API placeholders of the docs pages (``autoclass``, ``::: path``) become the object's entry of the
release's cached API reference when there is one, else a readable line naming the object and how
to get it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from autodocs.docs.model import PackageDocument, SectionRef
from autodocs.docset.model import DocSet
from autodocs.docset.pages import Block, Page, Section

__all__ = [
    "Origin",
    "Unit",
    "api_entry_text",
    "api_units",
    "docs_unit",
    "docs_units",
    "find_api_text",
    "is_top_level_readme",
    "placeholder_text",
    "readme_units",
    "split_blocks",
]

Origin = Literal["readme", "docs", "api"]
#: The separator between a title and the headings above it in a shown title.
TITLE_SEPARATOR = " › "


@dataclass(frozen=True, slots=True)
class Unit:
    """One section of a reply, from one origin, as whole blocks (``code`` marks fenced code)."""

    origin: Origin
    title: str
    above: tuple[str, ...]
    blocks: tuple[str, ...]
    code: tuple[bool, ...]
    page: str = ""
    heading_path: tuple[str, ...] = ()
    object_path: str = ""
    anchor: str = ""

    @property
    def shown_title(self) -> str:
        """The title on the page: a docs section names its headings and its page."""
        if self.origin == "docs":
            path = TITLE_SEPARATOR.join(self.heading_path) or self.title
            return f"{path} ({self.page})"
        if self.origin == "api":
            return f"API: {self.object_path}"
        return self.title

    @property
    def content(self) -> str:
        return "\n\n".join(self.blocks)

    def ref(self) -> SectionRef:
        if self.origin == "docs":
            return SectionRef(origin="docs", page=self.page, heading_path=list(self.heading_path))
        if self.origin == "api":
            return SectionRef(origin="api", object_path=self.object_path)
        return SectionRef(origin="readme")


def split_blocks(text: str) -> tuple[tuple[str, ...], tuple[bool, ...]]:
    """Markdown text as blocks a blank line apart, each fenced code block (blank lines and all) one block."""
    blocks: list[str] = []
    code: list[bool] = []
    current: list[str] = []
    fence = ""
    for line in text.split("\n"):
        stripped = line.lstrip()
        if fence:
            current.append(line)
            if stripped.startswith(fence) and not stripped[len(fence) :].strip():
                blocks.append("\n".join(current))
                code.append(True)
                current, fence = [], ""
            continue
        marker = _fence_of(stripped)
        if marker:
            if current:
                blocks.append("\n".join(current))
                code.append(False)
            current, fence = [line], marker
        elif not line.strip():
            if current:
                blocks.append("\n".join(current))
                code.append(False)
            current = []
        else:
            current.append(line)
    if current:
        blocks.append("\n".join(current))
        code.append(bool(fence))
    return tuple(blocks), tuple(code)


def _fence_of(line: str) -> str:
    for char in "`~":
        if line.startswith(char * 3):
            return char * (len(line) - len(line.lstrip(char)))
    return ""


def readme_units(document: PackageDocument) -> list[Unit]:
    """The document's sections, each under the titles of the sections it sits in."""
    units: list[Unit] = []
    open_titles: list[tuple[int, str]] = []
    for section in document.sections:
        while open_titles and open_titles[-1][0] >= section.level:
            open_titles.pop()
        blocks, code = split_blocks(section.content)
        above = tuple(title for _, title in open_titles)
        units.append(Unit("readme", section.title, above, blocks, code, anchor=section.anchor))
        if section.level > 0:
            open_titles.append((section.level, section.title))
    return units


def docs_units(docset: DocSet, api_texts: Mapping[str, str], *, package: str) -> list[Unit]:
    """Every section of every docs page in reading order (top-level README pages left out: the
    README is there already), API placeholders replaced by ``api_texts`` entries when known."""
    return [
        docs_unit(page, section, api_texts, package=package)
        for page in docset.pages
        if not is_top_level_readme(page)
        for section in page.sections
        if section.blocks
    ]


def docs_unit(page: Page, section: Section, api_texts: Mapping[str, str], *, package: str) -> Unit:
    """One section of a docs page as a unit (``page``'s own sections are not read: its path and title are)."""
    blocks = tuple(_block_text(block, api_texts, package) for block in section.blocks)
    code = tuple(block.kind == "code" for block in section.blocks)
    title = section.title or page.title
    above = tuple(dict.fromkeys((page.title, *section.heading_path[:-1])))
    return Unit("docs", title, above, blocks, code, page=page.path, heading_path=section.heading_path)


def api_units(entries: Sequence[tuple[str, str]]) -> list[Unit]:
    """The cached API entries (dotted path, signature and docstring), each object once."""
    seen: set[str] = set()
    units = []
    for path, text in entries:
        if path in seen:
            continue
        seen.add(path)
        units.append(Unit("api", path, (), (api_entry_text(path, text),), (False,), object_path=path))
    return units


def api_entry_text(path: str, text: str) -> str:
    """An API entry as Markdown: its signature (the entry's first line) as code, then its docs."""
    first, _, rest = text.partition("\n")
    shown = f"```python\n{first}\n```"
    return f"{shown}\n{rest.strip()}" if rest.strip() else shown


def placeholder_text(object_path: str, directive: str, package: str) -> str:
    return (
        f"API reference: `{object_path}` ({directive}); not cached yet: "
        f'get_api_reference(package_name="{package}", object_path="{object_path}") shows it.'
    )


def _block_text(block: Block, api_texts: Mapping[str, str], package: str) -> str:
    if block.kind != "api":
        return block.text
    text = find_api_text(api_texts, block.object_path)
    if text is None:
        return placeholder_text(block.object_path, block.directive, package)
    return f"API reference: `{block.object_path}`\n{api_entry_text(block.object_path, text)}"


def find_api_text(api_texts: Mapping[str, str], object_path: str) -> str | None:
    """The entry of ``object_path``: its own, else the one entry whose path ends with it."""
    exact = api_texts.get(object_path)
    if exact is not None:
        return exact
    ending = [text for path, text in api_texts.items() if path.endswith("." + object_path)]
    return ending[0] if len(ending) == 1 else None


def is_top_level_readme(page: Page) -> bool:
    """A README at the top of the sdist: the reply has the README already (from the metadata)."""
    return "/" not in page.path and page.path.rsplit(".", 1)[0].lower() == "readme"
