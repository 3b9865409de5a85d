"""Lock files pin direct dependencies; transitive packages go to locked_only."""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodocs.errors import ManifestError
from autodocs.manifests.locks import parse_lock
from autodocs.manifests.scan import scan_project

PYPROJECT = """\
[project]
name = "app"
version = "0.1.0"
dependencies = ["requests>=2.31", "click"]

[dependency-groups]
dev = ["pytest>=8"]
"""

UV_LOCK = """\
version = 1
requires-python = ">=3.11"

[[package]]
name = "app"
version = "0.1.0"
source = { editable = "." }
dependencies = [{ name = "requests" }, { name = "click" }]

[[package]]
name = "certifi"
version = "2024.2.2"
source = { registry = "https://example.invalid/simple" }

[[package]]
name = "click"
version = "8.1.7"
source = { registry = "https://example.invalid/simple" }

[[package]]
name = "pytest"
version = "8.1.1"
source = { registry = "https://example.invalid/simple" }

[[package]]
name = "requests"
version = "2.31.0"
source = { registry = "https://example.invalid/simple" }
dependencies = [{ name = "certifi" }]
"""

POETRY_LOCK = """\
[[package]]
name = "certifi"
version = "2024.2.2"
description = "Python package for providing Mozilla's CA Bundle."
optional = false
python-versions = ">=3.6"
files = []

[[package]]
name = "click"
version = "8.1.7"
optional = false
python-versions = ">=3.7"
files = []

[[package]]
name = "pytest"
version = "8.1.1"
optional = false
python-versions = ">=3.8"
files = []

[[package]]
name = "requests"
version = "2.31.0"
optional = false
python-versions = ">=3.7"
files = []

[metadata]
lock-version = "2.0"
python-versions = "^3.11"
content-hash = "abc"
"""

PDM_LOCK = """\
[metadata]
groups = ["default", "dev"]
lock_version = "4.4.1"

[[package]]
name = "certifi"
version = "2024.2.2"
requires_python = ">=3.6"
summary = "Python package for providing Mozilla's CA Bundle."

[[package]]
name = "click"
version = "8.1.7"

[[package]]
name = "pytest"
version = "8.1.1"

[[package]]
name = "requests"
version = "2.31.0"
"""

PIPFILE_LOCK = json.dumps(
    {
        "_meta": {"hash": {"sha256": "abc"}, "pipfile-spec": 6, "requires": {}, "sources": []},
        "default": {
            "certifi": {"hashes": [], "version": "==2024.2.2"},
            "click": {"hashes": [], "version": "==8.1.7"},
            "requests": {"hashes": [], "index": "pypi", "version": "==2.31.0"},
            "mylib": {"git": "https://github.com/org/mylib.git", "ref": "abc123"},
        },
        "develop": {"pytest": {"hashes": [], "version": "==8.1.1"}},
    },
    indent=4,
)

PYLOCK_WHEEL = (
    'wheels = [{{ name = "{0}-{1}-py3-none-any.whl", url = "https://example.invalid/{0}-{1}-py3-none-any.whl", '
    'hashes = {{ sha256 = "aa" }} }}]'
)
PYLOCK = """\
lock-version = "1.0"
created-by = "uv"
requires-python = ">=3.11"

[[packages]]
name = "certifi"
version = "2024.2.2"
{certifi}

[[packages]]
name = "click"
version = "8.1.7"
{click}

[[packages]]
name = "pytest"
version = "8.1.1"
{pytest}

[[packages]]
name = "requests"
version = "2.31.0"
{requests}
""".format(
    **{
        name: PYLOCK_WHEEL.format(name, version)
        for name, version in [("certifi", "2024.2.2"), ("click", "8.1.7"), ("pytest", "8.1.1"), ("requests", "2.31.0")]
    }
)


@pytest.mark.parametrize(
    ("filename", "content"),
    [
        ("uv.lock", UV_LOCK),
        ("poetry.lock", POETRY_LOCK),
        ("pdm.lock", PDM_LOCK),
        ("Pipfile.lock", PIPFILE_LOCK),
        ("pylock.toml", PYLOCK),
        ("pylock.dev.toml", PYLOCK),
    ],
)
def test_lock_file_pins_direct_dependencies_and_lists_transitive_ones(
    tmp_path: Path, filename: str, content: str
) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / filename).write_text(content)
    result = scan_project(tmp_path)
    assert not result.errors, result.errors
    assert result.lock_files == [filename]
    pins = {d.name: d.pinned_version for d in result.dependencies}
    assert pins == {"requests": "2.31.0", "click": "8.1.7", "pytest": "8.1.1"}
    assert [(d.name, d.pinned_version, d.group) for d in result.locked_only] == [("certifi", "2024.2.2", "locked")]
    certifi = result.locked_only[0]
    assert certifi.source.file == filename
    assert certifi.source.line is not None
    assert "app" not in {d.name for d in result.locked_only}, "the project itself is not a dependency"


FORKED_UV_LOCK = """\
version = 1
requires-python = ">=3.9"
resolution-markers = [
    "python_full_version >= '3.10'",
    "python_full_version < '3.10'",
]

[[package]]
name = "numpy"
version = "2.0.2"
source = { registry = "https://example.invalid/simple" }
resolution-markers = [
    "python_full_version < '3.10'",
]

[[package]]
name = "numpy"
version = "2.2.1"
source = { registry = "https://example.invalid/simple" }
resolution-markers = [
    "python_full_version >= '3.10'",
]
"""


def forked_project(root: Path, venv_version: str | None, specifier: str = ">=1.26") -> Path:
    (root / "pyproject.toml").write_text(f'[project]\nname = "app"\ndependencies = ["numpy{specifier}"]\n')
    (root / "uv.lock").write_text(FORKED_UV_LOCK)
    if venv_version is not None:
        (root / ".venv").mkdir()
        (root / ".venv" / "pyvenv.cfg").write_text(f"home = /usr/bin\nversion_info = {venv_version}\n")
    return root


@pytest.mark.parametrize(("venv_version", "pinned"), [("3.9.18", "2.0.2"), ("3.12.1", "2.2.1")])
def test_uv_lock_fork_pins_the_version_for_the_venvs_python_and_lists_both(
    tmp_path: Path, venv_version: str, pinned: str
) -> None:
    result = scan_project(forked_project(tmp_path, venv_version))
    (numpy,) = result.dependencies
    assert (numpy.pinned_version, numpy.pinned_versions) == (pinned, ["2.2.1", "2.0.2"])
    assert result.locked_only == []


def test_uv_lock_fork_without_a_venv_pins_for_the_running_python(tmp_path: Path) -> None:
    (numpy,) = scan_project(forked_project(tmp_path, None)).dependencies
    assert numpy.pinned_version == ("2.2.1" if sys.version_info >= (3, 10) else "2.0.2")


def test_stdlib_venv_version_key_is_read_too(tmp_path: Path) -> None:
    forked_project(tmp_path, None)
    (tmp_path / "venv").mkdir()
    (tmp_path / "venv" / "pyvenv.cfg").write_text("home = /usr/bin\nversion = 3.9.2\n")
    (numpy,) = scan_project(tmp_path).dependencies
    assert numpy.pinned_version == "2.0.2"


def test_uv_lock_fork_where_no_marker_matches_pins_the_newest(tmp_path: Path) -> None:
    lock = FORKED_UV_LOCK.replace("python_full_version < '3.10'", "sys_platform == 'no-such-os'").replace(
        "python_full_version >= '3.10'", "sys_platform == 'no-such-os-either'"
    )
    forked_project(tmp_path, "3.12.1")
    (tmp_path / "uv.lock").write_text(lock)
    (numpy,) = scan_project(tmp_path).dependencies
    assert (numpy.pinned_version, numpy.pinned_versions) == ("2.2.1", ["2.2.1", "2.0.2"])


def test_poetry_lock_fork_pins_by_its_markers_too(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\ndependencies = ["click"]\n')
    (tmp_path / "poetry.lock").write_text(
        '[[package]]\nname = "click"\nversion = "8.1.8"\nmarkers = "python_version < \\"3.10\\""\n\n'
        '[[package]]\nname = "click"\nversion = "8.5.1"\nmarkers = {main = "python_version >= \\"3.10\\""}\n'
    )
    (tmp_path / ".venv").mkdir()
    (tmp_path / ".venv" / "pyvenv.cfg").write_text("version_info = 3.9.18\n")
    (click,) = scan_project(tmp_path).dependencies
    assert (click.pinned_version, click.pinned_versions) == ("8.1.8", ["8.5.1", "8.1.8"])


def test_uv_lock_fork_the_specifier_rules_out_is_neither_pinned_nor_listed(tmp_path: Path) -> None:
    (numpy,) = scan_project(forked_project(tmp_path, "3.12.1", specifier="<2.1")).dependencies
    assert (numpy.pinned_version, numpy.pinned_versions) == ("2.0.2", [])


def test_lock_version_outside_the_specifier_is_not_pinned(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests>=3\n")
    (tmp_path / "poetry.lock").write_text(POETRY_LOCK)
    result = scan_project(tmp_path)
    assert result.dependencies[0].pinned_version is None


def test_broken_lock_file_is_a_per_file_error_and_manifests_still_scan(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "uv.lock").write_text("[[package]\nname = ")
    (tmp_path / "Pipfile.lock").write_text("{not json")
    (tmp_path / "pylock.toml").write_text('lock-version = "9.0"\ncreated-by = "x"\npackages = []\n')
    result = scan_project(tmp_path)
    assert {e.file for e in result.errors} == {"uv.lock", "Pipfile.lock", "pylock.toml"}
    assert "line 1" in next(e for e in result.errors if e.file == "uv.lock").error["message"]
    assert len(result.dependencies) == 3
    assert result.partial


@settings(max_examples=100, deadline=None)
@given(st.text(), st.sampled_from(["uv.lock", "poetry.lock", "pdm.lock", "Pipfile.lock", "pylock.toml"]))
def test_lock_parsers_raise_only_manifest_error_on_any_text(text: str, filename: str) -> None:
    with contextlib.suppress(ManifestError):
        parse_lock(text, file=filename)


_package = st.dictionaries(
    st.sampled_from(["name", "version", "source", "wheels", "directory", "editable"]),
    st.one_of(st.text(max_size=8), st.booleans(), st.just({"editable": "."}), st.just([{"name": "x"}])),
)


@settings(max_examples=100, deadline=None)
@given(st.lists(_package, max_size=4), st.sampled_from(["uv.lock", "pylock.toml"]))
def test_lock_parsers_never_raise_on_any_package_table(packages: list[dict[str, object]], filename: str) -> None:
    def toml(value: object) -> str:
        if isinstance(value, dict):
            return "{" + ", ".join(f"{k} = {toml(v)}" for k, v in value.items()) + "}"
        if isinstance(value, list):
            return "[" + ", ".join(toml(v) for v in value) + "]"
        return json.dumps(value)

    key = "packages" if filename.startswith("pylock") else "package"
    text = 'lock-version = "1.0"\ncreated-by = "t"\n'
    for package in packages:
        text += f"[[{key}]]\n" + "".join(f"{k} = {toml(v)}\n" for k, v in package.items())
    with contextlib.suppress(ManifestError):
        parse_lock(text, file=filename)


def test_a_venv_linked_outside_the_allowed_roots_is_not_read_for_the_fork_pin(tmp_path: Path) -> None:
    (tmp_path / "root" / "app").mkdir(parents=True)
    project = forked_project(tmp_path / "root" / "app", None)
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "pyvenv.cfg").write_text("version_info = 3.9.18\n")  # would pin 2.0.2 if it were read
    (project / ".venv").symlink_to(outside, target_is_directory=True)
    running = "2.2.1" if sys.version_info >= (3, 10) else "2.0.2"
    (confined,) = scan_project(project, roots=[tmp_path / "root"]).dependencies
    assert confined.pinned_version == running
    (anywhere,) = scan_project(project).dependencies  # stdio: a venv linked from elsewhere is still read
    assert anywhere.pinned_version == "2.0.2"


@pytest.mark.parametrize(
    ("filename", "entry", "reference"),
    [
        (
            "uv.lock",
            'source = { git = "https://example.invalid/lib.git?rev=v2#abc123" }',
            "git+https://example.invalid/lib.git?rev=v2#abc123",
        ),
        (
            "uv.lock",
            'source = { url = "https://example.invalid/lib-2.0.tar.gz" }',
            "https://example.invalid/lib-2.0.tar.gz",
        ),
        (
            "poetry.lock",
            '[package.source]\ntype = "git"\nurl = "https://example.invalid/lib.git"\n'
            'reference = "main"\nresolved_reference = "abc123"',
            "git+https://example.invalid/lib.git@abc123",
        ),
        ("poetry.lock", '[package.source]\ntype = "file"\nurl = "vendor/lib-2.0.tar.gz"', "vendor/lib-2.0.tar.gz"),
        (
            "pdm.lock",
            'git = "https://example.invalid/lib.git"\nrevision = "abc123"',
            "git+https://example.invalid/lib.git",
        ),
    ],
)
def test_a_lock_entry_taken_from_git_or_a_url_keeps_its_reference(filename: str, entry: str, reference: str) -> None:
    text = f'[[package]]\nname = "lib"\nversion = "2.0.0"\n{entry}\n'
    (locked,) = parse_lock(text, file=filename)
    assert (locked.name, locked.version, locked.url) == ("lib", "2.0.0", reference)


def test_a_direct_dependency_the_lock_took_from_git_is_skipped_not_pinned(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "app"\nversion = "0.1.0"\ndependencies = ["lib>=2"]\n')
    (tmp_path / "uv.lock").write_text(
        'version = 1\n\n[[package]]\nname = "lib"\nversion = "2.1.0.dev0"\n'
        'source = { git = "https://example.invalid/lib.git#abc123" }\n'
    )
    result = scan_project(tmp_path)
    (lib,) = result.dependencies
    assert lib.pinned_version is None and lib.url == "git+https://example.invalid/lib.git#abc123"
    assert [(entry.name, entry.url) for entry in result.skipped] == [("lib", lib.url)]


def test_a_pylock_package_from_vcs_or_an_archive_keeps_its_reference_and_one_from_an_index_does_not() -> None:
    text = (
        'lock-version = "1.0"\ncreated-by = "test"\n\n'
        '[[packages]]\nname = "lib"\nversion = "2.0.0"\n'
        'vcs = { type = "git", url = "https://example.invalid/lib.git", commit-id = "abc123" }\n\n'
        '[[packages]]\nname = "arch"\nversion = "1.0.0"\n'
        'archive = { url = "https://example.invalid/arch-1.0.0.tar.gz", hashes = { sha256 = "00" } }\n\n'
        '[[packages]]\nname = "idx"\nversion = "3.0.0"\nindex = "https://example.invalid/simple"\n'
        'sdist = { url = "https://example.invalid/idx-3.0.0.tar.gz", hashes = { sha256 = "00" } }\n'
    )
    found = {package.name: package.url for package in parse_lock(text, file="pylock.toml")}
    assert found == {
        "lib": "git+https://example.invalid/lib.git",
        "arch": "https://example.invalid/arch-1.0.0.tar.gz",
        "idx": None,
    }
