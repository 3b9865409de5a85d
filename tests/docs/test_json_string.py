"""``tokens.json_string`` writes exactly what ``json.dumps(text, ensure_ascii=False)`` writes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodocs.docs.tokens import json_string
from tests.support.fake_index import DEFAULT_DATA_DIR

# Every code point class that escaping treats apart: controls, quote, backslash, DEL, the
# line/paragraph separators, BMP and astral characters, and lone surrogates (json writes them
# as they are; pydantic-core refuses them, so the fallback must).
_TRICKY = st.sampled_from(["\0", "\x1f", "\x7f", '"', "\\", "/", "\u2028", "\u2029", "\ud800", "\udfff", "😀", "é"])


@settings(max_examples=400, deadline=None)
@given(st.lists(st.one_of(st.characters(codec=None), _TRICKY)).map("".join))
def test_any_text_is_escaped_as_json_dumps_does(text: str) -> None:
    assert json_string(text) == json.dumps(text, ensure_ascii=False)


@pytest.mark.parametrize("text", ["", "plain", "a\nb\tc\rd\be\ff", "".join(map(chr, range(0x20))), "x\ud800y"])
def test_fixed_cases(text: str) -> None:
    assert json_string(text) == json.dumps(text, ensure_ascii=False)


def test_every_recorded_description() -> None:
    for path in sorted((DEFAULT_DATA_DIR / "projects").glob("*.json")):
        description = json.loads(path.read_text())["info"].get("description") or ""
        assert json_string(description) == json.dumps(description, ensure_ascii=False), path.name
