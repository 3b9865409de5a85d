"""Split a package's long description into titled sections, each keeping its source text.

The index hands us a project's README as published: Markdown, reStructuredText or plain
text, named (or not) by ``description_content_type``. An assistant asks for it one section
at a time under a token budget, so we need, per heading: its title, its level, a stable
anchor, and the *original source* of the body below it (code blocks, tables and links
intact, in the markup the author wrote — the reply's ``format`` names that markup).

Which lines are headings is decided by the same parsers that read a release's docs pages:
markdown-it-py for Markdown (:mod:`autodocs.docs.sections_markdown`) and docutils for
reStructuredText (:mod:`autodocs.docs.sections_rst`). The body of a section is then the source
lines between its heading and the next one, verbatim, so nothing the parser does not render
(or renders differently from the index) is lost. Plain text is one section. Without a content
type, the markup is guessed from what each parser found (:func:`detect_format`).

The functions never raise on any ``str`` input, and their time is bounded: the parsers see at
most ``MAX_PARSED_CHARS`` characters (past that, the text is one section), lines docutils would
refuse are cut for it, and both parsers bound nesting.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

from autodocs.docs.badges import apply_edits, may_have_badges
from autodocs.docs.badges.markdown import edits_from_tokens
from autodocs.docs.sections_common import Heading, Placement
from autodocs.docs.sections_markdown import MarkdownSignals, headings_from_tokens, markdown_headings, parse_blocks
from autodocs.docs.sections_rst import RstSignals, rst_headings

__all__ = [
    "OVERVIEW_TITLE",
    "DocFormat",
    "Section",
    "detect_format",
    "split_document",
    "split_markdown",
    "split_sections",
]

DocFormat = Literal["markdown", "rst", "text"]

#: Title of the text before the first heading (and of a whole plain-text description).
OVERVIEW_TITLE = "Overview"
#: Past this many characters a description is not parsed: it is one section (the index's own
#: descriptions stop far below; build.py cuts them at the ``max_description_chars`` setting).
MAX_PARSED_CHARS = 4_000_000
#: Without a content type, the markup is guessed from this many first characters.
DETECTION_CHARS = 100_000
#: Longest anchor slug before a duplicate suffix.
_MAX_SLUG = 100


@dataclass(frozen=True, slots=True)
class Section:
    """One titled part of a description.

    ``content`` is the source text under the heading (the heading line itself excluded),
    with leading and trailing blank lines removed and the markup otherwise untouched.
    """

    title: str
    level: int
    content: str
    anchor: str


def detect_format(text: str, content_type: str | None) -> DocFormat:
    """The markup of ``text``: the one ``content_type`` names, else a guess from the text.

    Markdown when the Markdown parser finds ATX headings, HTML headings or fenced code at
    column 0 (and more of those than reStructuredText-only constructs); reStructuredText when
    docutils finds overlined titles, underlines with characters Markdown does not use, or the
    text has explicit markup (``.. x::``); for the ambiguous ``Title`` + ``=====`` / ``-----``
    underlines, weaker hints (inline link syntax) decide, and reStructuredText wins a tie as on
    the index. Text otherwise.
    """
    declared = _format_from_content_type(content_type)
    if declared is not None:
        return declared
    lines = _lines(text)
    if not lines or len(text) > MAX_PARSED_CHARS:
        return "text"
    return _detect(lines)[0]


def split_sections(text: str, content_type: str | None = None) -> list[Section]:
    """Split a long description into sections, in document order.

    The text before the first heading becomes a section titled ``Overview`` (level 0) when
    it is not blank. Headings whose title is empty once inline markup is stripped (a
    heading that is only a badge) are not section breaks: their lines stay in the body of
    the section they are in. Sections with an empty body are kept. Plain text is one
    ``Overview`` section; blank input gives ``[]``.
    """
    return split_document(text, content_type)[1]


def split_document(text: str, content_type: str | None = None) -> tuple[DocFormat, list[Section]]:
    """The markup of ``text`` (as :func:`detect_format` says) and its sections (as :func:`split_sections`)."""
    lines = _lines(text)
    fmt = _format_from_content_type(content_type)
    if not lines:
        return fmt or "text", []
    headings: Sequence[Heading] = []
    if len(text) > MAX_PARSED_CHARS:
        fmt = fmt or "text"
    elif fmt is None:
        fmt, headings = _detect(lines)
        if len(text) > DETECTION_CHARS and fmt != "text":
            headings = markdown_headings(lines)[0] if fmt == "markdown" else rst_headings(lines)[0]
    elif fmt == "markdown":
        headings = markdown_headings(lines)[0]
    elif fmt == "rst":
        headings = rst_headings(lines)[0]
    return fmt, _build_sections(lines, headings)


def split_markdown(text: str) -> list[Section]:
    """A Markdown description without its badges (:func:`autodocs.docs.badges.strip_badges`), in
    sections (as :func:`split_sections`), from one parse: the badge edits and the headings both
    come from the same block tokens, and the headings are then placed in the edited lines."""
    lines = _lines(text)
    if not lines or len(text) > MAX_PARSED_CHARS:
        return _build_sections(lines, [])
    env: dict[str, Any] = {}
    tokens = parse_blocks("\n".join(lines), env)
    edits = edits_from_tokens(lines, tokens, env) if may_have_badges(text) else {}
    if not edits:
        return _build_sections(lines, headings_from_tokens(lines, tokens)[0])
    edited, where = apply_edits(lines, edits)
    return _build_sections(edited, headings_from_tokens(lines, tokens, Placement(edited, where))[0])


_CONTENT_TYPES: dict[str, DocFormat] = {
    "text/markdown": "markdown",
    "text/x-markdown": "markdown",
    "text/x-rst": "rst",
    "text/rst": "rst",
    "text/x-restructuredtext": "rst",
    "text/prs.fallenstein.rst": "rst",
    "text/plain": "text",
}


def _format_from_content_type(content_type: str | None) -> DocFormat | None:
    if not content_type:
        return None
    mime = content_type.split(";", 1)[0].strip().lower()
    return _CONTENT_TYPES.get(mime)


def _lines(text: str) -> list[str]:
    """The text's lines (BOM removed, line endings normalized); ``[]`` when blank."""
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        return []
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text.split("\n")


_EXPLICIT_MARKUP = re.compile(r"^\.\.[ \t]+(?:[\w.:+-]+[ \t]?::|_|\|)", re.MULTILINE)
_LITERAL_INTRO = re.compile(r"^\S.*::[ \t]*$", re.MULTILINE)
_HTML_LINE = re.compile(r"^<[A-Za-z]", re.MULTILINE)
#: A line without any of these gives no MarkdownSignals: an ATX heading or a backtick fence at
#: column 0, or an HTML ``<hN>`` tag.
_MARKDOWN_SIGNAL = re.compile(r"^(?:#{1,6}(?:[ \t]|$)|```)|<h[1-6]", re.MULTILINE | re.IGNORECASE)


def _detect(lines: list[str]) -> tuple[DocFormat, list[Heading]]:
    """The markup both parsers' findings point to, and the headings of that markup.

    Both parsers read only the first ``DETECTION_CHARS`` characters (the headings are those of
    that part; :func:`split_document` reads the rest with the chosen parser).
    """
    kept, size = 0, 0
    while kept < len(lines) and size <= DETECTION_CHARS:
        size += len(lines[kept]) + 1
        kept += 1
    lines = lines[:kept]
    text = "\n".join(lines)
    # The Markdown parse is skipped when no line can give it a signal; its headings are then
    # only needed if the weak hints choose Markdown.
    md_parsed = markdown_headings(lines) if _MARKDOWN_SIGNAL.search(text) else None
    md = md_parsed[1] if md_parsed else MarkdownSignals()
    rst_found, rst = rst_headings(lines)
    md_strong, rst_strong = _strong(md, rst, text)
    if md_strong != rst_strong:
        if md_strong < rst_strong:
            return "rst", rst_found
        return "markdown", (md_parsed or markdown_headings(lines))[0]
    md_weak = text.count("](") + len(_HTML_LINE.findall(text))  # inline links and images, HTML
    rst_weak = text.count("`_") + len(_LITERAL_INTRO.findall(text))  # `reference`_, "::" paragraphs
    if md_weak > rst_weak:
        return "markdown", (md_parsed or markdown_headings(lines))[0]
    if rst.ambiguous_underlines or rst_weak > md_weak:
        return "rst", rst_found
    return "text", []


def _strong(md: MarkdownSignals, rst: RstSignals, text: str) -> tuple[int, int]:
    explicit_markup = len(_EXPLICIT_MARKUP.findall(text))
    return md.atx + md.html_headings + md.fences, rst.overlined + rst.other_underlines + explicit_markup


def _is_blank(line: str) -> bool:
    return not line or line.isspace()


def _block(lines: list[str], start: int, end: int) -> str:
    """Lines ``start:end`` joined, without leading/trailing blank lines and trailing space."""
    while start < end and _is_blank(lines[start]):
        start += 1
    while end > start and _is_blank(lines[end - 1]):
        end -= 1
    return "\n".join(lines[start:end]).rstrip()


def _build_sections(lines: list[str], headings: Sequence[Heading]) -> list[Section]:
    parts: list[tuple[str, int, str]] = []
    first = headings[0].start if headings else len(lines)
    overview = _block(lines, 0, first)
    if overview:
        parts.append((OVERVIEW_TITLE, 0, overview))
    for index, heading in enumerate(headings):
        end = headings[index + 1].start if index + 1 < len(headings) else len(lines)
        parts.append((heading.title, heading.level, _block(lines, heading.end, max(end, heading.end))))
    anchors = _Anchors()
    return [Section(title, level, content, anchors.make(title)) for title, level, content in parts]


class _Anchors:
    """Slugs unique within one document: ``title``, ``title-2``, ``title-3`` ..."""

    def __init__(self) -> None:
        self._used: set[str] = set()
        self._next: dict[str, int] = {}

    def make(self, title: str) -> str:
        base = _slug(title)
        anchor = base
        if anchor in self._used:
            number = self._next.get(base, 2)
            while f"{base}-{number}" in self._used:
                number += 1
            self._next[base] = number + 1
            anchor = f"{base}-{number}"
        self._used.add(anchor)
        return anchor


_NOT_ALNUM = re.compile(r"[\W_]+")


def _slug(title: str) -> str:
    slug = _NOT_ALNUM.sub("-", title.lower()).strip("-")
    if len(slug) > _MAX_SLUG:
        slug = slug[:_MAX_SLUG].rstrip("-")
    return slug or "section"
