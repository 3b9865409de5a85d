"""Small cache entries for the store tests."""

from __future__ import annotations

import time

from autodocs.docs.model import DocSection, PackageDocument
from autodocs.index.models import Release, ReleaseList

#: The index key the store tests file their entries under (any key: the store only compares them).
INDEX = "https://index.test/simple"


def document(name: str = "demo", version: str = "1.0", body: str = "hello") -> PackageDocument:
    return PackageDocument(
        name=name,
        version=version,
        summary=f"{name} {version}",
        sections=[DocSection(title="Overview", anchor="overview", level=0, content=body, tokens=3)],
    )


def release_list(name: str = "demo", latest: str = "1.0", fetched_at: float | None = None) -> ReleaseList:
    releases = (Release(latest), Release("0.9", yanked=True, yanked_reason="broken"))
    return ReleaseList(name, latest, releases, time.time() if fetched_at is None else fetched_at)
