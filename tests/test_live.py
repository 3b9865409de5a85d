"""Opt-in smoke test against the real package index: AUTODOCS_LIVE_TESTS=1 pytest tests/test_live.py.

Skipped by default: the test suite never depends on the internet.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autodocs.config import Settings
from autodocs.service import AutoDocsService

pytestmark = pytest.mark.skipif(os.environ.get("AUTODOCS_LIVE_TESTS") != "1", reason="set AUTODOCS_LIVE_TESTS=1")


async def test_live_index_answers_with_the_latest_release(tmp_path: Path) -> None:
    settings = Settings(cache_dir=tmp_path, request_timeout=60)
    async with AutoDocsService.running(settings) as service:
        page = await service.get_package_docs("packaging")
        assert page.version and page.source == "index"
        assert page.sections
        again = await service.get_package_docs("packaging")
        assert again.source == "cache"


#: Old pins of popular packages: the index's newest release is none of these.
OLD_PINS = [
    ("requests", "2.25.1"),
    ("flask", "1.1.4"),
    ("django", "3.2.25"),
    ("attrs", "21.4.0"),
    ("click", "7.1.2"),
    ("urllib3", "1.26.5"),
    ("pydantic", "1.10.13"),
    ("sqlalchemy", "1.4.52"),
    ("rich", "12.6.0"),
    ("httpx", "0.23.3"),
    ("fastapi", "0.95.2"),
    ("jinja2", "2.11.3"),
]


@pytest.mark.parametrize(("name", "version"), OLD_PINS)
async def test_live_old_pin_is_documented_exactly(tmp_path: Path, name: str, version: str) -> None:
    settings = Settings(cache_dir=tmp_path, request_timeout=60)
    async with AutoDocsService.running(settings) as service:
        page = await service.get_package_docs(name, f"=={version}")
        assert page.version == version and page.content


@pytest.mark.parametrize(("name", "version"), OLD_PINS[:4])
async def test_live_old_pin_has_its_exact_api_reference(tmp_path: Path, name: str, version: str) -> None:
    settings = Settings(cache_dir=tmp_path, request_timeout=120)
    async with AutoDocsService.running(settings) as service:
        reply = await service.get_api_reference(name, version_constraint=f"=={version}")
        assert reply["version"] == version
