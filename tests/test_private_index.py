"""Acceptance against a real private index server (pypiserver: Simple HTML only, no PEP 658).

`autodocs docs NAME --version ==X` and `autodocs api NAME --version ==X` run as a user runs
them, in a subprocess, once without and once with basic auth; the password never appears in
their output or logs. The environment is isolated: HOME, PIP_*, UV_* and the CA variables
are the test's own (this machine's pip configuration names extra indexes).
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import autodocs_command
from tests.support.dists import fixture_projects
from tests.support.pypiserver import PypiServer, run_pypiserver

PASSWORD = "s3cret-pypiserver-pw"


@pytest.fixture(scope="module", params=["open", "basic-auth"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    folder = tmp_path_factory.mktemp(f"pypiserver-{request.param}")
    with run_pypiserver(folder, fixture_projects(), password=PASSWORD if request.param == "basic-auth" else None) as s:
        yield s


def isolated_env(server: PypiServer, tmp_path: Path) -> dict[str, str]:
    dropped = ("AUTODOCS_", "PIP_", "UV_", "SSL_", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    (tmp_path / "home").mkdir(exist_ok=True)
    env.update(
        {
            "HOME": str(tmp_path / "home"),
            "AUTODOCS_INDEX_URL": server.simple_url,
            "AUTODOCS_CACHE_DIR": str(tmp_path / "cache"),
            "AUTODOCS_BASE_RETRY_DELAY": "0.01",
            "AUTODOCS_MAX_RETRY_DELAY": "0.05",
            "AUTODOCS_LOG_LEVEL": "DEBUG",
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*autodocs_command(), *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


@pytest.mark.parametrize(
    ("name", "version", "markup"), [("tinylib", "1.0.0", "markdown"), ("rest-lib", "1.0.0", "rst")]
)
def test_docs_of_an_exact_old_release(server: PypiServer, tmp_path: Path, name: str, version: str, markup: str) -> None:
    result = run(["docs", name, "--version", f"=={version}", "--json"], isolated_env(server, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    page = json.loads(result.stdout)
    assert (page["name"], page["version"], page["format"]) == (name, version, markup)
    assert f"{name} {version} is a small fixture library" in page["content"]
    assert PASSWORD not in result.stdout + result.stderr


def test_docs_of_a_pre_release_by_its_pin_and_the_newest_final_without_one(server: PypiServer, tmp_path: Path) -> None:
    env = isolated_env(server, tmp_path)
    pre = run(["docs", "tinylib", "--version", "==2.0.0rc1", "--json"], env)
    assert pre.returncode == 0, pre.stdout + pre.stderr
    assert json.loads(pre.stdout)["version"] == "2.0.0rc1"
    newest = run(["docs", "tinylib", "--json"], env)
    assert json.loads(newest.stdout)["version"] == "1.1.0", "a pre-release is not chosen unasked"


def test_api_reference_of_an_exact_old_release(server: PypiServer, tmp_path: Path) -> None:
    result = run(["api", "tinylib:greet", "--version", "==1.0.0", "--json"], isolated_env(server, tmp_path))
    assert result.returncode == 0, result.stdout + result.stderr
    reply = json.loads(result.stdout)
    assert reply["version"] == "1.0.0"
    assert "the 1.0.0 way" in result.stdout
    assert PASSWORD not in result.stdout + result.stderr


def test_a_version_the_index_does_not_have_names_the_nearest(server: PypiServer, tmp_path: Path) -> None:
    result = run(["docs", "tinylib", "--version", "==1.0.7", "--json"], isolated_env(server, tmp_path))
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert error["type"] == "VersionNotFound" and error["retryable"] is False
    assert "1.0.0" in error["available_versions"]
    assert PASSWORD not in result.stdout + result.stderr


def test_wrong_password_is_a_clear_error_without_the_password(server: PypiServer, tmp_path: Path) -> None:
    if server.password is None:
        pytest.skip("the open server asks for no password")
    env = isolated_env(server, tmp_path)
    env["AUTODOCS_INDEX_URL"] = server.simple_url.replace(PASSWORD, "wrong-guess-pw")
    result = run(["docs", "tinylib", "--version", "==1.0.0", "--json"], env)
    assert result.returncode == 1
    error = json.loads(result.stdout)["error"]
    assert ("401" in error["message"] or "403" in error["message"]) and error["retryable"] is False
    assert any("credentials" in suggestion for suggestion in error["suggestions"])
    assert "wrong-guess-pw" not in result.stdout + result.stderr
