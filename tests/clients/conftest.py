"""Fixtures for the client interop tests: the scripted project, and the Node clients' folder."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.clients.scenario import make_project

NODE_DIR = Path(__file__).resolve().parent / "node"


@pytest.fixture
def interop_project(tmp_path: Path) -> Path:
    return make_project(tmp_path)


@pytest.fixture
def interop_env(cli_env: dict[str, str], tmp_path: Path) -> dict[str, str]:
    """The server's environment: the loopback index, a private cache, the project in the roots."""
    return {**cli_env, "AUTODOCS_ALLOWED_ROOTS": str(tmp_path)}


@pytest.fixture(scope="session")
def node() -> str:
    """The ``node`` executable, with the pinned clients installed (``scripts/check.sh`` does it).

    Skips only when there is no Node.js at all; with Node but without the clients the test
    fails, saying how to install them.
    """
    executable = shutil.which("node")
    if executable is None:
        pytest.skip("Node.js is not installed: scripts/check.sh installs it (apt-get, as root)")
    version = subprocess.run([executable, "--version"], capture_output=True, text=True, check=True).stdout
    if int(version.strip().lstrip("v").split(".")[0]) < 18:
        pytest.skip(f"Node.js {version.strip()} is older than 18, which the pinned clients need")
    if not (NODE_DIR / "node_modules" / "@modelcontextprotocol" / "sdk").is_dir():
        pytest.fail(f"the Node clients are not installed: run scripts/check.sh (or `npm ci` in {NODE_DIR})")
    return executable
