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


def reference_resolution(releases: ReleaseList, constraint: str | None) -> str | None:
    """The rules read literally: parse every version, keep the allowed ones, take the newest
    (the first listed among equal versions)."""
    from packaging.version import InvalidVersion, Version

    specifiers = parse_constraint(constraint)
    pinned = exact_pin(specifiers) is not None
    allow_pre = bool(specifiers.prereleases)
    best: tuple[Version, str] | None = None
    for release in releases.releases:
        try:
            parsed = Version(release.version)
        except InvalidVersion:
            continue
        if not pinned and (release.yanked or not release.has_files):
            continue
        if not specifiers.contains(parsed, prereleases=allow_pre or pinned):
            continue
        if best is None or parsed > best[0]:
            best = (parsed, release.version)
    return None if best is None else best[1]


def resolved_or_none(releases: ReleaseList, constraint: str | None) -> str | None:
    try:
        return resolve_version(releases, parse_constraint(constraint)).version
    except VersionNotFound:
        return None


ODD_RELEASES = ReleaseList(
    "odd",
    "2.0",
    (
        Release("1.0.0"),
        Release("v2.0"),  # normalizes to 2.0: a plain-number group must not hide it
        Release("2"),
        Release("2.0.0"),
        Release("1!0.1"),  # an epoch outranks every version without one
        Release("10.0rc1"),
        Release("9.9.post1"),
        Release("9.9"),
        Release("0.10"),
        Release("0.9.99"),
        Release("2.1.dev3"),
        Release("٣.0"),  # a non-ASCII digit is no plain number (and no version)
        Release("09.9.1"),  # a leading zero: still major 9
        Release("9.10rc2"),  # a minor that is not a plain number is parsed whole
        Release("9.9+local"),
        Release("8"),
    ),
    0.0,
)

CONSTRAINTS = [None, "<1", "<2", ">=2", ">=2.0b1", "~=2.0", "==2.*", "!=9.9", "<10", "<9.9.post1", "==2.0", "<1!0"]


@pytest.mark.parametrize("constraint", CONSTRAINTS)
def test_resolution_matches_the_literal_rules_on_odd_version_lists(constraint: str | None) -> None:
    assert resolved_or_none(ODD_RELEASES, constraint) == reference_resolution(ODD_RELEASES, constraint)


def test_resolution_matches_the_literal_rules_on_every_recorded_project() -> None:
    import json

    from autodocs.index.source import _parse_releases
    from tests.support.fake_index import DEFAULT_DATA_DIR

    checked = 0
    for path in sorted((DEFAULT_DATA_DIR / "projects").glob("*.json")):
        data = json.loads(path.read_text())
        releases = ReleaseList(path.stem, "", _parse_releases(data["releases"]), 0.0)
        latest = str(data["info"]["version"])
        for constraint in [*CONSTRAINTS, f"<{latest}", f"=={latest}", f"<={latest}"]:
            assert resolved_or_none(releases, constraint) == reference_resolution(releases, constraint), (
                path.stem,
                constraint,
            )
            checked += 1
    assert checked > 1000


_version_strings = st.sampled_from(
    [
        "0.1",
        "1",
        "1.0",
        "01.0",
        "1.0.0",
        "1.2rc1",
        "1.10",
        "1.9.9",
        "2.0.dev1",
        "2",
        "2.0+x",
        "2.post1",
        "v2.1",
        "1!0.1",
        "3.0a1",
        "3.0",
        "03",
        "10.0",
        "9.99",
        "junk",
        "٣.0",
        "1.2.3.4",
        "2.0.0",
    ]
)


@given(
    versions=st.lists(st.tuples(_version_strings, st.booleans(), st.booleans()), max_size=12),
    constraint=st.sampled_from([None, "<2", ">=1.2rc1", "==2.*", "!=3.0", "~=1.0", "==1", "<1!0", ">1.9"]),
)
def test_resolution_matches_the_literal_rules_on_generated_version_lists(
    versions: list[tuple[str, bool, bool]], constraint: str | None
) -> None:
    releases = ReleaseList("generated", "", tuple(Release(v, yanked=y, has_files=f) for v, y, f in versions), 0.0)
    assert resolved_or_none(releases, constraint) == reference_resolution(releases, constraint)
