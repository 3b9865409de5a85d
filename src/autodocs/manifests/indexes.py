"""The package indexes a project's own files name, and the packages they pin to one.

* uv: ``[[tool.uv.index]]`` (``default = true`` → the project's default index, ``explicit = true``
  → only for packages pinned to it, else asked before the default), the older ``[tool.uv]``
  ``index-url`` / ``extra-index-url``, and ``[tool.uv.sources]`` entries ``{ index = "name" }``;
* Poetry: ``[[tool.poetry.source]]`` by ``priority`` (``primary``, the default, and the older
  ``default`` replace the implicit default index; ``supplemental``/``secondary`` come after it;
  ``explicit``) and a dependency's ``source = "name"``;
* pip: ``-i``/``--index-url`` and ``--extra-index-url`` lines in requirements files
  (``requirements.py`` calls :func:`declared_index`); a lock's registry per package (``locks.py``).

Only declarations are read: nothing here sends a request, and whether an index is used at all
is decided later, by the transport's rules (``autodocs.index.project``). A URL's user name and
password are taken out: credentials come only from the operator's configuration.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

from packaging.utils import canonicalize_name

from autodocs.errors import ManifestError
from autodocs.manifests.base import DeclaredIndex, Dependency, IndexRole, LineFinder, SourceLocation, entry_error

__all__ = ["ProjectIndexes", "apply_index_pins", "declared_index", "pyproject_indexes"]

IndexTool = Literal["uv", "poetry"]

_POETRY_ROLES: dict[str, IndexRole] = {
    "primary": "default",
    "default": "default",
    "supplemental": "supplemental",
    "secondary": "supplemental",
    "explicit": "explicit",
}


def declared_index(
    url: str, *, role: IndexRole, file: str, line: int | None, name: str | None = None, tool: IndexTool | None = None
) -> DeclaredIndex:
    """One declared index, its URL without credentials; :class:`ManifestError` when it is no index URL."""
    try:
        parts = urlsplit(url.strip())
        host = parts.hostname
    except ValueError:
        raise entry_error(file, line, f"index URL {url[:200]!r} cannot be parsed") from None
    usable = (parts.scheme in ("http", "https") and bool(host) and "$" not in (host or "")) or (
        parts.scheme == "file" and parts.path.startswith("/")
    )
    if not usable:
        raise entry_error(file, line, f"index URL {url[:200]!r} is not an http(s) URL or a file:/// folder; not used")
    had_credentials = parts.username is not None or parts.password is not None
    if had_credentials:
        netloc = f"[{host}]" if host and ":" in host else host or ""
        netloc += f":{parts.port}" if parts.port else ""
        parts = parts._replace(netloc=netloc)
    clean = urlunsplit(parts).rstrip("/")
    return DeclaredIndex(
        url=clean,
        name=name,
        tool=tool if name else None,
        role=role,
        source=SourceLocation(file=file, line=line),
        had_credentials=had_credentials,
    )


@dataclass
class ProjectIndexes:
    """What a ``pyproject.toml`` says about indexes: the indexes, and package → index name pins."""

    indexes: list[DeclaredIndex] = field(default_factory=list)
    pins: dict[str, str] = field(default_factory=dict)
    problems: list[ManifestError] = field(default_factory=list)

    def add(
        self,
        url: Any,
        *,
        role: IndexRole,
        file: str,
        line: int | None,
        name: str | None = None,
        tool: IndexTool | None = None,
    ) -> None:
        if not isinstance(url, str):
            self.problems.append(entry_error(file, line, f"index {name!r} has no URL string"))
            return
        try:
            self.indexes.append(declared_index(url, role=role, file=file, line=line, name=name, tool=tool))
        except ManifestError as exc:
            self.problems.append(exc)


def pyproject_indexes(data: dict[str, Any], *, file: str, text: str) -> ProjectIndexes:
    """uv's and Poetry's index tables and pins in one parsed ``pyproject.toml``."""
    found = ProjectIndexes()
    tool = data.get("tool")
    if not isinstance(tool, dict):
        return found
    lines = LineFinder(text)
    uv = tool.get("uv")
    if isinstance(uv, dict):
        _uv_indexes(uv, found, file, lines)
    poetry = tool.get("poetry")
    if isinstance(poetry, dict):
        _poetry_sources(poetry, found, file, lines)
    return found


def _uv_indexes(uv: dict[str, Any], found: ProjectIndexes, file: str, lines: LineFinder) -> None:
    tables = uv.get("index", [])
    for table in tables if isinstance(tables, list) else []:
        if not isinstance(table, dict):
            continue
        role: IndexRole = "explicit" if table.get("explicit") is True else "primary"
        if table.get("default") is True:
            role = "default"
        url = table.get("url")
        line = lines.find(url) if isinstance(url, str) else None
        name = table.get("name") if isinstance(table.get("name"), str) else None
        found.add(url, role=role, file=file, line=line, name=name, tool="uv")
    if isinstance(uv.get("index-url"), str):
        found.add(uv["index-url"], role="default", file=file, line=lines.find(uv["index-url"]))
    extras = uv.get("extra-index-url", [])
    for url in extras if isinstance(extras, list) else []:
        if isinstance(url, str):  # uv asks its extra indexes before the default one
            found.add(url, role="primary", file=file, line=lines.find(url))
    sources = uv.get("sources")
    for package, source in sources.items() if isinstance(sources, dict) else []:
        for entry in source if isinstance(source, list) else [source]:
            if isinstance(entry, dict) and isinstance(entry.get("index"), str):
                found.pins[str(canonicalize_name(package))] = entry["index"]
                break


def _poetry_sources(poetry: dict[str, Any], found: ProjectIndexes, file: str, lines: LineFinder) -> None:
    sources = poetry.get("source", [])
    for table in sources if isinstance(sources, list) else []:
        if not isinstance(table, dict) or not isinstance(table.get("name"), str):
            continue
        priority = table.get("priority", "primary")
        role = _POETRY_ROLES.get(priority) if isinstance(priority, str) else None
        url = table.get("url")
        line = lines.find(url) if isinstance(url, str) else None
        if role is None:
            found.problems.append(entry_error(file, line, f"source {table['name']!r}: unknown priority {priority!r}"))
            continue
        if url is None and table["name"].lower() == "pypi":
            continue  # Poetry's own name for the implicit default index
        found.add(url, role=role, file=file, line=line, name=table["name"], tool="poetry")
    tables = [poetry.get("dependencies"), poetry.get("dev-dependencies")]
    groups = poetry.get("group")
    if isinstance(groups, dict):
        tables += [group.get("dependencies") for group in groups.values() if isinstance(group, dict)]
    for table in tables:
        for package, value in table.items() if isinstance(table, dict) else []:
            for entry in value if isinstance(value, list) else [value]:
                if isinstance(entry, dict) and isinstance(entry.get("source"), str):
                    found.pins[str(canonicalize_name(package))] = entry["source"]
                    break


def apply_index_pins(dependencies: list[Dependency], found: ProjectIndexes, *, file: str) -> None:
    """Set ``index`` on each dependency pinned to a named index; a name not declared is a problem."""
    by_name = {index.name.lower(): index.url for index in found.indexes if index.name}
    for dependency in dependencies:
        pinned = found.pins.get(dependency.name)
        if pinned is None or dependency.url is not None:
            continue
        url = by_name.get(pinned.lower())
        if url is None:
            line = dependency.source.line
            found.problems.append(
                entry_error(
                    file, line, f"{dependency.name}: pinned to index {pinned!r}, which the file does not declare"
                )
            )
            continue
        dependency.index = url
