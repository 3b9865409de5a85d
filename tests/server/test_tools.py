"""A tool's reply: structured content and its JSON text, serialized once per memoized page."""

from __future__ import annotations

import json

from autodocs.docs.model import _REPLIES_KEPT, DocsPage, _replies
from autodocs.server.protocol import ok_result


def page(name: str = "demo", content: str = "hello") -> DocsPage:
    return DocsPage(name=name, version="1.0", source="cache", content=content, tokens=10)


def test_the_same_page_is_replies_once_and_replies_alike() -> None:
    shown = page()
    first, second = ok_result(shown), ok_result(shown)
    assert first.structured_content == second.structured_content
    assert first.content[0].text is second.content[0].text  # type: ignore[union-attr]
    assert json.loads(first.content[0].text) == first.structured_content  # type: ignore[union-attr]


def test_an_equal_but_different_page_object_is_replies_for_itself() -> None:
    shown = page(content="one")
    changed = shown.model_copy(update={"content": "two"})
    assert ok_result(shown).structured_content["content"] == "one"
    assert ok_result(changed).structured_content["content"] == "two"


def test_the_memo_stays_bounded() -> None:
    pages = [page(name=f"p{index}") for index in range(_REPLIES_KEPT * 3)]
    for each in pages:
        ok_result(each)
    assert len(_replies) <= _REPLIES_KEPT
    assert ok_result(pages[0]).structured_content["name"] == "p0"


def test_a_large_reply_is_not_kept() -> None:
    big = page(content="x" * 300_000)
    ok_result(big)
    assert id(big) not in _replies
