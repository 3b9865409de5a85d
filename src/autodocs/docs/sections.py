"""Split a package's long description into titled sections, each keeping its source text.

The index hands us a project's README as published: Markdown, reStructuredText or plain
text, named (or not) by ``description_content_type``. An assistant asks for it one section
at a time under a token budget, so we need, per heading: its title, its level, a stable
anchor, and the *original source* of the body below it (code blocks, tables and links
intact, in the markup the author wrote).

Why this is hand-written rather than built on a parser library:

* No light dependency reads both formats into raw-source sections. docutils and
  markdown-it-py (or mistune, commonmark) are renderers: they build a document tree for
  HTML output. markdown-it-py does keep line ranges on block tokens, but it reads Markdown
  only; docutils keeps line numbers on some nodes only, reports (and in PyPI's strict mode
  refuses) READMEs that are not valid reStructuredText, and would be a large dependency
  whose directives (``include``, ``raw``) we would have to disable on untrusted input.
  Mapping tree nodes back to the original source, per format, is more code than this.
* We only need the *block outline*, which lines are headings, and then the source
  between them verbatim. That is a small, well specified subset of both grammars: one
  linear pass over the lines with a handful of states (fenced and indented code, HTML
  blocks, lists, block quotes and tables for Markdown; literal blocks, directive bodies,
  simple tables and title adornments for reStructuredText).

Everything is linear in the input: one pass over the lines, string methods rather than
regular expressions on whole lines (a line can be megabytes long), and title clean-up on
at most ``_MAX_TITLE_SOURCE`` characters per heading with expressions that do not
backtrack catastrophically. The functions never raise on any ``str`` input.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["OVERVIEW_TITLE", "DocFormat", "Section", "detect_format", "split_document", "split_sections"]

DocFormat = Literal["markdown", "rst", "text"]

#: Title of the text before the first heading (and of a whole plain-text description).
OVERVIEW_TITLE = "Overview"


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


# --------------------------------------------------------------------------- public API


def detect_format(text: str, content_type: str | None) -> DocFormat:
    """The markup of ``text``: the one ``content_type`` names, else a guess from the text.

    Markdown when it has ATX headings, HTML headings or fenced code (and more of those than
    reStructuredText-only constructs); reStructuredText when it has overlined titles,
    underlines with characters Markdown does not use, or explicit markup (``.. x::``);
    for the ambiguous ``Title`` + ``=====`` / ``-----`` underlines, weaker hints (inline
    link syntax) decide, and reStructuredText wins a tie as on the index. Text otherwise.
    """
    declared = _format_from_content_type(content_type)
    if declared is not None:
        return declared
    lines = _lines(text)
    if not lines:
        return "text"
    return _detect_lines(lines)[0]


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
    if not lines:
        return _format_from_content_type(content_type) or "text", []
    fmt = _format_from_content_type(content_type)
    headings: Sequence[_Heading]
    if fmt is None:
        fmt, headings = _detect_lines(lines)
    elif fmt == "markdown":
        headings = _markdown_headings(lines)[0]
    elif fmt == "rst":
        headings = _rst_headings(lines)[0]
    else:
        headings = []
    return fmt, _build_sections(lines, headings)


# --------------------------------------------------------------------------- common parts

#: Longest heading source (characters) we clean into a title; longer ones are cut first.
_MAX_TITLE_SOURCE = 2000
#: Longest anchor slug before a duplicate suffix.
_MAX_SLUG = 100
#: How many lines an HTML ``<hN>`` heading may span before we stop looking for ``</hN>``.
_HTML_HEADING_MAX_LINES = 50


@dataclass(frozen=True, slots=True)
class _Heading:
    start: int  # first source line of the heading (overline, or first paragraph line)
    end: int  # first line after the heading (the body starts here)
    level: int
    title: str


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


def _is_blank(line: str) -> bool:
    return not line or line.isspace()


def _block(lines: list[str], start: int, end: int) -> str:
    """Lines ``start:end`` joined, without leading/trailing blank lines and trailing space."""
    while start < end and _is_blank(lines[start]):
        start += 1
    while end > start and _is_blank(lines[end - 1]):
        end -= 1
    return "\n".join(lines[start:end]).rstrip()


def _build_sections(lines: list[str], headings: Sequence[_Heading]) -> list[Section]:
    parts: list[tuple[str, int, str]] = []
    first = headings[0].start if headings else len(lines)
    overview = _block(lines, 0, first)
    if overview:
        parts.append((OVERVIEW_TITLE, 0, overview))
    for index, heading in enumerate(headings):
        end = headings[index + 1].start if index + 1 < len(headings) else len(lines)
        parts.append((heading.title, heading.level, _block(lines, heading.end, end)))
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


def _indent(line: str) -> tuple[int, str]:
    """Column width of the leading spaces/tabs (tab stops of 4) and the rest of the line."""
    body = line.lstrip(" \t")
    lead = len(line) - len(body)
    if "\t" not in line[:lead]:
        return lead, body
    column = 0
    for char in line[:lead]:
        column = column + 4 - column % 4 if char == "\t" else column + 1
    return column, body


# --------------------------------------------------------------------------- detection


def _detect_lines(lines: list[str]) -> tuple[DocFormat, list[_Heading]]:
    md_headings, md = _markdown_headings(lines)
    rst_headings, rst = _rst_headings(lines)
    text = "\n".join(lines)
    md.weak += text.count("](")  # inline links and images
    rst.weak += text.count("`_")  # `reference`_ and `link <url>`_
    md_strong = md.atx + md.html_headings + md.fences
    rst_strong = rst.overlined + rst.other_underlines + rst.explicit_markup
    if md_strong != rst_strong:
        if md_strong > rst_strong:
            return "markdown", md_headings
        return "rst", rst_headings
    if md.weak > rst.weak:
        return "markdown", md_headings
    if rst.ambiguous_underlines or rst.weak > md.weak:
        return "rst", rst_headings
    return "text", []


# --------------------------------------------------------------------------- titles

_CONTROL = {code: " " for code in (*range(32), *range(127, 160))}
#: Backslash-escaped ASCII punctuation is parked in a private-use plane while cleaning.
_ESCAPE_BASE = 0xF0000
_UNPARK = {_ESCAPE_BASE + code: chr(code) for code in range(128)}
#: Characters that may start inline markup; titles without any skip the clean-up.
_MD_INLINE_MARKUP = re.compile(r"[\\\[<`*_~&!]")
_RST_INLINE_MARKUP = re.compile(r"[\\`|*_:]")
_MD_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
_RST_ESCAPE = re.compile(r"\\(.)", re.S)

_MD_IMAGE = re.compile(r"!\[[^\[\]]*\](?:\([^()]*\)|\[[^\[\]]*\])?")
_MD_LINK = re.compile(r"\[([^\[\]]*)\](?:\([^()]*\)|\[[^\[\]]*\])")
_AUTOLINK = re.compile(r"<((?:https?|ftp|mailto):[^<>\s]*)>", re.I)
_HTML_TAG = re.compile(r"</?[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>")
_MD_STRONG_STAR = re.compile(r"\*\*([^*]+)\*\*")
_MD_STRONG_UNDER = re.compile(r"(?<!\w)__([^_]+)__(?!\w)")
_MD_EM_STAR = re.compile(r"\*(?=[^\s*])([^*]+)\*")
_MD_EM_UNDER = re.compile(r"(?<!\w)_(?=[^\s_])([^_]+)_(?!\w)")
_MD_STRIKE = re.compile(r"~~([^~]+)~~")
_BACKTICKS = re.compile(r"(`+)")

_RST_ROLE = re.compile(r"(?::[A-Za-z0-9_.+-]+)+:(?=`)")
_RST_EMBEDDED_URI = re.compile(r"`([^`<]*)<[^`<>]*>`_{0,2}")
_RST_INTERPRETED = re.compile(r"`([^`]+)`_{0,2}")
_RST_SUBSTITUTION = re.compile(r"\|[^|\s][^|]*\|_{0,2}")
_RST_REFERENCE = re.compile(r"(?<=\w)__?(?!\w)")


def _park(match: re.Match[str]) -> str:
    char = match.group(1)
    if ord(char) < 128 and not char.isalnum():
        return chr(_ESCAPE_BASE + ord(char))
    return "" if char.isspace() else char


def _finish_title(text: str, parked: bool) -> str:
    if parked:
        text = text.translate(_UNPARK)
    if not text.isprintable():
        text = text.translate(_CONTROL)
    return " ".join(text.split())


def _remove_comments(text: str) -> str:
    out: list[str] = []
    position = 0
    while True:
        start = text.find("<!--", position)
        if start < 0:
            break
        end = text.find("-->", start + 4)
        if end < 0:
            break
        out.append(text[position:start])
        position = end + 3
    out.append(text[position:])
    return "".join(out)


def _code_spans(text: str) -> list[tuple[bool, str]]:
    """``text`` cut into (is_code, piece): a backtick run opens a span closed by the next run
    of the same length (CommonMark); unmatched runs are literal text."""
    tokens = _BACKTICKS.split(text)
    # tokens alternate: text, run, text, run, ... ; find for each run the next equal run.
    next_same: dict[int, int] = {}
    last_seen: dict[int, int] = {}
    for index in range(len(tokens) - 2, 0, -2):
        length = len(tokens[index])
        if length in last_seen:
            next_same[index] = last_seen[length]
        last_seen[length] = index
    pieces: list[tuple[bool, str]] = []
    plain = tokens[0]
    index = 1
    while index < len(tokens):
        closer = next_same.get(index)
        if closer is None:
            plain += tokens[index] + tokens[index + 1]
            index += 2
            continue
        pieces.append((False, plain))
        pieces.append((True, "".join(tokens[index + 1 : closer])))
        plain = tokens[closer + 1]
        index = closer + 2
    pieces.append((False, plain))
    return pieces


def _clean_md_title(raw: str) -> str:
    """A Markdown/HTML heading's text without inline markup (images dropped, links -> text)."""
    text = raw[:_MAX_TITLE_SOURCE]
    if not _MD_INLINE_MARKUP.search(text):
        return _finish_title(text, False)
    parked = "\\" in text
    if parked:
        text = _MD_ESCAPE.sub(_park, text)
    text = _remove_comments(text)
    text = _MD_IMAGE.sub("", text)
    text = _MD_LINK.sub(r"\1", text)
    out: list[str] = []
    for is_code, piece in _code_spans(text):
        if is_code:
            out.append(piece)
            continue
        piece = _AUTOLINK.sub(r"\1", piece)
        piece = _HTML_TAG.sub(" ", piece)
        piece = _MD_STRONG_STAR.sub(r"\1", piece)
        piece = _MD_STRONG_UNDER.sub(r"\1", piece)
        piece = _MD_EM_STAR.sub(r"\1", piece)
        piece = _MD_EM_UNDER.sub(r"\1", piece)
        piece = _MD_STRIKE.sub(r"\1", piece)
        out.append(html.unescape(piece))
    return _finish_title("".join(out), parked)


def _clean_rst_title(raw: str) -> str:
    """An RST title's text without inline markup (``literal``, `ref <url>`_, |subst|, *em*)."""
    text = raw[:_MAX_TITLE_SOURCE]
    if not _RST_INLINE_MARKUP.search(text):
        return _finish_title(text, False)
    parked = "\\" in text
    if parked:
        text = _RST_ESCAPE.sub(_park, text)
    pieces = text.split("``")
    if len(pieces) % 2 == 0:  # an unmatched ``: keep it as text
        pieces[-2:] = ["``".join(pieces[-2:])]
    out: list[str] = []
    for index, piece in enumerate(pieces):
        if index % 2:
            out.append(piece)
            continue
        piece = _RST_ROLE.sub("", piece)
        piece = _RST_EMBEDDED_URI.sub(r"\1", piece)
        piece = _RST_INTERPRETED.sub(r"\1", piece)
        piece = _RST_SUBSTITUTION.sub("", piece)
        piece = _MD_STRONG_STAR.sub(r"\1", piece)
        piece = _MD_EM_STAR.sub(r"\1", piece)
        piece = _RST_REFERENCE.sub("", piece)
        out.append(piece)
    return _finish_title("".join(out), parked)


# --------------------------------------------------------------------------- Markdown


@dataclass(slots=True)
class _MarkdownStats:
    atx: int = 0  # non-empty ATX headings at column 0
    html_headings: int = 0  # non-empty <hN> headings at column 0
    fences: int = 0  # ``` fences at column 0 that open after a blank line or carry an info string
    weak: int = 0  # inline links/images and HTML lines at column 0


#: HTML block start conditions 1-5 of CommonMark: the block ends at a line holding the marker.
_HTML_RAW_BLOCK = re.compile(r"<(script|pre|style|textarea)(?=[\s>]|$)", re.I)
_HTML_BLOCK_TAG = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)(?=[\s/>]|$)")
_HTML_LONE_TAG = re.compile(r"(?:<[A-Za-z][A-Za-z0-9-]*(?:\s[^<>]*)?/?>|</[A-Za-z][A-Za-z0-9-]*\s*>)\s*$")
_HTML_HEADING_OPEN = re.compile(r"<h([1-6])(?:\s[^<>]*)?>", re.I)
_HTML_HEADING_CLOSE = {level: re.compile(f"</h{level}\\s*>", re.I) for level in range(1, 7)}
#: CommonMark's HTML block kind 6: these tags start a block even inside a paragraph.
_HTML_BLOCK_NAMES = frozenset(
    (  # noqa: SIM905 - a word list reads better than 62 quoted strings
        "address article aside base basefont blockquote body caption center col colgroup dd details "
        "dialog dir div dl dt fieldset figcaption figure footer form frame frameset h1 h2 h3 h4 h5 h6 "
        "head header hr html iframe legend li link main menu menuitem nav noframes ol optgroup option "
        "p param search section summary table tbody td tfoot th thead title tr track ul"
    ).split()
)
_TABLE_DELIMITER_CHARS = str.maketrans("", "", "|:- \t")


def _atx(body: str) -> tuple[int, str] | None:
    """(level, raw text) of an ATX heading line (indent already removed), else None."""
    if not body.startswith("#"):
        return None
    rest = body.lstrip("#")
    level = len(body) - len(rest)
    if level > 6 or (rest and rest[0] not in " \t"):
        return None
    text = rest.strip(" \t")
    closed = text.rstrip("#")
    if not closed:
        return level, ""
    if closed != text and closed[-1] in " \t":
        text = closed.rstrip(" \t")
    return level, text


def _fence_open(body: str) -> tuple[str, int] | None:
    if not body.startswith(("```", "~~~")):
        return None
    char = body[0]
    rest = body.lstrip(char)
    if char == "`" and "`" in rest:
        return None
    return char, len(body) - len(rest)


def _fence_closes(body: str, char: str, length: int) -> bool:
    if not body.startswith(char * length):
        return False
    return not body.rstrip(" \t").lstrip(char)


def _setext_level(body: str) -> int:
    marker = body.rstrip(" \t")
    if marker and marker[0] == "=" and not marker.lstrip("="):
        return 1
    if marker and marker[0] == "-" and not marker.lstrip("-"):
        return 2
    return 0


def _is_thematic_break(body: str) -> bool:
    if not body or body[0] not in "*-_":
        return False
    compact = body.replace(" ", "").replace("\t", "")
    return len(compact) >= 3 and not compact.lstrip(body[0])


def _list_marker(body: str, interrupts_paragraph: bool) -> int:
    """Width of a list item marker and its following spaces at the start of ``body``, 0 if none."""
    if not body:
        return 0
    if body[0] in "-*+":
        width = 1
    elif body[0] in "0123456789":
        width = 1
        while width < len(body) and width < 10 and body[width] in "0123456789":
            width += 1
        if width > 9 or width >= len(body) or body[width] not in ".)":
            return 0
        if interrupts_paragraph and body[:width].lstrip("0") != "1":
            return 0
        width += 1
    else:
        return 0
    rest = body[width:]
    if not rest.strip():
        return 0 if interrupts_paragraph else width + 1
    if rest[0] not in " \t":
        return 0
    spaces = len(rest) - len(rest.lstrip(" \t"))
    return width + (1 if spaces > 4 else spaces)


#: What :func:`_html_block_end` answers for blocks ending at a blank line / on their first line.
_UNTIL_BLANK = "\n"
_THIS_LINE = ""


def _html_block_end(body: str, paragraph_open: bool) -> str | None:
    """How an HTML block starting with ``body`` ends: :data:`_UNTIL_BLANK`, :data:`_THIS_LINE`,
    or the marker ending it on a later line; None when the line does not start an HTML block."""
    lowered = body[:12].lower()
    if lowered.startswith("<!--"):
        return _THIS_LINE if "-->" in body[4:] else "-->"
    raw = _HTML_RAW_BLOCK.match(body)
    if raw:
        closer = f"</{raw.group(1).lower()}>"
        return _THIS_LINE if closer in body.lower() else closer
    if lowered.startswith("<?"):
        return _THIS_LINE if "?>" in body[2:] else "?>"
    if lowered.startswith("<![cdata["):
        return _THIS_LINE if "]]>" in body[9:] else "]]>"
    if lowered.startswith("<!") and body[2:3].isalpha():
        return _THIS_LINE if ">" in body[2:] else ">"
    tag = _HTML_BLOCK_TAG.match(body)
    if tag and tag.group(1).lower() in _HTML_BLOCK_NAMES:
        return _UNTIL_BLANK
    if not paragraph_open and _HTML_LONE_TAG.match(body):
        return _UNTIL_BLANK
    return None


class _HtmlHeadings:
    """Finds ``<hN>...</hN>`` headings; remembers where closing tags are so that many
    unclosed openers do not make the look-ahead quadratic."""

    def __init__(self, lines: list[str]) -> None:
        self._lines = lines
        self._closer_at: dict[int, int] = {}  # level -> first line holding </hN> after the last query
        self._scanned_to: dict[int, int] = {}  # level -> lines up to here were looked at

    def match(self, index: int, body: str) -> tuple[int, int, str] | None:
        """(end line, level, inner HTML) of a heading opening at line ``index`` (``body`` is
        the line without its indent), or None."""
        opening = _HTML_HEADING_OPEN.match(body)
        if not opening:
            return None
        level = int(opening.group(1))
        closer = _HTML_HEADING_CLOSE[level]
        rest = body[opening.end() :]
        found = closer.search(rest)
        if found:
            end, inner, tail = index, [rest[: found.start()]], rest[found.end() :]
        else:
            end = self._closing_line(index, level, closer)
            last = self._lines[end] if end >= 0 else ""
            found = closer.search(last)
            if not found:
                return None
            inner = [rest, *self._lines[index + 1 : end], last[: found.start()]]
            tail = last[found.end() :]
        if tail.strip() and _clean_md_title(tail):
            return None  # text follows the heading on its line: keep the line as body text
        return end + 1, level, " ".join(inner)

    def _closing_line(self, index: int, level: int, closer: re.Pattern[str]) -> int:
        known = self._closer_at.get(level, -1)
        if known > index:
            return known if known - index <= _HTML_HEADING_MAX_LINES else -1
        start = max(index + 1, self._scanned_to.get(level, -1) + 1)
        stop = min(index + _HTML_HEADING_MAX_LINES, len(self._lines) - 1)
        for line in range(start, stop + 1):
            if closer.search(self._lines[line]):
                self._closer_at[level] = self._scanned_to[level] = line
                return line
        self._closer_at[level] = -1
        self._scanned_to[level] = max(stop, self._scanned_to.get(level, -1))
        return -1


#: First characters of the lines that may open a Markdown block other than a paragraph.
_MD_BLOCK_START = frozenset("`~#<=-*_>+|:0123456789")


def _markdown_headings(lines: list[str]) -> tuple[list[_Heading], _MarkdownStats]:
    """CommonMark/GFM block structure, reduced to what decides which lines are headings."""
    headings: list[_Heading] = []
    stats = _MarkdownStats()
    html_headings = _HtmlHeadings(lines)
    count = len(lines)
    fence_char = ""  # inside a fenced code block when set
    fence_length = 0
    fence_indent = 0
    html_end = ""  # inside an HTML block (kinds 1-5) until a line contains this marker
    in_html = False  # inside an HTML block (kinds 6-7) until a blank line
    paragraph = -1  # first line of the open paragraph, -1 when none
    plain = False  # the open paragraph may become a setext heading
    in_quote = False
    in_table = False
    in_list = False
    list_indent = 0  # content column of the outermost open list item
    previous_blank = True
    index = 0
    while index < count:
        line = lines[index]
        was_blank = previous_blank
        previous_blank = False
        index += 1
        if fence_char:
            if fence_char in line:
                column, body = _indent(line)
                if (column <= 3 or column - fence_indent <= 3) and _fence_closes(body, fence_char, fence_length):
                    fence_char = ""
            continue
        if html_end:
            if html_end in line.lower():
                html_end = ""
            continue
        if not line or line.isspace():
            previous_blank = True
            paragraph = -1
            in_html = in_quote = in_table = False
            continue
        column, body = _indent(line)
        if in_html:
            heading = html_headings.match(index - 1, body)
            if heading:
                index = _add_html_heading(headings, index - 1, heading, column, stats)
            continue
        lazy = False
        if in_list and column < list_indent:
            if not was_blank:
                lazy = True
            elif not _list_marker(body, False):
                in_list = False
        if in_list and column >= list_indent:
            # Content of a list item: it may hold code fences, never a section heading.
            opened = _fence_open(body)
            if opened:
                fence_char, fence_length = opened
                fence_indent = column
            elif paragraph < 0:
                paragraph, plain = index - 1, False
            continue
        if column >= 4:
            # Paragraph continuation, or indented code: neither can be a heading, and a
            # following "---" under code is a thematic break (paragraph stays closed).
            continue
        if body[0] not in _MD_BLOCK_START:
            # Paragraph text (the common case, decided early).
            if paragraph < 0 and not in_table:
                paragraph, plain = index - 1, not (in_quote or lazy)
            continue
        opened = _fence_open(body)
        if opened:
            fence_char, fence_length = opened
            fence_indent = column
            if column == 0 and fence_char == "`" and (was_blank or body.lstrip("`").strip()):
                stats.fences += 1
            paragraph, in_quote, in_table = -1, False, False
            in_list = in_list and not lazy
            continue
        atx = _atx(body)
        if atx:
            title = _clean_md_title(atx[1])
            if title:
                headings.append(_Heading(index - 1, index, atx[0], title))
                stats.atx += column == 0
            paragraph, in_quote, in_table = -1, False, False
            in_list = in_list and not lazy
            continue
        if body[0] == "<":
            if column == 0 and body[1:2].isalpha():
                stats.weak += 1
            heading = html_headings.match(index - 1, body)
            if heading:
                index = _add_html_heading(headings, index - 1, heading, column, stats)
                paragraph, in_quote, in_table, in_html = -1, False, False, True
                in_list = in_list and not lazy
                continue
            end = _html_block_end(body, paragraph >= 0)
            if end is not None:
                in_html = end == _UNTIL_BLANK
                html_end = "" if in_html else end
                paragraph, in_quote, in_table = -1, False, False
                in_list = in_list and not lazy
                continue
        level = _setext_level(body)
        if level and paragraph >= 0 and plain:
            raw = " ".join(text.strip() for text in lines[paragraph : index - 1])
            title = _clean_md_title(raw)
            if title:
                headings.append(_Heading(paragraph, index, level, title))
            paragraph = -1
            continue
        if _is_thematic_break(body):
            paragraph, in_quote, in_table = -1, False, False
            in_list = in_list and not lazy
            continue
        if body[0] == ">":
            paragraph, plain, in_quote, in_table = index - 1, False, True, False
            in_list = in_list and not lazy
            continue
        marker = _list_marker(body, paragraph >= 0 and plain)
        if marker:
            in_list, list_indent = True, column + marker
            paragraph, plain, in_quote, in_table = index - 1, False, False, False
            opened = _fence_open(body[marker:])
            if opened:
                fence_char, fence_length = opened
                fence_indent = list_indent
            continue
        if in_table:
            continue
        if (
            paragraph >= 0
            and "|" in body
            and "-" in body
            and "|" in lines[index - 2]
            and not body.translate(_TABLE_DELIMITER_CHARS)
        ):
            in_table, paragraph = True, -1  # a GFM table: its rows are never headings
            continue
        if paragraph < 0:
            paragraph, plain = index - 1, not (in_quote or lazy or body[0] == "|")
    return headings, stats


def _add_html_heading(
    headings: list[_Heading], index: int, heading: tuple[int, int, str], column: int, stats: _MarkdownStats
) -> int:
    end, level, inner = heading
    title = _clean_md_title(inner)
    if not title:
        return index + 1  # not a section break; the following lines are parsed as usual
    headings.append(_Heading(index, end, level, title))
    stats.html_headings += column == 0
    return end


# --------------------------------------------------------------------------- reStructuredText


@dataclass(slots=True)
class _RstStats:
    overlined: int = 0  # titles with overline and underline
    other_underlines: int = 0  # underline-only titles adorned with a character other than = and -
    ambiguous_underlines: int = 0  # underline-only titles with = or - (also Markdown setext)
    explicit_markup: int = 0  # ".. name::", ".. _target:", ".. |subst|" lines
    weak: int = 0  # `reference`_ ends and paragraphs ending with ::


#: docutils' adornment characters: every printable 7-bit ASCII non-alphanumeric.
_ADORNMENT = frozenset("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~")
_SIMPLE_TABLE_BORDER = re.compile(r"=+( +=+)+ *$")
_BULLETS = frozenset("-+*\u2022\u2023\u2043")


def _adornment(line: str) -> str:
    """The character of an adornment line (one punctuation character repeated, at column 0)."""
    marker = line.rstrip()
    if not marker or marker[0] not in _ADORNMENT or marker.lstrip(marker[0]):
        return ""
    return marker[0]


def _starts_with_marker(line: str, marker: str) -> bool:
    """``line`` starts with ``marker`` followed by whitespace or the end of the line."""
    return line.startswith(marker) and (len(line) == len(marker) or line[len(marker)] in " \t")


def _is_explicit_markup(line: str) -> bool:
    return _starts_with_marker(line, "..")


def _is_field(line: str) -> bool:
    """A field list item, ``:name: body`` (docutils' rule, minus backslash escapes)."""
    if len(line) < 3 or line[0] != ":" or line[1] in ": ":
        return False
    end = line.find(": ", 2)
    if end < 0:
        stripped = line.rstrip()
        end = len(stripped) - 1 if stripped.endswith(":") else -1
    return end > 1 and line[end - 1] != " "


def _can_be_title_text(line: str) -> bool:
    """Whether a column-0 line may be the text of an underline-only title (not a list item,
    directive, field, doctest, line block or grid table, as docutils tries those first)."""
    if _adornment(line):
        return False
    first = line[0]
    if first in _BULLETS and (len(line) == 1 or line[1] in " \t"):
        return False
    if _is_explicit_markup(line) or _starts_with_marker(line, "__") or _starts_with_marker(line, ">>>"):
        return False
    if _starts_with_marker(line, "|") or line.startswith(("+-", "+=")):
        return False
    return not _is_field(line)


def _rst_headings(lines: list[str]) -> tuple[list[_Heading], _RstStats]:
    """Section titles as docutils finds them, from column-0 lines only: sections cannot
    nest inside indented constructs, so literal blocks and directive bodies never hold one."""
    headings: list[_Heading] = []
    stats = _RstStats()
    styles: dict[tuple[str, bool], int] = {}
    count = len(lines)
    block_start = True  # the next column-0 line starts a new block
    literal = 0  # 1: the previous line ended with "::", 2: ... and blank lines followed
    no_table_end_after = count  # memo: no simple table ends after this line
    index = 0
    while index < count:
        line = lines[index]
        index += 1  # from here on, lines[index] is the next line
        if not line or line.isspace():
            block_start = True
            if literal:
                literal = 2
            continue
        first = line[0]
        if first.isspace():
            block_start = True
            literal = 0
            continue
        starts_block = block_start
        block_start = False
        if first.isalnum():
            # Plain text (the common case): a paragraph line, or an underline-only title.
            literal = 0
            if starts_block and index < count:
                under = lines[index]
                if under and under[0] in _ADORNMENT and _add_underlined(headings, styles, stats, index - 1, lines):
                    index += 1
                    block_start = True
                    continue
            if "::" in line and line.rstrip().endswith("::"):
                literal = 1
                stats.weak += 1
            continue
        if literal == 2 and first in _ADORNMENT:
            # A quoted literal block: unindented lines up to the next blank line.
            literal = 0
            while index < count and not _is_blank(lines[index]):
                index += 1
            continue
        literal = 0
        if starts_block and first == "=" and index - 1 < no_table_end_after and _SIMPLE_TABLE_BORDER.match(line):
            end = _simple_table_end(lines, index - 1)
            if end is not None:
                index = end
                continue
            no_table_end_after = index - 1
        char = _adornment(line) if first in _ADORNMENT else ""
        if char:
            if starts_block and index + 1 < count:
                text, under = lines[index], lines[index + 1]
                over = line.rstrip()
                if (
                    not _is_blank(text)
                    and not _adornment(text)
                    and under.rstrip() == over
                    and len(over) >= len(text.rstrip())
                ):
                    _add_rst_heading(headings, styles, (char, True), index - 1, index + 2, text)
                    stats.overlined += 1
                    index += 2
                    block_start = True
                    continue
            block_start = starts_block  # a transition
            continue
        if (
            starts_block
            and index < count
            and lines[index][:1] in _ADORNMENT
            and _can_be_title_text(line)
            and _add_underlined(headings, styles, stats, index - 1, lines)
        ):
            index += 1
            block_start = True
            continue
        if first == "." and _is_explicit_markup(line):
            block_start = True
            if "::" in line or line.startswith(("_", "|"), 3):
                stats.explicit_markup += 1
        else:
            if "::" in line and line.rstrip().endswith("::"):
                literal = 1
                stats.weak += 1
            # A list item or field ends at the next unindented line (docutils warns), so
            # that line starts a new block.
            block_start = (first in _BULLETS and (len(line) == 1 or line[1] in " \t")) or _is_field(line)
    return headings, stats


def _add_underlined(
    headings: list[_Heading],
    styles: dict[tuple[str, bool], int],
    stats: _RstStats,
    index: int,
    lines: list[str],
) -> bool:
    """Record the underline-only title at ``lines[index]`` if the next line underlines it."""
    text, under = lines[index], lines[index + 1]
    char = _adornment(under)
    if not char or len(under.rstrip()) < len(text.rstrip()):
        return False
    _add_rst_heading(headings, styles, (char, False), index, index + 2, text)
    if char in "=-":
        stats.ambiguous_underlines += 1
    else:
        stats.other_underlines += 1
    return True


def _simple_table_end(lines: list[str], start: int) -> int | None:
    """The line after the border that closes a simple table opened at ``start`` (a border
    followed by a blank line or the end), or None when the table never closes."""
    for index in range(start + 1, len(lines)):
        if _SIMPLE_TABLE_BORDER.match(lines[index]) and (index + 1 == len(lines) or _is_blank(lines[index + 1])):
            return index + 1
    return None


def _add_rst_heading(
    headings: list[_Heading],
    styles: dict[tuple[str, bool], int],
    style: tuple[str, bool],
    start: int,
    end: int,
    text: str,
) -> None:
    level = styles.setdefault(style, len(styles) + 1)
    title = _clean_rst_title(text.strip())
    if title:
        headings.append(_Heading(start, end, level, title))
