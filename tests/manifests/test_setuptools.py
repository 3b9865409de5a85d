"""setup.cfg through configparser; setup.py read with ast and never run."""

from __future__ import annotations

import contextlib
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from autodocs.errors import ManifestError
from autodocs.manifests.scan import scan_project
from autodocs.manifests.setuptools import parse_setup_cfg, parse_setup_py

SETUP_CFG = """\
[metadata]
name = demo

[options]
packages = find:
install_requires =
    requests>=2.31
    importlib-metadata>=6; python_version < "3.10"
    # a comment
    click

[options.extras_require]
yaml = PyYAML>=6
test =
    pytest[testing]>=8
    pytest-cov
"""


def test_setup_cfg_install_requires_markers_and_extras() -> None:
    parsed = parse_setup_cfg(SETUP_CFG, file="setup.cfg")
    assert not parsed.problems
    deps = {(d.group, d.name): d for d in parsed.dependencies}
    assert deps["main", "requests"].specifier == ">=2.31"
    assert deps["main", "requests"].source.line == 7
    assert deps["main", "importlib-metadata"].marker == 'python_version < "3.10"'
    assert deps["main", "click"].source.line == 10
    assert deps["optional:yaml", "pyyaml"].specifier == ">=6"
    assert deps["optional:test", "pytest"].extras == ["testing"]
    assert deps["optional:test", "pytest-cov"].source.line == 16


SETUP_PY = """\
import os
from setuptools import setup

open("PWNED", "w").write("ran")
raise SystemExit("setup.py must never be executed by the scanner")

BASE = ["requests>=2.31", "click"]
EXTRA_TEST = ["pytest>=8"]

setup(
    name="demo",
    install_requires=BASE,
    extras_require={
        "test": EXTRA_TEST,
        "yaml": ["PyYAML>=6; python_version >= '3.8'"],
        "computed": [x for x in os.listdir(".")],
    },
    tests_require=open("reqs.txt").read().splitlines(),
)
"""


def test_setup_py_is_read_statically_and_never_run(tmp_path: Path, monkeypatch: object) -> None:
    (tmp_path / "setup.py").write_text(SETUP_PY)
    result = scan_project(tmp_path)
    assert not (tmp_path / "PWNED").exists()
    found = {(d.group, d.name, d.specifier, d.source.line) for d in result.dependencies}
    assert found == {
        ("main", "requests", ">=2.31", 7),
        ("main", "click", "", 7),
        ("optional:test", "pytest", ">=8", 8),
        ("optional:yaml", "pyyaml", ">=6", 15),
    }


def test_setuptools_setup_attribute_call_and_inline_lists() -> None:
    parsed = parse_setup_py(
        'import setuptools\nsetuptools.setup(install_requires=("attrs>=23",), extras_require={"x": "rich"})\n',
        file="setup.py",
    )
    assert [(d.name, d.group) for d in parsed.dependencies] == [("attrs", "main"), ("rich", "optional:x")]


def test_setup_py_syntax_error_names_the_line() -> None:
    try:
        parse_setup_py("setup(\n  install_requires=[\n", file="setup.py")
    except ManifestError as exc:
        assert exc.details["line"] is not None
    else:
        raise AssertionError("expected a ManifestError")


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_setup_cfg_parser_raises_only_manifest_error(text: str) -> None:
    with contextlib.suppress(ManifestError):
        parse_setup_cfg("[options]\ninstall_requires =\n" + text, file="setup.cfg")
    with contextlib.suppress(ManifestError):
        parse_setup_cfg(text, file="setup.cfg")


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_setup_py_parser_raises_only_manifest_error(text: str) -> None:
    with contextlib.suppress(ManifestError):
        parse_setup_py(text, file="setup.py")
    with contextlib.suppress(ManifestError):
        parse_setup_py(f"setup(install_requires=[{text!r}], extras_require={{{text!r}: [{text!r}]}})", file="setup.py")


def test_extras_key_with_a_marker_applies_it_and_empty_extra_means_main() -> None:
    parsed = parse_setup_py(
        "setup(extras_require={\n"
        '    ":sys_platform == \'win32\'": ["colorama>=0.4"],\n'
        "    \"socks:python_version >= '3.8'\": [\"PySocks>=1.5; os_name != 'nt'\"],\n"
        "})\n",
        file="setup.py",
    )
    deps = {d.name: d for d in parsed.dependencies}
    assert (deps["colorama"].group, deps["colorama"].marker) == ("main", 'sys_platform == "win32"')
    assert deps["pysocks"].group == "optional:socks"
    assert deps["pysocks"].marker == 'os_name != "nt" and python_version >= "3.8"'


def test_setup_py_computed_arguments_are_one_error_and_literal_parts_are_kept(tmp_path: Path) -> None:
    (tmp_path / "setup.py").write_text(SETUP_PY)
    result = scan_project(tmp_path)
    assert result.partial
    assert len(result.errors) == 1
    error = result.errors[0]
    assert error.file == "setup.py"
    assert error.error["type"] == "ManifestError"
    assert "extras_require, tests_require" in error.error["message"]
    assert error.error["line"] == 16, "the first computed part"
    assert {d.name for d in result.dependencies} == {"requests", "click", "pytest", "pyyaml"}


def test_setup_py_function_call_arguments_yield_nothing_and_one_error() -> None:
    parsed = parse_setup_py(
        "from setuptools import setup\n"
        "def read_requirements(name):\n    return open(name).read().splitlines()\n"
        'setup(install_requires=read_requirements("base.txt"),\n'
        '      extras_require={"dev": read_requirements("dev.txt")})\n',
        file="setup.py",
    )
    assert parsed.dependencies == []
    assert len(parsed.problems) == 1
    assert "install_requires, extras_require" in str(parsed.problems[0])
    assert parsed.problems[0].details["line"] == 4


def test_setup_py_star_unpacking_of_a_literal_name_is_followed() -> None:
    parsed = parse_setup_py(
        "from setuptools import setup\n"
        'tests_require = [\n    "pytest",\n    "responses",\n]\n'
        'dev_require = [*tests_require, "flake8"]\n'
        'setup(extras_require={"dev": dev_require, "test": tests_require})\n',
        file="setup.py",
    )
    assert not parsed.problems
    found = [(d.group, d.name, d.source.line) for d in parsed.dependencies]
    assert found == [
        ("optional:dev", "pytest", 3),
        ("optional:dev", "responses", 4),
        ("optional:dev", "flake8", 6),
        ("optional:test", "pytest", 3),
        ("optional:test", "responses", 4),
    ]
