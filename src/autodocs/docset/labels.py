"""Section labels and page titles of a reST docs set, so ``:ref:`` and ``:doc:`` read as titles.

Sphinx resolves ``:ref:`` after reading every page (its standard domain collects the labels from
the parsed trees). Our pages are read in one pass, possibly in several processes, so the labels
are collected first by a line scan of the sources — ``.. _label:`` followed by a section title
(underlined, or over- and underlined) — which is cheap (Django's 5.8 MB: tens of milliseconds)
and covers the form Sphinx documents for ``:ref:``. A label the scan misses shows as itself.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["first_title", "scan_labels"]

_LABEL = re.compile(r"^\.\.\s+_([^:`\n][^:\n]*?|`[^`\n]+`):\s*$")
_ADORNMENT = re.compile(r"^([!-/:-@\[-`{-~])\1{2,}\s*$")
MAX_LABELS = 100_000


def scan_labels(texts: Iterable[str]) -> dict[str, str]:
    """Label (lower-cased, as Sphinx normalizes it) → the title of the section it precedes."""
    labels: dict[str, str] = {}
    for text in texts:
        lines = text.splitlines()
        pending: list[str] = []
        for index, line in enumerate(lines):
            match = _LABEL.match(line)
            if match:
                pending.append(" ".join(match[1].strip("`").lower().split()))
                continue
            if not pending or not line.strip():
                continue
            title = _title_at(lines, index)
            if title:
                for label in pending:
                    labels.setdefault(label, title)
                if len(labels) >= MAX_LABELS:
                    return labels
            pending = []
    return labels


def first_title(text: str) -> str:
    """The page's first section title (what ``:doc:`page``` shows), else ""."""
    lines = text.splitlines()
    for index, line in enumerate(lines[:2000]):
        if line.strip() and not line.startswith((" ", "\t", "..")):
            title = _title_at(lines, index)
            if title:
                return title
    return ""


def _title_at(lines: list[str], index: int) -> str:
    """The section title starting at ``lines[index]`` (an overline or the title line), else ""."""
    line = lines[index]
    following = lines[index + 1] if index + 1 < len(lines) else ""
    if _ADORNMENT.match(line) and index + 2 < len(lines) and _ADORNMENT.match(lines[index + 2]):
        return following.strip()
    if _ADORNMENT.match(following) and len(following.rstrip()) >= len(line.rstrip()) and not _ADORNMENT.match(line):
        return line.strip()
    return ""
