"""pyproject.toml: PEP 621, PEP 735 groups with includes, PDM, Hatch and uv tables."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from autodocs.errors import ManifestError
from autodocs.manifests.pyproject import parse_pyproject

PEP_621 = """\
[project]
name = "demo"
dependencies = [
    "requests>=2.31,<3",
    "Pydantic[email,dotenv]~=2.5",
    'tomli>=1.1; python_version < "3.11"',
]

[project.optional-dependencies]
cli = ["rich>=13", "click"]
"""


def _found(text: str) -> dict[tuple[str, str], list[str]]:
    parsed = parse_pyproject(text, file="pyproject.toml")
    assert not parsed.problems, parsed.problems
    found: dict[tuple[str, str], list[str]] = {}
    for dependency in parsed.dependencies:
        found.setdefault((dependency.group, dependency.name), []).append(dependency.specifier)
    return found


def test_pep621_dependencies_extras_markers_and_lines() -> None:
    parsed = parse_pyproject(PEP_621, file="pyproject.toml")
    deps = {(d.name, d.group): d for d in parsed.dependencies}
    assert deps["requests", "main"].specifier == "<3,>=2.31"
    assert deps["requests", "main"].source.line == 4
    assert deps["pydantic", "main"].extras == ["dotenv", "email"]
    assert deps["tomli", "main"].marker == 'python_version < "3.11"'
    assert deps["rich", "optional:cli"].source.line == 10
    assert deps["click", "optional:cli"].specifier == ""


def test_dependency_groups_expand_include_group() -> None:
    found = _found(
        """\
[dependency-groups]
test = ["pytest>=8", "coverage[toml]"]
typing = ["mypy>=1.11"]
dev = [{include-group = "test"}, {include-group = "typing"}, "ruff"]
"""
    )
    assert found["group:test", "pytest"] == [">=8"]
    assert found["group:dev", "pytest"] == [">=8"]
    assert found["group:dev", "mypy"] == [">=1.11"]
    assert ("group:dev", "ruff") in found
    assert ("group:typing", "pytest") not in found


def test_dependency_group_include_cycle_is_a_clear_error() -> None:
    parsed = parse_pyproject(
        '[dependency-groups]\na = [{include-group = "b"}, "x"]\nb = [{include-group = "a"}]\nc = ["ok"]\n',
        file="pyproject.toml",
    )
    assert [d.name for d in parsed.dependencies] == ["ok"]
    assert len(parsed.problems) == 2
    assert all("Cyclic" in p.message for p in parsed.problems)
    assert parsed.problems[0].details["line"] == 2


def test_pdm_dev_dependency_groups_with_editables() -> None:
    parsed = parse_pyproject(
        """\
[tool.pdm.dev-dependencies]
test = ["pytest>=8", "-e git+https://github.com/org/helper.git#egg=helper"]
lint = ["ruff"]
""",
        file="pyproject.toml",
    )
    deps = {(d.group, d.name): d for d in parsed.dependencies}
    assert deps["group:test", "pytest"].specifier == ">=8"
    assert deps["group:test", "helper"].url == "git+https://github.com/org/helper.git#egg=helper"
    assert deps["group:lint", "ruff"].source.line == 3


def test_hatch_environments_become_hatch_groups() -> None:
    found = _found(
        """\
[tool.hatch.envs.default]
dependencies = ["pytest", "coverage[toml]>=6.5"]

[tool.hatch.envs.lint]
detached = true
dependencies = ["black>=23.1.0"]
extra-dependencies = ["mypy"]
"""
    )
    assert found["group:hatch-default", "coverage"] == [">=6.5"]
    assert found["group:hatch-lint", "black"] == [">=23.1.0"]
    assert ("group:hatch-lint", "mypy") in found


def test_uv_dev_dependencies_and_sources() -> None:
    parsed = parse_pyproject(
        """\
[project]
name = "app"
dependencies = ["shared", "tool", "httpx", "sneaky"]

[tool.uv]
dev-dependencies = ["pytest>=8"]

[tool.uv.sources]
shared = { workspace = true }
tool = { git = "https://github.com/org/tool", tag = "v2" }
sneaky = { url = "http://169.254.169.254/latest/pkg.whl" }

[tool.uv.workspace]
members = ["packages/*"]
exclude = ["packages/legacy"]
""",
        file="pyproject.toml",
    )
    deps = {d.name: d for d in parsed.dependencies}
    assert deps["pytest"].group == "group:dev"
    assert deps["shared"].url == "workspace"
    assert deps["tool"].url == "git+https://github.com/org/tool@v2"
    assert deps["httpx"].url is None
    assert "sneaky" not in deps
    assert "refused" in parsed.problems[0].message
    assert parsed.workspace_members == ["packages/*"]
    assert parsed.workspace_exclude == ["packages/legacy"]


def test_dynamic_dependencies_declare_nothing() -> None:
    assert _found('[project]\nname = "x"\ndynamic = ["dependencies"]\n') == {}


def test_hostile_entries_are_rejected_one_by_one_with_reasons() -> None:
    parsed = parse_pyproject(
        """\
[project]
dependencies = [
    "requests",
    "../../x",
    "a; rm -rf /",
    "meta @ http://169.254.169.254/latest/meta-data",
    "local @ http://127.0.0.1:8080/pkg.whl",
]
""",
        file="pyproject.toml",
    )
    assert [d.name for d in parsed.dependencies] == ["requests"]
    reasons = [p.message for p in parsed.problems]
    assert [p.details["line"] for p in parsed.problems] == [4, 5, 6, 7]
    assert "invalid requirement" in reasons[0] and "invalid requirement" in reasons[1]
    assert "metadata address refused" in reasons[2] and "127.0.0.1" in reasons[3]


def test_wrong_shapes_are_problems_not_crashes() -> None:
    parsed = parse_pyproject(
        '[project]\ndependencies = "requests"\noptional-dependencies = 3\n[dependency-groups]\na = "x"\n',
        file="pyproject.toml",
    )
    assert not parsed.dependencies
    assert len(parsed.problems) == 3


def test_invalid_toml_names_line_and_column() -> None:
    try:
        parse_pyproject('[project]\ndependencies = ["requests",\n  = 3\n', file="pyproject.toml")
    except ManifestError as exc:
        assert "line 3" in exc.message and "column" in exc.message
    else:
        raise AssertionError("expected a ManifestError")


_requirement_lists = st.lists(
    st.one_of(
        st.text(max_size=30), st.integers(), st.fixed_dictionaries({"include-group": st.sampled_from(["a", "b", "c"])})
    ),
    max_size=4,
)


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_pyproject_parser_raises_only_manifest_error_on_any_text(text: str) -> None:
    with contextlib.suppress(ManifestError):
        parse_pyproject(text, file="pyproject.toml")


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.sampled_from(["a", "b", "c", "A_"]), _requirement_lists, max_size=4), _requirement_lists)
def test_pyproject_parser_never_raises_on_any_table_shape(groups: dict[str, list[object]], deps: list[object]) -> None:
    import json

    def toml_list(values: list[object]) -> str:
        return (
            "["
            + ", ".join(
                json.dumps(v) if not isinstance(v, dict) else f'{{include-group = "{v["include-group"]}"}}'
                for v in values
            )
            + "]"
        )

    text = "[project]\ndependencies = " + toml_list(deps) + "\n[dependency-groups]\n"
    text += "".join(f"{name} = {toml_list(values)}\n" for name, values in groups.items())
    text += "[tool.hatch.envs.x]\ndependencies = " + toml_list(deps) + "\n"
    text += "[tool.pdm.dev-dependencies]\ng = " + toml_list(deps) + "\n"
    with contextlib.suppress(ManifestError):
        parse_pyproject(text, file="pyproject.toml")


def test_entry_line_is_found_in_its_own_table_not_an_earlier_one() -> None:
    text = (
        "[project]\n"  # 1
        'dependencies = ["pytest-cov"]\n'  # 2
        "[tool.hatch.envs.test]\n"  # 3
        'dependencies = ["pytest-cov"]\n'  # 4
        "[tool.hatch.envs.cov]\n"  # 5
        "dependencies = [\n"  # 6
        '  "coverage",\n'  # 7
        '  "pytest-cov",\n'  # 8
        "]\n"
    )
    deps = {(d.name, d.group): d.source.line for d in parse_pyproject(text, file="pyproject.toml").dependencies}
    assert deps["pytest-cov", "main"] == 2
    assert deps["pytest-cov", "group:hatch-test"] == 4
    assert deps["pytest-cov", "group:hatch-cov"] == 8


def test_items_of_a_one_line_array_share_its_line() -> None:
    text = (
        "[project.optional-dependencies]\n"  # 1
        'tests = [\n    "pytest-xdist",\n    "attrs[tests]",\n]\n'  # 2-5
        'benchmark = ["pytest-codspeed", "pytest-xdist", "attrs[tests]"]\n'  # 6
    )
    parsed = parse_pyproject(text, file="pyproject.toml")
    lines = {(d.name, d.group): d.source.line for d in parsed.dependencies}
    assert lines["pytest-xdist", "optional:tests"] == 3
    assert lines["pytest-xdist", "optional:benchmark"] == 6
    assert lines["attrs", "optional:benchmark"] == 6


def test_entry_with_escaped_quotes_gets_its_line() -> None:
    text = '[project]\nname = "x"\ndependencies = [\n    "truststore; python_version >= \\"3.10\\"",\n]\n'
    (dependency,) = parse_pyproject(text, file="pyproject.toml").dependencies
    assert dependency.marker == 'python_version >= "3.10"'
    assert dependency.source.line == 4


def test_extra_names_are_normalized_in_groups() -> None:
    text = '[project.optional-dependencies]\nExtended_Testing = ["rich"]\n'
    (dependency,) = parse_pyproject(text, file="pyproject.toml").dependencies
    assert dependency.group == "optional:extended-testing"
