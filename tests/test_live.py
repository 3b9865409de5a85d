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
