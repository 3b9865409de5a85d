"""Pipfile: [packages] and [dev-packages], '*', table forms and markers."""

from __future__ import annotations

import contextlib

from hypothesis import given, settings
from hypothesis import strategies as st

from autodocs.errors import ManifestError
from autodocs.manifests.pipfile import parse_pipfile

PIPFILE = """\
[[source]]
url = "https://example.invalid/simple"
verify_ssl = true
name = "main"

[packages]
requests = "*"
django = "==4.2.7"
celery = {version = ">=5.3", extras = ["redis"]}
pywin32 = {version = "*", sys_platform = "== 'win32'"}
gunicorn = {version = "*", markers = "os_name != 'nt'"}
mylib = {git = "https://github.com/org/mylib.git", ref = "v1.2", editable = true}
local = {path = "./local", editable = true}
Flask = "2.3.0"

[dev-packages]
pytest = ">=8"

[requires]
python_version = "3.11"
"""


def test_pipfile_packages_dev_packages_and_table_forms() -> None:
    parsed = parse_pipfile(PIPFILE, file="Pipfile")
    assert not parsed.problems
    deps = {d.name: d for d in parsed.dependencies}
    assert set(deps) == {"requests", "django", "celery", "pywin32", "gunicorn", "mylib", "local", "flask", "pytest"}
    assert deps["requests"].specifier == ""
    assert deps["requests"].source.line == 7
    assert deps["django"].specifier == "==4.2.7"
    assert deps["flask"].specifier == "==2.3.0"
    assert deps["celery"].extras == ["redis"]
    assert deps["pywin32"].marker == 'sys_platform == "win32"'
    assert deps["gunicorn"].marker == 'os_name != "nt"'
    assert deps["mylib"].url == "git+https://github.com/org/mylib.git@v1.2"
    assert deps["local"].url == "./local"
    assert deps["pytest"].group == "group:dev"
    assert deps["pytest"].source.line == 17


def test_bad_pipfile_entries_are_rejected_one_by_one() -> None:
    parsed = parse_pipfile('[packages]\nok = "*"\n"a; rm -rf /" = "*"\nx = 3\ny = "not a version"\n', file="Pipfile")
    assert [d.name for d in parsed.dependencies] == ["ok"]
    assert [p.details["line"] for p in parsed.problems] == [3, 4, 5]


_values = st.one_of(
    st.text(max_size=15),
    st.integers(),
    st.dictionaries(
        st.sampled_from(["version", "extras", "markers", "git", "ref", "path", "os_name"]), st.text(max_size=10)
    ),
)


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_pipfile_parser_raises_only_manifest_error_on_any_text(text: str) -> None:
    with contextlib.suppress(ManifestError):
        parse_pipfile(text, file="Pipfile")


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(st.text(max_size=10), _values, max_size=5))
def test_pipfile_parser_never_raises_on_any_table(table: dict[str, object]) -> None:
    import json

    def toml(value: object) -> str:
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k} = {json.dumps(v)}" for k, v in value.items()) + "}"
        return json.dumps(value)

    text = "[packages]\n" + "".join(f"{json.dumps(name)} = {toml(value)}\n" for name, value in table.items())
    with contextlib.suppress(ManifestError):
        parse_pipfile(text, file="Pipfile")
