"""Badges in Markdown: markdown-it-py reads the blocks, each candidate image is confirmed by parsing it."""

from __future__ import annotations

import functools
import re
from typing import Any

from markdown_it import MarkdownIt
from markdown_it.token import Token

from autodocs.docs.badges.edits import Edits, cut, replace_lines
from autodocs.docs.badges.html import is_badge_html, strip_html
from autodocs.docs.badges.urls import is_badge_url, may_have_badges

__all__ = ["edits_from_tokens", "markdown_edits", "markdown_extent"]


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


def markdown_edits(lines: list[str]) -> Edits:
    blocks, _ = _markdown()
    env: dict[str, Any] = {}
    tokens = blocks.parse(markdown_extent("\n".join(lines)), env)
    return edits_from_tokens(lines, tokens, env)


def edits_from_tokens(lines: list[str], tokens: list[Token], env: dict[str, Any]) -> Edits:
    """The badge edits of ``lines``, given their block tokens (inline rules off) and the parse's
    ``env`` (its reference definitions): a README's sections are read from the same parse
    (:func:`autodocs.docs.sections.split_markdown`), so it is parsed once."""
    _, markdown = _markdown()
    edits: Edits = {}
    inline_regions: set[tuple[int, int]] = set()
    for token in tokens:
        if token.map is None:
            continue
        start, end = token.map
        if token.type == "inline" and ("![" in token.content or "<img" in token.content.lower()):
            inline_regions.add((start, end))  # a table's cells share their row's lines
        elif token.type == "html_block":
            replace_lines(edits, start, end, strip_html("\n".join(lines[start:end])), lines)
    used_labels: list[str] = []
    references: dict[str, Any] = env.get("references", {})
    badge_references = any(is_badge_url(reference.get("href", "")) for reference in references.values())
    for start, end in sorted(inline_regions):
        region = "\n".join(lines[start:end])
        spans = []
        for match in _MD_CANDIDATE.finditer(region):
            if not badge_references and not _may_be_badge(match.group(0)):
                continue
            if _is_badge_markdown(markdown, match.group(0), env):
                spans.append(match.span())
                used_labels.extend(_REFERENCE_LABEL.findall(match.group(0)))
        if spans:
            replace_lines(edits, start, end, cut(region, spans), lines)
    edits.update(_unused_definitions(lines, edits, env, used_labels))
    return edits


def markdown_extent(text: str) -> str:
    """The text to parse: up to the blank line after the last image, ``<img`` or reference
    definition (a badge is one of those). A block's structure depends only on the lines before
    and within it, so those lines read as in the whole text; the rest (often a long changelog)
    is not parsed at all."""
    last = max(text.rfind("!["), text.lower().rfind("<img"))
    if text.find("]:", max(0, last)) >= 0:  # every definition has one; most texts have none (0.4 ms over 135 kB)
        for definition in _DEFINITION.finditer(text, max(0, last)):
            last = definition.start()
    end = text.find("\n\n", max(0, last))
    return text if end < 0 else text[:end]


def _may_be_badge(candidate: str) -> bool:
    """False when ``candidate`` cannot be a badge whatever it parses to, so it need not be parsed
    (a screenshot, a logo: 60 us each, a third of the Markdown badge step on a README with a few).

    Its image's URL is then its own text (the document defines no badge reference), which
    markdown-it-py changes only by decoding entities and backslash escapes (none here), encoding
    unsafe characters as ``%XX`` and a non-ASCII host name as punycode (all ASCII here): none of
    which can make a badge host or word appear. Nor can ``html.parser`` in an ``<img>`` tag
    without entities.
    """
    return not candidate.isascii() or "&" in candidate or "\\" in candidate or may_have_badges(candidate)


def _is_badge_markdown(markdown: MarkdownIt, candidate: str, env: dict[str, Any]) -> bool:
    if candidate.startswith("<"):
        return is_badge_html(candidate)
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


def _unused_definitions(lines: list[str], edits: Edits, env: dict[str, Any], labels: list[str]) -> Edits:
    """Reference definitions (``[pypi-badge]: https://…``) of a badge image, or only the
    removed badges used, that nothing left uses."""
    references: dict[str, Any] = env.get("references", {})
    labels = [*labels, *(label for label, reference in references.items() if is_badge_url(reference.get("href", "")))]
    if not labels or not references:  # no definition to drop: the whole text need not be read
        return {}
    remaining = "\n".join(edited for index, line in enumerate(lines) if (edited := edits.get(index, line)) is not None)
    still_used = {label.upper() for label in _REFERENCE_LABEL.findall(_DEFINITION.sub("", remaining))}
    dropped: Edits = {}
    for label in {label.upper() for label in labels}:
        reference = references.get(" ".join(label.split()))
        if reference is None or label in still_used or not reference.get("map"):
            continue
        start, end = reference["map"]
        for index in range(start, end):
            dropped[index] = None
    return dropped


_DEFINITION = re.compile(r"^ {0,3}\[[^\[\]\n]+\]:.*$", re.MULTILINE)
