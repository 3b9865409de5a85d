"""Every recorded package's first page stays within max_tokens, down to the smallest allowed budget.

A long header (a package with a hundred optional-extra requirements) must shrink rather than
push the page over a small budget; the reply says what it left out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autodocs.docs.build import build_document
from autodocs.docs.model import PackageDocument, reply_json
from autodocs.docs.pages import MIN_TOKENS, PageRequest, make_page, measure_reply_overhead
from autodocs.docs.tokens import count_tokens
from autodocs.index.models import VersionMetadata

PROJECTS = sorted((Path(__file__).resolve().parents[1] / "data" / "index" / "projects").glob("*.json"))


def _document(path: Path) -> PackageDocument:
    info = json.loads(path.read_text())["info"]
    document = build_document(VersionMetadata.from_info(info), max_description_chars=50_000)
    measure_reply_overhead(document)
    return document


@pytest.mark.parametrize("budget", [MIN_TOKENS, 600, 1500, 5000])
def test_first_pages_of_every_recorded_package_fit_the_budget(budget: int) -> None:
    over = []
    for path in PROJECTS:
        document = _document(path)
        for query in (None, "how do I install it"):
            page = make_page(document, PageRequest(budget=budget, query=query))
            tokens = count_tokens(reply_json(page))
            if tokens > budget:
                over.append(f"{path.stem} query={query!r}: {tokens} > {budget}")
            assert page.content or not document.sections, path.stem  # always some progress
    assert not over, "\n".join(over)


def test_a_header_too_long_for_the_budget_lists_runtime_requirements_and_says_so() -> None:
    celery = _document(next(p for p in PROJECTS if p.stem == "celery"))
    assert celery.header_tokens > 1000  # a hundred optional-extra requirements
    page = make_page(celery, PageRequest(budget=1000))
    runtime = [r for r in celery.requirements if r.extra is None]
    assert len(page.requirements) == len(runtime) < len(celery.requirements)
    assert any("optional extras" in w for w in page.warnings)
    full = make_page(celery, PageRequest(budget=20_000))
    assert len(full.requirements) == len(celery.requirements) and not full.warnings
