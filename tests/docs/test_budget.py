"""Budgeted pages: priority order, whole sections, and paging that loses nothing."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from autodocs.docs.budget import SECTION_OVERHEAD_TOKENS, decode_cursor, encode_cursor, paginate
from autodocs.docs.model import DocSection, PackageDocument
from autodocs.docs.tokens import count_tokens


def make_document(sections: list[tuple[str, str]]) -> PackageDocument:
    return PackageDocument(
        name="demo",
        version="1.0",
        header_tokens=20,
        sections=[
            DocSection(
                title=title,
                anchor=f"s{index}",
                level=0 if index == 0 else 2,
                content=content,
                tokens=count_tokens(title) + count_tokens(content) + 4,
            )
            for index, (title, content) in enumerate(sections)
        ],
    )


def test_priority_puts_usage_before_changelog_and_keeps_document_order_on_the_page() -> None:
    document = make_document(
        [
            ("Overview", "intro " * 50),
            ("Changelog", "change " * 50),
            ("Installation", "pip install demo " * 20),
            ("Usage", "use it " * 30),
        ]
    )
    overhead = 2 * SECTION_OVERHEAD_TOKENS
    page = paginate(document, max_tokens=20 + document.sections[0].tokens + document.sections[2].tokens + overhead)
    assert [s.title for s in page.sections] == ["Overview", "Installation"]
    assert [s.title for s in page.omitted] == ["Usage", "Changelog"]
    assert page.next_cursor is not None


def test_a_section_that_does_not_fit_now_is_kept_whole_for_the_next_page() -> None:
    document = make_document([("Overview", "intro " * 10), ("Usage", "use " * 400), ("Notes", "note " * 10)])
    budget = 20 + document.sections[0].tokens + document.sections[2].tokens + 2 * SECTION_OVERHEAD_TOKENS + 50
    first = paginate(document, max_tokens=budget)
    assert [s.title for s in first.sections] == ["Overview", "Notes"]
    assert all(s.complete for s in first.sections)
    second = paginate(document, max_tokens=budget, start=first.next_cursor)
    assert second.sections[0].title == "Usage" and not second.sections[0].complete


def test_one_huge_section_is_cut_at_a_paragraph_and_continued() -> None:
    paragraphs = "\n\n".join(f"Paragraph {i} " + "word " * 40 for i in range(50))
    document = make_document([("Overview", paragraphs)])
    first = paginate(document, max_tokens=300)
    assert len(first.sections) == 1 and not first.sections[0].complete
    assert first.sections[0].content.endswith("\n\n")
    second = paginate(document, max_tokens=300, start=first.next_cursor)
    assert second.sections[0].continued


def test_cursor_round_trip() -> None:
    document = make_document([("Overview", "a " * 500), ("Usage", "b " * 500)])
    page = paginate(document, max_tokens=200, query="b")
    assert page.next_cursor is not None
    assert decode_cursor(encode_cursor(page.next_cursor)) == page.next_cursor


section_text = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=3000)


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.tuples(st.text(min_size=1, max_size=30), section_text), min_size=1, max_size=12),
    st.integers(min_value=100, max_value=3000),
    st.one_of(st.none(), st.text(max_size=20)),
)
def test_paging_returns_every_character_of_every_section_exactly_once(
    sections: list[tuple[str, str]], budget: int, query: str | None
) -> None:
    document = make_document(sections)
    collected = [""] * len(sections)
    anchors = {section.anchor: index for index, section in enumerate(document.sections)}
    cursor = None
    for _ in range(10_000):
        page = paginate(document, max_tokens=budget, query=query, start=cursor)
        assert page.sections, "every page makes progress"
        for section in page.sections:
            collected[anchors[section.anchor]] += section.content
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert collected == [content for _, content in sections]
