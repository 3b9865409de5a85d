"""Badge characters in page content, before and after badge stripping, on recorded real pages.

Every description recorded in tests/data/index (the index's JSON for real projects and
versions) is built into a document twice: as the section readers saw it before
(``split_document`` on the raw description: the baseline) and as ``build_document`` builds
it now (badges stripped first). For each, the bench counts the characters of section
content on lines that still carry a badge, by a rule of its own rather than the one
stripping uses: a line naming a badge service or the word "badge"/"shield", or a line of
nothing but reStructuredText substitution references (a badge row). The count is
conservative: prose that mentions badges counts too.

Goal (issue 20, item 8): badges under 1% of content characters. Run: python bench/badges.py
"""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from autodocs.docs.badges import strip_badges
from autodocs.docs.build import build_document
from autodocs.docs.sections import detect_format, split_document
from autodocs.index.models import VersionMetadata

DATA = Path(__file__).resolve().parents[1] / "tests" / "data" / "index"
BADGE_LINE = re.compile(
    r"shields\.io|badge|shield|travis-ci\.|codecov\.io|coveralls\.io|circleci\.com|appveyor\.com|pepy\.tech|badgen\.net",
    re.IGNORECASE,
)
SUBSTITUTION_ROW = re.compile(r"^[ \t|]*(?:\|[^|\s][^|]*\|_{0,2}[ \t]*)+$")
MAX_CHARS = 10**7


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


def main() -> None:
    pages = recorded()
    rows = []
    totals = [0, 0, 0, 0]
    sections_s = strip_s = 0.0
    for label, data in pages:
        info = data["info"]
        assert isinstance(info, dict)
        description = str(info.get("description") or "").strip()
        content_type = info.get("description_content_type")
        assert content_type is None or isinstance(content_type, str)
        started = time.perf_counter()
        _, old_sections = split_document(description, content_type)
        sections_s += time.perf_counter() - started
        started = time.perf_counter()
        strip_badges(description, detect_format(description, content_type))
        strip_s += time.perf_counter() - started
        document = build_document(VersionMetadata.from_info(info), max_description_chars=MAX_CHARS)
        before = badge_chars([section.content for section in old_sections])
        after = badge_chars([section.content for section in document.sections])
        rows.append((label, before, after))
        for index, value in enumerate((*before, *after)):
            totals[index] += value
    with_badges = [row for row in rows if row[1][0]]
    print(f"pages: {len(pages)} recorded descriptions, {len(with_badges)} with badge lines before")
    print(f"{'page':<40} {'before':>8} {'after':>8}")
    for label, before, after in sorted(with_badges, key=lambda row: -row[1][0] / max(1, row[1][1]))[:15]:
        print(f"{label:<40} {100 * before[0] / max(1, before[1]):7.1f}% {100 * after[0] / max(1, after[1]):7.1f}%")
    share_before = totals[0] / max(1, totals[1])
    share_after = totals[2] / max(1, totals[3])
    print(f"badge characters, all pages: before {totals[0]} of {totals[1]} ({100 * share_before:.2f}%)")
    print(f"badge characters, all pages: after  {totals[2]} of {totals[3]} ({100 * share_after:.2f}%)")
    print(f"ratio after/before (share of content): {share_after / share_before:.3f}  (goal: after < 1%)")
    page_shares = [(after[0] / max(1, after[1])) for _, _, after in with_badges]
    print(f"pages above 1% after: {sum(share >= 0.01 for share in page_shares)} of {len(with_badges)}")
    print(
        f"time, all pages: sectioning {sections_s * 1000:.1f} ms, badge stripping {strip_s * 1000:.1f} ms "
        f"(ratio {strip_s / sections_s:.2f}; once per version, before the document is cached)"
    )


if __name__ == "__main__":
    main()
