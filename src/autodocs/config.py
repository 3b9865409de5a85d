"""Settings from ``AUTODOCS_*`` environment variables, validated once at start.

Every knob lives here with its default and allowed range; call sites never carry magic
numbers. :func:`load_settings` turns pydantic's validation errors into one
:class:`~autodocs.errors.ConfigError` that names each offending variable, the value it
had and what is allowed, so a misconfigured process refuses to start with a clear reason.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit, urlunsplit

from pydantic import (
    AliasChoices,
    Field,
    SecretStr,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from autodocs.errors import ConfigError
from autodocs.index_environment import settings_indexes

__all__ = ["DEFAULT_INDEX_URL", "MIN_AUTH_TOKEN_LENGTH", "Settings", "load_settings", "mask_url"]

#: The public package index's JSON API base. The only place its address is written down
#: (its Simple API URL is derived from it: ``autodocs.index.capabilities.index_endpoints``).
DEFAULT_INDEX_URL = "https://pypi.org/pypi"

#: Shortest bearer token accepted; a token of a few characters is guessed in minutes.
MIN_AUTH_TOKEN_LENGTH = 16
#: The variables that name the index, the first set one wins (PYPI_URL is the older name).
_INDEX_URL_VARIABLES = ("AUTODOCS_INDEX_URL", "AUTODOCS_PYPI_URL")

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


def _default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "autodocs"


class Settings(BaseSettings):
    """The effective configuration. Field ``x`` is read from ``AUTODOCS_X``."""

    model_config = SettingsConfigDict(env_prefix="AUTODOCS_", extra="ignore", frozen=True, populate_by_name=True)

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
    # -- package indexes ---------------------------------------------------------------
    pypi_url: str = Field(
        default=DEFAULT_INDEX_URL,
        validation_alias=AliasChoices(*_INDEX_URL_VARIABLES),
        description=(
            "The package index: its Simple API URL (…/simple) or JSON API base (…/pypi), told apart by what it "
            "answers. AUTODOCS_PYPI_URL is an older name for it."
        ),
    )
    extra_index_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="More indexes (comma-separated), asked after INDEX_URL in order; the first with a package wins.",
    )
    index_origins: list[str] = Field(
        default_factory=list,
        description=(
            "Where INDEX_URL and each of EXTRA_INDEX_URLS came from, in their order (set by the settings, never "
            "read from a variable): AUTODOCS_INDEX_URL, else PIP_INDEX_URL/UV_INDEX_URL and their extras, pip's "
            "configuration files, else the default index; then AUTODOCS_EXTRA_INDEX_URLS."
        ),
    )
    allowed_project_indexes: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description=(
            "HTTP mode: indexes a project's own files may name (comma-separated URL prefixes, hosts, host:port or "
            "*.domain); default none: a project's indexes are ignored. Loopback, private and credentialed hosts "
            "must be listed by exact host or URL. stdio uses a project's indexes always."
        ),
    )
    allow_file_indexes: bool = Field(
        default=False,
        description="HTTP mode: allow file:// indexes (stdio mode always may: they are the user's files).",
    )
    max_concurrent: int = Field(default=10, ge=1, le=256, description="Upstream requests in flight at once.")
    request_timeout: float = Field(
        default=30.0, gt=0, le=600, description="Overall deadline of one tool call, seconds."
    )
    attempt_timeout: float = Field(
        default=10.0, gt=0, le=600, description="Time limit of one upstream HTTP attempt, seconds."
    )
    index_keepalive: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="Seconds an idle connection to an index is kept for reuse (below a proxy's idle timeout).",
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
        default=50.0,
        gt=0,
        le=100,
        description=(
            "Percent of a host's calls failing that opens the circuit, once the window's calls show it with "
            "95% confidence (9 failures of 10 at 50%; a window of failures only opens it at the minimum)."
        ),
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
    max_sdist_bytes: int = Field(
        default=64 * 1024 * 1024,
        ge=1024,
        le=4 * 1024**3,
        description="Largest sdist downloaded from the index for a release's docs set, bytes.",
    )
    release_docs: bool = Field(
        default=True,
        description="Build each release's docs set from its sdist's docs folder (False: README and API only).",
    )
    # -- API reference: bounds on reading code ---------------------------------------
    max_archive_entries: int = Field(
        default=50_000,
        ge=10,
        le=1_000_000,
        description="Most files a wheel or sdist may list; checked in the zip's end record before its list is read.",
    )
    max_module_bytes: int = Field(
        default=2 * 1024 * 1024,
        ge=1024,
        le=1024**3,
        description="Largest Python module read for an API reference, bytes; larger ones are skipped with a warning.",
    )
    max_package_source_bytes: int = Field(
        default=32 * 1024 * 1024,
        ge=1024,
        le=16 * 1024**3,
        description="Most Python source read per package for an API reference, bytes; the rest is skipped.",
    )
    analysis_memory_bytes: int = Field(
        default=256 * 1024 * 1024,
        ge=64 * 1024 * 1024,
        le=64 * 1024**3,
        description="Address-space limit of the worker process that reads a package's code, bytes.",
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
        description="Folders a project's files and environment may be read from (comma-separated); HTTP: cwd.",
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
    # -- HTTP connections: slow or idle clients and floods (server/connections.py) ---
    http_header_timeout: float = Field(
        default=10.0, gt=0, le=300, description="Seconds a request's headers may take, from their first byte."
    )
    http_body_timeout: float = Field(
        default=10.0, gt=0, le=300, description="Seconds without a request body byte before the request ends (408)."
    )
    http_keep_alive_timeout: float = Field(
        default=5.0, gt=0, le=300, description="Seconds an idle connection (no request begun) stays open."
    )
    http_max_connections: int = Field(
        default=1000,
        ge=1,
        le=100_000,
        description=(
            "Open HTTP connections at most: past it, the longest-waiting idle or slow connection makes room, "
            "or the new one is refused at once when all are busy."
        ),
    )
    log_repeat_interval: float = Field(
        default=10.0, ge=0, le=3600, description="Seconds an identical error is logged once, then with its count."
    )

    @model_validator(mode="before")
    @classmethod
    def _indexes_from_environment(cls, data: Any) -> Any:
        """Without AUTODOCS_INDEX_URL, the indexes pip or uv would use here (``index_environment.py``)."""
        if not isinstance(data, dict):
            return data
        data = {
            key: value for key, value in data.items() if key.lower() not in ("index_origins", "autodocs_index_origins")
        }
        if any(key.upper() in (*_INDEX_URL_VARIABLES, "PYPI_URL") for key in data):
            data["index_origins"] = [
                next((v for v in _INDEX_URL_VARIABLES if v in os.environ), _INDEX_URL_VARIABLES[0])
            ]
            return data
        found = settings_indexes(DEFAULT_INDEX_URL, data.get("extra_index_urls", []))
        data["pypi_url"], data["extra_index_urls"] = found[0][0], [url for url, _ in found[1:]]
        data["index_origins"] = [origin for _, origin in found]
        return data

    @field_validator(
        "allowed_origins",
        "allowed_hosts",
        "allowed_roots",
        "extra_index_urls",
        "allowed_project_indexes",
        mode="before",
    )
    @classmethod
    def _split_list(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @field_validator("auth_token")
    @classmethod
    def _check_auth_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None:
            return None
        secret = value.get_secret_value()
        if not secret.strip():
            raise ValueError("must not be empty or blank (an empty token would turn authentication off)")
        if len(secret) < MIN_AUTH_TOKEN_LENGTH:
            raise ValueError(f"must be at least {MIN_AUTH_TOKEN_LENGTH} characters (32 or more recommended)")
        return value

    @field_validator("pypi_url")
    @classmethod
    def _check_index_url(cls, value: str) -> str:
        return _index_url(value)

    @field_validator("extra_index_urls")
    @classmethod
    def _check_extra_index_urls(cls, value: list[str]) -> list[str]:
        return [_index_url(url) for url in value]

    @field_validator("allowed_project_indexes")
    @classmethod
    def _check_allowed_project_indexes(cls, value: list[str]) -> list[str]:
        for entry in value:
            if "://" in entry:
                parts = urlsplit(entry)
                if parts.scheme not in ("http", "https") or not parts.hostname or parts.username is not None:
                    raise ValueError(
                        f"{mask_url(entry)!r}: a URL prefix must be http(s)://host[/path], without credentials"
                    )
            elif not re.fullmatch(r"(\*\.)?[A-Za-z0-9_.-]+(:\d{1,5})?|\[[0-9A-Fa-f:.]+\](:\d{1,5})?", entry):
                raise ValueError(f"{entry!r}: expected a URL prefix, a host, host:port or *.domain")
        return [entry.rstrip("/") for entry in value]

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
    def explicit_index(self) -> bool:
        """Whether the operator named the index with AUTODOCS_INDEX_URL (it then wins over a project's own)."""
        return self.index_origin in _INDEX_URL_VARIABLES

    @property
    def index_origin(self) -> str:
        """Where the indexes came from, as a person reads it: each origin once, in order."""
        return ", then ".join(dict.fromkeys(self.index_origins or [_INDEX_URL_VARIABLES[0]]))

    @property
    def effective_cache_url(self) -> str:
        return self.cache_url or f"sqlite:///{self.cache_dir / 'cache.db'}"

    def describe(self) -> dict[str, Any]:
        """Effective settings as ``{AUTODOCS_NAME: value}`` with secrets masked."""
        shown: dict[str, Any] = {}
        for name in type(self).model_fields:
            if name == "index_origins":
                continue
            value = getattr(self, name)
            if name in ("pypi_url", "cache_url") and isinstance(value, str):
                value = mask_url(value)
            elif name == "extra_index_urls":
                value = [mask_url(url) for url in value]
            if isinstance(value, SecretStr):
                value = "***" if value.get_secret_value() else ""
            elif isinstance(value, list):
                value = [str(item) for item in value]
            variable = "AUTODOCS_INDEX_URL" if name == "pypi_url" else f"AUTODOCS_{name.upper()}"
            shown[variable] = str(value) if isinstance(value, Path) else value
        shown["AUTODOCS_CACHE_URL"] = mask_url(self.effective_cache_url)
        shown["index source"] = self.index_origin  # names variables and files, never a URL
        return shown


def _index_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme == "file" and parts.path.startswith("/") and not parts.netloc:
        return value.rstrip("/")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as https://host/simple or https://host/pypi, or file:///folder")
    return value.rstrip("/")


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
            variable = field.upper() if field.upper().startswith("AUTODOCS_") else f"AUTODOCS_{field.upper()}"
            if variable in ("AUTODOCS_INDEX_URL", "AUTODOCS_PYPI_URL"):  # name the one that was set
                field = "pypi_url"
                variable = next((v for v in _INDEX_URL_VARIABLES if v in os.environ), variable)
            info = Settings.model_fields.get(field)
            allowed = _allowed_range(info.metadata) if info is not None else ""
            given = error.get("input")
            if field in ("cache_url", "pypi_url", "extra_index_urls", "allowed_project_indexes") and isinstance(
                given, str | list
            ):
                given = mask_url(given) if isinstance(given, str) else [mask_url(str(url)) for url in given]
            elif field == "auth_token":
                secret = given.get_secret_value() if isinstance(given, SecretStr) else str(given)
                given = secret if not secret.strip() else "***"  # a blank value is no secret; say it is blank
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
