"""Every recorded package's first page stays within max_tokens, down to the smallest allowed budget.

A long header (a package with a hundred optional-extra requirements) must shrink rather than
push the page over a small budget; the reply says what it left out.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from autodocs.docs import pages
from autodocs.docs.budget import decode_cursor
from autodocs.docs.build import build_document
from autodocs.docs.derived import derived
from autodocs.docs.model import PackageDocument, page_reply, reply_json, reply_payload
from autodocs.docs.pages import MIN_TOKENS, PageRequest, count_costs, make_page, measure_reply_overhead
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
    assert measure_reply_overhead(celery) > 1000  # a hundred optional-extra requirements
    page = make_page(celery, PageRequest(budget=1000))
    runtime = [r for r in celery.requirements if r.extra is None]
    assert len(page.requirements) == len(runtime) < len(celery.requirements)
    assert any("optional extras" in w for w in page.warnings)
    full = make_page(celery, PageRequest(budget=20_000))
    assert len(full.requirements) == len(celery.requirements) and not full.warnings


def _fresh_document(path: Path) -> PackageDocument:
    info = json.loads(path.read_text())["info"]
    return build_document(VersionMetadata.from_info(info), max_description_chars=50_000)


@pytest.mark.parametrize("budget", [MIN_TOKENS, 1500, 30_000])
def test_a_page_counted_whole_says_its_true_size_and_is_sent_as_counted(budget: int) -> None:
    whole = 0
    for path in PROJECTS:
        document = _fresh_document(path)  # nothing counted yet: as built on a cold call
        page = make_page(document, PageRequest(budget=budget))
        payload, text = page_reply(page)
        assert json.loads(text) == payload == reply_payload(page), path.stem  # what _ok sends
        assert text == json.dumps(payload, ensure_ascii=False), path.stem
        assert count_tokens(text) <= budget, path.stem
        full_header = len(page.requirements) == len(document.requirements) and len(page.project_urls) >= len(
            document.project_urls
        )
        if not page.truncated and full_header:  # the whole document with the whole header
            whole += 1
            assert page.sections == tuple(s.title for s in document.sections), path.stem
            assert 0 <= page.tokens - count_tokens(text) <= 6, path.stem  # counted, not estimated
    assert whole >= {MIN_TOKENS: 0, 1500: len(PROJECTS) // 3, 30_000: len(PROJECTS) * 9 // 10}[budget]


def test_a_document_is_cut_with_its_costs_counted_beside_it_when_it_does_not_fit_whole() -> None:
    document = _fresh_document(next(p for p in PROJECTS if p.stem == "pydantic"))
    seen = document.model_dump()
    page = make_page(document, PageRequest(budget=1500))
    assert page.truncated and page.next_cursor
    assert document.model_dump() == seen, "the document handed to every caller never changes"
    costs = derived(document)
    assert costs.sections is not None and all(costs.sections.tokens) and costs.header_tokens > 0
    again = _fresh_document(next(p for p in PROJECTS if p.stem == "pydantic"))
    stored = count_costs(again)  # the copy the service stores
    assert again.model_dump() == seen
    assert [s.tokens for s in stored.sections] == list(costs.sections.tokens)
    assert [s.title_tokens for s in stored.sections] == list(costs.sections.titles)
    assert all(s.title_tokens > 0 for s in stored.sections if s.title)
    assert stored.header_tokens == costs.header_tokens


def test_a_stored_copy_pages_as_the_document_it_was_counted_from() -> None:
    document = _fresh_document(next(p for p in PROJECTS if p.stem == "pydantic"))
    stored = PackageDocument.model_validate_json(count_costs(document).model_dump_json())  # read back
    first = make_page(document, PageRequest(budget=1500))
    assert make_page(stored, PageRequest(budget=1500)) == first
    assert derived(stored).sections is None, "a stored copy's counts are used as they are"
    assert first.next_cursor is not None
    start = decode_cursor(first.next_cursor)
    assert make_page(stored, PageRequest(budget=1500, start=start)) == make_page(
        document, PageRequest(budget=1500, start=start)
    )


def test_a_reply_whose_fields_spell_the_content_placeholder_is_still_sent_as_counted() -> None:
    """The whole page's text is serialized around its content; a summary (or anything else)
    that happens to be the placeholder must not receive the content instead."""
    info = json.loads(next(p for p in PROJECTS if p.stem == "click").read_text())["info"]
    mark = pages._CONTENT_MARK
    info = {**info, "summary": mark, "project_urls": {mark: "https://example.org/" + mark}}
    document = build_document(VersionMetadata.from_info(info), max_description_chars=50_000)
    page = make_page(document, PageRequest(budget=30_000))
    payload, text = page_reply(page)
    assert not page.truncated and page.summary == mark
    assert text == json.dumps(payload, ensure_ascii=False)
    assert json.loads(text)["summary"] == mark and json.loads(text)["content"] == page.content
