"""Dependencies that cannot be documented are listed as skipped with the reason, never dropped."""

from __future__ import annotations

from pathlib import Path

from autodocs.manifests.documentable import docs_requests
from autodocs.manifests.scan import scan_project

PYPROJECT = """\
[tool.poetry]
name = "app"
version = "1.0"

[tool.poetry.dependencies]
python = "^3.11"
httpx = "^0.27"
poetry-core = { git = "https://github.com/python-poetry/poetry-core.git", branch = "main" }
sibling = { path = "../sibling" }
"""


def test_git_path_and_url_references_without_a_version_are_skipped_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "requirements.txt").write_text(
        "wheelpkg @ https://files.example.invalid/wheelpkg-1.4.0-py3-none-any.whl\n"
        "bare @ https://files.example.invalid/download/bare\n"
    )
    result = scan_project(tmp_path)
    skipped = {entry.name: entry for entry in result.skipped}
    assert set(skipped) == {"poetry-core", "sibling", "bare"}
    assert skipped["poetry-core"].reason.startswith("a git reference without a version")
    assert skipped["poetry-core"].source is not None and skipped["poetry-core"].source.file == "pyproject.toml"
    assert skipped["sibling"].reason.startswith("a local path without a version")
    assert skipped["bare"].reason.startswith("a direct URL without a version")
    assert docs_requests(result.dependencies) == {"httpx": "<0.28,>=0.27", "wheelpkg": "==1.4.0"}


def test_a_reference_also_declared_with_a_version_elsewhere_is_documented_not_skipped(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(PYPROJECT)
    (tmp_path / "requirements.txt").write_text("poetry-core>=1.9\n")
    result = scan_project(tmp_path)
    assert "poetry-core" not in {entry.name for entry in result.skipped}
    assert docs_requests(result.dependencies)["poetry-core"] == ">=1.9"
