"""Shared fixtures: one loopback fake index per session, a fresh cache per test."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import hypothesis
import pytest

from autodocs.config import Settings
from autodocs.service import AutoDocsService
from tests.support.fake_index import FakeIndex

REPO_ROOT = Path(__file__).resolve().parents[1]

# CI (CI=true, or HYPOTHESIS_PROFILE=ci) replays the same examples on every run: a red build is
# the code's doing, never the draw's, and no run outlasts its time on a shared 2-core machine.
# Locally the default profile keeps exploring new examples. Tests' own max_examples still apply.
hypothesis.settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=100,
    database=None,
    print_blob=True,
    suppress_health_check=[hypothesis.HealthCheck.too_slow],
)
_ON_CI = os.environ.get("CI", "").lower() not in ("", "0", "false")
hypothesis.settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if _ON_CI else "default"))


@pytest.fixture(autouse=True)
def _no_machine_index_config(monkeypatch: pytest.MonkeyPatch) -> None:
    """This machine's pip configuration names extra indexes; settings built without
    AUTODOCS_INDEX_URL must never read it (nor the PIP_*/UV_* variables) in a test."""
    for variable in list(os.environ):
        if variable.startswith(("PIP_", "UV_")):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)


@pytest.fixture(scope="session")
def fake_index_server() -> Iterator[FakeIndex]:
    with FakeIndex() as index:
        yield index


@pytest.fixture
def fake_index(fake_index_server: FakeIndex) -> Iterator[FakeIndex]:
    fake_index_server.reset()
    fake_index_server.latency_s = 0.0
    yield fake_index_server
    fake_index_server.reset()
    fake_index_server.latency_s = 0.0


def make_settings(index: FakeIndex, cache_dir: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "cache_dir": cache_dir,
        "pypi_url": index.url,
        "base_retry_delay": 0.01,
        "max_retry_delay": 0.05,
        "request_timeout": 10.0,
        "attempt_timeout": 5.0,
    }
    values.update(overrides)
    return Settings(**values)


@pytest.fixture
def settings(fake_index: FakeIndex, tmp_path: Path) -> Settings:
    return make_settings(fake_index, tmp_path / "cache")


@pytest.fixture
async def service(settings: Settings) -> AsyncIterator[AutoDocsService]:
    async with AutoDocsService.running(settings) as running:
        yield running


@pytest.fixture
def cli_env(fake_index: FakeIndex, tmp_path: Path) -> dict[str, str]:
    """Environment for `autodocs` subprocesses: loopback index, private cache, fast retries."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTODOCS_")}
    env.update(
        {
            "AUTODOCS_PYPI_URL": fake_index.url,
            "AUTODOCS_CACHE_DIR": str(tmp_path / "cli-cache"),
            "AUTODOCS_BASE_RETRY_DELAY": "0.01",
            "AUTODOCS_MAX_RETRY_DELAY": "0.05",
            "HOME": str(tmp_path / "home"),
            "PYTHONUNBUFFERED": "1",
        }
    )
    return env


def autodocs_command() -> list[str]:
    return [sys.executable, "-m", "autodocs"]
