"""What a first page says about a release's docs set: its table of contents, or why there is none.

Without a query or named sections, a release with a docs set gets today's README page plus the
docs set's table of contents (page titles and paths), the two within the budget: the table takes
up to :data:`TOC_SHARE` of it (and never the room the README page needs), and lists as many
entries as fit in reading order, saying how many it left out. A release without a docs set says
why, and names the hosted documentation its metadata links to (a "Documentation"/"Docs" project
URL, else a homepage on a documentation host) — never a guessed address.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from urllib.parse import urlsplit

from autodocs.docs.model import DocsPage, PackageDocument, SectionRef, reply_json
from autodocs.docs.pages import MIN_TOKENS
from autodocs.docs.tokens import count_json_tokens, count_tokens
from autodocs.docset.toc import TableOfContents

__all__ = ["TOC_SHARE", "fit_toc", "hosted_docs_url", "status_fields", "toc_page"]

#: The share of the budget the table of contents may take on a first page.
TOC_SHARE = 0.5
#: Project URL labels that name the hosted docs, compared normalized (PEP 753: lower case, no punctuation).
_DOCS_LABELS = ("documentation", "docs", "doc")
_HOMEPAGE_LABELS = ("homepage", "home", "home page")
_DOCS_HOSTS = re.compile(r"(^|\.)(readthedocs\.io|readthedocs\.org|rtfd\.io|github\.io|gitlab\.io)$")


def hosted_docs_url(document: PackageDocument) -> str | None:
    """The release's hosted docs as its metadata names them, or None."""
    labelled = {_label(label): url for label, url in document.project_urls.items()}
    for label in _DOCS_LABELS:
        if labelled.get(label):
            return labelled[label]
    homepages = [labelled.get(label) for label in _HOMEPAGE_LABELS] + [document.home_page]
    return next((url for url in homepages if url and _on_docs_host(url)), None)


def _label(label: str) -> str:
    return re.sub(r"[^a-z0-9 ]", "", label.casefold()).strip()


def _on_docs_host(url: str) -> bool:
    parts = urlsplit(url)
    host = (parts.hostname or "").casefold()
    return bool(_DOCS_HOSTS.search(host)) or host.startswith("docs.") or parts.path.rstrip("/").endswith("/docs")


def status_fields(
    document: PackageDocument, *, pending: bool, missing_reason: str, warnings: tuple[str, ...]
) -> dict[str, object]:
    """The reply fields that say a docs set is being built, or is missing and why."""
    fields: dict[str, object] = {}
    if pending:
        fields["docs_pending"] = True
    elif missing_reason:
        fields["docs_missing"] = missing_reason
        url = hosted_docs_url(document)
        if url:
            fields["hosted_docs_url"] = url
    if warnings:
        fields["warnings"] = list(warnings)
    return fields


def status_tokens(fields: dict[str, object]) -> int:
    """What ``fields`` add to a reply."""
    return count_tokens(json.dumps(fields, ensure_ascii=False)) + 4 if fields else 0


def fit_toc(toc: TableOfContents, room: int) -> tuple[str, int]:
    """The table as a Markdown list within ``room`` tokens (as a JSON string) and how many entries it leaves out."""
    total = sum(1 for _ in toc.walk())
    if room <= 0 or total == 0:
        return "", total
    whole = toc.render(max_entries=total)
    if count_json_tokens(whole) <= room:
        return whole, 0
    low, high = 0, total - 1  # the most entries whose list (with its "- …" line) fits
    while low < high:
        middle = (low + high + 1) // 2
        if count_json_tokens(toc.render(max_entries=middle)) <= room:
            low = middle
        else:
            high = middle - 1
    return (toc.render(max_entries=low) if low else ""), total - low


def toc_page(
    toc: TableOfContents,
    budget: int,
    readme_page: Callable[[int], DocsPage],
    warnings: tuple[str, ...] = (),
) -> DocsPage:
    """The first page of a release with a docs set: ``readme_page(budget)`` (today's page) with
    the table of contents and where each section comes from, the whole within ``budget``."""
    room = min(int(budget * TOC_SHARE), budget - MIN_TOKENS)
    toc_text, left_out = fit_toc(toc, room)
    fields: dict[str, object] = {"docs_toc": toc_text or None, "docs_toc_omitted": left_out or None}
    extra = status_tokens({k: v for k, v in fields.items() if v is not None}) + status_tokens(
        {"warnings": list(warnings)} if warnings else {}
    )
    refs = 0
    for _ in range(3):
        shown = _with_fields(readme_page(max(MIN_TOKENS, budget - extra - refs)), fields, warnings)
        tokens = count_tokens(reply_json(shown))
        if tokens <= budget:
            break
        refs += tokens - budget + 8
    if tokens > budget and toc_text:  # the smallest budgets: the table goes, its count stays
        total = left_out + len(toc_text.splitlines()) - toc_text.endswith("- …")
        shown = shown.model_copy(update={"docs_toc": None, "docs_toc_omitted": total})
        tokens = count_tokens(reply_json(shown))
    return shown.model_copy(update={"tokens": tokens})


def _with_fields(page: DocsPage, fields: dict[str, object], warnings: tuple[str, ...]) -> DocsPage:
    refs = tuple(SectionRef(origin="readme") for _ in page.sections)
    update = {**fields, "section_refs": refs, "warnings": (*page.warnings, *warnings)}
    return page.model_copy(update=update)
