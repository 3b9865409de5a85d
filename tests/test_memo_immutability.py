"""Values that memos hand to more than one caller cannot be changed by any of them.

Each test takes a value from a memo (the service's page memo, the module-level
``lru_cache``s) and tries to change it the ways a caller could; what the next caller
gets must be what the first one got.
"""

from __future__ import annotations

import json

import pytest
from packaging.specifiers import SpecifierSet
from pydantic import BaseModel, ValidationError

from autodocs.docs.api_model import ApiDocstring, ApiObject, ApiParameter, ApiReference, ApiSource, DocItem
from autodocs.docs.model import (
    ApiMatch,
    DocSection,
    DocsPage,
    PackageDocument,
    RequirementInfo,
    SectionRef,
    page_reply,
)
from autodocs.docs.requirements import parse_requirement
from autodocs.resolve import parse_constraint
from autodocs.service import AutoDocsService


async def test_a_memoized_docs_page_refuses_every_change(service: AutoDocsService) -> None:
    page = await service.get_package_docs("requests")
    assert page.sections and page.project_urls and page.requirements
    with pytest.raises(ValidationError):
        page.tokens = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        page.warnings = ("changed",)  # type: ignore[misc]
    with pytest.raises(AttributeError):
        page.sections.append("changed")  # type: ignore[attr-defined]
    with pytest.raises(TypeError):
        page.project_urls["changed"] = "https://example.invalid"  # type: ignore[index]


async def test_the_next_caller_of_a_memoized_page_gets_what_the_first_got(service: AutoDocsService) -> None:
    first = await service.get_package_docs("requests")
    seen = first.model_dump()
    changed = first.model_copy(update={"warnings": ("changed",), "tokens": 1})  # how a caller changes a page
    again = await service.get_package_docs("requests")
    assert changed.warnings == ("changed",)
    assert again.model_dump() | {"source": seen["source"]} == seen


@pytest.mark.parametrize(
    "model",
    [
        DocsPage,
        ApiMatch,
        SectionRef,
        PackageDocument,
        DocSection,
        RequirementInfo,
        ApiReference,
        ApiObject,
        ApiParameter,
        ApiDocstring,
        DocItem,
        ApiSource,
    ],
)
def test_memoized_models_are_frozen(model: type[BaseModel]) -> None:
    assert model.model_config.get("frozen") is True


async def test_a_cached_document_is_never_changed_by_the_pages_made_from_it(service: AutoDocsService) -> None:
    first = await service.get_package_docs("rich")  # whole: counted as one reply
    key = (service.index_key, "rich", first.version)
    document = service.resolution.documents.get(key)
    assert document is not None
    seen = (document.model_dump(), document.__pydantic_private__)
    cut = await service.get_package_docs("rich", max_tokens=600)  # its sections' costs are needed
    assert cut.next_cursor is not None
    await service.get_package_docs("rich", cursor=cut.next_cursor)  # a later page's header
    await service.get_package_docs("rich", query="progress bar", max_tokens=800)
    await service.get_package_docs("rich", sections=["Installing"])
    await service.flush_writes()  # the stored copy is counted
    assert service.resolution.documents.get(key) is document
    assert (document.model_dump(), document.__pydantic_private__) == seen
    stored = await service.store.get_document(service.index_key, "rich", first.version)
    assert stored is not None and all(section.tokens for section in stored.sections)
    assert all(section.tokens == 0 for section in document.sections)
    with pytest.raises(ValidationError):
        document.header_tokens = 1  # type: ignore[misc]
    with pytest.raises(ValidationError):
        document.sections[0].tokens = 1  # type: ignore[misc]


def test_an_api_reference_cannot_be_changed_in_place() -> None:
    reference = ApiReference.model_validate(
        {
            "package": "demo",
            "version": "1.0",
            "object_path": "demo",
            "source": {"kind": "wheel", "location": "demo-1.0.whl", "distribution_version": "1.0"},
            "object": {"path": "demo", "kind": "module", "members": ["f"]},
            "members": [
                {
                    "path": "demo.f",
                    "kind": "function",
                    "parameters": [{"name": "x", "kind": "positional-or-keyword"}],
                    "docstring": {"summary": "F.", "raises": [{"description": "never"}]},
                }
            ],
        }
    )
    member = reference.members[0]
    assert member.docstring is not None
    with pytest.raises(ValidationError):
        member.signature = "changed"  # type: ignore[misc]
    with pytest.raises(ValidationError):
        member.parameters[0].default = "1"  # type: ignore[misc]
    for sequence in (reference.members, reference.object.members, member.parameters, member.docstring.raises):
        with pytest.raises(AttributeError):
            sequence.append(sequence[0])  # type: ignore[union-attr]


def test_a_documents_sequences_and_urls_cannot_be_changed_in_place() -> None:
    document = PackageDocument.model_validate(
        {
            "name": "demo",
            "version": "1.0",
            "project_urls": {"Source": "https://example.invalid/src"},
            "requirements": [{"name": "idna", "extras": ["a"]}],
            "sections": [{"title": "Intro", "anchor": "intro", "level": 1, "content": "text"}],
        }
    )
    with pytest.raises(TypeError):
        document.project_urls["Source"] = "https://example.invalid/other"  # type: ignore[index]
    with pytest.raises(AttributeError):
        document.sections.append(document.sections[0])  # type: ignore[attr-defined]
    with pytest.raises(AttributeError):
        document.requirements[0].extras.append("b")  # type: ignore[attr-defined]
    assert document.model_dump(mode="json")["project_urls"] == {"Source": "https://example.invalid/src"}


def test_a_memoized_requirement_cannot_be_changed_by_its_caller() -> None:
    first = parse_requirement('httpx[http2,socks]>=0.27; extra == "client"')
    assert first is not None
    with pytest.raises(ValidationError):
        first.specifier = ">=0"  # type: ignore[misc]
    with pytest.raises(AttributeError):
        first.extras.append("brotli")  # type: ignore[attr-defined]
    again = parse_requirement('httpx[http2,socks]>=0.27; extra == "client"')
    assert again is not None and again.as_pep508() == 'httpx[http2,socks]>=0.27; extra == "client"'


def test_changing_a_parsed_constraint_does_not_change_the_next_callers() -> None:
    first = parse_constraint(">=2.0")
    first.prereleases = True
    for specifier in first:
        specifier.prereleases = True
    again = parse_constraint(">=2.0")
    fresh = SpecifierSet(">=2.0")
    assert again.prereleases is fresh.prereleases is None
    assert [s.prereleases for s in again] == [s.prereleases for s in fresh]
    assert again.contains("2.1b1") is fresh.contains("2.1b1")


async def test_changing_a_replys_structured_content_does_not_change_the_next_reply(service: AutoDocsService) -> None:
    page = await service.get_package_docs("requests")
    payload, text = page_reply(page)
    payload["sections"].append("changed")
    payload["name"] = "changed"
    again, again_text = page_reply(page)  # the same page again: its reply is the memo's
    assert again_text == text and again == json.loads(text)
