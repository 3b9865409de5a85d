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


def parse_constraint(constraint: str | None) -> SpecifierSet:
    """Parse a user's version constraint; raise :class:`InvalidVersionSpec` with an example.

    A new set each call: ``SpecifierSet`` can be changed (its ``prereleases``, and that of
    the specifiers it yields), so a memoized one would let one caller change the next's.
    The checked, normalized text is what is memoized; building the set from it costs 0.5-3 us.
    """
    return SpecifierSet(_constraint_text(constraint))


@functools.lru_cache(maxsize=1024)
def _constraint_text(constraint: str | None) -> str:
    """The constraint as ``SpecifierSet`` text (``""``: any version), checked once per string."""
    text = (constraint or "").strip()
    if text.lower() in ("", "*", "latest", "any"):
        return ""
    if len(text) > _MAX_SPEC_LENGTH:
        raise InvalidVersionSpec(f"The version constraint is {len(text)} characters long; that is not a specifier.")
    if text[0].isdigit():
        text = f"=={text}"
    try:
        return str(SpecifierSet(text))
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

    Parsing every version string is most of the cost (big projects list hundreds), so the
    releases are grouped by their leading numbers first, which needs no parsing, and parsed
    from the highest group down; the search stops at a group that cannot hold anything newer
    than the best found. The grouping is in two steps, because a Python loop over every
    release is itself the next cost: each release's major number is cut out in one list
    comprehension, and only the releases of the majors searched are grouped by minor number.
    Versions that do not start with plain numbers (epochs, ``v1.0``, ``2rc1``) are always parsed.
    """
    pinned = exact_pin(specifiers) is not None
    allow_pre = bool(specifiers.prereleases)
    unconstrained = len(specifiers) == 0  # the common case: skip SpecifierSet.contains per release
    listed = releases.releases
    if pinned:
        candidates = list(enumerate(listed))
    else:
        candidates = [
            (index, release) for index, release in enumerate(listed) if release.has_files and not release.yanked
        ]
    heads = [release.version.partition(".")[0] for _, release in candidates]
    majors: dict[int, set[str]] = {}  # major number -> the head strings that spell it ("1", "01")
    other_heads: set[str] = set()
    for head in set(heads):
        if head.isascii() and head.isdigit():
            majors.setdefault(int(head), set()).add(head)
        else:
            other_heads.add(head)
    best: tuple[Version, int, Release] | None = None

    def consider(group: list[tuple[int, Release]]) -> None:
        nonlocal best
        for index, release in group:
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

    def newer_possible(key: tuple[int, ...]) -> bool:
        """Whether a release whose leading numbers are ``key`` could beat the best so far."""
        return best is None or (best[0].epoch == 0 and (*best[0].release, 0)[: len(key)] <= key)

    if other_heads:
        consider([c for c, head in zip(candidates, heads, strict=True) if head in other_heads])
    for major in sorted(majors, reverse=True):
        if not newer_possible((major,)):
            break  # every major left is older than what was found
        spelled = majors[major]
        minors: dict[int, list[tuple[int, Release]]] = {}
        unusual: list[tuple[int, Release]] = []  # "1.2rc1", "1.0+local": parsed whole
        for candidate in [c for c, head in zip(candidates, heads, strict=True) if head in spelled]:
            parts = candidate[1].version.split(".", 2)
            digits = parts[1] if len(parts) > 1 else "0"
            if digits.isascii() and digits.isdigit():
                minors.setdefault(int(digits), []).append(candidate)
            else:
                unusual.append(candidate)
        consider(unusual)
        for minor in sorted(minors, reverse=True):
            if not newer_possible((major, minor)):
                break
            consider(minors[minor])
    if best is None:
        raise _no_match(releases, specifiers)
    release = best[2]
    return ResolvedVersion(release.version, release.yanked, release.yanked_reason)


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
