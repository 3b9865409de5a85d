"""Badge and shield images out of a long description, before it is cut into sections.

A README's badge row (build status, coverage, version, downloads ...) tells an assistant
nothing it can use, yet on real pages it was a fifth of all content characters and most
of some short ones: every badge is an image URL, often a link URL and, in
reStructuredText, a substitution definition of three lines. This step removes those
constructs and leaves every other character of the source as it was, so the sections
(``docs/sections.py``) never hold them. A Markdown README is parsed once for both: the badge
edits and the headings come from the same block tokens (``sections.split_markdown``).

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

from autodocs.docs.badges.edits import Edits
from autodocs.docs.badges.markdown import markdown_edits
from autodocs.docs.badges.rst import rst_edits
from autodocs.docs.badges.urls import is_badge_url, may_have_badges

__all__ = ["apply_edits", "is_badge_url", "may_have_badges", "strip_badges"]


def strip_badges(text: str, markup: str) -> str:
    """``text`` without its badge images; ``markup`` is ``markdown``, ``rst`` or ``text``
    (plain text has no images and is returned as it is)."""
    if markup not in ("markdown", "rst") or not may_have_badges(text):
        return text
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    edits = markdown_edits(lines) if markup == "markdown" else rst_edits(lines)
    if not edits:
        return text
    return "\n".join(_apply(lines, edits))


def _apply(lines: list[str], edits: Edits) -> list[str]:
    """The lines with ``edits`` made; where a dropped run leaves two blank lines, one goes."""
    return apply_edits(lines, edits)[0]


def apply_edits(lines: list[str], edits: Edits) -> tuple[list[str], list[int]]:
    """The lines with ``edits`` made (as :func:`strip_badges` makes them), and where each line of
    ``lines`` went: its index in the result, or -1 when it was dropped."""
    out: list[str] = []
    where: list[int] = []
    dropped = False
    for index, line in enumerate(lines):
        new = edits.get(index, line)
        if new is None:
            dropped = True
            where.append(-1)
            continue
        blank = not new.strip()
        if dropped and blank and (not out or not out[-1].strip()):
            where.append(-1)
            continue  # the blank line after a removed block, when one is already there
        dropped = False
        where.append(len(out))
        out.append(new)
    return out, where
