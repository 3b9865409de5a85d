"""The pieces of a docs-set reply: blocks, ranking across origins, the cursor, the hosted docs URL."""

from __future__ import annotations

import time

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodocs.docs.budget import Cursor, encode_cursor
from autodocs.docs.model import PackageDocument
from autodocs.docs.overview import fit_toc, hosted_docs_url
from autodocs.docs.placed_ranking import PlacedCounts, PlacedIndex, placed_scores
from autodocs.docs.tokens import count_json_tokens
from autodocs.docs.unit_cursor import UnitCursor, decode_unit_cursor, encode_unit_cursor
from autodocs.docs.unit_names import nearest_names
from autodocs.docs.unit_pages import UnitSet, unit_sequence
from autodocs.docs.units import Unit, split_blocks
from autodocs.docset.toc import TableOfContents, TocEntry
from autodocs.errors import InvalidArgument


def test_a_fenced_code_block_with_blank_lines_is_one_block() -> None:
    text = "Intro line.\n\n```python\nimport a\n\n\nprint(a)\n```\n\n~~~~\nplain\n\nstill code\n~~~~\n\nAfter."
    blocks, code = split_blocks(text)
    assert blocks == (
        "Intro line.",
        "```python\nimport a\n\n\nprint(a)\n```",
        "~~~~\nplain\n\nstill code\n~~~~",
        "After.",
    )
    assert code == (False, True, True, False)


def test_an_unclosed_fence_runs_to_the_end_as_code() -> None:
    blocks, code = split_blocks("Text.\n\n```\nnever closed\n\nstill inside")
    assert blocks == ("Text.", "```\nnever closed\n\nstill inside") and code == (False, True)


def test_a_page_title_and_heading_path_count_as_titles_and_a_changelog_page_is_demoted() -> None:
    entries = [
        ("Backoff", ("Tasks", "Retrying"), "Set the factor."),
        ("Other", ("Tasks",), "Set the factor."),
        ("1.0", ("Changelog",), "Retrying backoff fixed."),
        ("Backoff", ("Changelog",), "Retrying backoff fixed."),
    ]
    scores = placed_scores("retrying with backoff", entries)
    assert scores[0] > scores[1] == 0
    in_a_guide = placed_scores("retrying with backoff", [*entries[:3], ("Backoff", ("Guide",), entries[3][2])])
    assert scores[3] < in_a_guide[3] / 4, "under a Changelog page title it counts a fifth"
    assert placed_scores("changelog of retrying", entries)[2] > scores[2], "a question about changes is not demoting"


def test_an_index_of_counted_segments_ranks_exactly_as_one_index_of_all_entries() -> None:
    entries = [
        ("Backoff", ("Tasks", "Retrying"), "Set the factor of the backoff between retries."),
        ("Changelog", (), "Retrying backoff fixed."),
        ("Timeouts", ("Tasks",), "A task that runs too long is stopped; retrying it waits."),
        ("Other", (), "Nothing to see here, a rather longer text " * 5),
        ("Retry policy", ("API",), "retry(n, backoff=2.0)"),
    ]
    segments = [PlacedCounts(entries[:2]), PlacedCounts(entries[2:4])]
    for question in ("retrying with backoff", "what changed in retrying", "task timeouts"):
        whole = placed_scores(question, entries)
        assert PlacedIndex(entries[4:], segments=segments).scores(question) == pytest.approx(whole, rel=1e-12)
        assert PlacedIndex(segments=[*segments, PlacedCounts(entries[4:])]).scores(question) == pytest.approx(
            whole, rel=1e-12
        )


def test_a_unit_set_ranks_only_its_present_units_and_in_the_order_its_counts_name_them() -> None:
    units = [Unit("docs", f"Title {n}", (), (f"text about topic{n} and retrying",), (False,)) for n in range(4)]
    counted = PlacedCounts([(units[n].title, units[n].above, units[n].content) for n in (3, 1)])
    unit_set = UnitSet(units, counted=[counted], order=[3, 1], present=[1, 3, 2])
    scores = unit_set.scores("topic3 retrying")
    assert scores[0] == 0, "a unit not present is a stand-in"
    assert scores[3] > scores[1] > 0 and scores[2] > 0
    assert scores == pytest.approx(
        [0.0, *(PlacedIndex([(u.title, u.above, u.content) for u in units[1:]]).scores("topic3 retrying"))]
    )
    assert unit_sequence(unit_set, "topic3 retrying", ())[0][0] == 3


def test_a_unit_cursor_survives_its_round_trip_and_a_readme_cursor_is_left_to_its_reader() -> None:
    cursor = UnitCursor("demo", "1.0", "retry", ("docs/a.rst#B",), (3, 10, 2), frozenset({0, 4, 14}), (4, 1, 120))
    assert decode_unit_cursor(encode_unit_cursor(cursor)) == cursor
    assert decode_unit_cursor(encode_cursor(Cursor("demo", "1.0", None, ()))) is None


@given(st.text(max_size=300))
def test_any_other_text_is_an_invalid_argument_never_a_crash(text: str) -> None:
    try:
        decoded = decode_unit_cursor(text)
    except InvalidArgument:
        return
    assert decoded is None or isinstance(decoded, UnitCursor)


@pytest.mark.parametrize(
    ("urls", "home_page", "expected"),
    [
        (
            {"Documentation": "https://a.example/docs/", "Homepage": "https://a.example"},
            None,
            "https://a.example/docs/",
        ),
        ({"docs": "https://b.example/"}, None, "https://b.example/"),
        ({"Homepage": "https://c.readthedocs.io/en/latest/"}, None, "https://c.readthedocs.io/en/latest/"),
        ({"Homepage": "https://example.invalid/c"}, None, None),
        ({}, "https://d.github.io/", "https://d.github.io/"),
        ({"Source": "https://example.invalid/e"}, "https://example.invalid/e", None),
    ],
)
def test_the_hosted_docs_url_comes_from_the_metadata_only(
    urls: dict[str, str], home_page: str | None, expected: str | None
) -> None:
    document = PackageDocument(name="demo", version="1.0", project_urls=urls, home_page=home_page)
    assert hosted_docs_url(document) == expected


def test_a_table_of_contents_is_cut_to_its_room_and_counts_what_it_left_out() -> None:
    toc = TableOfContents(
        tuple(
            TocEntry(f"Page {n}", f"docs/page{n}.rst", (TocEntry(f"Sub {n}", f"docs/sub{n}.rst"),)) for n in range(40)
        )
    )
    text, left_out = fit_toc(toc, 120)
    assert 0 < count_json_tokens(text) <= 120 and text.endswith("- …")
    assert left_out == 80 - (len(text.splitlines()) - 1)
    assert fit_toc(toc, 100_000) == (toc.render(max_entries=80), 0)


def test_many_long_unknown_section_names_on_a_large_set_cost_bounded_time() -> None:
    units = [
        Unit("docs", f"Heading {n}", (f"Page {n // 10}",), (f"Text {n}.",), (False,), page=f"docs/p{n // 10}.rst",
             heading_path=(f"Page {n // 10}", f"Heading {n}"))
        for n in range(3000)
    ]  # fmt: skip
    names = tuple(f"docs/p{n}.rs" + "x" * 5000 for n in range(1000))
    started = time.perf_counter()
    sequence, missing = unit_sequence(UnitSet(units), None, names)
    suggestions = nearest_names(units, missing)
    assert sequence == [] and len(missing) == 1000 and len(suggestions) <= 100
    assert time.perf_counter() - started < 5.0
