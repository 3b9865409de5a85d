"""The ``scan`` use case: what a project depends on, read from its manifests and lock files.

Only folders under the allowed roots (``AUTODOCS_ALLOWED_ROOTS``; None: any) are read; the
manifests themselves are opened confined to the project (:mod:`autodocs.manifests`). The scan
runs on a worker thread: a big tree never blocks the event loop. The names found feed the
"did you mean" suggestions of a package that is not found.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from autodocs.config import Settings
from autodocs.errors import PathNotAllowed
from autodocs.manifests import ScanResult
from autodocs.manifests.scan import scan_project

__all__ = ["ProjectScan"]


class ProjectScan:
    def __init__(self, settings: Settings, allowed_roots: list[Path] | None, known_names: set[str]) -> None:
        self._settings = settings
        self._allowed_roots = allowed_roots
        self._known_names = known_names

    async def scan(self, project_path: str) -> ScanResult:
        self._check_allowed(project_path)
        result = await asyncio.to_thread(
            scan_project, project_path, max_bytes=self._settings.max_manifest_bytes, roots=self._allowed_roots
        )
        self._known_names.update(dependency.name for dependency in result.dependencies)
        return result

    def _check_allowed(self, project_path: str) -> None:
        if self._allowed_roots is None:
            return
        try:
            resolved = Path(project_path).expanduser().resolve()
        except (OSError, ValueError, RuntimeError):
            resolved = None
        if resolved is not None and any(resolved.is_relative_to(root) for root in self._allowed_roots):
            return
        roots = ", ".join(str(root) for root in self._allowed_roots)
        raise PathNotAllowed(
            f"{project_path[:300]} is outside the folders this server may read ({roots}); nothing was read.",
            suggestions=["Pass a project folder under those roots, or have the operator set AUTODOCS_ALLOWED_ROOTS."],
            allowed_roots=[str(root) for root in self._allowed_roots],
        )
