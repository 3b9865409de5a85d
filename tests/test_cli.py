"""The `autodocs` command as a user runs it: a real subprocess against the loopback index."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from tests.conftest import autodocs_command
from tests.support.fake_index import FakeIndex


def run(args: list[str], env: dict[str, str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*autodocs_command(), *args], env=env, capture_output=True, text=True, timeout=timeout, check=False
    )


def test_docs_json_then_cached_without_upstream_request(cli_env: dict[str, str], fake_index: FakeIndex) -> None:
    first = run(["docs", "requests", "--json"], cli_env)
    assert first.returncode == 0, first.stderr
    page = json.loads(first.stdout)
    assert page["name"] == "requests" and page["source"] == "index"
    assert {"version", "summary", "sections", "requirements", "project_urls", "truncated"} <= page.keys()
    requests_before = fake_index.request_count
    second = run(["docs", "requests", "--json"], cli_env)
    assert json.loads(second.stdout)["source"] == "cache"
    assert fake_index.request_count == requests_before


def test_docs_with_version_range(cli_env: dict[str, str]) -> None:
    result = run(["docs", "httpx", "--version", "<0.28", "--json"], cli_env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["version"] == "0.27.2"


def test_error_prints_the_error_object_and_exits_non_zero(cli_env: dict[str, str], fake_index: FakeIndex) -> None:
    result = run(["docs", "../../etc/passwd", "--json"], cli_env)
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "InvalidPackageName"
    assert set(error) >= {"type", "message", "suggestions", "retryable"}
    assert fake_index.request_count == 0
    assert "Traceback" not in result.stderr


def test_human_output_of_an_error_has_no_traceback(cli_env: dict[str, str]) -> None:
    result = run(["docs", "no-such-package-xyz"], cli_env)
    assert result.returncode == 1
    assert "PackageNotFound" in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_refuses_to_start_naming_the_variable(cli_env: dict[str, str]) -> None:
    result = run(["docs", "requests"], {**cli_env, "AUTODOCS_MAX_CONCURRENT": "0"})
    assert result.returncode == 2
    assert "AUTODOCS_MAX_CONCURRENT" in result.stderr
    assert ">= 1" in result.stderr


def test_config_masks_credentials(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "AUTODOCS_PYPI_URL": "https://user:s3cret@index.internal/pypi"}
    result = run(["config", "--json"], env)
    assert result.returncode == 0, result.stderr
    shown = json.loads(result.stdout)
    assert "s3cret" not in result.stdout
    assert shown["AUTODOCS_INDEX_URL"] == "https://user:***@index.internal/pypi", "PYPI_URL is the older name"
    assert shown["AUTODOCS_MAX_CONCURRENT"] == 10


def test_scan_json_matches_the_tool_shape(cli_env: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "pyproject.toml").write_text('[project]\nname = "p"\ndependencies = ["requests>=2.31"]\n')
    (project / "requirements-dev.txt").write_text("pytest==8.0  # tests\n")
    result = run(["scan", str(project), "--json"], cli_env)
    assert result.returncode == 0, result.stderr
    scan = json.loads(result.stdout)
    assert [(d["name"], d["specifier"], d["group"]) for d in scan["dependencies"]] == [
        ("requests", ">=2.31", "main"),
        ("pytest", "==8.0", "dev"),
    ]


def test_context_fetches_every_dependency(cli_env: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("requests==2.31.0\nclick\nno-such-package-xyz\n")
    result = run(["context", str(project), "--json"], cli_env)
    assert result.returncode == 1, "a failed dependency makes the exit code non-zero"
    context = json.loads(result.stdout)
    assert {(p["name"], p["version"]) for p in context["succeeded"]} >= {("requests", "2.31.0")}
    assert [f["name"] for f in context["failed"]] == ["no-such-package-xyz"]
    assert context["partial"] is True


def test_cache_stats_and_clear(cli_env: dict[str, str]) -> None:
    run(["docs", "click", "--json"], cli_env)
    stats = json.loads(run(["cache", "stats", "--json"], cli_env).stdout)
    assert stats["documents"] == 1 and stats["backend"] == "sqlite"
    cleared = json.loads(run(["cache", "clear", "--json"], cli_env).stdout)
    assert cleared["removed_entries"] == 2
    assert json.loads(run(["cache", "stats", "--json"], cli_env).stdout)["documents"] == 0


def test_cache_list_pages_and_prune_keeps_max_versions(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "AUTODOCS_MAX_VERSIONS": "1"}
    for version in ("2.28.2", "2.31.0"):
        assert run(["docs", "requests", "--version", f"=={version}", "--json"], env).returncode == 0
    first = json.loads(run(["cache", "list", "--limit", "1", "--json"], env).stdout)
    assert len(first["entries"]) == 1 and first["next_cursor"]
    second = json.loads(run(["cache", "list", "--limit", "1", "--cursor", first["next_cursor"], "--json"], env).stdout)
    assert second["entries"] != first["entries"]
    pruned = json.loads(run(["cache", "prune", "--json"], env).stdout)
    assert pruned["removed_entries"] == 1 and pruned["max_versions"] == 1
    assert json.loads(run(["cache", "stats", "--json"], env).stdout)["documents"] == 1


def test_invalid_cache_url_error_does_not_show_the_password(cli_env: dict[str, str]) -> None:
    result = run(["config"], {**cli_env, "AUTODOCS_CACHE_URL": "mysql://admin:hunter2@db.internal/x"})
    assert result.returncode == 2
    assert "AUTODOCS_CACHE_URL" in result.stderr
    assert "hunter2" not in result.stderr + result.stdout
