"""Badge characters in page content, before and after badge stripping, on recorded real pages.

Every description recorded in tests/data/index (the index's JSON for real projects and
versions) is built into a document twice: as the section readers saw it before
(``split_document`` on the raw description: the baseline) and as ``build_document`` builds
it now (badges stripped first). For each, on all section content and on the first page
of SHORT_PAGE tokens (what a project context shows per dependency), the bench counts the characters of section
content on lines that still carry a badge, by a rule of its own rather than the one
stripping uses: a line naming a badge service or the word "badge"/"shield", or a line of
nothing but reStructuredText substitution references (a badge row). The count is
conservative: prose that mentions badges counts too.

Goal (issue 20, item 8): badges under 1% of content characters. Run: python bench/badges.py
"""

from __future__ import annotations

import functools
import json
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from autodocs.docs import build
from autodocs.docs.badges import strip_badges
from autodocs.docs.build import build_document
from autodocs.docs.model import PackageDocument
from autodocs.docs.pages import PageRequest, make_page
from autodocs.docs.sections import detect_format, split_document
from autodocs.index.models import VersionMetadata

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "index"
BADGE_LINE = re.compile(
    r"shields\.io|badge|shield|travis-ci\.|codecov\.io|coveralls\.io|circleci\.com|appveyor\.com|pepy\.tech|badgen\.net",
    re.IGNORECASE,
)
SUBSTITUTION_ROW = re.compile(r"^[ \t|]*(?:\|[^|\s][^|]*\|_{0,2}[ \t]*)+$")
MAX_CHARS = 10**7
#: A short per-dependency page, as a project context gives each of many dependencies.
SHORT_PAGE = 1500
USAGE = re.compile(r"usage|quick ?start|example|getting started|tutorial|\bapi\b", re.IGNORECASE)
ROUNDS = 5


def badge_chars(contents: list[str]) -> tuple[int, int]:
    """(characters on badge lines, all characters) of the sections' content."""
    badge = total = 0
    for content in contents:
        for line in content.split("\n"):
            total += len(line) + 1
            if BADGE_LINE.search(line) or SUBSTITUTION_ROW.match(line):
                badge += len(line) + 1
    return badge, total


def recorded() -> list[tuple[str, dict[str, object]]]:
    files = sorted((DATA / "projects").glob("*.json")) + sorted((DATA / "versions").glob("*/*.json"))
    return [(path.relative_to(DATA).as_posix(), json.loads(path.read_text())) for path in files]


def unstripped(metadata: VersionMetadata) -> PackageDocument:
    """The document as it was built before badge stripping (the baseline)."""
    original = build.strip_badges
    build.strip_badges = lambda text, markup: text
    try:
        return build_document(metadata, max_description_chars=MAX_CHARS)
    finally:
        build.strip_badges = original


def first_page(document: PackageDocument) -> tuple[list[str], bool]:
    """The first short page's content, and whether it shows how to use the package."""
    page = make_page(document, PageRequest(budget=SHORT_PAGE))
    return [page.content], any(USAGE.search(title) for title in page.sections)


def fastest(work: Callable[[], object]) -> float:
    """The fastest of ROUNDS runs, in seconds: the machine may be busy with other work."""
    times = []
    for _ in range(ROUNDS):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def share(counts: list[tuple[int, int]]) -> float:
    return sum(badge for badge, _ in counts) / max(1, sum(total for _, total in counts))


def main() -> None:
    pages = recorded()
    rows = []
    sections_s = strip_s = 0.0
    whole_before: list[tuple[int, int]] = []
    whole_after: list[tuple[int, int]] = []
    page_before: list[tuple[int, int]] = []
    page_after: list[tuple[int, int]] = []
    usage_before: list[bool] = []
    usage_after: list[bool] = []
    for label, data in pages:
        info = data["info"]
        assert isinstance(info, dict)
        description = str(info.get("description") or "").strip()
        content_type = info.get("description_content_type")
        assert content_type is None or isinstance(content_type, str)
        markup = detect_format(description, content_type)
        sections_s += fastest(functools.partial(split_document, description, content_type))
        strip_s += fastest(functools.partial(strip_badges, description, markup))
        metadata = VersionMetadata.from_info(info)
        before_document = unstripped(metadata)
        after_document = build_document(metadata, max_description_chars=MAX_CHARS)
        before = badge_chars([section.content for section in before_document.sections])
        after = badge_chars([section.content for section in after_document.sections])
        rows.append((label, before, after))
        whole_before.append(before)
        whole_after.append(after)
        for document, counts, usage in (
            (before_document, page_before, usage_before),
            (after_document, page_after, usage_after),
        ):
            content, shows_usage = first_page(document)
            counts.append(badge_chars(content))
            usage.append(shows_usage)
    with_badges = [row for row in rows if row[1][0]]
    print(f"pages: {len(pages)} recorded descriptions, {len(with_badges)} with badge lines before")
    print(f"{'page':<40} {'before':>8} {'after':>8}")
    for label, before, after in sorted(with_badges, key=lambda row: -row[1][0] / max(1, row[1][1]))[:15]:
        print(f"{label:<40} {100 * before[0] / max(1, before[1]):7.1f}% {100 * after[0] / max(1, after[1]):7.1f}%")
    for what, before_counts, after_counts in (
        ("all section content", whole_before, whole_after),
        (f"first page at {SHORT_PAGE} tokens", page_before, page_after),
    ):
        share_before, share_after = share(before_counts), share(after_counts)
        print(
            f"badge share of {what}: before {100 * share_before:.2f}%, after {100 * share_after:.2f}%, "
            f"ratio after/before {share_after / share_before:.4f}  (goal: after < 1%)"
        )
    print(
        f"first pages at {SHORT_PAGE} tokens showing a usage/quickstart/example/API section: "
        f"before {sum(usage_before)}, after {sum(usage_after)} of {len(pages)}"
    )
    page_shares = [(after[0] / max(1, after[1])) for _, _, after in with_badges]
    print(f"pages above 1% after: {sum(s >= 0.01 for s in page_shares)} of {len(with_badges)}")
    print(
        f"time, all pages (fastest of {ROUNDS} each): sectioning {sections_s * 1000:.1f} ms, badge stripping "
        f"{strip_s * 1000:.1f} ms (ratio {strip_s / sections_s:.2f}; once per version, before the document is cached)"
    )


if __name__ == "__main__":
    main()
