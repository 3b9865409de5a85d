"""The package-index layer: names, HTTP client, and what we keep of the index's answers.

``IndexClient`` is imported on first use (PEP 562): its HTTP stack is not needed to start
a server or to read what the cache holds (``bench/startup.py``).
"""

from typing import TYPE_CHECKING, Any

from autodocs.index.models import Release, ReleaseList, VersionMetadata
from autodocs.index.names import normalize_package_name

if TYPE_CHECKING:
    from autodocs.index.client import IndexClient

__all__ = ["IndexClient", "Release", "ReleaseList", "VersionMetadata", "normalize_package_name"]


def __getattr__(name: str) -> Any:
    if name == "IndexClient":
        from autodocs.index.client import IndexClient

        return IndexClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
