"""Badge and shield images out of a long description, before it is cut into sections.

A README's badge row (build status, coverage, version, downloads ...) tells an assistant
nothing it can use, yet on real pages it was a fifth of all content characters and most
of some short ones: every badge is an image URL, often a link URL and, in
reStructuredText, a substitution definition of three lines. This step removes those
constructs and leaves every other character of the source as it was, so the section
readers (``docs/sections.py``, to be replaced by real parsers) never see them.

What counts as a badge is decided by the image's URL alone (:func:`is_badge_url`): a
badge service's host, or a path or query naming a badge, shield or build status. A logo
or a screenshot stays.

How each markup is read, and why:

* **Markdown** is parsed by markdown-it-py (CommonMark + GFM tables; already installed
  with rich). It tells which lines are paragraphs, headings, table rows and HTML blocks
  (never code), resolves reference-style images (``![PyPI][pypi-badge]``) and gives the
  lines of link reference definitions. Inline tokens carry no character offsets, so
  within those lines candidate spans (an image, a linked image, an ``<img>`` tag) are
  found by pattern and each one is confirmed by parsing it alone with markdown-it-py
  (the document's references in hand): only a span that parses to exactly one badge
  image, bare or linked, is removed. A span the pattern misses stays: the error is
  always on the side of keeping text.
* **HTML** (Markdown's HTML blocks and inline tags) is read tag by tag with the standard
  library's ``html.parser``; an ``<img>`` is removed when its ``src`` is a badge, with
  the ``<a>`` around it, and elements left empty by that are removed after it.
* **reStructuredText** badges are ``.. image::`` / ``.. |name| image::`` explicit markup
  blocks, and ``|name|`` references to those substitutions. Both are line-level
  constructs with a simple, exact rule (a block is its first line plus the lines
  indented under it), so they are removed by that rule. docutils would parse the whole
  document to find them, resolve substitutions away and keep no source span for a
  directive's block, so we could not cut the source with it.

:func:`strip_badges` never raises on any ``str``, returns its input unchanged (the same
object) when there is nothing to remove, and is idempotent.
"""

from __future__ import annotations

import functools
import re
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlsplit

from markdown_it import MarkdownIt

__all__ = ["is_badge_url", "strip_badges"]

#: Hosts that serve nothing but badges.
_BADGE_HOSTS = frozenset(
    {
        "img.shields.io",
        "shields.io",
        "badge.fury.io",
        "badgen.net",
        "badges.gitter.im",
        "travis-ci.org",
        "travis-ci.com",
        "api.travis-ci.org",
        "api.travis-ci.com",
        "circleci.com",
        "dl.circleci.com",
        "ci.appveyor.com",
        "coveralls.io",
        "codecov.io",
        "app.codecov.io",
        "api.codacy.com",
        "app.codacy.com",
        "results.pre-commit.ci",
        "pepy.tech",
        "static.pepy.tech",
        "requires.io",
        "snyk.io",
        "api.codeclimate.com",
        "codeclimate.com",
        "bestpractices.coreinfrastructure.org",
        "www.bestpractices.dev",
        "sonarcloud.io",
        "deepwiki.com",
        "codspeed.io",
        "mybinder.org",
        "colab.research.google.com",
        "www.codetriage.com",
        "img.youtube.com",
    }
)
#: Words in an image URL's path or query that name a badge.
_BADGE_WORDS = ("badge", "shield", "build/status", "buildstatus", "/status.svg", "/status.png")
#: Cheap test before any parsing: a text without one of these has no badge URL.
_HINT = re.compile("|".join(re.escape(word) for word in (*_BADGE_HOSTS, *_BADGE_WORDS)), re.IGNORECASE)


def is_badge_url(url: str) -> bool:
    """Whether an image URL is a badge: a badge service's host, or a path or query naming a
    badge, a shield or a build status."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if host in _BADGE_HOSTS or "badge" in host:  # badges.gitter.im, coverage-badge.<worker host>
        return True
    tail = f"{parts.path}?{parts.query}".lower()
    return any(word in tail for word in _BADGE_WORDS)


def strip_badges(text: str, markup: str) -> str:
    """``text`` without its badge images; ``markup`` is ``markdown``, ``rst`` or ``text``
    (plain text has no images and is returned as it is)."""
    if markup not in ("markdown", "rst") or _HINT.search(text) is None:
        return text
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    edits = _markdown_edits(lines) if markup == "markdown" else _rst_edits(lines)
    if not edits:
        return text
    return "\n".join(_apply(lines, edits))


#: Line index → its new text, or None to drop the line.
_Edits = dict[int, str | None]


def _apply(lines: list[str], edits: _Edits) -> list[str]:
    """The lines with ``edits`` made; where a dropped run leaves two blank lines, one goes."""
    out: list[str] = []
    dropped = False
    for index, line in enumerate(lines):
        new = edits.get(index, line)
        if new is None:
            dropped = True
            continue
        blank = not new.strip()
        if dropped and blank and (not out or not out[-1].strip()):
            continue  # the blank line after a removed block, when one is already there
        dropped = False
        out.append(new)
    return out


def _cut(text: str, spans: list[tuple[int, int]]) -> str | None:
    """``text`` without ``spans`` (each with the spaces after it when it starts a word);
    None when nothing but whitespace (or a line-block bar) is left."""
    pieces: list[str] = []
    position = 0
    for start, end in sorted(spans):
        if start < position:
            continue
        before = text[position:start]
        if start == 0 or text[start - 1] in " \t\n":
            while end < len(text) and text[end] in " \t":
                end += 1
        if end == len(text) or text[end] == "\n":
            before = before.rstrip(" \t")  # no trailing space where the badge ended the line
        pieces.append(before)
        position = end
    pieces.append(text[position:])
    result = "".join(pieces)
    if result.strip() in ("", "|"):
        return None
    return result


# --------------------------------------------------------------------------- HTML


class _Images(HTMLParser):
    """The ``src`` of every ``<img>`` in a fragment."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.sources: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "img":
            self.sources.append(next((value or "" for name, value in attrs if name == "src"), ""))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _read_html(fragment: str) -> _Images:
    parser = _Images()
    parser.feed(fragment)
    parser.close()
    return parser


def _is_badge_html(fragment: str) -> bool:
    """An ``<img>`` (maybe in its ``<a>``) whose one image is a badge and which shows no text."""
    found = _read_html(fragment)
    return len(found.sources) == 1 and is_badge_url(found.sources[0]) and not "".join(found.text).strip()


_HTML_IMAGE = re.compile(r"<a\b[^<>]*>\s*<img\b[^<>]*>\s*</a\s*>|<img\b[^<>]*>", re.IGNORECASE)
#: What a removed badge can leave empty: its element, a table cell, then a row left with only
#: its label (``<tr><th>docs</th></tr>``), then the table. Only swept where a badge went.
_MAX_EMPTY_SWEEPS = 8
_EMPTY_ELEMENTS = re.compile(
    r"<(a|p|div|span|center|td|th|tr|h[1-6]|picture|tbody|thead|table)\b[^<>]*>\s*</\1\s*>"
    r"|<tr\b[^<>]*>\s*<th\b[^<>]*>[^<>]*</th\s*>\s*</tr\s*>",
    re.IGNORECASE,
)


def _strip_html(fragment: str) -> str | None:
    """An HTML block without its badge images and the elements they leave empty; None when
    nothing visible is left. Unchanged (the same object) when it has no badge."""
    removed = False

    def drop(match: re.Match[str]) -> str:
        nonlocal removed
        if _is_badge_html(match.group(0)):
            removed = True
            return ""
        return match.group(0)

    result = _HTML_IMAGE.sub(drop, fragment)
    if not removed:
        return fragment
    for _ in range(_MAX_EMPTY_SWEEPS):  # one nesting level per sweep: <a>, <td>, <tr>, <tbody>, <table>
        emptied = _EMPTY_ELEMENTS.sub("", result)
        if emptied == result:
            break
        result = emptied
    left = _read_html(result)
    if not left.sources and not "".join(left.text).strip():
        return None
    return result


# --------------------------------------------------------------------------- Markdown


@functools.cache
def _markdown() -> tuple[MarkdownIt, MarkdownIt]:
    """Two parsers: for the document its blocks only (its inline content is not parsed: most of
    the time, and not needed), and the whole parser for a candidate badge."""
    blocks = MarkdownIt("commonmark").enable("table").disable(["inline", "text_join"])
    return blocks, MarkdownIt("commonmark").enable("table")


#: A possible badge: a linked image (inline or reference links), a bare image, or an ``<img>``
#: tag maybe in an ``<a>``; a link target may be on the next line. Confirmed by parsing.
_MD_TARGET = r"(?:\([^()]*\)|\[[^\[\]\n]*\])"
_MD_IMAGE = rf"!\[[^\[\]\n]*\]{_MD_TARGET}?"
_MD_CANDIDATE = re.compile(
    rf"\[[ \t]*{_MD_IMAGE}[ \t]*\]{_MD_TARGET}?|{_MD_IMAGE}|<a\b[^<>]*>\s*<img\b[^<>]*>\s*</a\s*>|<img\b[^<>]*>",
    re.IGNORECASE,
)
_REFERENCE_LABEL = re.compile(r"\[([^\[\]\n]+)\]")


def _markdown_edits(lines: list[str]) -> _Edits:
    blocks, markdown = _markdown()
    env: dict[str, Any] = {}
    tokens = blocks.parse(_markdown_extent("\n".join(lines)), env)
    edits: _Edits = {}
    inline_regions: set[tuple[int, int]] = set()
    for token in tokens:
        if token.map is None:
            continue
        start, end = token.map
        if token.type == "inline" and ("![" in token.content or "<img" in token.content.lower()):
            inline_regions.add((start, end))  # a table's cells share their row's lines
        elif token.type == "html_block":
            _replace(edits, start, end, _strip_html("\n".join(lines[start:end])), lines)
    used_labels: list[str] = []
    for start, end in sorted(inline_regions):
        region = "\n".join(lines[start:end])
        spans = []
        for match in _MD_CANDIDATE.finditer(region):
            if _is_badge_markdown(markdown, match.group(0), env):
                spans.append(match.span())
                used_labels.extend(_REFERENCE_LABEL.findall(match.group(0)))
        if spans:
            _replace(edits, start, end, _cut(region, spans), lines)
    edits.update(_unused_definitions(lines, edits, env, used_labels))
    return edits


def _markdown_extent(text: str) -> str:
    """The text to parse: up to the blank line after the last image, ``<img`` or reference
    definition (a badge is one of those). A block's structure depends only on the lines before
    and within it, so those lines read as in the whole text; the rest (often a long changelog)
    is not parsed at all."""
    last = max(text.rfind("!["), text.lower().rfind("<img"))
    for definition in _DEFINITION.finditer(text, max(0, last)):
        last = definition.start()
    end = text.find("\n\n", max(0, last))
    return text if end < 0 else text[:end]


def _replace(edits: _Edits, start: int, end: int, new: str | None, lines: list[str]) -> None:
    """Lines ``start:end`` become ``new``'s non-blank lines (None: nothing); unchanged when
    ``new`` is their text."""
    if new is not None and new == "\n".join(lines[start:end]):
        return
    kept = [line for line in new.split("\n") if line.strip() not in ("", "|")] if new is not None else []
    for offset in range(end - start):
        edits[start + offset] = kept[offset] if offset < len(kept) else None


def _is_badge_markdown(markdown: MarkdownIt, candidate: str, env: dict[str, Any]) -> bool:
    if candidate.startswith("<"):
        return _is_badge_html(candidate)
    parsed = markdown.parseInline(candidate, env)
    children = [c for c in parsed[0].children or () if not (c.type == "text" and not c.content.strip())]
    kinds = [child.type for child in children]
    if kinds == ["link_open", "image", "link_close"]:
        image = children[1]
    elif kinds == ["image"]:
        image = children[0]
    else:
        return False
    source = image.attrGet("src")
    return isinstance(source, str) and is_badge_url(source)


def _unused_definitions(lines: list[str], edits: _Edits, env: dict[str, Any], labels: list[str]) -> _Edits:
    """Reference definitions (``[pypi-badge]: https://…``) of a badge image, or only the
    removed badges used, that nothing left uses."""
    references: dict[str, Any] = env.get("references", {})
    labels = [*labels, *(label for label, reference in references.items() if is_badge_url(reference.get("href", "")))]
    if not labels:
        return {}
    remaining = "\n".join(edited for index, line in enumerate(lines) if (edited := edits.get(index, line)) is not None)
    still_used = {label.upper() for label in _REFERENCE_LABEL.findall(_DEFINITION.sub("", remaining))}
    dropped: _Edits = {}
    for label in {label.upper() for label in labels}:
        reference = references.get(" ".join(label.split()))
        if reference is None or label in still_used or not reference.get("map"):
            continue
        start, end = reference["map"]
        for index in range(start, end):
            dropped[index] = None
    return dropped


_DEFINITION = re.compile(r"^ {0,3}\[[^\[\]\n]+\]:.*$", re.MULTILINE)


# --------------------------------------------------------------------------- reStructuredText

_RST_IMAGE = re.compile(r"^([ \t]*)\.\.[ \t]+(?:\|([^|\n]+)\|[ \t]+)?image::[ \t]*(\S*)")
_RST_COMMENTED_OPTION = re.compile(r"^[ \t]*\.\.[ \t]+:[A-Za-z-]+:")
_RST_TARGET = re.compile(r"^[ \t]*\.\.[ \t]+_(`[^`]+`|[^:`]+):")
_RST_DIRECTIVE = re.compile(r"^[ \t]*\.\.[ \t]+([A-Za-z][\w-]*)::")
_RST_CODE_DIRECTIVES = frozenset({"code", "code-block", "sourcecode", "parsed-literal", "highlight"})
_RST_TABLE_BORDER = re.compile(r"^[ \t]*(?:\+[-=+]+\+|=+(?:[ \t]+=+)+|-+(?:[ \t]+-+)+)[ \t]*$")


def _rst_edits(lines: list[str]) -> _Edits:
    literal = _rst_literal_lines(lines)
    edits: _Edits = {}
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


def _rst_references(lines: list[str], edits: _Edits, names: set[str]) -> _Edits:
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
            found[index] = _cut(line, spans)
    return found


def _rst_targets(lines: list[str], edits: _Edits, names: set[str]) -> _Edits:
    """The hyperlink targets of removed badges (``.. _PyPI version: …`` for ``|PyPI version|_``)
    when no other reference (```PyPI version`_``) uses them."""
    wanted = {" ".join(name.split()).lower() for name in names}
    found: _Edits = {}
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
