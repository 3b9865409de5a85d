"""A version's ``requires_dist`` strings → :class:`RequirementInfo`, exactly as ``packaging`` reads them.

``packaging`` is the authority (PEP 508), but its parser is a general tokenizer: about 45 us
for ``coverage[toml]>=5.3`` and 35 us more for the marker ``extra == 'cov'``. A document is
built on the cold path of a call, and versions list 20-40 requirements (attrs 23.2.0: 22,
1.4 ms; measured in ``bench/stdio_latency.py``, where that was a third of the work after the
index answered). Most strings have one simple shape: a name, maybe extras, maybe comma-separated
version clauses, maybe a marker made of ``variable op 'value'`` clauses joined by ``and``/``or``,
some of them grouped in one level of parentheses (what build tools write for an extra whose
requirement has its own condition; packaging's marker parser takes about 0.15 ms for those).

:func:`parse_requirement` reads that shape with two regular expressions and produces what
``packaging`` would (name canonicalized, specifiers in ``SpecifierSet``'s order, the marker in
``Marker``'s normal form: double quotes, single spaces, extra names canonicalized). Anything
else — URLs, ``===``, nested parentheses in markers, ``in``/``not in``, legacy variable names, quotes
inside values, any doubt — goes to ``packaging`` itself. ``tests/docs/test_requirements.py`` holds
the two paths equal on every requirement of the recorded index data and on generated strings.
Both paths are memoized: the same strings recur across packages and versions.
"""

from __future__ import annotations

import functools
import re

from packaging.markers import InvalidMarker, Marker
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name

from autodocs.docs.model import RequirementInfo

__all__ = ["parse_requirement"]

_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_CLAUSE = r"\s*(?:==|!=|<=|>=|~=|<|>)\s*[A-Za-z0-9*!+._-]+\s*"  # no ===: its version may hold a comma
_HEAD = re.compile(
    rf"\s*(?P<name>{_NAME})\s*"
    rf"(?:\[\s*(?P<extras>{_NAME}(?:\s*,\s*{_NAME})*)?\s*\])?\s*"
    rf"(?:(?P<spec>{_CLAUSE}(?:,{_CLAUSE})*)|\(\s*(?P<parenthesized>{_CLAUSE}(?:,{_CLAUSE})*)\s*\))?\s*"
)
_VARIABLES = (
    "python_full_version|python_version|os_name|sys_platform|platform_release|platform_system|"
    "platform_version|platform_machine|platform_python_implementation|implementation_name|"
    "implementation_version|extra"
)
_MARKER_CLAUSE = re.compile(
    rf"\s*(?P<variable>{_VARIABLES})\s*(?P<op>===|==|!=|<=|>=|~=|<|>)\s*"
    r"(?P<quote>['\"])(?P<value>[^'\"]*)(?P=quote)\s*"
)
_JOINER = re.compile(r"\s+(and|or)\s+")
_EXTRA_MARKER = re.compile(r"""\bextra\s*==\s*["']([^"']+)["']""")
#: What :func:`_parse_marker` remembers for a marker ``packaging`` refuses (a str, like the rest).
_INVALID = "\0invalid"


@functools.lru_cache(maxsize=16384)
def parse_requirement(item: str) -> RequirementInfo | None:
    """The requirement ``item`` describes, or None when ``packaging`` would refuse it."""
    head, separator, marker_text = item.partition(";")
    if "@" not in head:
        simple = _HEAD.fullmatch(head)
        if simple is not None:
            marker = _parse_marker(marker_text) if separator else None
            if marker is not _INVALID:
                try:
                    return _info(simple, marker)
                except InvalidSpecifier:
                    pass  # packaging decides (and will refuse it too)
    return _parse_with_packaging(item)


def _info(simple: re.Match[str], marker: str | None) -> RequirementInfo:
    spec = simple.group("spec") or simple.group("parenthesized") or ""
    extras = simple.group("extras")
    specifier = _normal_specifier(spec) if spec else ""
    extra_names = {extra.strip() for extra in extras.split(",")} if extras else set()
    return _requirement_info(simple.group("name"), specifier, extra_names, marker)


@functools.lru_cache(maxsize=4096)
def _normal_specifier(spec: str) -> str:
    """``SpecifierSet``'s form of ``spec`` (it raises :class:`InvalidSpecifier` as that does).

    Memoized apart from whole requirements: ``>=2``, ``<3`` and the like recur across
    packages, and parsing them is most of a requirement's cost."""
    return str(SpecifierSet(spec))


def _parse_with_packaging(item: str) -> RequirementInfo | None:
    try:
        requirement = Requirement(item)
    except InvalidRequirement:
        return None
    marker = str(requirement.marker) if requirement.marker is not None else None
    return _requirement_info(requirement.name, str(requirement.specifier), requirement.extras, marker)


def _requirement_info(name: str, specifier: str, extras: set[str], marker: str | None) -> RequirementInfo:
    return RequirementInfo(
        name=_canonical_name(name),
        specifier=specifier,
        extras=sorted(extras),
        marker=marker,
        extra=_extra_of(marker) if marker else None,
    )


@functools.lru_cache(maxsize=16384)
def _canonical_name(name: str) -> str:
    return canonicalize_name(name)


@functools.lru_cache(maxsize=4096)
def _parse_marker(text: str) -> str:
    """The marker in ``Marker``'s normal form; ``_INVALID`` when ``Marker`` refuses it."""
    fast = _simple_marker(text)
    if fast is not None:
        return fast
    try:
        return str(Marker(text))
    except InvalidMarker:
        return _INVALID


def _simple_marker(text: str) -> str | None:
    """Clauses ``variable op 'value'`` joined by and/or, in normal form; None for other shapes.

    Clauses may be grouped by one level of parentheses, as build tools write a marker that
    combines an extra with the requirement's own condition:
    ``(platform_python_implementation == 'CPython' and python_version >= '3.8') and extra == 'x'``.
    ``Marker`` keeps a group's parentheses when it holds more than one clause and drops them
    around a lone clause (the whole marker's outer ones too); nested groups go to packaging.
    """
    parts = _JOINER.split(text.strip())
    top: list[str] = []
    group: list[str] | None = None  # the clauses and joiners of the open parenthesized group
    for index, part in enumerate(parts):
        if index % 2:
            (top if group is None else group).append(part)  # "and" / "or"
            continue
        opens = closes = 0
        if "(" in part or ")" in part:
            part = part.strip()
            while part.startswith("("):
                opens += 1
                part = part[1:].lstrip()
            while part.endswith(")"):
                closes += 1
                part = part[:-1].rstrip()
            if opens > 1 or closes > 1 or (opens and group is not None) or (closes and group is None and not opens):
                return None  # nested or unbalanced: packaging decides
        clause = _MARKER_CLAUSE.fullmatch(part)
        if clause is None:
            return None
        variable, op, value = clause.group("variable", "op", "value")
        if variable == "extra":
            if op not in ("==", "!="):
                return None
            value = canonicalize_name(value)
        normal = f'{variable} {op} "{value}"'
        if opens and closes:  # "(clause)": a group of one, shown without its parentheses
            top.append(normal)
        elif opens:
            group = [normal]
        elif closes:
            assert group is not None
            group.append(normal)
            top.append(_group(group, alone=not top and index == len(parts) - 1))
            group = None
        else:
            (top if group is None else group).append(normal)
    if group is not None:
        return None  # a group that never closes: packaging refuses it
    return " ".join(top)


def _group(items: list[str], *, alone: bool) -> str:
    """A parenthesized group as ``Marker`` writes it: bare when it is the whole marker."""
    joined = " ".join(items)
    return joined if alone else f"({joined})"


@functools.lru_cache(maxsize=4096)
def _extra_of(marker: str) -> str | None:
    match = _EXTRA_MARKER.search(marker)
    return canonicalize_name(match.group(1)) if match else None
