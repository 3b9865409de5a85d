"""The package-index layer: names, HTTP client, and what we keep of the index's answers."""

from autodocs.index.client import IndexClient
from autodocs.index.models import Release, ReleaseList, VersionMetadata
from autodocs.index.names import normalize_package_name

__all__ = ["IndexClient", "Release", "ReleaseList", "VersionMetadata", "normalize_package_name"]
