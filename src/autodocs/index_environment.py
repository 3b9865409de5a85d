"""The indexes pip or uv would use on this machine: their environment variables, then pip's files.

Used by :mod:`autodocs.config` when no ``AUTODOCS_INDEX_URL`` (or ``AUTODOCS_PYPI_URL``) is set,
in both transports: a server's environment and pip configuration are its operator's, so they
are configuration like the ``AUTODOCS_*`` variables (credentials in them are used and masked).

The first of these that names an index gives the index:

1. ``PIP_INDEX_URL`` (with ``PIP_EXTRA_INDEX_URL``, space-separated, asked after it);
2. ``UV_INDEX_URL`` or ``UV_DEFAULT_INDEX`` (with ``UV_EXTRA_INDEX_URL`` and ``UV_INDEX``, asked
   *before* it, as uv asks them);
3. pip's configuration files, read as pip reads them (``configparser``, no interpolation):
   the global files (``$XDG_CONFIG_DIRS/pip/pip.conf``, ``/etc/pip.conf``), the user's
   (``~/.pip/pip.conf``, ``$XDG_CONFIG_HOME/pip/pip.conf``; not read when ``PIP_CONFIG_FILE``
   names an existing file), the site's (``sys.prefix/pip.conf``), then ``PIP_CONFIG_FILE``; a
   later file overrides an earlier one, and ``[install]`` overrides ``[global]``.
   ``PIP_CONFIG_FILE=/dev/null`` (``os.devnull``) reads none, as in pip.

Extra indexes: ``PIP_EXTRA_INDEX_URL`` overrides pip's files' ``extra-index-url``, as in pip.
pip's own code is not imported: it has no public API. Nothing here sends a request.
"""

from __future__ import annotations

import configparser
import os
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

__all__ = ["SYSTEM_PIP_CONFIG", "EnvironmentIndexes", "environment_indexes", "pip_config_files", "settings_indexes"]

#: The global file pip reads on Linux and macOS after those of ``$XDG_CONFIG_DIRS``.
SYSTEM_PIP_CONFIG = (Path("/etc/pip.conf"),)


Found = tuple[str, str]  # (URL, where it was found: a variable or a file and key, never the URL)


@dataclass(frozen=True, slots=True)
class EnvironmentIndexes:
    """The index (None: the default index) and the extra indexes asked before and after it."""

    index: Found | None = None
    before: tuple[Found, ...] = ()
    after: tuple[Found, ...] = ()

    @property
    def configured(self) -> bool:
        return self.index is not None or bool(self.before) or bool(self.after)


def environment_indexes(
    environ: Mapping[str, str] | None = None, *, system_files: Sequence[Path] = SYSTEM_PIP_CONFIG
) -> EnvironmentIndexes:
    """pip's and uv's indexes from ``environ`` (default: the process's) and pip's files.

    URLs that are neither http(s) with a host nor ``file:///`` are left out (pip would refuse them)."""
    env = os.environ if environ is None else environ
    file_index, file_extras = _pip_files_indexes(pip_config_files(env, system_files=system_files))
    pip_extras = _found(env.get("PIP_EXTRA_INDEX_URL", ""), "PIP_EXTRA_INDEX_URL") or file_extras
    uv_extras = tuple(
        found
        for variable in ("UV_INDEX", "UV_EXTRA_INDEX_URL")
        for found in _found(env.get(variable, ""), variable, named=True)
    )
    if _found(env.get("PIP_INDEX_URL", ""), "PIP_INDEX_URL"):
        return EnvironmentIndexes(_found(env["PIP_INDEX_URL"], "PIP_INDEX_URL")[0], after=pip_extras)
    for variable in ("UV_INDEX_URL", "UV_DEFAULT_INDEX"):
        uv_index = _found(env.get(variable, ""), variable)
        if uv_index:  # uv asks its extra indexes before its default one
            return EnvironmentIndexes(uv_index[0], before=uv_extras)
    return EnvironmentIndexes(file_index, before=uv_extras, after=pip_extras)


def settings_indexes(default_url: str, autodocs_extras: object) -> list[Found]:
    """The settings' index list when no AUTODOCS_INDEX_URL is set, each URL with where it came from:
    the environment's (else ``default_url``), then ``AUTODOCS_EXTRA_INDEX_URLS`` (a comma-separated
    string or a list), each URL once."""
    found = environment_indexes()
    ordered = [*found.before, found.index or (default_url, "the default index"), *found.after]
    if isinstance(autodocs_extras, str):
        autodocs_extras = [item.strip() for item in autodocs_extras.split(",") if item.strip()]
    if isinstance(autodocs_extras, list):
        ordered += [(str(url).rstrip("/"), "AUTODOCS_EXTRA_INDEX_URLS") for url in autodocs_extras]
    kept: dict[str, str] = {}
    for url, origin in ordered:
        kept.setdefault(url.rstrip("/"), origin)
    return list(kept.items())


def _found(value: str, origin: str, *, named: bool = False) -> tuple[Found, ...]:
    """The usable URLs of a space-separated value (uv's ``name=url`` form read when ``named``)."""
    urls = (word.partition("=")[2] if named and _named(word) else word for word in value.split())
    return tuple((url.rstrip("/"), origin) for url in urls if _usable(url))


def pip_config_files(environ: Mapping[str, str], *, system_files: Sequence[Path] = SYSTEM_PIP_CONFIG) -> list[Path]:
    """pip's configuration files in the order pip reads them (a later one overrides);
    ``system_files``: the ones pip reads after ``$XDG_CONFIG_DIRS``'s (tests name their own)."""
    config_file = environ.get("PIP_CONFIG_FILE")
    if config_file == os.devnull:
        return []
    home = Path(environ.get("HOME") or Path.home())
    xdg_dirs = [part for part in environ.get("XDG_CONFIG_DIRS", "/etc/xdg").split(os.pathsep) if part]
    files = [Path(folder) / "pip" / "pip.conf" for folder in xdg_dirs] + list(system_files)
    if not (config_file and Path(config_file).exists()):
        user_config = Path(environ.get("XDG_CONFIG_HOME") or home / ".config")
        files += [home / ".pip" / "pip.conf", user_config / "pip" / "pip.conf"]
    files.append(Path(sys.prefix) / "pip.conf")
    if config_file:
        files.append(Path(config_file))
    return files


def _pip_files_indexes(files: list[Path]) -> tuple[Found | None, tuple[Found, ...]]:
    """index-url and extra-index-url as pip's files leave them (a later file overrides)."""
    index: Found | None = None
    extras: tuple[Found, ...] = ()
    for path in files:
        parser = configparser.RawConfigParser()
        try:
            if not path.is_file() or not parser.read(path, encoding="utf-8"):
                continue
        except (OSError, UnicodeDecodeError, configparser.Error):
            continue  # pip would refuse it; here it names no index
        for section in ("global", "install"):
            if parser.has_option(section, "index-url"):
                found = _found(parser.get(section, "index-url"), f"pip config {path} [{section}] index-url")
                index = found[0] if found else None
            if parser.has_option(section, "extra-index-url"):
                extras = _found(
                    parser.get(section, "extra-index-url"), f"pip config {path} [{section}] extra-index-url"
                )
    return index, extras


def _named(word: str) -> bool:
    """uv's ``name=url`` form of an index (a URL's own ``=`` comes after its ``://``)."""
    name, equals, _ = word.partition("=")
    return bool(equals) and "://" not in name


def _usable(url: str) -> bool:
    """An http(s) URL with a host, or a ``file:///`` folder: what ``AUTODOCS_INDEX_URL`` accepts."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return False
    if parts.scheme == "file":
        return not parts.netloc and parts.path.startswith("/")
    return parts.scheme in ("http", "https") and bool(parts.hostname)
