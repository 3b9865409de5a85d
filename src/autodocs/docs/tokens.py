"""Offline token estimate, calibrated against the tokenizers assistants count with.

Why an estimate and not a tokenizer: the tokenizer of current Claude models is not published,
and the one Anthropic did publish (in early ``anthropic`` SDKs such as 0.34.2) counts 9% more than
GPT-4o's o200k_base on package docs, so even an exact o200k count would overrun a Claude
reader's budget. o200k itself ships inside a package only in a 40 MB wheel in alpha
(``bpe-openai``); ``tiktoken`` downloads its vocabulary on first use; and both cost about three
times this estimate per call, Claude's tokenizer (via ``tokenizers``) thirty times.

How: the text's UTF-8 bytes are counted by class of character with C-level byte operations
(``bytes.translate`` maps a class to ``a``, the rest to ``x``; runs and chunks are counted with
``bytes.count``; a regular expression finding the same pieces is about 4x slower), and each
count is charged a weight in hundredths of a token: per word (a run of ASCII letters), per six
letters of it and per camelCase hump in it; per number and per three digits; per run of
punctuation and per punctuation character; per run of line breaks; and per extra byte of
non-ASCII characters (about 1.2 tokens per CJK character, 0.6 per Cyrillic or accented letter).
Spaces and tabs are free: tokenizers fold them into the next word.

The weights were fitted by ``python bench/tokenizer_calibration.py --fit`` to the larger of the
two real counts (o200k_base, Claude's published tokenizer) on 119 package descriptions, as
written and JSON-escaped, and 238 replies, under-counts weighing four times over-counts: a
page must not overrun its budget. The fit may not charge less than 0.30 per six letters (it
would take 0.14: the corpus has few long unknown words), and the non-ASCII weight is set by
hand (the corpus has too little non-ASCII text to fit it). The measured error is in the README
and held by ``tests/docs/test_token_calibration.py``.
"""

from __future__ import annotations

import json
import string

import pydantic_core

__all__ = ["count_json_tokens", "count_tokens", "json_string"]

# Hundredths of a token charged per unit of each feature (see the module docstring).
PER_WORD = 98
PER_SIX_LETTERS = 30
PER_CASE_CHANGE = 84
PER_NUMBER = 85
PER_THREE_DIGITS = 150
PER_SYMBOL_RUN = 102
PER_SYMBOL = 11
PER_LINE_BREAK_RUN = 97
PER_NON_ASCII_EXTRA_BYTE = 60


def _class_table(members: bytes) -> bytes:
    return bytes(ord("a") if byte in members else ord("x") for byte in range(256))


_LETTERS = _class_table(string.ascii_letters.encode())
_DIGITS = _class_table(string.digits.encode())
_PUNCTUATION = _class_table(string.punctuation.encode())
_NEWLINES = _class_table(b"\n")
_LOWER, _UPPER = string.ascii_lowercase.encode(), string.ascii_uppercase.encode()
_CASES = bytes(ord("l") if byte in _LOWER else ord("u") if byte in _UPPER else ord("x") for byte in range(256))


def count_tokens(text: str) -> int:
    """Estimated token count of ``text``; 0 for an empty string."""
    if not text:
        return 0
    raw = text.encode("utf-8", "replace")
    letters = raw.translate(_LETTERS)
    digits = raw.translate(_DIGITS)
    punctuation = raw.translate(_PUNCTUATION)
    # A run of ``a`` starts at each ``xa``, or at the very beginning.
    hundredths = (
        PER_WORD * (letters.count(b"xa") + (letters[:1] == b"a"))
        + PER_SIX_LETTERS * letters.count(b"aaaaaa")
        + PER_CASE_CHANGE * raw.translate(_CASES).count(b"lu")
        + PER_NUMBER * (digits.count(b"xa") + (digits[:1] == b"a"))
        + PER_THREE_DIGITS * digits.count(b"aaa")
        + PER_SYMBOL_RUN * (punctuation.count(b"xa") + (punctuation[:1] == b"a"))
        + PER_SYMBOL * punctuation.count(b"a")
        + PER_NON_ASCII_EXTRA_BYTE * (len(raw) - len(text))
    )
    if b"\n" in raw:  # never in JSON-escaped text: skip the pass
        newlines = raw.translate(_NEWLINES)
        hundredths += PER_LINE_BREAK_RUN * (newlines.count(b"xa") + (newlines[:1] == b"a"))
    return (hundredths + 99) // 100


def json_string(text: str) -> str:
    """``text`` as a JSON string literal, quotes included, as replies carry it: exactly what
    ``json.dumps(text, ensure_ascii=False)`` writes.

    pydantic-core's serializer (here with pydantic) escapes the same characters the same way
    (``\\"``, ``\\\\``, ``\\n`` and the other short forms, ``\\u001f`` for the rest below
    0x20; nothing else) in a quarter of the time on a 17 kB description; it refuses a lone
    surrogate, which :mod:`json` writes as it is.
    """
    try:
        return pydantic_core.to_json(text).decode()
    except pydantic_core.PydanticSerializationError:
        return json.dumps(text, ensure_ascii=False)


def count_json_tokens(text: str) -> int:
    """Tokens of ``text`` as it travels inside a JSON string (escaped newlines, quotes, backslashes)."""
    return count_tokens(json_string(text)[1:-1])
