"""scan_project: which files are read, merging, workspaces, and robustness against any input."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodocs.errors import NotADirectory, PathNotFound
from autodocs.manifests.scan import scan_project


def test_every_manifest_family_is_found_and_listed(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = ["requests"]\n')
    (tmp_path / "setup.cfg").write_text("[options]\ninstall_requires =\n    click\n")
    (tmp_path / "setup.py").write_text('from setuptools import setup\nsetup(install_requires=["rich"])\n')
    (tmp_path / "Pipfile").write_text('[packages]\nattrs = "*"\n')
    (tmp_path / "requirements.txt").write_text("httpx\n")
    result = scan_project(tmp_path)
    assert result.files_read == ["pyproject.toml", "setup.cfg", "setup.py", "Pipfile", "requirements.txt"]
    assert {d.name for d in result.dependencies} == {"requests", "click", "rich", "attrs", "httpx"}
    assert not result.partial


def test_duplicates_across_files_merge_and_keep_every_source(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = ["requests>=2", "click>=8"]\n')
    (tmp_path / "requirements.txt").write_text("Requests>=2\nclick>=7\n")
    result = scan_project(tmp_path)
    requests = [d for d in result.dependencies if d.name == "requests"]
    assert len(requests) == 1
    assert requests[0].source.file == "pyproject.toml"
    assert [(s.file, s.line) for s in requests[0].sources] == [("pyproject.toml", 2), ("requirements.txt", 1)]
    assert len([d for d in result.dependencies if d.name == "click"]) == 2, "different specifiers stay apart"


def test_uv_workspace_members_are_scanned_with_their_paths(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "root"\ndependencies = ["lib-a"]\n'
        '[tool.uv.workspace]\nmembers = ["packages/*"]\nexclude = ["packages/old"]\n'
        "[tool.uv.sources]\nlib-a = { workspace = true }\n"
    )
    for name, dependency in (("lib-a", "httpx>=0.27"), ("lib-b", "attrs"), ("old", "ancient")):
        (tmp_path / "packages" / name).mkdir(parents=True)
        (tmp_path / "packages" / name / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\ndependencies = ["{dependency}"]\n'
        )
    result = scan_project(tmp_path)
    files = {d.name: d.source.file for d in result.dependencies}
    assert files == {
        "lib-a": "pyproject.toml",
        "httpx": "packages/lib-a/pyproject.toml",
        "attrs": "packages/lib-b/pyproject.toml",
    }
    assert next(d for d in result.dependencies if d.name == "lib-a").url == "workspace"


def test_workspace_member_glob_escaping_the_root_is_refused(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "pyproject.toml").write_text('[project]\ndependencies = ["secret"]\n')
    project.mkdir()
    os.symlink(tmp_path / "elsewhere", project / "linked")
    (project / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["../elsewhere", "/etc", "linked"]\n')
    result = scan_project(project)
    assert not result.dependencies
    assert len(result.errors) == 3


def test_malformed_toml_is_a_per_file_error_with_line_and_column(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = ["requests"\n')
    (tmp_path / "requirements.txt").write_text("click\n")
    result = scan_project(tmp_path)
    assert result.partial
    assert [d.name for d in result.dependencies] == ["click"]
    (error,) = result.errors
    assert error.file == "pyproject.toml"
    assert error.error["type"] == "ManifestError"
    assert "line" in error.error["message"] and "column" in error.error["message"]


def test_bom_and_crlf_are_tolerated(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_bytes("\ufeffrequests>=2\r\nclick\r\n".encode())
    (tmp_path / "pyproject.toml").write_bytes('\ufeff[project]\r\ndependencies = [\r\n  "attrs",\r\n]\r\n'.encode())
    (tmp_path / "setup.cfg").write_bytes("\ufeff[options]\r\ninstall_requires =\r\n    rich\r\n".encode())
    result = scan_project(tmp_path)
    assert not result.errors
    assert [(d.name, d.source.line) for d in result.dependencies] == [
        ("attrs", 3),
        ("rich", 3),
        ("requests", 1),
        ("click", 2),
    ]


def test_undecodable_bytes_are_a_per_file_error(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_bytes(b"requests\n\xff\xfe\xfa\n")
    result = scan_project(tmp_path)
    assert result.errors[0].error["type"] == "ManifestError"
    assert "UTF-8" in result.errors[0].error["message"]


def test_symlink_leaving_the_root_is_not_read(tmp_path: Path) -> None:
    outside = tmp_path / "outside.txt"
    outside.write_text("secret-package\n")
    project = tmp_path / "proj"
    project.mkdir()
    os.symlink(outside, project / "requirements.txt")
    os.symlink("/etc/passwd", project / "Pipfile")
    result = scan_project(project)
    assert not result.dependencies
    assert len(result.errors) == 2
    assert all("leaves the project root" in e.error["message"] for e in result.errors)


def test_oversized_manifest_is_refused_with_the_cap_as_a_parameter(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests\n" * 1000)
    result = scan_project(tmp_path, max_bytes=1000)
    assert "1000 byte limit" in result.errors[0].error["message"]


def test_missing_and_non_directory_paths(tmp_path: Path) -> None:
    with pytest.raises(PathNotFound):
        scan_project(tmp_path / "nope")
    (tmp_path / "file.txt").write_text("")
    with pytest.raises(NotADirectory):
        scan_project(tmp_path / "file.txt")


_MANIFESTS = [
    "pyproject.toml",
    "hatch.toml",
    "setup.cfg",
    "setup.py",
    "Pipfile",
    "requirements.txt",
    "uv.lock",
    "Pipfile.lock",
    "pylock.toml",
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.binary(max_size=2000))
def test_scan_of_arbitrary_bytes_in_every_manifest_never_raises(
    tmp_path_factory: pytest.TempPathFactory, data: bytes
) -> None:
    root = tmp_path_factory.mktemp("fuzz")
    for name in _MANIFESTS:
        (root / name).write_bytes(data)
    result = scan_project(root)
    failed = {e.file for e in result.errors}
    assert all(name in result.files_read or name in failed for name in _MANIFESTS)
    assert all(e.error["type"] == "ManifestError" for e in result.errors), [e.error for e in result.errors]


def test_no_network_is_touched(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("the scanner opened a socket")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)
    (tmp_path / "requirements.txt").write_text(
        "x @ http://169.254.169.254/latest\n-e git+https://example.invalid/r#egg=r\n"
    )
    result = scan_project(tmp_path)
    assert [d.name for d in result.dependencies] == ["r"]


def test_same_package_twice_in_one_group_with_different_specifiers_is_kept_twice(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pdm.dev-dependencies]\ndocs = [\n    "mkdocs-embed",\n    "mkdocs",\n    "mkdocs-embed>=2.3.0",\n]\n'
    )
    result = scan_project(tmp_path)
    embed = [
        (d.specifier, [(s.file, s.line) for s in d.sources]) for d in result.dependencies if d.name == "mkdocs-embed"
    ]
    assert embed == [("", [("pyproject.toml", 3)]), (">=2.3.0", [("pyproject.toml", 5)])]


def test_same_requirement_twice_in_one_group_is_one_entry_with_both_sources(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("httpx>=0.27\nrich\nhttpx>=0.27\n")
    result = scan_project(tmp_path)
    httpx = [d for d in result.dependencies if d.name == "httpx"]
    assert [[(s.file, s.line) for s in d.sources] for d in httpx] == [
        [("requirements.txt", 1), ("requirements.txt", 3)]
    ]


def test_hatch_toml_environments_are_read_like_tool_hatch_envs(tmp_path: Path) -> None:
    (tmp_path / "hatch.toml").write_text(
        '[envs.default]\ndependencies = [\n  "pytest>=8",\n]\n\n[envs.docs]\nextra-dependencies = ["mkdocs"]\n'
    )
    result = scan_project(tmp_path)
    assert result.files_read == ["hatch.toml"]
    found = {(d.name, d.group, d.specifier, d.source.line) for d in result.dependencies}
    assert found == {("pytest", "group:hatch-default", ">=8", 3), ("mkdocs", "group:hatch-docs", "", 7)}


def test_a_workspace_glob_through_a_link_out_of_the_root_lists_nothing_there(tmp_path: Path) -> None:
    project = tmp_path / "proj"
    outside = tmp_path / "outside"
    (outside / "private-name").mkdir(parents=True)
    (outside / "private-name" / "pyproject.toml").write_text('[project]\ndependencies = ["secret"]\n')
    project.mkdir()
    os.symlink(outside, project / "packages")
    (project / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["packages/*", "packages/**"]\n')
    result = scan_project(project, roots=[project])
    assert not result.dependencies
    assert "private-name" not in result.model_dump_json(), "a name inside the outside folder was listed"


def test_workspace_globs_match_within_components_and_at_any_depth(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text('[tool.uv.workspace]\nmembers = ["libs/**", "apps/a?p-[0-9]"]\n')
    for folder, dependency in (("libs/one", "attrs"), ("libs/deep/two", "click"), ("apps/app-1", "rich")):
        (tmp_path / folder).mkdir(parents=True)
        (tmp_path / folder / "pyproject.toml").write_text(f'[project]\ndependencies = ["{dependency}"]\n')
    (tmp_path / "apps" / "app-x").mkdir()
    (tmp_path / "apps" / "app-x" / "pyproject.toml").write_text('[project]\ndependencies = ["not-matched"]\n')
    (tmp_path / "libs" / ".hidden").mkdir()
    (tmp_path / "libs" / ".hidden" / "pyproject.toml").write_text('[project]\ndependencies = ["hidden"]\n')
    result = scan_project(tmp_path)
    assert sorted(d.name for d in result.dependencies) == ["attrs", "click", "rich"]
