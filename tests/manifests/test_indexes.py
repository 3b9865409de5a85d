"""The package indexes a project's files name, and the packages they pin or lock to one."""

from __future__ import annotations

from pathlib import Path

import pytest

from autodocs.manifests import ScanResult
from autodocs.manifests.requirements import parse_requirements
from autodocs.manifests.scan import scan_project


def _scan(tmp_path: Path, **files: str) -> ScanResult:
    for name, text in files.items():
        (tmp_path / name.replace("__", ".")).write_text(text, encoding="utf-8")
    return scan_project(tmp_path)


def _by_name(result: ScanResult) -> dict[str, str | None]:
    return {dependency.name: dependency.index for dependency in [*result.dependencies, *result.locked_only]}


UV_PYPROJECT = """
[project]
name = "demo"
version = "0"
dependencies = ["torch>=2", "httpx", "internal-lib", "rich"]

[[tool.uv.index]]
name = "pytorch"
url = "https://user:s3cret@torch.example.test/whl/cpu"
explicit = true

[[tool.uv.index]]
name = "corp"
url = "https://corp.example.test/simple/"
default = true

[[tool.uv.index]]
name = "first"
url = "https://first.example.test/simple"

[tool.uv.sources]
torch = { index = "pytorch" }
internal-lib = [{ index = "undeclared" }]
"""


def test_uv_index_tables_give_role_name_and_line_with_credentials_taken_out(tmp_path: Path) -> None:
    result = _scan(tmp_path, pyproject__toml=UV_PYPROJECT)
    indexes = {index.name: index for index in result.indexes}
    assert indexes["pytorch"].role == "explicit"
    assert indexes["pytorch"].url == "https://torch.example.test/whl/cpu"
    assert indexes["pytorch"].had_credentials
    assert indexes["corp"].role == "default"
    assert indexes["corp"].url == "https://corp.example.test/simple"
    assert indexes["first"].role == "primary"
    assert indexes["first"].source.file == "pyproject.toml"
    assert (
        indexes["first"].source.line == UV_PYPROJECT.splitlines().index('url = "https://first.example.test/simple"') + 1
    )
    assert "s3cret" not in result.model_dump_json()


def test_uv_source_pins_a_dependency_to_its_named_index_and_an_undeclared_name_is_an_error(tmp_path: Path) -> None:
    result = _scan(tmp_path, pyproject__toml=UV_PYPROJECT)
    assert _by_name(result)["torch"] == "https://torch.example.test/whl/cpu"
    assert _by_name(result)["rich"] is None
    assert _by_name(result)["internal-lib"] is None
    assert any("'undeclared'" in error.error["message"] for error in result.errors)


def test_uv_lock_registry_locks_each_package_to_its_index_and_lists_new_ones_as_explicit(tmp_path: Path) -> None:
    lock = """version = 1

[[package]]
name = "httpx"
version = "0.27.0"
source = { registry = "https://corp.example.test/simple" }

[[package]]
name = "anyio"
version = "4.0.0"
source = { registry = "https://other.example.test/simple" }

[[package]]
name = "demo"
version = "0"
source = { editable = "." }
"""
    result = _scan(tmp_path, pyproject__toml=UV_PYPROJECT, uv__lock=lock)
    assert _by_name(result)["httpx"] == "https://corp.example.test/simple"
    assert _by_name(result)["anyio"] == "https://other.example.test/simple"
    from_lock = [index for index in result.indexes if index.source.file == "uv.lock"]
    assert [(index.url, index.role, index.source.line) for index in from_lock] == [
        ("https://other.example.test/simple", "explicit", 9)  # the package entry naming it
    ]


def test_poetry_sources_by_priority_and_a_dependency_source_pin(tmp_path: Path) -> None:
    pyproject = """
[tool.poetry.dependencies]
python = "^3.11"
private-pkg = { version = "^1.0", source = "private" }
requests = "^2"

[[tool.poetry.source]]
name = "private"
url = "https://private.example.test/simple/"
priority = "explicit"

[[tool.poetry.source]]
name = "mirror"
url = "https://mirror.example.test/simple/"

[[tool.poetry.source]]
name = "late"
url = "https://late.example.test/simple/"
priority = "supplemental"

[[tool.poetry.source]]
name = "PyPI"
priority = "primary"
"""
    result = _scan(tmp_path, pyproject__toml=pyproject)
    assert [(index.name, index.role) for index in result.indexes] == [
        ("private", "explicit"),
        ("mirror", "default"),
        ("late", "supplemental"),
    ]
    assert _by_name(result) == {"private-pkg": "https://private.example.test/simple", "requests": None}


def test_poetry_lock_records_the_legacy_source_of_a_package(tmp_path: Path) -> None:
    lock = """
[[package]]
name = "private-pkg"
version = "1.2.0"

[package.source]
type = "legacy"
url = "https://private.example.test/simple"
reference = "private"
"""
    result = _scan(tmp_path, pyproject__toml='[project]\ndependencies = ["private-pkg"]\n', poetry__lock=lock)
    assert _by_name(result)["private-pkg"] == "https://private.example.test/simple"


@pytest.mark.parametrize(
    ("line", "role", "url"),
    [
        ("-i https://a.example.test/simple", "default", "https://a.example.test/simple"),
        ("-ihttps://a.example.test/simple", "default", "https://a.example.test/simple"),
        ("--index-url=https://a.example.test/simple/", "default", "https://a.example.test/simple"),
        ("--extra-index-url https://${TOKEN}@b.example.test/simple", "supplemental", "https://b.example.test/simple"),
        ("--extra-index-url=file:///srv/wheels", "supplemental", "file:///srv/wheels"),
    ],
)
def test_requirements_index_options_are_recorded(tmp_path: Path, line: str, role: str, url: str) -> None:
    path = tmp_path / "requirements.txt"
    path.write_text(f"{line}\nrequests\n", encoding="utf-8")
    parsed = parse_requirements(path, root=tmp_path, read_text=lambda p: p.read_text(encoding="utf-8"))
    assert [(index.role, index.url, index.source.line) for index in parsed.indexes] == [(role, url, 1)]
    assert [dependency.name for dependency in parsed.dependencies] == ["requests"]


def test_requirements_index_option_in_an_included_file_is_found_and_a_bad_url_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("--extra-index-url http://${HOST}/simple\n-i https://c.example.test/s\n")
    result = _scan(tmp_path, requirements__txt="-r base.txt\nrequests\n")
    assert [(index.url, index.source.file) for index in result.indexes] == [("https://c.example.test/s", "base.txt")]
    assert any("not an http(s) URL" in error.error["message"] for error in result.errors)


def test_pylock_records_each_packages_index(tmp_path: Path) -> None:
    lock = """lock-version = "1.0"
created-by = "a-tool"

[[packages]]
name = "httpx"
version = "0.27.0"
index = "https://corp.example.test/simple"

[[packages.wheels]]
url = "https://files.example.test/httpx-0.27.0-py3-none-any.whl"
hashes = { sha256 = "0000000000000000000000000000000000000000000000000000000000000000" }
"""
    result = _scan(tmp_path, pyproject__toml='[project]\ndependencies = ["httpx"]\n', pylock__toml=lock)
    assert not result.errors
    assert _by_name(result)["httpx"] == "https://corp.example.test/simple"
