"""Where a Markdown README's sections start: markdown-it-py's block structure, as docs pages read it.

The parser (CommonMark with GFM tables, as :mod:`autodocs.docset.markdown` reads docs pages)
says which lines are headings: ATX and setext headings at the top level of the document (a
heading inside a list item or a block quote is not a section break), and ``<h1>``…``<h6>``
elements inside top-level HTML blocks, found with the standard library's HTML parser — GitHub
READMEs often open with ``<h1 align="center">``. Lines in fenced or indented code, HTML comments
and tables are never headings, because the parser says they are something else.

Only the block rules run on the whole text (``inline`` is disabled: it is most of markdown-it's
time and a section reader needs none of it); a heading's own text is parsed inline on its own to
make its title (images dropped, links and emphasis to their text, entities decoded).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from autodocs.docs.sections_common import Heading, Placement, clean_title

__all__ = ["MarkdownSignals", "headings_from_tokens", "markdown_headings", "parse_blocks"]

_BLOCKS = MarkdownIt("commonmark", {"maxNesting": 20}).enable("table").disable("inline")
_INLINE = MarkdownIt("commonmark", {"maxNesting": 20}).enable("strikethrough")
#: Longest heading source (characters) parsed into a title; longer ones are cut first.
_MAX_TITLE_SOURCE = 2000
#: How many lines an HTML ``<hN>`` heading may span.
_HTML_HEADING_MAX_LINES = 50
#: Characters that may start inline markup (CommonMark); a title without any is its own text.
_INLINE_MARKUP = re.compile(r"[\\\[\]<>`*_~&!]")
_HTML_HEADINGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))


@dataclass(slots=True)
class MarkdownSignals:
    """What says "this is Markdown" when no content type does (``sections.detect_format``)."""

    atx: int = 0  # "# Title" headings at column 0
    html_headings: int = 0  # <hN> headings at column 0
    fences: int = 0  # ``` fences at column 0


def markdown_headings(lines: list[str]) -> tuple[list[Heading], MarkdownSignals]:
    """The section breaks of a Markdown text split into ``lines``, in order; never raises."""
    return headings_from_tokens(lines, parse_blocks("\n".join(lines)))


def parse_blocks(text: str, env: dict[str, Any] | None = None) -> list[Token]:
    """``text``'s block tokens (inline content unparsed); ``env`` receives its reference definitions."""
    return _BLOCKS.parse(text, env)


def headings_from_tokens(
    lines: list[str], tokens: list[Token], placed: Placement | None = None
) -> tuple[list[Heading], MarkdownSignals]:
    """The section breaks that ``tokens`` (the block parse of ``lines``) hold, in order.

    With ``placed`` (the lines once badges are cut out, and where each line went), the
    headings are given in the lines of ``placed``: a heading keeps its place by its first and
    last kept line, and HTML headings are read from their block as edited (a badge cut from it
    may have moved them). The structure is the one the README has as published.
    """
    signals = MarkdownSignals()
    headings: list[Heading] = []
    for index, token in enumerate(tokens):
        if token.level != 0 or not token.map:
            continue
        start, end = token.map
        at_column_0 = start < len(lines) and not lines[start][:1].isspace()
        if token.type == "heading_open":
            title = _title(tokens[index + 1].content if index + 1 < len(tokens) else "")
            span = _placed_span(start, end, placed)
            if title and span is not None:
                headings.append(Heading(span[0], span[1], int(token.tag[1:]), title))
            signals.atx += token.markup.startswith("#") and at_column_0
        elif token.type == "fence":
            signals.fences += token.markup.startswith("`") and at_column_0
        elif token.type == "html_block":
            found_in = lines if placed is None else placed.lines
            span = _placed_span(start, min(end, len(lines)), placed)
            if span is None:
                continue
            content = token.content if placed is None else "\n".join(placed.lines[span[0] : span[1]])
            for heading in _html_headings(content, span[0], span[1]):
                headings.append(heading)
                signals.html_headings += not found_in[heading.start][:1].isspace()
    return headings, signals


def _placed_span(start: int, end: int, placed: Placement | None) -> tuple[int, int] | None:
    """Lines ``start:end`` of the source in the placed lines: first to last kept (None: all dropped)."""
    if placed is None:
        return start, end
    kept = [line for line in placed.where[start:end] if line >= 0]
    return (kept[0], kept[-1] + 1) if kept else None


def _title(source: str) -> str:
    """A heading's text without its inline markup."""
    if not _INLINE_MARKUP.search(source, 0, _MAX_TITLE_SOURCE):
        return clean_title(source[:_MAX_TITLE_SOURCE])
    parsed = _INLINE.parseInline(source[:_MAX_TITLE_SOURCE])
    return clean_title(_text(parsed[0].children or []) if parsed else "")


def _text(children: list[Token]) -> str:
    out: list[str] = []
    for child in children:
        if child.type in ("text", "code_inline"):
            out.append(child.content)
        elif child.type in ("softbreak", "hardbreak", "html_inline"):
            out.append(" ")
    return "".join(out)


def _html_headings(content: str, first_line: int, end_line: int) -> list[Heading]:
    """The ``<hN>`` elements of one HTML block (its source starts at ``first_line``)."""
    if "<h" not in content.lower():
        return []
    finder = _HtmlHeadingFinder()
    try:
        finder.feed(content)
        finder.close()
    except Exception:  # html.parser is lenient; never let a surprise cost the README
        return []
    headings: list[Heading] = []
    last_end = first_line
    for level, start, stop, text in finder.found:
        start_line, stop_line = first_line + start - 1, first_line + stop - 1
        title = clean_title(text[:_MAX_TITLE_SOURCE])
        if start_line < last_end or stop_line - start_line > _HTML_HEADING_MAX_LINES or not title:
            continue
        last_end = min(stop_line + 1, end_line)
        headings.append(Heading(start_line, last_end, level, title))
    return headings


class _HtmlHeadingFinder(HTMLParser):
    """Collects ``(level, first line, closing line, text)`` for each ``<hN>…</hN>`` (lines from 1)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, int, int, str]] = []
        self._open: tuple[str, int] | None = None
        self._text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _HTML_HEADINGS and self._open is None:
            self._open = (tag, self.getpos()[0])
            self._text = []
        elif self._open is not None:
            self._text.append(" ")

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and tag == self._open[0]:
            self.found.append((int(tag[1]), self._open[1], self.getpos()[0], "".join(self._text)))
            self._open = None
        elif self._open is not None:
            self._text.append(" ")

    def handle_data(self, data: str) -> None:
        if self._open is not None and len(self._text) < _MAX_TITLE_SOURCE:
            self._text.append(data)
