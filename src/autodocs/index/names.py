"""Package names and versions are checked before any URL is built from them.

A name must be a valid PEP 508 distribution name (so path separators, spaces, schemes
and shell metacharacters can never reach a URL) and is normalized per PEP 503.
"""

from __future__ import annotations

import functools
import re

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from autodocs.errors import InvalidArgument, InvalidPackageName

__all__ = ["MAX_NAME_LENGTH", "normalize_package_name", "validate_version_string"]

#: No published distribution name comes close; the cap keeps hostile input out of logs and URLs.
MAX_NAME_LENGTH = 200
_PEP508_NAME = re.compile(r"^([A-Z0-9]|[A-Z0-9][A-Z0-9._-]*[A-Z0-9])$", re.IGNORECASE)


def normalize_package_name(raw: str) -> str:
    """Return the PEP 503 form of ``raw`` or raise :class:`InvalidPackageName`."""
    if not isinstance(raw, str):
        raise InvalidPackageName("The package name must be a string.")
    # Memoized (about 10 us a name, several times per call); a long string is never kept.
    return _normalize_memoized(raw) if len(raw) <= MAX_NAME_LENGTH else _normalize(raw)


def _normalize(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise InvalidPackageName("The package name is empty.")
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidPackageName(
            f"The package name is {len(name)} characters long; names are at most {MAX_NAME_LENGTH}."
        )
    if not _PEP508_NAME.match(name):
        shown = name if len(name) <= 80 else name[:77] + "..."
        raise InvalidPackageName(
            f"{shown!r} is not a valid package name: names use only letters, digits, '.', '-' and '_', "
            "and start and end with a letter or digit.",
            suggestions=[
                "Pass only the distribution name (e.g. 'requests'); put version limits in version_constraint.",
            ],
        )
    return canonicalize_name(name)


_normalize_memoized = functools.lru_cache(maxsize=4096)(_normalize)


def validate_version_string(raw: str) -> str:
    """Check that ``raw`` is a PEP 440 version before it goes into a URL."""
    try:
        Version(raw)
    except InvalidVersion:
        raise InvalidArgument(f"{raw[:100]!r} is not a valid PEP 440 version.") from None
    return raw
