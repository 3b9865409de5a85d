"""Release notes keep their release in each section's title (docs/changelog.py)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodocs.docs.build import build_document
from autodocs.docs.changelog import release_titles
from autodocs.index.models import VersionMetadata

PROJECTS = Path(__file__).resolve().parents[1] / "data" / "index" / "projects"


def test_sections_under_a_release_heading_carry_its_version() -> None:
    sections = [
        ("Overview", 0),
        ("Changelog", 1),
        ("0.27.0 (21st February, 2024)", 2),
        ("Fixed", 3),
        ("Added", 3),
        ("v0.26.0", 2),
        ("Fixed", 3),
        ("Details", 4),
        ("License", 1),
    ]
    assert release_titles(sections) == [
        "Overview",
        "Changelog",
        "0.27.0 (21st February, 2024)",
        "0.27.0 › Fixed",
        "0.27.0 › Added",
        "v0.26.0",
        "0.26.0 › Fixed",
        "0.26.0 › Details",
        "License",
    ]


@pytest.mark.parametrize(
    "heading",
    ["Version 1.0.7 (November 15th, 2024)", "[0.3.1] - 2024-01-01", "v2.14.0b2 (2026-09-09)", "2.0.0 - Unreleased"],
)
def test_release_heading_shapes_are_recognised(heading: str) -> None:
    assert release_titles([(heading, 2), ("Fixed", 3)])[1].endswith(" › Fixed")


def test_numbered_chapters_are_not_releases() -> None:
    assert release_titles([("1.2 Installation", 1), ("From source", 2)]) == ["1.2 Installation", "From source"]


@given(st.lists(st.tuples(st.text(max_size=30), st.integers(0, 6)), max_size=30))
def test_titles_only_ever_gain_a_version_prefix(sections: list[tuple[str, int]]) -> None:
    titled = release_titles(sections)
    assert len(titled) == len(sections)
    assert all(new == old or new.endswith(" › " + old) for new, (old, _) in zip(titled, sections, strict=True))


def test_a_recorded_changelog_has_no_repeated_bare_fixed_sections() -> None:
    info = json.loads((PROJECTS / "httpcore.json").read_text())["info"]
    document = build_document(VersionMetadata.from_info(info), max_description_chars=10**7)
    titles = Counter(section.title for section in document.sections)
    assert titles["Fixed"] == 0
    assert titles["0.13.6 › Fixed"] == 1
    assert all(count == 1 for title, count in titles.items() if " › " in title)
