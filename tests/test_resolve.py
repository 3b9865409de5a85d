"""Version resolution rules, with hypothesis for the constraint parser."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodocs.errors import InvalidVersionSpec, VersionNotFound
from autodocs.index.models import Release, ReleaseList
from autodocs.resolve import exact_pin, parse_constraint, resolve_version

RELEASES = ReleaseList(
    "demo",
    "2.0",
    (
        Release("0.9"),
        Release("1.0"),
        Release("1.1", yanked=True, yanked_reason="broken"),
        Release("1.2", has_files=False),
        Release("2.0"),
        Release("3.0a1"),
        Release("not-a-version"),
    ),
    0.0,
)


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        (None, "2.0"),
        ("", "2.0"),
        ("latest", "2.0"),
        ("<2", "1.0"),
        ("==1.1", "1.1"),
        ("1.1", "1.1"),
        ("===1.2", "1.2"),
        ("~=1.0", "1.0"),
        (">=3.0a1", "3.0a1"),
        (">=2,<4", "2.0"),
        ("==1.*", "1.0"),
    ],
)
def test_resolution(constraint: str | None, expected: str) -> None:
    assert resolve_version(RELEASES, parse_constraint(constraint)).version == expected


def test_no_match_lists_nearest_versions() -> None:
    with pytest.raises(VersionNotFound) as caught:
        resolve_version(RELEASES, parse_constraint(">5"))
    assert caught.value.to_dict()["available_versions"][-1] == "3.0a1"
    assert "1.1" not in caught.value.to_dict()["available_versions"]


def test_prerelease_hint_when_only_prereleases_match() -> None:
    with pytest.raises(VersionNotFound) as caught:
        resolve_version(RELEASES, parse_constraint(">2.5"))
    assert any("Pre-releases" in s for s in caught.value.suggestions)


def test_exact_pin_detection() -> None:
    assert exact_pin(parse_constraint("==1.2.3")) == "1.2.3"
    assert exact_pin(parse_constraint("1.2.3")) == "1.2.3"
    assert exact_pin(parse_constraint("==1.*")) is None
    assert exact_pin(parse_constraint(">=1,<2")) is None


@given(st.text(max_size=600))
def test_parse_constraint_only_raises_invalid_version_spec(text: str) -> None:
    with contextlib.suppress(InvalidVersionSpec):
        parse_constraint(text)
