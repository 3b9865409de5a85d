"""A project's dependency manifests: one module per manifest family, the scan over them
(:mod:`.scan`), and the models a scan answers with (:mod:`.base`).

This package's own namespace holds only the models, so that naming a reply type
(``ScanResult``) imports no parser; :func:`autodocs.manifests.scan.scan_project` is the
entry point.
"""

from __future__ import annotations

from autodocs.manifests.base import (
    DeclaredIndex,
    Dependency,
    FileError,
    ScanResult,
    SkippedDependency,
    SourceLocation,
)

__all__ = ["DeclaredIndex", "Dependency", "FileError", "ScanResult", "SkippedDependency", "SourceLocation"]
