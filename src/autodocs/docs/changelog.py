"""Release notes keep their release in each section's title: ``0.27.0 › Fixed``.

A changelog in a README repeats the same few headings under every release ("Added",
"Fixed", "Bug fixes" ...): 19 sections titled "Fixed" tell an assistant nothing about which
release each is, in a page's section list or in search results. This step runs on the
sections once they are read, whatever reader made them, and prefixes the version of the
nearest release heading above (a title that starts with a version: ``v1.2.0``, ``Version
1.0.7 (November 15th, 2024)``, ``[0.3.1] - 2024-01-01``; not a numbered chapter such as
``1.2 Installation``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

__all__ = ["RELEASE_SEPARATOR", "release_titles"]

RELEASE_SEPARATOR = " › "

#: A release heading: optional "v"/"version", then a version, maybe bracketed, then anything.
_RELEASE = re.compile(r"^\W*(?:v(?:ersion)?\s*)?(\d+(?:\.\d+)+(?:[-.]?(?:a|b|rc|alpha|beta|dev|post)\d*)*)", re.I)


def release_titles(sections: Sequence[tuple[str, int]]) -> list[str]:
    """The title of each ``(title, level)`` section, its release's version in front when it
    sits under a release heading. A preamble (level 0) is under nothing."""
    titles: list[str] = []
    above: list[tuple[int, str | None]] = []  # (level, version of a release heading or None)
    for title, level in sections:
        while above and above[-1][0] >= level:
            above.pop()
        release = next((version for _, version in reversed(above) if version is not None), None)
        own = _release(title)
        if release is not None and own is None and level > 0:
            titles.append(f"{release}{RELEASE_SEPARATOR}{title}")
        else:
            titles.append(title)
        if level > 0:
            above.append((level, own))
    return titles


def _release(title: str) -> str | None:
    """The version a release heading names; None for any other title, a numbered chapter
    (``1.2 Installation``) included: after the version comes nothing, a date or a note."""
    match = _RELEASE.match(title)
    if match is None:
        return None
    rest = title[match.end() :]
    if _WORDS.search(rest) and not _DATE_OR_NOTE.search(rest):
        return None
    return match.group(1)


_WORDS = re.compile(r"[A-Za-z]{3,}")
_DATE_OR_NOTE = re.compile(r"\d{4}|\(|\bunreleased\b|\breleased\b|\byanked\b", re.I)
