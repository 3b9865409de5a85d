"""Which docs a release has and in what order: MkDocs' ``mkdocs.yml`` nav, Sphinx's toctrees, or a default.

``mkdocs.yml`` is read with PyYAML's ``SafeLoader`` plus constructors that turn every tag it does
not know — ``!!python/name:…`` (which MkDocs configs use for extensions), ``!ENV``, ``!relative`` —
into ``None``: nothing is imported or executed. Aliases are shared, not copied, and the nav walk is
bounded, so an alias bomb costs nothing.

Sphinx's ``conf.py`` is Python that Sphinx executes; we never run it. The three settings a reader
needs (``root_doc``/``master_doc``, ``source_suffix``) are read from its text by regular expression,
and a ``conf.py`` that computes them falls back to Sphinx's defaults.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

from autodocs.docset.files import DocsFolder

__all__ = ["MkDocsConfig", "NavItem", "SphinxConfig", "find_sphinx", "read_mkdocs"]

_MAX_NAV_ITEMS = 10_000
_MKDOCS_PLACES = ("mkdocs.yml", "mkdocs.yaml", "docs/mkdocs.yml", "docs/en/mkdocs.yml", "doc/mkdocs.yml")
_SPHINX_PLACES = (
    "docs",
    "doc",
    "documentation",
    "docs/source",
    "doc/source",
    "docs/src",
    "documentation/source",
    "doc/build",  # SQLAlchemy, Alembic and other projects of that family
    "docs/en",
    "doc/en",  # pytest
)


class _PermissiveSafeLoader(yaml.SafeLoader):
    """``SafeLoader`` that reads unknown tags as ``None`` instead of failing (or executing anything)."""


def _ignore_tag(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> None:
    return None


_PermissiveSafeLoader.add_multi_constructor("!", _ignore_tag)
_PermissiveSafeLoader.add_multi_constructor("tag:yaml.org,2002:python/", _ignore_tag)


@dataclass(frozen=True, slots=True)
class NavItem:
    """A nav entry: a page (``path`` relative to the sdist) or a section of ``children``."""

    title: str
    path: str = ""
    children: tuple[NavItem, ...] = ()


@dataclass(frozen=True, slots=True)
class MkDocsConfig:
    docs_dir: str
    site_name: str = ""
    #: None when ``mkdocs.yml`` has no ``nav``: MkDocs' default order applies.
    nav: tuple[NavItem, ...] | None = None
    warnings: tuple[str, ...] = field(default=())


@dataclass(frozen=True, slots=True)
class SphinxConfig:
    source_dir: str
    root_doc: str = "index"
    source_suffixes: tuple[str, ...] = (".rst",)
    project: str = ""


def read_mkdocs(folder: DocsFolder) -> MkDocsConfig | None:
    """The MkDocs configuration (at the sdist's top, or in a docs folder), or None when there is none.

    ``docs_dir`` and the nav's paths are returned relative to the sdist, not to the config's folder.
    """
    for name in _MKDOCS_PLACES:
        read = folder.read(name, max_bytes=1 << 20)
        if read.text is not None:
            break
    else:
        return None
    base = name.rpartition("/")[0]
    try:
        data = yaml.load(read.text, Loader=_PermissiveSafeLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        return MkDocsConfig(
            "docs", warnings=(f"{read.path} is not valid YAML ({exc.__class__.__name__}); default order",)
        )
    if not isinstance(data, dict):
        return MkDocsConfig(
            f"{base}/docs" if base else "docs", warnings=(f"{read.path} is not a mapping; default order",)
        )
    docs_dir = _clean_dir(data.get("docs_dir"), "docs")
    docs_dir = f"{base}/{docs_dir}" if base else docs_dir
    raw_nav = data.get("nav", data.get("pages"))
    budget = [_MAX_NAV_ITEMS]
    nav = tuple(_nav_items(raw_nav, docs_dir, budget, 0)) if isinstance(raw_nav, list) else None
    site_name = data.get("site_name")
    return MkDocsConfig(docs_dir, site_name if isinstance(site_name, str) else "", nav)


def _nav_items(raw: list[Any], docs_dir: str, budget: list[int], depth: int) -> list[NavItem]:
    items: list[NavItem] = []
    if depth > 20:
        return items
    for entry in raw:
        budget[0] -= 1
        if budget[0] < 0:
            break
        if isinstance(entry, str):
            if "://" not in entry:
                items.append(NavItem("", _page_path(docs_dir, entry)))
        elif isinstance(entry, dict) and len(entry) == 1:
            title, value = next(iter(entry.items()))
            title = str(title) if title is not None else ""
            if isinstance(value, str) and "://" not in value:
                items.append(NavItem(title, _page_path(docs_dir, value)))
            elif isinstance(value, list):
                items.append(NavItem(title, "", tuple(_nav_items(value, docs_dir, budget, depth + 1))))
    return items


def _page_path(docs_dir: str, value: str) -> str:
    value = value.strip().lstrip("/")
    return f"{docs_dir}/{value}" if docs_dir else value


def _clean_dir(value: object, default: str) -> str:
    if not isinstance(value, str) or not value.strip():
        return default
    parts = [p for p in value.replace("\\", "/").split("/") if p not in ("", ".")]
    return default if ".." in parts else "/".join(parts)


def find_sphinx(folder: DocsFolder) -> SphinxConfig | None:
    """The Sphinx source folder (where ``conf.py`` is) and the settings read from it, or None."""
    for place in _SPHINX_PLACES:
        read = folder.read(f"{place}/conf.py", max_bytes=1 << 20)
        if read.text is None:
            continue
        text = read.text
        root = _setting(text, "root_doc") or _setting(text, "master_doc") or "index"
        suffixes = _suffixes(text)
        return SphinxConfig(place, root.removesuffix(".rst"), suffixes, _setting(text, "project") or "")
    return None


def _setting(text: str, name: str) -> str:
    match = re.search(rf"^{name}\s*=\s*[\"']([^\"'\n]+)[\"']", text, re.MULTILINE)
    return match[1].strip() if match else ""


def _suffixes(text: str) -> tuple[str, ...]:
    match = re.search(r"^source_suffix\s*=\s*(.+?)$", text, re.MULTILINE)
    if match is None:
        return (".rst",)
    found = tuple(s for s in re.findall(r"[\"'](\.[\w.]+)[\"']", match[1]) if s != ".ipynb")
    return found or (".rst",)
