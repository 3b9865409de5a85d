"""A small real docs-set provider for tests: builds a release's docs set from a local sdist.

It keeps the shape of ``autodocs.usecases.docsets.DocsetProvider``: a build runs in a worker
thread (``docset.build.build_docset_from_sdist``) and a lookup waits for it at most ``wait_s``,
answering ``pending`` when it is not done. A ``gate`` holds builds back until it is set, so a
test can watch a build stay under way. Releases without an sdist here, or whose sdist has no
page beyond its top-level files, have no docs set and say why.
"""

from __future__ import annotations

import asyncio
import copy
import json
import threading
from pathlib import Path
from typing import Any

from autodocs.docset.build import DocSet, build_docset_from_sdist
from autodocs.usecases.docsets import ClientOpener, DocsetLookup
from tests.support.fake_index import DEFAULT_DATA_DIR, FakeIndex

NO_DOCS_FOLDER = "the sdist has no docs folder"
NO_SDIST = "the release has no sdist"


class SdistDocsets:
    def __init__(
        self,
        sdists: dict[tuple[str, str], Path],
        work: Path,
        *,
        gate: threading.Event | None = None,
        no_sdist_reason: str = NO_SDIST,
    ) -> None:
        """``no_sdist_reason``: what a release without an sdist here is missing ("": it is unknown)."""
        self._sdists = sdists
        self._no_sdist_reason = no_sdist_reason
        self._work = work
        self._gate = gate
        self._builds: dict[tuple[str, str], asyncio.Task[DocSet]] = {}
        self.lookups: list[tuple[str, str, str, float]] = []  # (name, version, index_key, wait_s)

    async def lookup(
        self,
        name: str,
        version: str,
        *,
        index_key: str,
        wait_s: float,
        client: ClientOpener | None = None,
        stored: bool | None = None,
        outline: bool = False,  # the whole docs set always comes: this provider keeps it in memory
        listed_sdist_bytes: int | None = None,
    ) -> DocsetLookup:
        self.lookups.append((name, version, index_key, wait_s))
        archive = self._sdists.get((name, version))
        if archive is None:
            return DocsetLookup(None, missing_reason=self._no_sdist_reason)
        task = self._builds.get((name, version))
        if task is None:
            target = self._work / f"{name}-{version}"
            task = asyncio.ensure_future(asyncio.to_thread(self._build, archive, target))
            self._builds[(name, version)] = task
        done, _ = await asyncio.wait({task}, timeout=wait_s)
        if not done:
            return DocsetLookup(None, pending=True)
        docset = task.result()
        if all("/" not in page.path for page in docset.pages):
            return DocsetLookup(None, missing_reason=NO_DOCS_FOLDER, warnings=docset.warnings)
        return DocsetLookup(docset, warnings=docset.warnings)

    async def ready(self) -> SdistDocsets:
        """Build every release's docs set now, as an earlier call's background build would have:
        a call without a query does not wait for one (it answers ``docs_pending``)."""
        for name, version in self._sdists:
            await self.lookup(name, version, index_key="", wait_s=60.0)
        self.lookups.clear()
        return self

    def _build(self, archive: Path, target: Path) -> DocSet:
        if self._gate is not None:
            self._gate.wait(timeout=30)
        return build_docset_from_sdist(archive, target)


def add_release(
    index: FakeIndex,
    name: str,
    version: str,
    readme: str,
    *,
    project_urls: dict[str, str] | None = None,
    home_page: str | None = None,
) -> None:
    """Serve ``name`` with the one release ``version`` whose description is the Markdown ``readme``."""
    data: dict[str, Any] = copy.deepcopy(json.loads((DEFAULT_DATA_DIR / "projects/six.json").read_text()))
    data["info"].update(
        {
            "name": name,
            "version": version,
            "summary": f"The {name} package.",
            "description": readme,
            "description_content_type": "text/markdown",
            "project_urls": project_urls or {},
            "home_page": home_page,
            "requires_dist": [],
        }
    )
    data["releases"] = {
        version: [
            {
                "filename": f"{name.replace('-', '_')}-{version}.tar.gz",
                "packagetype": "sdist",
                "yanked": False,
                "yanked_reason": None,
                "requires_python": None,
                "upload_time_iso_8601": "2024-01-01T00:00:00Z",
            }
        ]
    }
    data["urls"] = data["releases"][version]
    index.add_project(name, data)
    index.add_version(name, version, data)
