"""Settings from ``AUTODOCS_*`` environment variables, validated once at start.

Every knob lives here with its default and allowed range; call sites never carry magic
numbers. :func:`load_settings` turns pydantic's validation errors into one
:class:`~autodocs.errors.ConfigError` that names each offending variable, the value it
had and what is allowed, so a misconfigured process refuses to start with a clear reason.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from autodocs.errors import ConfigError

__all__ = ["DEFAULT_INDEX_URL", "Settings", "load_settings", "mask_url"]

#: The public package index's JSON API base. The only place its address is written down.
DEFAULT_INDEX_URL = "https://pypi.org/pypi"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autodocs"


class Settings(BaseSettings):
    """The effective configuration. Field ``x`` is read from ``AUTODOCS_X``."""

    model_config = SettingsConfigDict(env_prefix="AUTODOCS_", extra="ignore", frozen=True)

    cache_dir: Path = Field(default_factory=_default_cache_dir, description="Folder for the cache and wheels.")
    cache_url: str | None = Field(
        default=None,
        description=(
            "Cache store URL: sqlite:///path/to/file.db (default: cache.db in CACHE_DIR) "
            "or postgresql://user:password@host:port/database (shared by replicas)."
        ),
    )
    # -- PostgreSQL cache (used when CACHE_URL is postgresql://) -------------------------
    db_pool_min: int = Field(default=1, ge=0, le=100, description="Connections the pool keeps open at least.")
    db_pool_max: int = Field(default=5, ge=1, le=1000, description="Connections the pool opens at most.")
    db_pool_timeout: float = Field(
        default=10.0, gt=0, le=600, description="Seconds a query waits for a free pooled connection."
    )
    db_pool_max_idle: float = Field(
        default=600.0, gt=0, le=86400, description="Seconds an idle pooled connection is kept above the minimum."
    )
    db_pool_max_lifetime: float = Field(
        default=3600.0, ge=60, le=7 * 86400, description="Seconds before a pooled connection is replaced."
    )
    db_statement_timeout: float = Field(
        default=5.0, gt=0, le=3600, description="Seconds one database query may run (statement_timeout)."
    )
    db_connect_timeout: float = Field(
        default=5.0, ge=1, le=600, description="Seconds to establish a database connection."
    )
    pypi_url: str = Field(default=DEFAULT_INDEX_URL, description="Base of the package index JSON API.")
    max_concurrent: int = Field(default=10, ge=1, le=256, description="Upstream requests in flight at once.")
    request_timeout: float = Field(
        default=30.0, gt=0, le=600, description="Overall deadline of one tool call, seconds."
    )
    attempt_timeout: float = Field(
        default=10.0, gt=0, le=600, description="Time limit of one upstream HTTP attempt, seconds."
    )
    log_level: LogLevel = Field(default="INFO", description="Log level (logs go to stderr).")
    max_versions: int = Field(default=3, ge=1, le=1000, description="Versions kept per package in the cache.")
    cleanup_days: int = Field(default=90, ge=1, le=36500, description="Drop cache entries unused this long.")
    max_deps: int = Field(default=8, ge=0, le=200, description="Dependencies fetched with context by default.")
    max_tokens: int = Field(default=30000, ge=400, le=1_000_000, description="Default token budget of a reply.")
    max_retry_attempts: int = Field(
        default=3, ge=0, le=20, description="Retries of a failed upstream request (0: no retry)."
    )
    base_retry_delay: float = Field(default=1.0, ge=0, le=60, description="First retry delay, seconds.")
    max_retry_delay: float = Field(default=30.0, ge=0, le=600, description="Longest retry delay, seconds.")
    # -- circuit breaker per index host (index/breaker.py) -----------------------------
    circuit_breaker_threshold: int = Field(
        default=5,
        ge=1,
        le=1000,
        description=(
            "Minimum calls to a host within the window before its failure rate may open the circuit "
            "(a host failing every call opens it after this many)."
        ),
    )
    circuit_breaker_failure_rate: float = Field(
        default=50.0, gt=0, le=100, description="Percent of failed calls within the window that opens the circuit."
    )
    circuit_breaker_window: float = Field(
        default=60.0, ge=1, le=3600, description="Seconds of recent calls the failure rate is measured over."
    )
    circuit_breaker_silence: float = Field(
        default=5.0,
        gt=0,
        le=600,
        description=(
            "Seconds every request of a call may go unanswered before that counts as a failure of the host "
            "(a healthy index, even a slow one, answers well within it; at most ATTEMPT_TIMEOUT)."
        ),
    )
    circuit_breaker_timeout: float = Field(
        default=60.0, gt=0, le=3600, description="Seconds an open circuit waits before probing."
    )
    rate_limit_rpm: int = Field(default=60, ge=1, le=1_000_000, description="Tool calls per minute per client.")
    max_doc_size: int = Field(
        default=50000, ge=1000, le=10_000_000, description="Longest description kept per version, characters."
    )
    release_list_ttl: float = Field(
        default=3600.0, ge=0, le=30 * 86400, description="Seconds a cached release list stays fresh."
    )
    max_upstream_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=64 * 1024,
        le=1024 * 1024 * 1024,
        description="Largest upstream response body accepted, bytes.",
    )
    python: Path | None = Field(
        default=None,
        description=(
            "Python environment whose installed packages give API references: a virtual environment "
            "folder or its python executable (default: the project's .venv/ or venv/). Never run."
        ),
    )
    max_wheel_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        le=4 * 1024**3,
        description="Largest wheel or sdist downloaded from the index for an API reference, bytes.",
    )
    max_manifest_bytes: int = Field(
        default=5 * 1024 * 1024, ge=1024, le=1024 * 1024 * 1024, description="Largest manifest file read, bytes."
    )
    # -- HTTP mode ------------------------------------------------------------------
    host: str = Field(default="127.0.0.1", description="Address the HTTP server binds.")
    port: int = Field(default=8765, ge=0, le=65535, description="Port the HTTP server binds.")
    auth_token: SecretStr | None = Field(
        default=None, description="Bearer token required on every HTTP route but /health."
    )
    allowed_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Browser origins allowed besides localhost (comma-separated)."
    )
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        default_factory=list, description="Host headers allowed besides localhost (comma-separated; host:* ok)."
    )
    allowed_roots: Annotated[list[Path], NoDecode] = Field(
        default_factory=list,
        description="Folders scan_dependencies may read (comma-separated); HTTP default: the working directory.",
    )
    shutdown_timeout: float = Field(
        default=30.0,
        ge=0,
        le=3600,
        description="Seconds in-flight calls get to finish on SIGTERM, and queued cache writes at close.",
    )
    max_request_bytes: int = Field(
        default=1024 * 1024, ge=1024, le=64 * 1024 * 1024, description="Largest HTTP request body accepted."
    )

    @field_validator("allowed_origins", "allowed_hosts", "allowed_roots", mode="before")
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("pypi_url")
    @classmethod
    def _check_index_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http(s) URL such as https://host/pypi")
        return value.rstrip("/")

    @field_validator("cache_url")
    @classmethod
    def _check_cache_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if value.startswith("sqlite:///"):
            return value
        parts = urlsplit(value)
        if parts.scheme in ("postgresql", "postgres") and (parts.hostname or "host=" in parts.query):
            return value
        raise ValueError("must be sqlite:///ABSOLUTE/PATH.db or postgresql://USER:PASSWORD@HOST:PORT/DATABASE")

    @field_validator("db_pool_max")
    @classmethod
    def _check_pool_bounds(cls, value: int, info: ValidationInfo) -> int:
        minimum = info.data.get("db_pool_min")
        if minimum is not None and value < minimum:
            raise ValueError(f"must be at least AUTODOCS_DB_POOL_MIN ({minimum})")
        return value

    @property
    def effective_cache_url(self) -> str:
        return self.cache_url or f"sqlite:///{self.cache_dir / 'cache.db'}"

    def describe(self) -> dict[str, Any]:
        """Effective settings as ``{AUTODOCS_NAME: value}`` with secrets masked."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            value = getattr(self, name)
            if name in ("pypi_url", "cache_url") and isinstance(value, str):
                value = mask_url(value)
            if isinstance(value, SecretStr):
                value = "***"
            elif isinstance(value, list):
                value = [str(item) for item in value]
            shown[f"AUTODOCS_{name.upper()}"] = str(value) if isinstance(value, Path) else value
        shown["AUTODOCS_CACHE_URL"] = mask_url(self.effective_cache_url)
        return shown


def mask_url(url: str) -> str:
    """Hide the password (and a lone token user) of a URL; anything else stays readable."""
    if "@" not in url:  # no user information at all (the common case: once per index request)
        return url
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparseable url>"
    if not parts.username and not parts.password:
        return url
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    user = parts.username or ""
    userinfo = f"{user}:***" if parts.password is not None else "***"
    return urlunsplit((parts.scheme, f"{userinfo}@{host}", parts.path, parts.query, parts.fragment))


def load_settings(**overrides: Any) -> Settings:
    """Read and validate the environment; raise :class:`ConfigError` naming each bad variable."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else "?"
            variable = f"AUTODOCS_{field.upper()}"
            info = Settings.model_fields.get(field)
            allowed = _allowed_range(info.metadata) if info is not None else ""
            given = error.get("input")
            if field in ("cache_url", "pypi_url") and isinstance(given, str):
                given = mask_url(given)  # a rejected URL may still carry a password
            elif field == "auth_token":
                given = "***"
            problems.append(f"{variable}={given!r}: {error['msg']}{allowed}")
        raise ConfigError(
            "Invalid configuration: " + "; ".join(problems),
            suggestions=["Fix or unset the variables named above; `autodocs config` shows every setting."],
        ) from None


def _allowed_range(metadata: list[Any]) -> str:
    low = high = None
    for item in metadata:
        for attr in ("ge", "gt"):
            if getattr(item, attr, None) is not None:
                low = f"{'>=' if attr == 'ge' else '>'} {getattr(item, attr)}"
        for attr in ("le", "lt"):
            if getattr(item, attr, None) is not None:
                high = f"{'<=' if attr == 'le' else '<'} {getattr(item, attr)}"
    if low and high:
        return f" (allowed: {low} and {high})"
    return ""
