"""How much source one package load may read: a plain value, importable without griffe, so the
use case can name its limits without loading the analysis machinery at start."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SourceLimits"]


@dataclass(frozen=True, slots=True)
class SourceLimits:
    """How much source one package load may read (``AUTODOCS_MAX_MODULE_BYTES``, ``..._PACKAGE_SOURCE_BYTES``)."""

    module_bytes: int | None = None
    package_bytes: int | None = None
