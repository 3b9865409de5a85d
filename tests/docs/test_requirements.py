"""The requirement fast path reads every string exactly as packaging does, or hands it over."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodocs.docs import requirements
from autodocs.docs.model import RequirementInfo
from autodocs.docs.requirements import parse_requirement

INDEX_DATA = Path(__file__).resolve().parents[1] / "data" / "index"


def by_packaging(item: str) -> RequirementInfo | None:
    """What packaging alone says (the fast path's reference)."""
    return requirements._parse_with_packaging(item)


def fresh(item: str) -> RequirementInfo | None:
    requirements.parse_requirement.cache_clear()
    requirements._parse_marker.cache_clear()
    return parse_requirement(item)


def recorded_requirements() -> list[str]:
    found: set[str] = set()
    for path in INDEX_DATA.rglob("*.json"):
        if path.name == "MANIFEST.json":
            continue
        info = json.loads(path.read_text()).get("info") or {}
        found.update(item for item in info.get("requires_dist") or [] if isinstance(item, str))
    return sorted(found)


def test_every_recorded_requirement_reads_as_packaging_reads_it() -> None:
    items = recorded_requirements()
    assert len(items) > 300, "the recorded index data should hold hundreds of requirement strings"
    mismatches = [item for item in items if fresh(item) != by_packaging(item)]
    assert mismatches == []


def test_most_recorded_requirements_take_the_fast_path() -> None:
    """Otherwise the fast path is dead weight: it must cover the shapes indexes really serve."""
    items = recorded_requirements()
    fast = [item for item in items if _fast_only(item) is not None]
    assert len(fast) / len(items) > 0.9


def _fast_only(item: str) -> RequirementInfo | None:
    head, separator, marker_text = item.partition(";")
    simple = requirements._HEAD.fullmatch(head)
    if "@" in head or simple is None:
        return None
    marker = requirements._simple_marker(marker_text) if separator else None
    if separator and marker is None:
        return None
    return requirements._info(simple, marker)


@pytest.mark.parametrize(
    "item",
    [
        "coverage[toml]>=5.3; extra == 'cov'",
        "Foo.Bar [ b , a ] ( >=1.0 , <2 )",
        "x[]",
        "name>=1.0,",  # packaging refuses the trailing comma; SpecifierSet alone would not
        "name >1.0 <2.0",
        "name==1.0.*",
        "name>=1.0.*",
        "name===weird-1",
        "pkg; extra == 'Foo_Bar'",
        "pkg; extra == ''",
        "pkg; extra > 'a'",
        "pkg; python_version<'3.8'",
        "pkg; python_version < \"3.8\" and extra == 'dev'",
        "pkg; platform_system == 'Windows' and python_version >= '3.8' or extra == 'x'",
        "pkg; extra == 'dev' and (python_version < '3.8')",
        "mypy>=1.6; (platform_python_implementation == 'CPython' and python_version >= '3.8') and extra == 'x'",
        "pkg; (python_version < '3.8' or os_name == 'nt')",
        "pkg; os_name == 'nt' or (extra == 'a' and python_version < '3.8')",
        "pkg; ((os_name == 'nt' or extra == 'a')) and python_version < '3.8'",
        "pkg; os_name == 'a' or (extra == 'b' and (os_name == 'c'))",
        "pkg; (os_name == 'a'",
        "pkg; os_name == 'a')",
        "pkg; (os_name == '(x')",
        "pkg; ( os_name == 'a' ) and extra == 'B_c'",
        "pkg; 'linux' in sys_platform",
        "pkg; os.name == 'nt'",
        "pkg; python_implementation == 'CPython'",
        "pkg; platform_version == 'a and b'",
        "pkg; extra == 'a\"b'",
        "pkg;",
        "pkg; extra ==",
        "pkg; python_version < '3.8' and",
        "pkg @ https://example.org/pkg-1.0.tar.gz ; extra == 'x'",
        "pkg[a,b,a]>=1",
        "-bad-name>=1",
        "name[extra-]",
        "name (>=1.0",
        "",
    ],
)
def test_odd_requirements_read_as_packaging_reads_them(item: str) -> None:
    assert fresh(item) == by_packaging(item)


_names = st.sampled_from(["pkg", "Foo.Bar", "a_b-c", "x", "zope.interface"])
_extras = st.lists(st.sampled_from(["tests", "Dev", "a_b", "toml", ""]), max_size=3)
_clauses = st.lists(
    st.tuples(
        st.sampled_from(["==", "!=", "<", "<=", ">", ">=", "~=", "===", "=", "=>"]),
        st.sampled_from(
            ["1", "1.0", "2.0.*", "1.0rc1", "1!2.0", "1.0+local", "abc", "", "v1", "1.*.0", "1.0.post1", "1_0"]
        ),
    ),
    max_size=3,
)
_marker_clauses = st.lists(
    st.tuples(
        st.sampled_from(["extra", "python_version", "sys_platform", "os_name", "implementation_name", "os.name"]),
        st.sampled_from(["==", "!=", "<", ">=", "~=", "in", "not in", "==="]),
        st.sampled_from(["'dev'", '"3.8"', "'Foo_Bar'", "'win32'", "''", "3.8"]),
    ),
    max_size=3,
)


@settings(max_examples=400, deadline=None)
@given(
    name=_names,
    extras=_extras,
    clauses=_clauses,
    parenthesized=st.booleans(),
    markers=_marker_clauses,
    joiners=st.lists(st.sampled_from([" and ", " or ", "and ", " AND "]), min_size=3, max_size=3),
    spaces=st.sampled_from(["", " ", "  "]),
    groups=st.lists(st.tuples(st.integers(0, 3), st.integers(0, 3)), max_size=3),
)
def test_generated_requirements_read_as_packaging_reads_them(
    name: str,
    extras: list[str],
    clauses: list[tuple[str, str]],
    parenthesized: bool,
    markers: list[tuple[str, str, str]],
    joiners: list[str],
    spaces: str,
    groups: list[tuple[int, int]],
) -> None:
    item = name + spaces
    if extras:
        item += "[" + f",{spaces}".join(extras) + "]"
    spec = ",".join(f"{spaces}{op}{spaces}{version}" for op, version in clauses)
    item += f"({spec})" if parenthesized and spec else spec
    if markers:
        clauses_text = [markers[0][0] + spaces + markers[0][1] + spaces + markers[0][2]]
        clauses_text += [f"{variable} {op} {value}" for variable, op, value in markers[1:]]
        # Parenthesized groups over clauses first..last: nested, overlapping or unbalanced
        # when the drawn ranges say so (packaging refuses some; both paths must agree).
        for first, last in groups:
            if first < len(clauses_text):
                clauses_text[first] = f"({spaces}{clauses_text[first]}"
            if last < len(clauses_text):
                clauses_text[last] = f"{clauses_text[last]}{spaces})"
        marker = clauses_text[0]
        for joiner, clause in zip(joiners, clauses_text[1:], strict=False):
            marker += f"{joiner}{clause}"
        item += f";{spaces}{marker}"
    assert fresh(item) == by_packaging(item), item
