"""The wheel and sdist of pinned releases, downloaded once with pip into a cache folder.

``pip download --no-deps`` from the package index pip is configured with: the wheel with
``--only-binary :all:``, the sdist with ``--no-binary :all:``. pip refuses some real old
releases: an sdist whose build backend no longer builds it (``[tool.flit.metadata]`` under
today's flit_core, since pip prepares an sdist's metadata even to download it) or a release
whose metadata today's pip rejects (celery 4.4.7). For those the file is taken as the index
lists it (the Simple API page of AutoDocs' default index, its sha256 checked). A release whose file
still cannot be fetched is recorded as missing (the bench reports it).
"""

from __future__ import annotations

import hashlib
import re
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["ReleaseFiles", "download_releases", "find_files"]

_SDIST_SUFFIXES = (".tar.gz", ".zip", ".tar.bz2")
_DOWNLOAD_TIMEOUT_S = 300


@dataclass(frozen=True, slots=True)
class ReleaseFiles:
    name: str
    version: str
    wheel: Path | None
    sdist: Path | None
    problems: tuple[str, ...] = field(default=())


def _normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def find_files(folder: Path, name: str, version: str) -> tuple[Path | None, Path | None]:
    """The wheel and the sdist of ``name==version`` already in ``folder`` (None when absent)."""
    wheel = sdist = None
    wanted = (_normalize(name), version)
    for path in sorted(folder.glob("*")) if folder.is_dir() else []:
        filename = path.name
        if filename.endswith(".whl"):
            parts = filename.split("-")
            if len(parts) >= 2 and (_normalize(parts[0]), parts[1]) == wanted:
                wheel = path
        else:
            stem = next((filename[: -len(s)] for s in _SDIST_SUFFIXES if filename.endswith(s)), None)
            if stem and "-" in stem:
                project, _, found_version = stem.rpartition("-")
                if (_normalize(project), found_version) == wanted:
                    sdist = path
    return wheel, sdist


def _pip_download(folder: Path, requirement: str, binary: str) -> str | None:
    """Run one ``pip download``; the last lines of its error output when it fails."""
    command = [sys.executable, "-m", "pip", "download", "--no-deps", "--disable-pip-version-check", "-q"]
    command += ["--only-binary" if binary == "wheel" else "--no-binary", ":all:", "-d", str(folder), requirement]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=_DOWNLOAD_TIMEOUT_S, check=False)
    except subprocess.TimeoutExpired:
        return f"pip download of the {binary} timed out after {_DOWNLOAD_TIMEOUT_S} s"
    if done.returncode != 0:
        return f"pip download of the {binary} failed: " + " ".join(done.stderr.strip().splitlines()[-2:])
    return None


def _index_download(folder: Path, name: str, version: str, binary: str) -> str | None:
    """Fetch the release's file from the index's Simple API page (PEP 691); why not, when it fails."""
    import httpx

    from autodocs.config import DEFAULT_INDEX_URL

    simple = DEFAULT_INDEX_URL.rsplit("/", 1)[0] + "/simple"
    headers = {"Accept": "application/vnd.pypi.simple.v1+json"}
    try:
        with httpx.Client(timeout=60, follow_redirects=True) as client:
            answer = client.get(f"{simple}/{_normalize(name)}/", headers=headers).raise_for_status()
            files = [f for f in answer.json()["files"] if _is_file_of(f["filename"], name, version, binary)]
            if binary == "wheel":
                files = [f for f in files if f["filename"].endswith("-none-any.whl")] or files
            if not files:
                return f"the index lists no {binary}"
            chosen = files[0]
            data = client.get(chosen["url"]).raise_for_status().content
    except (httpx.HTTPError, KeyError, ValueError) as exc:
        return f"index fallback for the {binary} failed: {type(exc).__name__}"
    if hashlib.sha256(data).hexdigest() != chosen["hashes"].get("sha256"):
        return f"the {binary} does not match its sha256"
    (folder / chosen["filename"]).write_bytes(data)
    return None


def _is_file_of(filename: str, name: str, version: str, binary: str) -> bool:
    if binary == "wheel":
        parts = filename.split("-")
        return (
            filename.endswith(".whl")
            and len(parts) > 2
            and (_normalize(parts[0]), parts[1]) == (_normalize(name), version)
        )
    stem = next((filename[: -len(s)] for s in _SDIST_SUFFIXES if filename.endswith(s)), None)
    return stem is not None and _normalize(stem) == _normalize(f"{name}-{version}")


def download_releases(folder: Path, releases: Iterable[tuple[str, str]], *, log: bool = True) -> list[ReleaseFiles]:
    """Each release's wheel and sdist in ``folder``, downloaded when not there yet."""
    folder.mkdir(parents=True, exist_ok=True)
    found: list[ReleaseFiles] = []
    for name, version in releases:
        problems: list[str] = []
        wheel, sdist = find_files(folder, name, version)
        for kind, present in (("wheel", wheel), ("sdist", sdist)):
            if present is None:
                if log:
                    print(f"  downloading {name}=={version} {kind}", file=sys.stderr, flush=True)
                problem = _pip_download(folder, f"{name}=={version}", kind)
                if problem:
                    fallback = _index_download(folder, name, version, kind) or "taken from the index's Simple API page"
                    problems.append(f"{problem}; {fallback}")
        wheel, sdist = find_files(folder, name, version)
        found.append(ReleaseFiles(name, version, wheel, sdist, tuple(problems)))
    return found
