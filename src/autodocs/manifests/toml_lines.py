"""Where each key and string of a TOML document is written, for entries' line numbers.

tomllib (and tomli, tomlkit) give no positions, and searching the raw text for an
entry's string picks the first occurrence anywhere in the file (a ``pytest-cov`` in one
Hatch environment for the one in another, an item of a one-line array for an earlier
one). This reads the document's structure once, a small recursive-descent pass over text
tomllib has already accepted, and records the line of every key path (``[table]``
headers, dotted keys, inline tables) and of every string value under the key path that
holds it. Strings are compared decoded, so ``"a; python_version >= \\"3.10\\""`` is found
as written. It never raises: on anything it does not expect it stops and keeps what it
has read, and lookups past that point answer ``None``.
"""

from __future__ import annotations

import bisect
import contextlib
import re
import tomllib

__all__ = ["StringLines", "TomlLines"]

KeyPath = tuple[str, ...]

_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")
_STRING = re.compile(
    r'"""(?:[^\\]|\\.)*?"{3,5}'  # multi-line basic (two quotes may sit just inside the closing three)
    r"|'''.*?'{3,5}"  # multi-line literal
    r'|"(?:[^"\\\n]|\\.)*"'  # basic
    r"|'[^'\n]*'",  # literal
    re.DOTALL,
)
_SCALAR = re.compile(r"[^,\]}\n#]*")  # numbers, booleans, dates: never an entry


class _Stop(Exception):
    """The text has a shape this reader does not expect; keep what was read."""


class TomlLines:
    """Lines of keys and string values of one TOML text."""

    def __init__(self, text: str) -> None:
        self._text = text
        self._pos = 0
        self._newlines = [index for index, char in enumerate(text) if char == "\n"]
        self._keys: dict[KeyPath, int] = {}
        self._strings: list[tuple[KeyPath, str, int]] = []
        with contextlib.suppress(_Stop, IndexError, ValueError, RecursionError):
            self._document()

    def key_line(self, *path: str) -> int | None:
        """The line where ``path`` is first defined (``[a.b]``, ``b = ...`` under ``[a]``, ...)."""
        return self._keys.get(path)

    def strings(self, *path: str) -> StringLines:
        """A finder over the string values written under ``path``, in document order."""
        size = len(path)
        return StringLines([(value, line) for key, value, line in self._strings if key[:size] == path])

    # -- the reader ------------------------------------------------------------------------

    def _line(self, position: int) -> int:
        return bisect.bisect_left(self._newlines, position) + 1

    def _document(self) -> None:
        table: KeyPath = ()
        while True:
            self._skip_trivia()
            if self._pos >= len(self._text):
                return
            start = self._pos
            if self._text.startswith("[", start):
                closing = "]]" if self._text.startswith("[[", start) else "]"
                self._pos += len(closing)
                table = self._key_path()
                self._expect(closing)
                self._keys.setdefault(table, self._line(start))
            else:
                path = table + self._key_path()
                self._expect("=")
                self._keys.setdefault(path, self._line(start))
                self._value(path)

    def _value(self, path: KeyPath) -> None:
        self._skip_spaces()
        start = self._pos
        char = self._text[start]
        if char in "\"'":
            match = _STRING.match(self._text, start)
            if match is None:
                raise _Stop
            self._pos = match.end()
            self._strings.append((path, _decode(match.group()), self._line(start)))
        elif char == "[":
            self._pos += 1
            while True:
                self._skip_trivia()
                if self._text[self._pos] == "]":
                    self._pos += 1
                    return
                self._value(path)
                self._skip_trivia()
                if self._text[self._pos] == ",":
                    self._pos += 1
        elif char == "{":
            self._pos += 1
            while True:
                self._skip_trivia()
                if self._text[self._pos] == "}":
                    self._pos += 1
                    return
                key_start = self._pos
                key = path + self._key_path()
                self._expect("=")
                self._keys.setdefault(key, self._line(key_start))
                self._value(key)
                self._skip_trivia()
                if self._text[self._pos] == ",":
                    self._pos += 1
        else:
            match = _SCALAR.match(self._text, start)
            if match is None or match.end() == start:
                raise _Stop
            self._pos = match.end()

    def _key_path(self) -> KeyPath:
        parts: list[str] = []
        while True:
            self._skip_spaces()
            start = self._pos
            if self._text[start] in "\"'":
                match = _STRING.match(self._text, start)
            else:
                match = _BARE_KEY.match(self._text, start)
            if match is None:
                raise _Stop
            self._pos = match.end()
            parts.append(_decode(match.group()) if self._text[start] in "\"'" else match.group())
            self._skip_spaces()
            if self._text[self._pos] != ".":
                return tuple(parts)
            self._pos += 1

    def _expect(self, token: str) -> None:
        self._skip_spaces()
        if not self._text.startswith(token, self._pos):
            raise _Stop
        self._pos += len(token)

    def _skip_spaces(self) -> None:
        while self._pos < len(self._text) and self._text[self._pos] in " \t":
            self._pos += 1

    def _skip_trivia(self) -> None:
        """Spaces, newlines and comments."""
        text = self._text
        while self._pos < len(text):
            char = text[self._pos]
            if char in " \t\r\n":
                self._pos += 1
            elif char == "#":
                end = text.find("\n", self._pos)
                self._pos = len(text) if end < 0 else end
            else:
                return


def _decode(raw: str) -> str:
    if raw.startswith("'") and not raw.startswith("'''"):
        return raw[1:-1]
    if raw.startswith('"') and not raw.startswith('"""') and "\\" not in raw:
        return raw[1:-1]
    value = tomllib.loads(f"v = {raw}")["v"]  # escapes and multi-line rules, exactly as TOML says
    return value if isinstance(value, str) else raw


class StringLines:
    """Finds each entry's line among strings in document order; a repeated entry maps to its next occurrence."""

    def __init__(self, strings: list[tuple[str, int]]) -> None:
        self._strings = strings
        self._cursor = 0

    def find(self, text: str) -> int | None:
        for start in (self._cursor, 0):
            for index in range(start, len(self._strings)):
                value, line = self._strings[index]
                if value == text:
                    self._cursor = index + 1
                    return line
        return None
