"""The fake index's releases with real files: Simple API pages, PEP 658 files, ranges, JSON pages.

:class:`SimpleRegistry` holds wheels and sdists of :class:`~tests.support.dists.FixtureProject`
releases and answers, for :class:`~tests.support.fake_index.FakeIndex`:

* ``/simple/NAME/``: PEP 691 JSON when asked for it (and ``modes.simple_json``), else PEP 503
  HTML, with *relative* links (``../../files/…``), hashes, ``requires-python``, yanked status and,
  with ``modes.pep658``, core-metadata attributes;
* ``/files/FILE`` (with ``Range`` when ``modes.ranges``) and ``/files/FILE.metadata``;
* ``/pypi/NAME/json`` and, with ``modes.version_pages``, ``/pypi/NAME/VERSION/json``, whose file
  URLs are relative too (as some mirrors write them).
"""

from __future__ import annotations

import html
import json
import re
from dataclasses import dataclass
from typing import Any

from packaging.version import Version

from tests.support.dists import FixtureProject, core_metadata, sha256

__all__ = ["Modes", "SimpleRegistry"]

_Answer = tuple[int, bytes, tuple[tuple[str, str], ...]]
_RANGE = re.compile(r"bytes=(\d*)-(\d*)$")
_JSON_MEDIA = "application/vnd.pypi.simple.v1+json"


@dataclass
class Modes:
    """What the fake index serves; each a switch a test flips."""

    json_api: bool = True
    version_pages: bool = True
    simple_api: bool = True
    simple_json: bool = True
    pep658: bool = True
    ranges: bool = True


@dataclass
class _File:
    project: FixtureProject
    filename: str
    data: bytes
    yanked: str | None


class SimpleRegistry:
    def __init__(self) -> None:
        self.modes = Modes()
        self._files: dict[str, _File] = {}
        self._projects: dict[str, list[_File]] = {}

    def add(self, project: FixtureProject, *, yanked: str | None = None, wheel: bool = True) -> None:
        """Serve ``project``'s wheel and sdist (``yanked``: the reason, or "" for none given)."""
        for filename, data in (project.wheel(), project.sdist())[0 if wheel else 1 :]:
            file = _File(project, filename, data, yanked)
            self._files[filename] = file
            files = self._projects.setdefault(_normalize(project.name), [])
            files[:] = [f for f in files if f.filename != filename] + [file]

    def has(self, name: str) -> bool:
        return _normalize(name) in self._projects

    def answer(self, route: str, headers: dict[str, str]) -> _Answer | None:
        """The answer for ``route``, or None when the registry does not serve it."""
        parts = [p for p in route.split("/") if p]
        if len(parts) == 2 and parts[0] == "simple" and self.modes.simple_api:
            return self._simple(parts[1], headers.get("accept", ""))
        if len(parts) == 2 and parts[0] == "files":
            return self._file(parts[1], headers.get("range"))
        if len(parts) in (3, 4) and parts[0] == "pypi" and parts[-1] == "json" and self.has(parts[1]):
            if not self.modes.json_api or (len(parts) == 4 and not self.modes.version_pages):
                return 404, b'{"message": "Not Found"}', ()
            return self._json_page(parts[1], parts[2] if len(parts) == 4 else None)
        return None

    def _simple(self, name: str, accept: str) -> _Answer:
        files = self._projects.get(_normalize(name))
        if files is None:
            return 404, b"Not Found", (("Content-Type", "text/html"),)
        if self.modes.simple_json and _JSON_MEDIA in accept:
            listed = [self._json_file(f) for f in files]
            page = {"meta": {"api-version": "1.1"}, "name": _normalize(name), "files": listed}
            return 200, json.dumps(page).encode(), (("Content-Type", _JSON_MEDIA),)
        anchors = []
        for file in files:
            attrs = [f'href="../../files/{file.filename}#sha256={sha256(file.data)}"']
            if file.project.requires_python:
                attrs.append(f'data-requires-python="{html.escape(file.project.requires_python)}"')
            if file.yanked is not None:
                attrs.append(f'data-yanked="{html.escape(file.yanked)}"')
            if self.modes.pep658 and file.filename.endswith(".whl"):
                digest = sha256(core_metadata(file.project))
                attrs.append(f'data-core-metadata="sha256={digest}" data-dist-info-metadata="sha256={digest}"')
            anchors.append(f"<a {' '.join(attrs)}>{file.filename}</a><br/>")
        body = f"<!DOCTYPE html><html><body><h1>Links for {name}</h1>{''.join(anchors)}</body></html>"
        return 200, body.encode(), (("Content-Type", "text/html; charset=utf-8"),)

    def _json_file(self, file: _File) -> dict[str, Any]:
        entry: dict[str, Any] = {
            "filename": file.filename,
            "url": f"../../files/{file.filename}",
            "hashes": {"sha256": sha256(file.data)},
            "requires-python": file.project.requires_python,
            "yanked": file.yanked if file.yanked else file.yanked is not None,
            "size": len(file.data),
            "upload-time": "2024-01-01T00:00:00.000000Z",
        }
        if self.modes.pep658 and file.filename.endswith(".whl"):
            entry["core-metadata"] = {"sha256": sha256(core_metadata(file.project))}
        return entry

    def _file(self, filename: str, range_header: str | None) -> _Answer | None:
        if filename.endswith(".metadata"):
            file = self._files.get(filename[: -len(".metadata")])
            if file is None or not self.modes.pep658:
                return 404, b"Not Found", ()
            return 200, core_metadata(file.project), (("Content-Type", "application/octet-stream"),)
        file = self._files.get(filename)
        if file is None:
            return None
        data, kind = file.data, (("Content-Type", "application/octet-stream"), ("Accept-Ranges", "bytes"))
        wanted = _RANGE.match(range_header or "")
        if not self.modes.ranges or wanted is None:
            return 200, data, kind[:1]
        first, last = wanted.groups()
        if first == "":  # a suffix: the last N bytes
            start, end = max(0, len(data) - int(last)), len(data) - 1
        else:
            start, end = int(first), min(len(data) - 1, int(last) if last else len(data) - 1)
        return 206, data[start : end + 1], (*kind, ("Content-Range", f"bytes {start}-{end}/{len(data)}"))

    def _json_page(self, name: str, version: str | None) -> _Answer:
        files = self._projects[_normalize(name)]
        by_version: dict[str, list[_File]] = {}
        for file in files:
            by_version.setdefault(file.project.version, []).append(file)
        if version is not None and version not in by_version:
            return 404, b'{"message": "Not Found"}', ()
        finals = [v for v in by_version if not Version(v).is_prerelease] or list(by_version)
        shown = version or max(finals, key=Version)
        project = by_version[shown][0].project

        def entry(file: _File) -> dict[str, Any]:
            return {
                "filename": file.filename,
                "url": f"../../files/{file.filename}" if version is None else f"../../../files/{file.filename}",
                "digests": {"sha256": sha256(file.data)},
                "size": len(file.data),
                "packagetype": "bdist_wheel" if file.filename.endswith(".whl") else "sdist",
                "requires_python": file.project.requires_python,
                "yanked": file.yanked is not None,
                "yanked_reason": file.yanked or None,
                "upload_time_iso_8601": "2024-01-01T00:00:00.000000Z",
            }

        info = {
            "name": project.name,
            "version": shown,
            "summary": f"The {project.name} fixture, release {shown}.",
            "description": project.readme(),
            "description_content_type": "text/x-rst" if project.markup == "rst" else "text/markdown",
            "requires_python": project.requires_python,
            "requires_dist": list(project.requires_dist) or None,
            "license": "MIT",
            "yanked": all(f.yanked is not None for f in by_version[shown]),
            "yanked_reason": by_version[shown][0].yanked or None,
        }
        page: dict[str, Any] = {"info": info, "urls": [entry(f) for f in by_version[shown]]}
        if version is None:
            page["releases"] = {v: [entry(f) for f in fs] for v, fs in by_version.items()}
        return 200, json.dumps(page).encode(), (("Content-Type", "application/json"),)


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()
