"""Version metadata from the index → a :class:`PackageDocument` (done once per version).

In order: badge and shield images are removed first, in a step of their own
(:mod:`autodocs.docs.badges`: markdown-it-py's block structure and inline parse for Markdown,
``html.parser`` for HTML, explicit-markup blocks for reStructuredText); then the description is
split into titled sections (:mod:`autodocs.docs.sections`: headings found by markdown-it-py and
docutils, the parsers of a release's docs pages; bodies kept as their source), and
:mod:`autodocs.docs.changelog` puts the release in front of a title under a release heading
(``0.27.0 › Fixed``); the requirements are parsed (:mod:`autodocs.docs.requirements`: common
shapes by regex, checked equal to ``packaging``; the rest by it). A document records the
``DOCUMENT_BUILD`` that made it; the stores read an older one as a miss, so it is built again
from fresh metadata.
"""

from __future__ import annotations

from typing import Any

from packaging.utils import canonicalize_name

from autodocs.docs.badges import strip_badges
from autodocs.docs.changelog import release_titles
from autodocs.docs.model import DOCUMENT_BUILD, DocSection, PackageDocument, RequirementInfo
from autodocs.docs.requirements import parse_requirement
from autodocs.docs.sections import DocFormat, detect_format, split_document, split_markdown
from autodocs.index.models import VersionMetadata

__all__ = ["build_document"]

_PLACEHOLDERS = {"", "UNKNOWN", "None"}
_MAX_LICENSE_CHARS = 200
#: The markup once known, told to the section readers so they do not guess it again.
_CONTENT_TYPES: dict[DocFormat, str] = {"markdown": "text/markdown", "rst": "text/x-rst", "text": "text/plain"}


def build_document(metadata: VersionMetadata, *, max_description_chars: int) -> PackageDocument:
    info = metadata.info
    description = _text(info.get("description"))
    truncated = len(description) > max_description_chars
    if truncated:
        cut = description.rfind("\n", 0, max_description_chars)
        description = description[: cut if cut > max_description_chars // 2 else max_description_chars]
    content_type = _text(info.get("description_content_type")) or None
    markup = detect_format(description, content_type)
    if markup == "markdown":  # badges and headings from one parse
        description_format: DocFormat = markup
        parts = split_markdown(description)
    else:
        description_format, parts = split_document(strip_badges(description, markup), _CONTENT_TYPES[markup])
    # Each section's cost (and its title's) is counted when a page first has to choose among
    # sections, or before the document is stored, and kept beside it (docs.derived).
    titles = release_titles([(part.title, part.level) for part in parts])
    sections = [
        DocSection(title=title, anchor=part.anchor, level=part.level, content=part.content)
        for part, title in zip(parts, titles, strict=True)
    ]
    document = PackageDocument(
        build=DOCUMENT_BUILD,
        name=canonicalize_name(metadata.name or "unknown"),
        version=metadata.version,
        summary=_text(info.get("summary")) or None,
        requires_python=_text(info.get("requires_python")) or None,
        license=_license(info),
        home_page=_text(info.get("home_page")) or None,
        project_urls=_project_urls(info),
        requirements=_requirements(info.get("requires_dist")),
        yanked=bool(info.get("yanked")),
        yanked_reason=_text(info.get("yanked_reason")) or None,
        description_format=description_format,
        description_truncated=truncated,
        sections=sections,
    )
    return document


def _text(value: Any) -> str:
    if not isinstance(value, str):
        return ""
    stripped = value.strip()
    return "" if stripped in _PLACEHOLDERS else stripped


def _license(info: dict[str, Any]) -> str | None:
    text = _text(info.get("license_expression")) or _text(info.get("license"))
    if not text:
        classifiers = info.get("classifiers") or []
        names = [c.split(" :: ")[-1] for c in classifiers if isinstance(c, str) and c.startswith("License ::")]
        text = ", ".join(names)
    if not text:
        return None
    first_line = text.splitlines()[0].strip()
    return first_line[:_MAX_LICENSE_CHARS] + ("..." if len(first_line) > _MAX_LICENSE_CHARS or "\n" in text else "")


def _project_urls(info: dict[str, Any]) -> dict[str, str]:
    urls: dict[str, str] = {}
    raw = info.get("project_urls")
    if isinstance(raw, dict):
        for label, url in raw.items():
            if isinstance(label, str) and isinstance(url, str) and url.strip():
                urls[label.strip()] = url.strip()
    docs_url = _text(info.get("docs_url"))
    if docs_url and docs_url not in urls.values():
        urls["Documentation (index)"] = docs_url
    return urls


def _requirements(raw: Any) -> list[RequirementInfo]:
    if not isinstance(raw, list):
        return []
    found: list[RequirementInfo] = []
    for item in raw:
        if not isinstance(item, str):
            continue
        parsed = parse_requirement(item)
        if parsed is not None:
            found.append(parsed)  # frozen: shared by every document that lists the same string
    return found
