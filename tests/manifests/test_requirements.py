"""requirements files: includes, options, direct references, groups by file name, hostile lines."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autodocs.manifests.requirements import group_for_requirements_file
from autodocs.manifests.scan import scan_project


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
        "https://files.example.invalid/packages/attrs-23.1.0-py3-none-any.whl\n"
        "private @ git+https://${GITHUB_TOKEN}@github.com/org/private.git\n"
        "-e .\n"
        "--no-binary :all:\n"
    )
    (tmp_path / "requirements-dev.txt").write_text("pytest>=8\n")
    (tmp_path / "constraints.txt").write_text("urllib3<2\n")
    result = scan_project(tmp_path)
    assert not result.errors
    found = [(d.name, d.specifier, d.group, d.source.file, d.source.line) for d in result.dependencies]
    assert ("requests", "==2.31.0", "main", "requirements.txt", 3) in found
    assert ("httpx", ">=0.27", "main", "requirements.txt", 5) in found
    assert ("pytest", ">=8", "main", "requirements-dev.txt", 1) in found  # included from main
    assert ("pytest", ">=8", "dev", "requirements-dev.txt", 1) in found  # and read on its own
    deps = {d.name: d for d in result.dependencies}
    assert deps["mylib"].url == "git+https://example.invalid/org/repo.git#egg=mylib"
    assert deps["attrs"].url and deps["attrs"].specifier == ""
    assert deps["private"].url == "git+https://${GITHUB_TOKEN}@github.com/org/private.git"
    assert "urllib3" not in deps, "constraints add no dependency"
    assert deps["httpx"].extras == ["http2"]
    assert deps["httpx"].marker == 'python_version >= "3.9"'


@pytest.mark.parametrize(
    ("name", "group"),
    [
        ("requirements.txt", "main"),
        ("requirements-dev.txt", "dev"),
        ("requirements_test.txt", "test"),
        ("docs-requirements.txt", "docs"),
        ("requirements/lint.txt", "lint"),
        ("requirements/base.txt", "base"),
    ],
)
def test_group_comes_from_the_file_name(name: str, group: str) -> None:
    assert group_for_requirements_file(name) == group


def test_requirements_folder_is_scanned(tmp_path: Path) -> None:
    (tmp_path / "requirements").mkdir()
    (tmp_path / "requirements" / "base.txt").write_text("django>=4\n")
    (tmp_path / "requirements" / "test.txt").write_text("-r base.txt\npytest\n")
    result = scan_project(tmp_path)
    found = {(d.name, d.group) for d in result.dependencies}
    assert found == {("django", "base"), ("django", "test"), ("pytest", "test")}


def test_invalid_line_is_rejected_alone_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("requests\nnot a valid == requirement !!\na; rm -rf /\nclick\n")
    result = scan_project(tmp_path)
    assert [d.name for d in result.dependencies] == ["requests", "click"]
    assert [e.error["line"] for e in result.errors] == [2, 3]
    assert result.partial


def test_include_cycle_is_reported_and_the_rest_kept(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r requirements-b.txt\nflask\n")
    (tmp_path / "requirements-b.txt").write_text("-r requirements.txt\nclick\n")
    result = scan_project(tmp_path)
    assert "include cycle" in result.errors[0].error["message"]
    assert {("flask", "main"), ("click", "main"), ("click", "b"), ("flask", "b")} <= {
        (d.name, d.group) for d in result.dependencies
    }


def test_include_outside_the_root_is_refused_and_not_read(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("-r ../../../etc/passwd\n--requirement=/etc/passwd\nflask\n")
    result = scan_project(tmp_path)
    assert [d.name for d in result.dependencies] == ["flask"]
    assert len(result.errors) == 2
    assert all("outside the project root" in e.error["message"] for e in result.errors)


def test_metadata_address_urls_are_refused(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "evil @ http://169.254.169.254/latest/meta-data/\n"
        "-e git+http://metadata.google.internal/x#egg=x\n"
        "http://[::1]/pkg-1.0.tar.gz\n"
    )
    result = scan_project(tmp_path)
    assert not result.dependencies
    assert len(result.errors) == 3
    assert all("refused" in e.error["message"] for e in result.errors)


def test_twenty_megabyte_requirements_file_is_refused_by_the_default_cap(tmp_path: Path) -> None:
    line = b"requests==2.31.0\n"
    (tmp_path / "requirements.txt").write_bytes(line * (20 * 1024 * 1024 // len(line) + 1))
    (tmp_path / "requirements-dev.txt").write_text("pytest\n")
    result = scan_project(tmp_path)
    assert [d.name for d in result.dependencies] == ["pytest"]
    assert "5242880 byte limit" in result.errors[0].error["message"]
    assert result.errors[0].file == "requirements.txt"


@settings(max_examples=150, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("-re =#\\\n;@:/.[]<>~!abc12 '\"$\x00")), max_size=80))
def test_requirements_parser_never_raises_on_any_text(tmp_path_factory: pytest.TempPathFactory, text: str) -> None:
    root = tmp_path_factory.mktemp("req")
    (root / "requirements.txt").write_text(text)
    result = scan_project(root)
    assert result.files_read == ["requirements.txt"] or result.errors
    assert all(e.error["type"] == "ManifestError" for e in result.errors)


def test_nameless_vcs_reference_adds_nothing_and_is_not_an_error(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text(
        "git+https://github.com/celery/py-amqp.git\n-e git+https://github.com/celery/kombu.git\nvine>=5\n"
    )
    result = scan_project(tmp_path)
    assert not result.errors
    assert [d.name for d in result.dependencies] == ["vine"]


def test_nameless_reference_to_a_private_address_is_still_refused(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("git+http://10.0.0.5/org/repo.git\n")
    result = scan_project(tmp_path)
    assert not result.dependencies
    assert "refused" in result.errors[0].error["message"]
