"""The `autodocs` command as a user runs it: a real subprocess against the loopback index."""

from __future__ import annotations

import json
import re
import shlex
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


def test_context_text_lists_a_dependency_it_cannot_document_with_the_reason(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("click\nlocalpkg @ file:///opt/src/localpkg\n")
    result = run(["context", str(project)], cli_env)
    assert result.returncode == 0, result.stderr
    assert "localpkg: skipped: a local path without a version" in " ".join(result.stdout.split())
    assert "1 ok, 0 failed, 1 skipped" in result.stdout
    scan = run(["scan", str(project)], cli_env)
    assert "localpkg: skipped: a local path without a version" in " ".join(scan.stdout.split())


def test_cache_stats_and_clear(cli_env: dict[str, str]) -> None:
    cli_env = {**cli_env, "AUTODOCS_RELEASE_DOCS": "false"}  # a document and a release list, no docs set
    run(["docs", "click", "--json"], cli_env)
    stats = json.loads(run(["cache", "stats", "--json"], cli_env).stdout)
    assert stats["documents"] == 1 and stats["backend"] == "sqlite"
    cleared = json.loads(run(["cache", "clear", "--json"], cli_env).stdout)
    assert cleared["removed_entries"] == 2
    assert json.loads(run(["cache", "stats", "--json"], cli_env).stdout)["documents"] == 0


def test_cache_list_pages_and_prune_keeps_max_versions(cli_env: dict[str, str]) -> None:
    env = {**cli_env, "AUTODOCS_MAX_VERSIONS": "1", "AUTODOCS_RELEASE_DOCS": "false"}  # documents only
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


def test_text_output_is_not_wrapped_when_stdout_is_not_a_terminal(cli_env: dict[str, str]) -> None:
    """A pipe gets whole lines: the next-page command (longer than 80 columns) can be copied and run."""
    result = run(["docs", "requests", "--max-tokens", "600"], cli_env)
    assert result.returncode == 0, result.stderr
    more = [line for line in result.stdout.splitlines() if line.startswith("More: ")]
    assert len(more) == 1 and len(more[0]) > 80
    command = more[0].removeprefix("More: autodocs ").split()
    again = run(command, cli_env)
    assert again.returncode == 0, again.stderr
    assert "requests" in again.stdout.splitlines()[0]


def test_config_text_says_what_unset_values_mean_per_transport(cli_env: dict[str, str], tmp_path: Path) -> None:
    cache_dir = tmp_path / "a-rather-long-folder-name-for-the-cache-so-that-the-url-is-wide" / "autodocs-cache"
    result = run(["config"], {**cli_env, "AUTODOCS_CACHE_DIR": str(cache_dir)})
    assert result.returncode == 0, result.stderr
    lines = {line.split()[0]: line.split(maxsplit=1)[1] for line in result.stdout.splitlines() if line.strip()}
    assert lines["AUTODOCS_CACHE_URL"] == f"sqlite:///{cache_dir}/cache.db"
    assert "HTTP: the working directory" in lines["AUTODOCS_ALLOWED_ROOTS"]
    assert "stdio: anywhere" in lines["AUTODOCS_ALLOWED_ROOTS"]
    assert lines["AUTODOCS_AUTH_TOKEN"].startswith("(not set")
    assert "None" not in result.stdout and "[]" not in result.stdout


def test_cache_list_text_shows_readable_dates(cli_env: dict[str, str]) -> None:
    assert run(["docs", "click", "--json"], cli_env).returncode == 0
    result = run(["cache", "list"], cli_env)
    assert result.returncode == 0, result.stderr
    assert re.search(r"click .* 8\.\d+\.\d+ .* document .* \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", result.stdout)
    assert "last_used" not in result.stdout and "{" not in result.stdout


def test_search_text_hints_use_cli_syntax(cli_env: dict[str, str]) -> None:
    assert run(["docs", "requests", "--version", "==2.31.0", "--json"], cli_env).returncode == 0
    found = run(["search", "session cookie"], cli_env)
    assert found.returncode == 0, found.stderr
    assert "get_package_docs(" not in found.stdout and "get_api_reference(" not in found.stdout
    reads = [line.removeprefix("read: autodocs ") for line in found.stdout.splitlines() if line.startswith("read: ")]
    assert reads, found.stdout
    section = run(shlex.split(reads[0]), cli_env)
    assert section.returncode == 0, section.stderr
    missing = run(["search", "retry", "--package", "flask"], cli_env)
    assert "`autodocs docs NAME`" in missing.stdout and "get_package_docs" not in missing.stdout


def test_context_text_shows_each_dependencys_page_content(cli_env: dict[str, str], tmp_path: Path) -> None:
    project = tmp_path / "proj"
    project.mkdir()
    (project / "requirements.txt").write_text("requests==2.31.0\nclick\n")
    result = run(["context", str(project)], cli_env)
    assert result.returncode == 0, result.stderr
    assert "python -m pip install requests" in result.stdout  # from requests' page, not its summary
    assert "@click.command()" in result.stdout  # from click's page
