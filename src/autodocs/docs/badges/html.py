"""Badge ``<img>`` tags in HTML (Markdown's HTML blocks and inline tags), read with ``html.parser``."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from autodocs.docs.badges.urls import is_badge_url

__all__ = ["is_badge_html", "strip_html"]


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


def is_badge_html(fragment: str) -> bool:
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


def strip_html(fragment: str) -> str | None:
    """An HTML block without its badge images and the elements they leave empty; None when
    nothing visible is left. Unchanged (the same object) when it has no badge."""
    removed = False

    def drop(match: re.Match[str]) -> str:
        nonlocal removed
        if is_badge_html(match.group(0)):
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
