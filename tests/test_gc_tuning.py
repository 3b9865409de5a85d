"""Garbage-collector tuning belongs to the ``autodocs`` process, not to whoever imports us.

Each check runs in a fresh interpreter: the test process's own collector state says nothing.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from autodocs.gc_tuning import YOUNG_GENERATION_THRESHOLD
from tests.conftest import REPO_ROOT

_REPORT = "print(gc.get_threshold()[0], gc.get_freeze_count() > 0)\n"


def run_python(script: str, cache_dir: Path) -> str:
    env = {key: value for key, value in os.environ.items() if not key.startswith("AUTODOCS_")}
    env["AUTODOCS_CACHE_DIR"] = str(cache_dir)
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True, cwd=REPO_ROOT, env=env
    )
    return done.stdout.strip().splitlines()[-1]


def test_importing_and_starting_the_service_leaves_the_collector_untouched(tmp_path: Path) -> None:
    script = (
        "import asyncio, gc\n"
        "before = gc.get_threshold()\n"
        "import autodocs, autodocs.cli, autodocs.server, autodocs.server.http\n"
        "from autodocs.config import load_settings\n"
        "from autodocs.server import build_server\n"
        "from autodocs.service import AutoDocsService\n"
        "async def start() -> None:\n"
        "    async with AutoDocsService.running(load_settings()):\n"
        "        pass\n"
        "asyncio.run(start())\n"
        "build_server(load_settings())\n"
        "assert gc.get_threshold() == before, (before, gc.get_threshold())\n" + _REPORT
    )
    threshold, frozen = run_python(script, tmp_path).split()
    assert threshold != str(YOUNG_GENERATION_THRESHOLD)
    assert frozen == "False"


def test_the_entry_point_tunes_the_collector_before_a_command(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    (project / "requirements.txt").write_text("httpx==0.27.0\n")
    script = (
        "import contextlib, gc, io\n"
        "from autodocs.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    assert main(['scan', {str(project)!r}, '--json']) == 0\n" + _REPORT
    )
    assert run_python(script, tmp_path / "cache") == f"{YOUNG_GENERATION_THRESHOLD} True"


def test_the_entry_point_tunes_the_collector_before_serving(tmp_path: Path) -> None:
    script = (
        "import gc\n"
        "import autodocs.server, autodocs.server.http\n"
        "from autodocs.cli import main\n"
        "def fake_serve(settings: object) -> int:\n"
        "    " + _REPORT.replace("\n", "\n    ") + "return 0\n"
        "autodocs.server.serve_stdio = fake_serve\n"
        "autodocs.server.http.serve_http = fake_serve\n"
        "assert main(['serve']) == 0\n"
        "assert main(['serve', '--transport', 'http']) == 0\n"
    )
    assert run_python(script, tmp_path) == f"{YOUNG_GENERATION_THRESHOLD} True"
