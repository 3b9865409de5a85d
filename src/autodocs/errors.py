"""Every failure AutoDocs can report, and how each becomes a structured tool error.

The tree (leaves are what callers catch; every class says what the user should do next)::

    AutoDocsError                     base: type, message, suggestions, retryable
    ├── InputError                    the caller's input is wrong; retrying will not help
    │   ├── InvalidPackageName        not a PEP 508 name; no request was sent
    │   ├── InvalidVersionSpec        not a PEP 440 specifier
    │   ├── InvalidArgument           any other out-of-range or malformed argument (invalid_arguments)
    │   ├── UnknownTool               no tool of that name: a protocol error, this object in its data
    │   ├── PathNotFound              the project path does not exist
    │   ├── NotADirectory             the project path is a file, not a folder
    │   ├── PathNotAllowed            the path is outside the roots AutoDocs may read
    │   ├── ManifestError             a manifest could not be read or parsed
    │   └── ObjectNotFound            the package has no such module/class/function ("did you mean")
    ├── ConfigError                   an AUTODOCS_* setting is invalid (refuse to start)
    ├── PackageNotFound               the index has no such project ("did you mean")
    ├── IndexNotAllowed               the project takes the package from an index this server may not use
    ├── VersionNotFound               no release matches the specifier (nearest listed)
    ├── CodeUnavailable               no readable code for an API reference (not installed, no archive)
    │   ├── ArchiveTooLarge           the wheel/sdist is above MAX_WHEEL_BYTES; nothing was written
    │   │   └── TooManyArchiveEntries the archive lists more files than MAX_ARCHIVE_ENTRIES
    │   └── AnalysisMemoryExceeded    reading the code needed more than ANALYSIS_MEMORY_BYTES
    ├── UpstreamError                 the package index failed us; usually retryable
    │   ├── UpstreamTimeout           no answer within the time limit
    │   ├── UpstreamUnavailable       5xx, refused or reset connections
    │   │   └── CircuitOpen           the host failed too many recent calls; not asked until retry_after_s
    │   ├── RateLimited               429 from the index (retry_after_s when known)
    │   ├── UpstreamTLSError          the index's certificate is not trusted here; not retried (SSL_CERT_FILE)
    │   └── UpstreamResponseInvalid   body too large, truncated, or not the JSON we expect
    ├── ClientRateLimited             this client sent more than RATE_LIMIT_RPM calls a minute
    ├── ServerShuttingDown            the server is draining; another replica (or a restart) will answer
    ├── CacheError                    the cache store failed (retryable)
    │   └── DatabaseBusy              every pooled database connection stayed in use
    └── InternalError                 a bug: the boundary wraps anything unexpected in it

Raise the most specific class; the boundary (MCP tool, CLI, HTTP) calls
:func:`to_error_payload` and never shows a traceback to the client. Over MCP a tool error is
``isError: true`` with this object as JSON text (``autodocs.server.protocol`` says why).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AnalysisMemoryExceeded",
    "ArchiveTooLarge",
    "AutoDocsError",
    "CacheError",
    "CircuitOpen",
    "ClientRateLimited",
    "CodeUnavailable",
    "ConfigError",
    "DatabaseBusy",
    "IndexNotAllowed",
    "InputError",
    "InternalError",
    "InvalidArgument",
    "InvalidPackageName",
    "InvalidVersionSpec",
    "ManifestError",
    "NotADirectory",
    "ObjectNotFound",
    "PackageNotFound",
    "PathNotAllowed",
    "PathNotFound",
    "RateLimited",
    "ServerShuttingDown",
    "TooManyArchiveEntries",
    "UnknownTool",
    "UpstreamError",
    "UpstreamResponseInvalid",
    "UpstreamTLSError",
    "UpstreamTimeout",
    "UpstreamUnavailable",
    "VersionNotFound",
    "to_error_payload",
]


class AutoDocsError(Exception):
    """Base of every error AutoDocs reports on purpose.

    ``details`` carries machine-readable extras (e.g. ``retry_after_s``, ``candidates``)
    that are merged into the structured error next to the four standard keys.
    """

    default_retryable: ClassVar[bool] = False
    default_suggestions: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        message: str,
        *,
        suggestions: list[str] | None = None,
        retryable: bool | None = None,
        **details: Any,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.suggestions = list(suggestions) if suggestions else list(self.default_suggestions)
        self.retryable = self.default_retryable if retryable is None else retryable
        self.details = {key: value for key, value in details.items() if value is not None}

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickled whole, suggestions and details included: errors cross from the analysis worker."""
        return (_rebuild, (type(self), self.message, self.suggestions, self.retryable, self.details))

    @property
    def type_name(self) -> str:
        return type(self).__name__

    def to_dict(self) -> dict[str, Any]:
        """The structured form every boundary returns: ``{"type", "message", "suggestions", "retryable"}``."""
        payload: dict[str, Any] = {
            "type": self.type_name,
            "message": self.message,
            "suggestions": self.suggestions,
            "retryable": self.retryable,
        }
        payload.update(self.details)
        return payload


class InputError(AutoDocsError):
    """The caller's input is wrong; the same call will fail the same way."""


class InvalidPackageName(InputError):
    default_suggestions = (
        "Use the distribution name as published on the package index, e.g. 'requests' or 'typing-extensions'.",
    )


class InvalidVersionSpec(InputError):
    default_suggestions = ("Use a PEP 440 specifier such as '>=2.0,<3', '==1.4.2' or '~=1.4'.",)


class InvalidArgument(InputError):
    pass


class UnknownTool(InputError):
    """The client called a tool this server does not offer (``available_tools`` lists them)."""


class PathNotFound(InputError):
    default_suggestions = ("Pass the absolute path of the project folder (the one holding pyproject.toml).",)


class NotADirectory(InputError):
    default_suggestions = ("Pass the project folder, not a file inside it.",)


class PathNotAllowed(InputError):
    pass


class ManifestError(InputError):
    """A manifest is unreadable or malformed; ``file`` and ``line`` say where when known."""


class ConfigError(AutoDocsError):
    """An ``AUTODOCS_*`` setting is invalid; the process refuses to start."""


class PackageNotFound(AutoDocsError):
    default_suggestions = ("Check the spelling against the project's dependency list (scan_dependencies).",)


class IndexNotAllowed(AutoDocsError):
    """The project locks the package to an index this transport may not use (HTTP mode, not on
    ``AUTODOCS_ALLOWED_PROJECT_INDEXES``), or takes it from no index at all (a git or path
    reference): it is never fetched from another index under the same name."""

    default_suggestions = (
        "Ask the operator to add that index to AUTODOCS_ALLOWED_PROJECT_INDEXES, or omit project_path to "
        "document the package of that name on the server's own indexes.",
    )


class VersionNotFound(AutoDocsError):
    default_suggestions = ("Relax the version constraint, or ask for one of the available versions listed.",)


class ObjectNotFound(InputError):
    default_suggestions = ("Ask for the package's top level (no object path) to see the names it exports.",)


class CodeUnavailable(AutoDocsError):
    default_suggestions = (
        "Install the package in the project's virtual environment (.venv/ or venv/), or point "
        "AUTODOCS_PYTHON at an environment that has it.",
    )


class ArchiveTooLarge(CodeUnavailable):
    default_suggestions = (
        "Raise AUTODOCS_MAX_WHEEL_BYTES to allow larger archives, or install the package in the "
        "project's virtual environment so its code is read from disk.",
    )


class TooManyArchiveEntries(ArchiveTooLarge):
    """Refused from the archive's end record, before its list of entries was read."""

    default_suggestions = (
        "Raise AUTODOCS_MAX_ARCHIVE_ENTRIES to allow archives with more files, or install the package "
        "in the project's virtual environment so its code is read from disk.",
    )


class AnalysisMemoryExceeded(CodeUnavailable):
    """The worker reading a package's code hit its memory limit; the server itself is unaffected."""

    default_suggestions = (
        "Raise AUTODOCS_ANALYSIS_MEMORY_BYTES to let one analysis use more memory, or ask for a "
        "smaller part of the package with object_path.",
    )


class UpstreamError(AutoDocsError):
    default_retryable = True
    default_suggestions = ("The package index did not answer properly; try again in a moment.",)


class UpstreamTimeout(UpstreamError):
    default_suggestions = ("The package index is slow; try again, or raise AUTODOCS_REQUEST_TIMEOUT.",)


class UpstreamUnavailable(UpstreamError):
    pass


class CircuitOpen(UpstreamUnavailable):
    default_suggestions = (
        "The package index failed too many of its recent calls, so AutoDocs pauses calls to it; "
        "try again after retry_after_s.",
    )


class RateLimited(UpstreamError):
    default_suggestions = ("The package index is rate-limiting us; wait retry_after_s seconds and try again.",)


class UpstreamResponseInvalid(UpstreamError):
    pass


class UpstreamTLSError(UpstreamError):
    """The index's TLS certificate could not be verified: the same request fails the same way."""

    default_retryable = False
    default_suggestions = ("Point SSL_CERT_FILE at a CA bundle that trusts the index, or add its CA to the system.",)


class ClientRateLimited(AutoDocsError):
    default_retryable = True
    default_suggestions = ("Slow down: wait retry_after_s seconds, or raise AUTODOCS_RATE_LIMIT_RPM.",)


class ServerShuttingDown(AutoDocsError):
    default_retryable = True
    default_suggestions = ("The server is shutting down; retry in a moment (another replica or a restart answers).",)


class CacheError(AutoDocsError):
    default_retryable = True
    default_suggestions = ("Check that AUTODOCS_CACHE_DIR is writable and has free space.",)


class DatabaseBusy(CacheError):
    """Every pooled database connection stayed in use for the whole checkout wait."""

    default_suggestions = (
        "Retry in a moment; if it keeps happening raise AUTODOCS_DB_POOL_MAX "
        "(within the database's max_connections) or AUTODOCS_DB_POOL_TIMEOUT.",
    )


class InternalError(AutoDocsError):
    default_suggestions = ("This is a bug in AutoDocs; please report it with the server's log.",)


def _rebuild(
    cls: type[AutoDocsError], message: str, suggestions: list[str], retryable: bool, details: dict[str, Any]
) -> AutoDocsError:
    return cls(message, suggestions=suggestions, retryable=retryable, **details)


def to_error_payload(exc: BaseException) -> dict[str, Any]:
    """Turn any exception into ``{"error": {...}}``; unexpected ones become ``InternalError``.

    The message of an unexpected exception is kept short and free of tracebacks: the
    full detail belongs in the server log, not in what the client sees.
    """
    if isinstance(exc, AutoDocsError):
        return {"error": exc.to_dict()}
    internal = InternalError(f"Unexpected {type(exc).__name__} while handling the request.")
    return {"error": internal.to_dict()}
