"""Choosing the lines of an included file as Sphinx's ``include``/``literalinclude`` options say.

Sphinx's ``LiteralIncludeReader`` does this inside Sphinx (an application we do not run on an
untrusted sdist, see ``rst_sphinx``); this is the same selection over text already read through
the confined ``DocsFolder``: ``start-line``/``end-line``, ``lines``, ``start-after``/``start-at``,
``end-before``/``end-at``, ``dedent``, ``prepend``/``append``. ``pyobject`` keeps the whole file.
"""

from __future__ import annotations

import textwrap
from pathlib import PurePosixPath
from typing import Any

__all__ = ["included_lines", "language_for"]

_LANGUAGES = {
    ".py": "python", ".pyi": "python", ".js": "javascript", ".ts": "typescript", ".json": "json",
    ".toml": "toml", ".yaml": "yaml", ".yml": "yaml", ".ini": "ini", ".cfg": "ini", ".sh": "bash",
    ".html": "html", ".css": "css", ".sql": "sql", ".rst": "rst", ".md": "markdown", ".c": "c",
    ".h": "c", ".rs": "rust", ".txt": "text",
}  # fmt: skip
_MAX_SELECTED_LINES = 20_000


def language_for(path: str) -> str:
    return _LANGUAGES.get(PurePosixPath(path).suffix.lower(), "")


def included_lines(text: str, options: dict[str, Any]) -> list[str]:
    """The lines of ``text`` the directive's options select (unparseable options select all)."""
    lines = text.splitlines()
    start, end = _int(options.get("start-line")), _int(options.get("end-line"))
    if start is not None or end is not None:
        lines = lines[start:end]
    if options.get("lines"):
        lines = _pick(lines, str(options["lines"]))
    for key, inclusive in (("start-after", False), ("start-at", True)):
        marker = options.get(key)
        if marker:
            found = next((i for i, line in enumerate(lines) if marker in line), None)
            if found is not None:
                lines = lines[found if inclusive else found + 1 :]
    for key, inclusive in (("end-before", False), ("end-at", True)):
        marker = options.get(key)
        if marker:
            found = next((i for i, line in enumerate(lines) if marker in line), None)
            if found is not None:
                lines = lines[: found + 1 if inclusive else found]
    if "dedent" in options:
        amount = _int(options.get("dedent"))
        if amount is None:
            lines = textwrap.dedent("\n".join(lines)).splitlines()
        else:
            lines = [line[amount:] if line[:amount].strip() == "" else line.lstrip() for line in lines]
    if options.get("prepend"):
        lines.insert(0, str(options["prepend"]))
    if options.get("append"):
        lines.append(str(options["append"]))
    return lines[:_MAX_SELECTED_LINES]


def _int(value: object) -> int | None:
    try:
        return int(str(value).strip()) if value not in (None, "") else None
    except ValueError:
        return None


def _pick(lines: list[str], spec: str) -> list[str]:
    """``1,3,5-10,20-`` (1-based, as Sphinx reads it)."""
    chosen: list[str] = []
    for part in spec.split(","):
        first, dash, last = part.strip().partition("-")
        low = _int(first) or 1
        high = (_int(last) or len(lines)) if dash else low
        if high - low > _MAX_SELECTED_LINES:
            high = low + _MAX_SELECTED_LINES
        chosen.extend(lines[max(low - 1, 0) : max(high, 0)])
        if len(chosen) > _MAX_SELECTED_LINES:
            break
    return chosen or lines
