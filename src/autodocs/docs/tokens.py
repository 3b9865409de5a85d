"""Offline token estimate, close to what BPE tokenizers of assistants count.

No tokenizer that matches assistants' counts ships its vocabulary inside a package we can
depend on without a download at run time, so this is a calibrated estimate. Text is charged
the way BPE vocabularies typically charge it: ASCII words a token per six letters (short
common words are one token), digits a token per three, punctuation a token per two, a run of
line breaks one token, indentation a token per four spaces, and other scripts about a token
per character (three UTF-8 bytes).

It runs on the cold path of every document, so it is written with C-level byte operations
(``bytes.translate`` maps each class of character to ``a``, the rest to ``x``; runs and
chunks are then counted with ``bytes.count``) — about 4x faster than a regular expression
that finds the same pieces.
"""

from __future__ import annotations

import json
import string

__all__ = ["count_json_tokens", "count_tokens"]


def _class_table(members: bytes) -> bytes:
    return bytes(ord("a") if byte in members else ord("x") for byte in range(256))


_LETTERS = _class_table(string.ascii_letters.encode())
_DIGITS = _class_table(string.digits.encode())
_PUNCTUATION = _class_table(string.punctuation.encode())
_NEWLINES = _class_table(b"\n")
_SPACES = _class_table(b" \t")
_ASCII = bytes(range(128))


def _runs(mapped: bytes) -> int:
    """Number of maximal runs of ``a`` in a string of ``a`` and ``x``."""
    return mapped.count(b"xa") + (mapped[:1] == b"a")


def count_tokens(text: str) -> int:
    """Estimated token count of ``text``; 0 for an empty string."""
    if not text:
        return 0
    raw = text.encode("utf-8", "replace")
    letters = raw.translate(_LETTERS)
    digits = raw.translate(_DIGITS)
    punctuation = raw.translate(_PUNCTUATION)
    tokens = _runs(letters) + letters.count(b"aaaaaa")
    tokens += _runs(digits) + digits.count(b"aaa")
    tokens += (_runs(punctuation) + punctuation.count(b"a") + 1) // 2
    tokens += _runs(raw.translate(_NEWLINES))
    tokens += raw.translate(_SPACES).count(b"aaaa")
    tokens += (len(raw.translate(None, _ASCII)) + 2) // 3
    return tokens


def count_json_tokens(text: str) -> int:
    """Tokens of ``text`` as it travels inside a JSON string (escaped newlines, quotes, backslashes)."""
    return count_tokens(json.dumps(text, ensure_ascii=False)[1:-1])
