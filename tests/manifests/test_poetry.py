"""Poetry: constraint conversion exactly as poetry-core defines it, and every table form."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodocs.errors import ManifestError
from autodocs.manifests.poetry import poetry_constraint_to_pep440, poetry_python_to_marker
from autodocs.manifests.pyproject import parse_pyproject
from autodocs.manifests.scan import scan_project


@pytest.mark.parametrize(
    ("constraint", "expected"),
    [
        ("^1.2.3", ">=1.2.3,<2.0.0"),
        ("^1.2", ">=1.2,<2.0"),
        ("^1", ">=1,<2"),
        ("^0.2.3", ">=0.2.3,<0.3.0"),
        ("^0.2", ">=0.2,<0.3"),
        ("^0.0.3", ">=0.0.3,<0.0.4"),
        ("^0.0", ">=0.0,<0.1"),
        ("^0", ">=0,<1"),
        ("^1.2.3b1", ">=1.2.3b1,<2.0.0"),
        ("~1.2.3", ">=1.2.3,<1.3.0"),
        ("~1.2", ">=1.2,<1.3"),
        ("~1", ">=1,<2"),
        ("~0.0.3", ">=0.0.3,<0.1.0"),
        ("~=1.4", "~=1.4"),
        ("*", ""),
        ("", ""),
        ("1.2.3", "==1.2.3"),
        ("==1.2.3", "==1.2.3"),
        ("1.2.*", "==1.2.*"),
        ("==1.2.*", "==1.2.*"),
        (">=1,<2", ">=1,<2"),
        (">=1.0 <2.0", ">=1.0,<2.0"),
        (">= 1.0, != 1.5", ">=1.0,!=1.5"),
        ("^1.0 || ^2.0", ">=1.0,<3.0"),
        ("^1.0 | ^2.0", ">=1.0,<3.0"),
        ("<1.0 || >=2.0", ""),
    ],
)
def test_poetry_constraint_converts_as_poetry_core_defines(constraint: str, expected: str) -> None:
    from packaging.specifiers import SpecifierSet

    assert SpecifierSet(poetry_constraint_to_pep440(constraint)) == SpecifierSet(expected)


def test_python_constraint_becomes_a_marker() -> None:
    assert poetry_python_to_marker("^3.8") == 'python_version >= "3.8" and python_version < "4.0"'
    assert poetry_python_to_marker(">=3.8.1,<4") == 'python_full_version >= "3.8.1" and python_version < "4"'
    assert poetry_python_to_marker("*") is None


def test_poetry_tables_groups_and_table_forms(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        """\
[tool.poetry]
name = "demo"
version = "0.1.0"

[tool.poetry.dependencies]
python = "^3.9"
requests = "^2.31"
Django = { version = "~4.2", extras = ["bcrypt", "argon2"] }
tomli = { version = ">=1.1", python = "<3.11" }
pywin32 = { version = "*", markers = "sys_platform == 'win32'" }
mylib = { git = "https://github.com/org/mylib.git", tag = "v1.0" }
sibling = { path = "../sibling", develop = true }
numpy = [
    { version = "<=1.24", python = ">=3.8,<3.9" },
    { version = "^1.26", python = ">=3.9" },
]
psycopg = { version = "^3.1", optional = true }

[tool.poetry.extras]
postgres = ["psycopg"]
all = ["psycopg"]

[tool.poetry.dev-dependencies]
black = "23.1.0"

[tool.poetry.group.test.dependencies]
pytest = ">=7,<9"
"""
    )
    result = scan_project(tmp_path)
    assert not result.errors
    deps = {(d.name, d.group, d.specifier): d for d in result.dependencies}
    names = {d.name for d in result.dependencies}
    assert "python" not in names
    assert ("requests", "main", "<3.0,>=2.31") in deps
    django = deps["django", "main", "<4.3,>=4.2"]
    assert django.extras == ["argon2", "bcrypt"]
    assert deps["tomli", "main", ">=1.1"].marker == 'python_version < "3.11"'
    assert deps["pywin32", "main", ""].marker == 'sys_platform == "win32"'
    assert deps["mylib", "main", ""].url == "git+https://github.com/org/mylib.git@v1.0"
    assert deps["sibling", "main", ""].url == "../sibling"
    numpy_old = deps["numpy", "main", "<=1.24"]
    numpy_new = deps["numpy", "main", "<2.0,>=1.26"]
    assert numpy_old.marker == 'python_version >= "3.8" and python_version < "3.9"'
    assert numpy_new.marker == 'python_version >= "3.9"'
    assert numpy_old.source.line == numpy_new.source.line == 13
    assert ("psycopg", "optional:postgres", "<4.0,>=3.1") in deps
    assert ("psycopg", "optional:all", "<4.0,>=3.1") in deps
    assert ("black", "group:dev", "==23.1.0") in deps
    assert ("pytest", "group:test", "<9,>=7") in deps
    assert deps["requests", "main", "<3.0,>=2.31"].source.line == 7


def test_poetry_2_project_table_wins_over_tool_poetry_duplicates(tmp_path: Path) -> None:
    parsed = parse_pyproject(
        '[project]\ndependencies = ["requests>=2"]\n[tool.poetry.dependencies]\nrequests = { source = "x" }\n',
        file="pyproject.toml",
    )
    assert [(d.name, d.specifier) for d in parsed.dependencies] == [("requests", ">=2")]


def test_bad_poetry_entry_is_rejected_alone_with_its_line(tmp_path: Path) -> None:
    parsed = parse_pyproject(
        '[tool.poetry.dependencies]\nrequests = "^2"\n"../../x" = "^1"\nbad = "^^1"\n', file="pyproject.toml"
    )
    assert [d.name for d in parsed.dependencies] == ["requests"]
    assert [p.details["line"] for p in parsed.problems] == [3, 4]
    assert "invalid distribution name" in parsed.problems[0].message


_poetry_values = st.recursive(
    st.one_of(st.text(max_size=20), st.integers(), st.booleans(), st.none().map(lambda _: "*")),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(
            st.sampled_from(["version", "extras", "markers", "python", "git", "path", "optional", "tag"]), inner
        ),
    ),
    max_leaves=8,
)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=12), _poetry_values, max_size=5))
def test_poetry_parser_never_raises_on_any_table(table: dict[str, object]) -> None:
    import tomllib  # noqa: F401  (the table is built directly, as tomllib would give it)

    from autodocs.manifests.poetry import parse_poetry
    from autodocs.manifests.toml_lines import TomlLines

    parse_poetry({"tool": {"poetry": {"dependencies": table}}}, file="pyproject.toml", lines=TomlLines(""), skip=set())


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="^~=<>!*|,. 0123456789abv", max_size=20))
def test_constraint_converter_raises_only_value_errors(constraint: str) -> None:
    with contextlib.suppress(ValueError, ManifestError):
        poetry_constraint_to_pep440(constraint)


def test_poetry_extra_names_are_normalized_in_groups() -> None:
    text = (
        "[tool.poetry.dependencies]\n"
        'python = "^3.8"\n'
        'rich = { version = "^13", optional = true }\n'
        "[tool.poetry.extras]\n"
        'Extended_Testing = ["rich"]\n'
    )
    (dependency,) = parse_pyproject(text, file="pyproject.toml").dependencies
    assert dependency.group == "optional:extended-testing"
    assert dependency.source.line == 3
