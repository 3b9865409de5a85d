"""Which indexes serve one project: its own declared indexes, as far as the transport allows them.

Precedence (issue 21): an explicit ``AUTODOCS_INDEX_URL`` wins and the project's indexes are not
used; otherwise the indexes the project names (``ScanResult.indexes``), with the server's own
(``PIP_INDEX_URL``/``UV_INDEX_URL``, pip's files, the default: ``Settings``) as its default index
unless the project names a default of its own.

Order, for a package not locked to an index: the project's ``primary`` indexes, then its
``default`` ones (else the server's), then its ``supplemental`` ones; the first index that has
the package wins (uv's rule, which keeps a name registered on a later index from shadowing an
earlier one's). ``explicit`` indexes serve only the packages pinned or locked to them, and a
package locked to an index is fetched only from it (dependency confusion).

Who may be used (:func:`plan_project_indexes`):

* **stdio**: every declared index. The process, the project and its files are the user's own.
* **HTTP**: a client chooses the project, so its files must never aim the server at a host the
  operator did not choose. An index is used only when it is one of the server's own indexes or
  matches ``AUTODOCS_ALLOWED_PROJECT_INDEXES`` (default empty: the project's indexes are ignored,
  with a note). A loopback, private, link-local or internal host (an IP literal in any form the
  resolver accepts, ``localhost``, ``*.local``, ``*.internal``, metadata names), and a host for
  which the operator configured credentials (a configured URL's user information, ``~/.netrc``),
  must be listed by exact host or URL prefix: a ``*.domain`` entry is not enough. ``file://``
  indexes from a project are never used. Host names are judged as written: nothing is resolved.

A package locked to an index that may not be used is ``blocked`` (never fetched elsewhere under
the same name), unless that index is the default public index: the server's own indexes then
serve it (a mirror of it, typically). Nothing here sends a request.
"""

from __future__ import annotations

import ipaddress
import netrc
import socket
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from autodocs.config import DEFAULT_INDEX_URL, Settings, mask_url
from autodocs.index.auth import without_credentials
from autodocs.index.capabilities import index_endpoints
from autodocs.manifests.base import DeclaredIndex, Dependency

__all__ = [
    "ProjectIndexPlan",
    "Transport",
    "credentialed_hosts",
    "is_internal_host",
    "plan_project_indexes",
    "same_index",
]

Transport = Literal["stdio", "http"]

_DEFAULT_PORTS = {"http": 80, "https": 443}
_INTERNAL_NAMES = frozenset({"localhost", "metadata", "metadata.google.internal", "instance-data"})
_INTERNAL_SUFFIXES = (".localhost", ".local", ".internal", ".localdomain", ".home.arpa")


@dataclass(frozen=True, slots=True)
class ProjectIndexPlan:
    """The indexes to ask for one project's packages, and what was left out and why.

    ``indexes``: asked in order, the first that has a package wins. ``locked``: package → the one
    index it is fetched from. ``blocked``: package → why it is not fetched at all (locked to an
    index this transport may not use). ``notes``: readable reasons, URLs masked. ``source``: where
    the order came from (``AUTODOCS_INDEX_URL``, ``project``, or the settings' ``index_origin``)."""

    indexes: tuple[str, ...]
    locked: Mapping[str, str] = field(default_factory=dict)
    blocked: Mapping[str, str] = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    source: str = "project"


def plan_project_indexes(
    declared: Sequence[DeclaredIndex],
    dependencies: Iterable[Dependency],
    *,
    settings: Settings,
    transport: Transport,
    netrc_path: Path | None = None,
) -> ProjectIndexPlan:
    """The index plan for a project whose scan declared ``declared`` and locked ``dependencies``
    (``ScanResult.dependencies`` + ``locked_only``); see the module docstring for the rules.
    ``netrc_path``: the operator's ``.netrc`` (default ``~/.netrc``, as the index client reads it)."""
    server = (settings.pypi_url, *settings.extra_index_urls)
    if settings.explicit_index:
        ignored = f"{settings.index_origin} is set: the project's {len(declared)} declared indexes are not used."
        return ProjectIndexPlan(indexes=server, notes=(ignored,) if declared else (), source=settings.index_origin)
    judge = _Judge(settings, transport, netrc_path)
    notes: list[str] = []
    usable: list[DeclaredIndex] = []
    refused: dict[str, str] = {}
    for index in declared:
        reason = judge.refusal(index.url)
        if reason is None:
            usable.append(index)
        elif index.url not in refused:
            refused[index.url] = reason
            notes.append(f"Index {mask_url(index.url)} ({_where(index)}) is not used: {reason}.")
    defaults = [index.url for index in usable if index.role == "default"]
    order = [
        *(index.url for index in usable if index.role == "primary"),
        *(defaults or server),
        *(index.url for index in usable if index.role == "supplemental"),
    ]
    locked: dict[str, str] = {}
    blocked: dict[str, str] = {}
    for dependency in dependencies:
        if dependency.index is None or dependency.name in locked or dependency.name in blocked:
            continue
        reason = judge.refusal(dependency.index)
        if reason is None:
            locked[dependency.name] = dependency.index
        elif not same_index(dependency.index, DEFAULT_INDEX_URL):
            blocked[dependency.name] = f"locked to the index {mask_url(dependency.index)}, which is not used: {reason}"
    used_project = bool(usable) or bool(locked)
    return ProjectIndexPlan(
        indexes=tuple(_unique(order)),
        locked=locked,
        blocked=blocked,
        notes=tuple(notes),
        source="project" if used_project else settings.index_origin,
    )


class _Judge:
    """Says why one index URL may not be used for this transport (None: it may)."""

    def __init__(self, settings: Settings, transport: Transport, netrc_path: Path | None) -> None:
        self._transport = transport
        self._server = (settings.pypi_url, *settings.extra_index_urls)
        self._allowed = settings.allowed_project_indexes
        self._credentialed: frozenset[str] | None = None  # read on first need, not in stdio mode
        self._settings = settings
        self._netrc_path = netrc_path

    def refusal(self, url: str) -> str | None:
        if self._transport == "stdio" or any(same_index(url, own) for own in self._server):
            return None
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme not in ("http", "https") or not host:
            return "HTTP mode never reads a local folder named by a project's files"
        exact = any(_matches(url, entry, exact=True) for entry in self._allowed)
        if not exact and not any(_matches(url, entry, exact=False) for entry in self._allowed):
            return "it is not in AUTODOCS_ALLOWED_PROJECT_INDEXES (HTTP mode)"
        if not exact and is_internal_host(host):
            return "a loopback, private or internal host is used only when listed by its exact host or URL"
        if not exact and self._has_credentials(host):
            return "the operator configured credentials for its host; list it by its exact host to use them"
        return None

    def _has_credentials(self, host: str) -> bool:
        if self._credentialed is None:
            self._credentialed = credentialed_hosts(self._settings, self._netrc_path)
        return "*" in self._credentialed or host in self._credentialed


def credentialed_hosts(settings: Settings, netrc_path: Path | None = None) -> frozenset[str]:
    """Hosts the operator configured credentials for: a configured index URL's user information,
    and ``~/.netrc``'s machines (``*``: every host, for a ``default`` entry or an unreadable file)."""
    hosts = {
        (urlsplit(url).hostname or "").lower()
        for url in (settings.pypi_url, *settings.extra_index_urls)
        if urlsplit(url).username is not None
    }
    path = netrc_path if netrc_path is not None else Path.home() / ".netrc"
    if path.is_file():
        try:
            parsed = netrc.netrc(str(path))
        except (netrc.NetrcParseError, OSError, UnicodeDecodeError):
            hosts.add("*")  # cannot tell which hosts it covers: assume every one
        else:
            hosts.update(machine.lower() for machine in parsed.hosts)
            if "default" in parsed.hosts:
                hosts.add("*")
    return frozenset(hosts)


def is_internal_host(host: str) -> bool:
    """Loopback, private, link-local, reserved or internal, judged from the name alone."""
    host = host.strip("[]").rstrip(".").lower()
    if host in _INTERNAL_NAMES or host.endswith(_INTERNAL_SUFFIXES):
        return True
    try:
        address: ipaddress.IPv4Address | ipaddress.IPv6Address = ipaddress.ip_address(host)
    except ValueError:
        try:  # the resolver also reads 127.1, 0x7f.0.0.1, 2130706433 as addresses
            address = ipaddress.IPv4Address(socket.inet_aton(host))
        except (OSError, ValueError):
            return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return not address.is_global


def _matches(url: str, entry: str, *, exact: bool) -> bool:
    """An allow-list entry: a URL prefix (scheme, host, port, then path segments), a host, a
    ``host:port``, or (``exact=False`` only) a ``*.domain`` pattern."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    port = parts.port or _DEFAULT_PORTS.get(parts.scheme, 0)
    if "://" in entry:
        prefix = urlsplit(entry)
        if (prefix.scheme, (prefix.hostname or "").lower()) != (parts.scheme, host):
            return False
        if (prefix.port or _DEFAULT_PORTS.get(prefix.scheme, 0)) != port:
            return False
        path, wanted = parts.path.rstrip("/"), prefix.path.rstrip("/")
        return path == wanted or path.startswith(wanted + "/")
    entry = entry.lower()
    if entry.startswith("*."):
        return not exact and host.endswith(entry[1:])
    name, _, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
    return name == host and (not entry_port or entry_port == str(port))


def same_index(one: str, other: str) -> bool:
    """The same index, whichever of its API URLs names it and whatever credentials it carries."""
    first, second = index_endpoints(without_credentials(one)), index_endpoints(without_credentials(other))
    return first.simple_url.lower() == second.simple_url.lower()


def _unique(urls: Iterable[str]) -> list[str]:
    kept: list[str] = []
    for url in urls:
        if not any(same_index(url, known) for known in kept):
            kept.append(url)
    return kept


def _where(index: DeclaredIndex) -> str:
    line = f":{index.source.line}" if index.source.line else ""
    return f"{index.source.file}{line}"
