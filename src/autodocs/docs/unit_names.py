"""Which units a name in ``sections=[...]`` stands for, and the names to suggest when none.

A name is a docs page's path (``docs/usage.rst``, its suffix optional), a heading of it with
what is under it (``docs/usage.rst#Retrying``), a README heading (title or anchor, else a title
containing it), or a docs heading's title. The look-ups are maps built once per unit set, and
only the first few unknown names get suggestions: a hostile list of a thousand long names costs
a fraction of a second, not the seconds a scan per name would.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass

from autodocs.docs.units import Unit

__all__ = ["SectionNames", "match_name", "nearest_names"]

#: Names suggested for a section name that matches nothing, for the first few such names.
_SUGGESTED = 10
_SUGGESTED_FOR = 5
_SUGGESTED_NAME_CHARS = 200
_MAX_AVAILABLE_LISTED = 100


def match_name(units: Sequence[Unit], names: SectionNames, name: str) -> list[int]:
    """The units ``name`` stands for: a docs page (``docs/usage.rst``, suffix optional), one of
    its headings with what is under it (``docs/usage.rst#Retrying``), else a README heading
    (title or anchor, else a title containing it), else a docs heading of that title."""
    text = name.strip()
    path, _, heading = text.partition("#")
    on_page = names.pages.get(path.strip(), [])
    if on_page:
        if not heading.strip():
            return list(on_page)
        wanted = heading.strip().casefold()
        for index in on_page:
            titles = [title.casefold() for title in units[index].heading_path]
            if wanted in titles:
                prefix = units[index].heading_path[: titles.index(wanted) + 1]
                return [i for i in on_page if units[i].heading_path[: len(prefix)] == prefix]
        return []
    wanted = text.casefold()
    exact = names.readme.get(wanted)
    if exact:
        return list(exact)
    containing = [i for title, found in names.readme.items() if wanted and wanted in title for i in found]
    if containing:
        return sorted(set(containing))
    return list(names.docs_titles.get(wanted, []))


@dataclass(slots=True)
class SectionNames:
    """What section names look units up by: page paths (with and without suffix), README titles
    and anchors, docs heading titles (case-folded)."""

    pages: dict[str, list[int]]
    readme: dict[str, list[int]]
    docs_titles: dict[str, list[int]]

    @classmethod
    def of(cls, units: Sequence[Unit]) -> SectionNames:
        pages: dict[str, list[int]] = {}
        readme: dict[str, list[int]] = {}
        docs_titles: dict[str, list[int]] = {}
        for index, unit in enumerate(units):
            if unit.origin == "docs":
                for key in dict.fromkeys((unit.page, unit.page.rsplit(".", 1)[0])):
                    pages.setdefault(key, []).append(index)
                docs_titles.setdefault(unit.title.casefold(), []).append(index)
            elif unit.origin == "readme":
                for key in dict.fromkeys((unit.title.casefold(), unit.anchor)):
                    if key:
                        readme.setdefault(key, []).append(index)
        return cls(pages, readme, docs_titles)


def nearest_names(units: Sequence[Unit], missing: Sequence[str]) -> list[str]:
    """Names close to the ``missing`` ones (page paths, ``path#Heading``, README titles); without
    any, the pages and README titles there are."""
    names: dict[str, None] = {}
    for unit in units:
        if unit.origin == "docs":
            names.setdefault(unit.page, None)
            names.setdefault(f"{unit.page}#{unit.title}", None)
        elif unit.origin == "readme":
            names.setdefault(unit.title, None)
    known = list(names)
    near: dict[str, None] = {}
    for name in missing[:_SUGGESTED_FOR]:  # difflib costs names x length: bounded for hostile lists
        for candidate in difflib.get_close_matches(name[:_SUGGESTED_NAME_CHARS], known, n=_SUGGESTED, cutoff=0.5):
            near.setdefault(candidate, None)
    if near:
        return list(near)[:_MAX_AVAILABLE_LISTED]
    return [name for name in known if "#" not in name][:_MAX_AVAILABLE_LISTED]
