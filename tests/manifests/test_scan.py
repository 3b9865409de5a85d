"""First-cut scanning: PEP 621 pyproject.toml and requirements files, with per-file errors."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodocs.errors import NotADirectory, PathNotFound
from autodocs.manifests import scan_project
from autodocs.manifests.pyproject import parse_pyproject

PYPROJECT = """\
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


def test_pep621_dependencies_and_extras(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    result = scan_project(tmp_path)
    assert result.files_read == ["pyproject.toml"]
    deps = {(d.name, d.group): d for d in result.dependencies}
    assert deps["requests", "main"].specifier == "<3,>=2.31"
    assert deps["requests", "main"].source.line == 4
    assert deps["pydantic", "main"].extras == ["dotenv", "email"]
    assert deps["tomli", "main"].marker == 'python_version < "3.11"'
    assert deps["rich", "optional:cli"].source.line == 10
    assert deps["click", "optional:cli"].specifier == ""
    assert all(d.pinned_version is None for d in result.dependencies)


def test_requirements_file_features(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "# comment\n"
        "--index-url https://example.invalid/simple\n"
        "requests==2.31.0 \\\n"
        "    --hash=sha256:abc\n"
        "httpx[http2]>=0.27 ; python_version >= '3.9'  # trailing\n"
        "-r requirements-dev.txt\n"
        "-e git+https://example.invalid/org/repo.git#egg=mylib\n"
        "-c constraints.txt\n"
    )
    (tmp_path / "requirements-dev.txt").write_text("pytest>=8\n")
    (tmp_path / "constraints.txt").write_text("urllib3<2\n")
    result = scan_project(tmp_path)
    found = [(d.name, d.specifier, d.group, d.source.file, d.source.line) for d in result.dependencies]
    assert ("requests", "==2.31.0", "main", "requirements.txt", 3) in found
    assert ("httpx", ">=0.27", "main", "requirements.txt", 5) in found
    assert ("pytest", ">=8", "main", "requirements-dev.txt", 1) in found  # included from main
    assert ("pytest", ">=8", "dev", "requirements-dev.txt", 1) in found  # and read on its own
    mylib = next(d for d in result.dependencies if d.name == "mylib")
    assert mylib.url and mylib.url.startswith("git+")
    assert not any(d.name == "urllib3" for d in result.dependencies), "constraints add no dependency"


def test_malformed_toml_is_a_per_file_error_with_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = ["requests"\n')
    (tmp_path / "requirements.txt").write_text("click\n")
    result = scan_project(tmp_path)
    assert result.partial
    assert [d.name for d in result.dependencies] == ["click"]
    (error,) = result.errors
    assert error.file == "pyproject.toml"
    assert error.error["type"] == "ManifestError"
    assert "line 3" in error.error["message"] or "line 2" in error.error["message"]
    assert "column" in error.error["message"]


def test_invalid_requirement_line_names_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests\nnot a valid == requirement !!\n")
    result = scan_project(tmp_path)
    assert result.errors[0].error["line"] == 2


def test_bom_and_crlf_are_tolerated(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_bytes("\ufeffrequests>=2\r\nclick\r\n".encode())
    result = scan_project(tmp_path)
    assert [d.name for d in result.dependencies] == ["requests", "click"]


def test_undecodable_bytes_are_a_per_file_error(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_bytes(b"requests\n\xff\xfe\xfa\n")
    result = scan_project(tmp_path)
    assert result.errors[0].error["type"] == "ManifestError"
    assert "UTF-8" in result.errors[0].error["message"]


def test_include_cycle_and_escape_are_refused(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r requirements-b.txt\n")
    (tmp_path / "requirements-b.txt").write_text("-r requirements.txt\n-r ../../../etc/passwd\n")
    result = scan_project(tmp_path)
    messages = " ".join(e.error["message"] for e in result.errors)
    assert "cycle" in messages or "outside" in messages
    assert result.partial


def test_symlink_leaving_the_root_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret-package\n")
    project = tmp_path / "proj"
    project.mkdir()
    os.symlink(outside, project / "requirements.txt")
    result = scan_project(project)
    assert not result.dependencies
    assert "leaves the project root" in result.errors[0].error["message"]


def test_oversized_manifest_is_refused(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests\n" * 1000)
    result = scan_project(tmp_path, max_bytes=1000)
    assert "limit" in result.errors[0].error["message"]


def test_missing_and_non_directory_paths(tmp_path: Path) -> None:
    with pytest.raises(PathNotFound):
        scan_project(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("")
    with pytest.raises(NotADirectory):
        scan_project(tmp_path / "file.txt")


@settings(max_examples=150, deadline=None)
@given(st.text())
def test_pyproject_parser_never_raises_anything_but_manifest_error(text: str) -> None:
    from autodocs.errors import ManifestError

    with contextlib.suppress(ManifestError):
        parse_pyproject(text, file="pyproject.toml")


@settings(max_examples=100, deadline=None)
@given(st.binary(max_size=2000))
def test_scan_of_arbitrary_bytes_never_raises(tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    (root / "requirements.txt").write_bytes(data)
    (root / "pyproject.toml").write_bytes(data)
    result = scan_project(root)
    assert len(result.errors) + len(result.files_read) == 2
