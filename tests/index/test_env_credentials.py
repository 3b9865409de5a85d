"""uv's and Poetry's credential variables by index name, against a real basic-auth index (pypiserver).

The project names its index without credentials; the operator's environment holds them, as uv
(``UV_INDEX_<NAME>_USERNAME``) and Poetry (``POETRY_HTTP_BASIC_<NAME>_USERNAME``) read them. Over
stdio the project's name selects them; over HTTP only the operator's own binding of that name to
the URL does (``UV_INDEX=name=url``), so a client's project cannot aim them at a host it chooses.
The password never appears in a reply, an error or the logs.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from autodocs.config import Settings
from autodocs.errors import AutoDocsError, to_error_payload
from autodocs.index.env_credentials import (
    NamedIndex,
    credential_sources,
    credential_urls,
    operator_named_indexes,
    poetry_variable,
    uv_variable,
)
from autodocs.service import AutoDocsService
from tests.conftest import autodocs_command
from tests.support.dists import fixture_projects
from tests.support.pypiserver import PypiServer, run_pypiserver

PASSWORD = "s3cret-named-index-pw"
UNREACHABLE = "http://127.0.0.1:9/simple"  # the server's own index: never needed here


def test_uv_names_are_upper_cased_with_every_other_character_an_underscore() -> None:
    assert uv_variable("internal-proxy") == "UV_INDEX_INTERNAL_PROXY"
    assert uv_variable("corp.pypi_2") == "UV_INDEX_CORP_PYPI_2"


def test_poetry_names_are_upper_cased_with_dashes_and_dots_as_underscores() -> None:
    assert poetry_variable("my-epic-source") == "POETRY_HTTP_BASIC_MY_EPIC_SOURCE"
    assert poetry_variable("corp.private") == "POETRY_HTTP_BASIC_CORP_PRIVATE"


def test_the_operator_binds_names_with_uv_index_and_poetry_repositories() -> None:
    env = {
        "UV_INDEX": "corp=https://corp.example/simple https://unnamed.example/simple",
        "POETRY_REPOSITORIES_MY_SOURCE_URL": "https://poetry.example/simple/",
    }
    assert operator_named_indexes(env) == [
        NamedIndex("https://corp.example/simple", "corp", "uv"),
        NamedIndex("https://poetry.example/simple", "my-source", "poetry"),
    ]


def test_a_project_name_selects_credentials_only_when_project_names_are_trusted() -> None:
    env = {"UV_INDEX_CORP_USERNAME": "alice", "UV_INDEX_CORP_PASSWORD": "p@ss word"}
    named = [NamedIndex("https://evil.example/simple", "corp", "uv")]
    assert credential_sources(named, trust_project_names=False, environ=env) == ()
    trusted = credential_sources(named, trust_project_names=True, environ=env)
    assert trusted == (("https://evil.example/simple", "UV_INDEX_CORP"),)
    assert credential_urls(trusted, env) == ["https://alice:p%40ss%20word@evil.example/simple"]


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PypiServer]:
    with run_pypiserver(tmp_path_factory.mktemp("pypiserver-auth"), fixture_projects(), password=PASSWORD) as s:
        yield s


def bare(server: PypiServer) -> str:
    return f"http://127.0.0.1:{server.port}/simple"


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PIP_INDEX_URL", UNREACHABLE)


def settings_for(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"cache_dir": tmp_path / "cache", "base_retry_delay": 0.01, "max_retry_delay": 0.05}
    return Settings(**{**values, **overrides})


def uv_project(folder: Path, url: str) -> str:
    folder.mkdir()
    (folder / "pyproject.toml").write_text(
        '[project]\nname = "app"\nversion = "0.1.0"\ndependencies = ["tinylib"]\n\n'
        f'[[tool.uv.index]]\nname = "corp-private"\nurl = "{url}"\ndefault = true\n'
    )
    return str(folder)


def poetry_project(folder: Path, url: str) -> str:
    folder.mkdir()
    (folder / "pyproject.toml").write_text(
        '[tool.poetry]\nname = "app"\nversion = "0.1.0"\n\n[tool.poetry.dependencies]\npython = "^3.11"\n'
        'tinylib = "^1.0"\n\n'
        f'[[tool.poetry.source]]\nname = "corp.private"\nurl = "{url}"\npriority = "primary"\n'
    )
    return str(folder)


async def docs(settings: Settings, project: str, **service_options: Any) -> dict[str, Any]:
    """The reply of a project-aware docs call, or its error, as JSON."""
    async with AutoDocsService.running(settings, **service_options) as service:
        try:
            page = await service.get_package_docs("tinylib", "==1.0.0", project_path=project)
        except AutoDocsError as exc:
            return to_error_payload(exc)
    return page.model_dump(mode="json")


async def test_uv_index_variables_by_name_open_a_basic_auth_index(
    server: PypiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = uv_project(tmp_path / "app", bare(server))
    refused = await docs(settings_for(tmp_path), project)
    assert refused["error"]["type"] == "UpstreamResponseInvalid" and "401" in refused["error"]["message"]
    monkeypatch.setenv("UV_INDEX_CORP_PRIVATE_USERNAME", "alice")
    monkeypatch.setenv("UV_INDEX_CORP_PRIVATE_PASSWORD", PASSWORD)
    reply = await docs(settings_for(tmp_path), project)
    assert (reply["version"], reply["index"]) == ("1.0.0", bare(server))
    assert PASSWORD not in json.dumps(reply)


async def test_poetry_http_basic_variables_by_source_name_open_a_basic_auth_index(
    server: PypiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("POETRY_HTTP_BASIC_CORP_PRIVATE_USERNAME", "alice")
    monkeypatch.setenv("POETRY_HTTP_BASIC_CORP_PRIVATE_PASSWORD", PASSWORD)
    reply = await docs(settings_for(tmp_path), poetry_project(tmp_path / "app", bare(server)))
    assert (reply["version"], reply["index"]) == ("1.0.0", bare(server))
    assert PASSWORD not in json.dumps(reply)


async def test_over_http_a_project_name_does_not_bind_the_operators_credentials(
    server: PypiServer, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("UV_INDEX_CORP_PRIVATE_USERNAME", "alice")
    monkeypatch.setenv("UV_INDEX_CORP_PRIVATE_PASSWORD", PASSWORD)
    project = uv_project(tmp_path / "app", bare(server))
    settings = settings_for(tmp_path, allowed_project_indexes=[bare(server)])
    http = {"allowed_roots": [tmp_path], "transport": "http"}
    refused = await docs(settings, project, **http)
    assert "401" in refused["error"]["message"] and PASSWORD not in json.dumps(refused)
    monkeypatch.setenv("UV_INDEX", f"corp-private={bare(server)}")  # the operator binds the name itself
    reply = await docs(settings, project, **http)
    assert (reply["version"], reply["index"]) == ("1.0.0", bare(server))


def test_the_cli_reads_a_named_index_with_the_password_in_no_output_or_log(server: PypiServer, tmp_path: Path) -> None:
    project = uv_project(tmp_path / "app", bare(server))
    dropped = ("AUTODOCS_", "PIP_", "UV_", "POETRY_", "SSL_", "REQUESTS_CA_BUNDLE")
    env = {key: value for key, value in os.environ.items() if not key.startswith(dropped)}
    env.update(
        {
            "HOME": str(tmp_path / "home"),
            "PIP_CONFIG_FILE": os.devnull,
            "PIP_INDEX_URL": UNREACHABLE,
            "AUTODOCS_CACHE_DIR": str(tmp_path / "cache"),
            "AUTODOCS_LOG_LEVEL": "DEBUG",
            "UV_INDEX_CORP_PRIVATE_USERNAME": "alice",
            "UV_INDEX_CORP_PRIVATE_PASSWORD": PASSWORD,
        }
    )
    for command in (["docs", "tinylib", "--project", project], ["api", "tinylib:greet", "--project", project]):
        result = subprocess.run(
            [*autodocs_command(), *command, "--version", "==1.0.0", "--json"],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        reply = json.loads(result.stdout)
        assert reply["version"] == "1.0.0" and reply["index"] == bare(server)
        assert PASSWORD not in result.stdout + result.stderr
