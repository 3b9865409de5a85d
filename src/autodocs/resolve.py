"""Specifier + release list → one exact version, the way an installer would choose it.

* No specifier means the newest final release.
* Yanked releases (PEP 592) are skipped unless the specifier pins exactly (``==X``/``===X``).
* Releases with no files are skipped the same way: nothing could install them.
* Pre-releases count only when the specifier names one (e.g. ``>=2.0b1``).
* A bare version (``1.4.2``) means ``==1.4.2``; ``latest``, ``*`` and ``""`` mean no limit.
No match raises :class:`VersionNotFound` listing the available versions nearest the request.
"""

from __future__ import annotations

import bisect
import functools
from dataclasses import dataclass

from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.version import InvalidVersion, Version

from autodocs.errors import InvalidVersionSpec, VersionNotFound
from autodocs.index.models import Release, ReleaseList

__all__ = ["ResolvedVersion", "exact_pin", "nearest_versions", "parse_constraint", "resolve_version"]

_MAX_SPEC_LENGTH = 500


@dataclass(frozen=True, slots=True)
class ResolvedVersion:
    version: str
    yanked: bool = False
    yanked_reason: str | None = None


@functools.lru_cache(maxsize=1024)
def parse_constraint(constraint: str | None) -> SpecifierSet:
    """Parse a user's version constraint; raise :class:`InvalidVersionSpec` with an example.

    Memoized (10-20 us a parse, twice per docs call with the read-ahead): the same set is
    returned for the same text, so callers must not change it.
    """
    text = (constraint or "").strip()
    if text.lower() in ("", "*", "latest", "any"):
        return SpecifierSet("")
    if len(text) > _MAX_SPEC_LENGTH:
        raise InvalidVersionSpec(f"The version constraint is {len(text)} characters long; that is not a specifier.")
    if text[0].isdigit():
        text = f"=={text}"
    try:
        return SpecifierSet(text)
    except InvalidSpecifier:
        shown = text if len(text) <= 100 else text[:97] + "..."
        raise InvalidVersionSpec(f"{shown!r} is not a valid PEP 440 version specifier.") from None


def exact_pin(specifiers: SpecifierSet) -> str | None:
    """The version string when ``specifiers`` is a single exact pin (``==1.2`` or ``===1.2``)."""
    items = list(specifiers)
    if len(items) != 1:
        return None
    only = items[0]
    if only.operator == "===" or (only.operator == "==" and "*" not in only.version):
        return only.version
    return None


def resolve_version(releases: ReleaseList, specifiers: SpecifierSet) -> ResolvedVersion:
    """Choose the newest release allowed by ``specifiers`` (the first listed, among equals).

    Parsing every version string is most of the cost (big projects list thousands), so the
    releases are grouped by their first two numbers first, which needs no parsing: groups are
    parsed from the highest down, and the search stops at a group that cannot hold anything
    newer than the best found. Versions that do not start with plain numbers (epochs,
    ``v1.0``, ``2rc1``) are always parsed.
    """
    pinned = exact_pin(specifiers) is not None
    allow_pre = bool(specifiers.prereleases)
    unconstrained = len(specifiers) == 0  # the common case: skip SpecifierSet.contains per release
    groups: dict[tuple[int, int], list[tuple[int, Release]]] = {}
    always: list[tuple[int, Release]] = []
    for index, release in enumerate(releases.releases):
        if not pinned and (release.yanked or not release.has_files):
            continue
        key = _leading_pair(release.version)
        if key is None:
            always.append((index, release))
        else:
            groups.setdefault(key, []).append((index, release))
    best: tuple[Version, int, Release] | None = None

    def consider(candidates: list[tuple[int, Release]]) -> None:
        nonlocal best
        for index, release in candidates:
            parsed = _parse(release.version)
            if parsed is None:
                continue
            if unconstrained:
                if parsed.is_prerelease and not allow_pre:
                    continue
            elif not specifiers.contains(parsed, prereleases=allow_pre or pinned):
                continue
            if best is None or parsed > best[0] or (parsed == best[0] and index < best[1]):
                best = (parsed, index, release)

    consider(always)
    for key in sorted(groups, reverse=True):
        if best is not None and (best[0].epoch > 0 or (*best[0].release, 0)[:2] > key):
            break  # everything left is older than what was found
        consider(groups[key])
    if best is None:
        raise _no_match(releases, specifiers)
    release = best[2]
    return ResolvedVersion(release.version, release.yanked, release.yanked_reason)


def _leading_pair(version: str) -> tuple[int, int] | None:
    """``(major, minor)`` of a version that starts with plain numbers ("2.31.0", "1"), else None."""
    parts = version.split(".", 2)
    major = parts[0]
    minor = parts[1] if len(parts) > 1 else "0"
    if major.isascii() and major.isdigit() and minor.isascii() and minor.isdigit():
        return int(major), int(minor)
    return None


def nearest_versions(releases: ReleaseList, specifiers: SpecifierSet, count: int = 6) -> list[str]:
    """Available (non-yanked) versions closest to what the specifier mentions, oldest first."""
    available = sorted(
        (parsed, release.version)
        for release in releases.releases
        if not release.yanked and (parsed := _parse(release.version)) is not None
    )
    if not available:
        return []
    anchors = [_parse(spec.version.replace(".*", "")) for spec in specifiers]
    anchor = next((a for a in anchors if a is not None), None)
    if anchor is None:
        return [version for _, version in available[-count:]]
    position = bisect.bisect_left([parsed for parsed, _ in available], anchor)
    start = max(0, min(position - count // 2, len(available) - count))
    return [version for _, version in available[start : start + count]]


def _no_match(releases: ReleaseList, specifiers: SpecifierSet) -> VersionNotFound:
    nearest = nearest_versions(releases, specifiers)
    shown = str(specifiers) or "any version"
    suggestions = [f"Available versions near the request: {', '.join(nearest)}."] if nearest else []
    if not specifiers.prereleases and any(
        (parsed := _parse(r.version)) is not None and parsed.is_prerelease for r in releases.releases
    ):
        suggestions.append("Pre-releases are only chosen when the constraint names one, e.g. '>=2.0b1'.")
    suggestions.append("Call again with a constraint that matches one of these, or with no constraint.")
    return VersionNotFound(
        f"No release of {releases.name!r} matches {shown}.",
        suggestions=suggestions,
        available_versions=nearest,
    )


@functools.lru_cache(maxsize=65536)
def _parse(version: str) -> Version | None:
    """Parsed versions are immutable and version strings repeat across projects ("1.0.0"):
    memoized, the cold path parses each distinct string once per process."""
    try:
        return Version(version)
    except InvalidVersion:
        return None
