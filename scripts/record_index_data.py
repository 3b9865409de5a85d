"""Record real package-index JSON responses into ``tests/data/index`` for offline tests.

Opt-in and uses the live index; the tests never do. Run from the repository root::

    PYTHONPATH=src python scripts/record_index_data.py [--only NAME ...] [--workers 8]

What it writes:

* ``projects/<normalized>.json``: the project document, trimmed (see :func:`trim_project`).
* ``versions/<normalized>/<version>.json``: per-version documents. The live per-version
  endpoint is not reachable from every network, so these are rebuilt from the wheel's
  ``METADATA`` (downloaded with ``pip download``) in the shape that endpoint returns.
* ``MANIFEST.json``: what was recorded and when.

Packages that fail are reported and skipped; the run goes on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import email.message
import email.parser
import email.policy
import json
import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from autodocs.config import DEFAULT_INDEX_URL

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "tests" / "data" / "index"
INVALID_HOST = "index.invalid"

PACKAGES: tuple[str, ...] = (
    # HTTP and friends
    "requests", "httpx", "urllib3", "certifi", "idna", "charset-normalizer", "anyio", "sniffio",
    "h11", "httpcore", "aiohttp", "multidict", "yarl", "frozenlist", "aiosignal", "async-timeout",
    "websockets",
    # typing, validation, serialisation
    "pydantic", "pydantic-core", "pydantic-settings", "annotated-types", "typing-extensions",
    "typing-inspection", "attrs", "marshmallow", "orjson", "ujson", "msgpack", "protobuf",
    "jsonschema", "jsonschema-specifications", "referencing", "rpds-py", "pyyaml", "toml", "tomli",
    "tomlkit",
    # packaging and tooling
    "packaging", "setuptools", "wheel", "pip", "virtualenv", "filelock", "platformdirs", "distlib",
    "importlib-metadata", "zipp", "more-itertools",
    # testing and quality
    "pytest", "pluggy", "iniconfig", "coverage", "mypy", "mypy-extensions", "ruff", "black", "isort",
    "exceptiongroup", "pytest-asyncio", "pytest-timeout",
    # terminal and text
    "click", "rich", "pygments", "markdown-it-py", "mdurl", "colorama", "tqdm", "jinja2",
    "markupsafe", "docutils", "sphinx", "babel", "regex",
    # web frameworks and servers
    "flask", "werkzeug", "itsdangerous", "blinker", "django", "asgiref", "sqlparse", "fastapi",
    "starlette", "uvicorn", "gunicorn", "python-multipart", "python-dotenv", "mcp", "griffe",
    # data and science
    "numpy", "pandas", "python-dateutil", "pytz", "six", "scipy", "matplotlib", "networkx",
    "sympy", "openpyxl", "xlrd", "pillow", "lxml", "beautifulsoup4", "soupsieve",
    # crypto, system, databases, queues
    "cryptography", "cffi", "pycparser", "pyjwt", "paramiko", "psutil", "sqlalchemy", "greenlet",
    "psycopg", "redis", "celery", "kombu", "grpcio",
    # misc utilities
    "structlog", "arrow", "pendulum", "tenacity", "stamina", "wrapt", "decorator",
)  # fmt: skip

#: Per-version documents to rebuild from wheel metadata: (name, version).
VERSION_DOCS: tuple[tuple[str, str], ...] = (
    ("requests", "2.31.0"),
    ("requests", "2.28.2"),
    ("httpx", "0.27.2"),
    ("httpx", "0.26.0"),
    ("pydantic", "1.10.13"),
    ("click", "7.1.2"),
    ("packaging", "23.2"),
    ("urllib3", "1.26.18"),
    ("rich", "13.7.1"),
    ("attrs", "23.2.0"),
)

FILE_FIELDS = (
    "filename",
    "packagetype",
    "python_version",
    "requires_python",
    "size",
    "upload_time_iso_8601",
    "yanked",
    "yanked_reason",
)
DROP_INFO = ("downloads", "bugtrack_url")
DROP_TOP = ("vulnerabilities", "ownership")


def normalize(name: str) -> str:
    """PEP 503 normalized project name."""
    return re.sub(r"[-_.]+", "-", name).lower()


def invalid_url(url: str | None) -> str | None:
    """The same path on the reserved ``index.invalid`` host, so test data names no real index."""
    if not url:
        return url
    parts = urlsplit(url)
    return urlunsplit(("https", INVALID_HOST, parts.path, parts.query, parts.fragment))


def trim_file(entry: dict[str, Any]) -> dict[str, Any]:
    return {key: entry.get(key) for key in FILE_FIELDS}


def pick_file(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One representative file: a pure wheel, else any wheel, else the sdist, else the first."""
    if not files:
        return []

    def rank(entry: dict[str, Any]) -> int:
        filename = str(entry.get("filename", ""))
        if filename.endswith("-none-any.whl"):
            return 0
        if entry.get("packagetype") == "bdist_wheel":
            return 1
        if entry.get("packagetype") == "sdist":
            return 2
        return 3

    return [trim_file(min(files, key=rank))]


def trim_project(raw: dict[str, Any]) -> dict[str, Any]:
    info = {k: v for k, v in raw["info"].items() if k not in DROP_INFO}
    for key in ("package_url", "project_url", "release_url"):
        info[key] = invalid_url(info.get(key))
    doc = {k: v for k, v in raw.items() if k not in DROP_TOP}
    doc["info"] = info
    doc["releases"] = {version: pick_file(files) for version, files in raw.get("releases", {}).items()}
    doc["urls"] = [trim_file(entry) for entry in raw.get("urls", [])]
    return doc


def dump(doc: dict[str, Any], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    path.write_text(text, encoding="utf-8")


def fetch_project(client: httpx.Client, name: str) -> dict[str, Any]:
    response = client.get(f"{DEFAULT_INDEX_URL}/{name}/json")
    response.raise_for_status()
    data: dict[str, Any] = response.json()
    return data


# --- per-version documents from wheel METADATA -------------------------------------------------


def _headers(msg: email.message.Message, key: str) -> list[str]:
    return [str(v) for v in (msg.get_all(key) or [])]


def _header(msg: email.message.Message, key: str) -> str | None:
    value = msg.get(key)
    return None if value is None else str(value)


def _unfold_description(value: str) -> str:
    """Undo the continuation-line prefix (7 spaces and '|', or 8 spaces) of a Description header."""
    lines = value.splitlines()
    out = lines[:1]
    for line in lines[1:]:
        if line.startswith(("       |", "        ")):
            out.append(line[8:])
        else:
            out.append(line)
    return "\n".join(out)


def info_from_metadata(raw: bytes, project_url_base: str) -> dict[str, Any]:
    msg = email.parser.BytesParser(policy=email.policy.compat32).parsebytes(raw)
    body = msg.get_payload()
    description = body if isinstance(body, str) and body.strip() else None
    if description is None and (header := _header(msg, "Description")) is not None:
        description = _unfold_description(header)
    project_urls: dict[str, str] = {}
    for value in _headers(msg, "Project-URL"):
        label, _, url = value.partition(",")
        project_urls[label.strip()] = url.strip()
    name = _header(msg, "Name") or ""
    version = _header(msg, "Version") or ""
    requires_dist = _headers(msg, "Requires-Dist")
    provides_extra = _headers(msg, "Provides-Extra")
    dynamic = _headers(msg, "Dynamic")
    license_files = _headers(msg, "License-File")
    return {
        "author": _header(msg, "Author"),
        "author_email": _header(msg, "Author-email"),
        "classifiers": _headers(msg, "Classifier"),
        "description": description,
        "description_content_type": _header(msg, "Description-Content-Type"),
        "docs_url": None,
        "download_url": _header(msg, "Download-URL"),
        "dynamic": dynamic or None,
        "home_page": _header(msg, "Home-page"),
        "keywords": _header(msg, "Keywords"),
        "license": _header(msg, "License"),
        "license_expression": _header(msg, "License-Expression"),
        "license_files": license_files or None,
        "maintainer": _header(msg, "Maintainer"),
        "maintainer_email": _header(msg, "Maintainer-email"),
        "name": name,
        "package_url": f"{project_url_base}/project/{normalize(name)}/",
        "platform": _header(msg, "Platform"),
        "project_url": f"{project_url_base}/project/{normalize(name)}/",
        "project_urls": project_urls or None,
        "provides_extra": provides_extra or None,
        "release_url": f"{project_url_base}/project/{normalize(name)}/{version}/",
        "requires_dist": requires_dist or None,
        "requires_python": _header(msg, "Requires-Python"),
        "summary": _header(msg, "Summary"),
        "version": version,
        "yanked": False,
        "yanked_reason": None,
    }


def build_version_doc(name: str, version: str, raw_project: dict[str, Any]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:"]
        cmd += ["--quiet", "-d", tmp, f"{name}=={version}"]
        subprocess.run(cmd, check=True, capture_output=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if len(wheels) != 1:
            raise RuntimeError(f"expected one wheel for {name}=={version}, got {wheels}")
        wheel = wheels[0]
        with zipfile.ZipFile(wheel) as zf:
            meta_name = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
            metadata = zf.read(meta_name)
        size = wheel.stat().st_size
    info = info_from_metadata(metadata, f"https://{INVALID_HOST}")
    files = raw_project.get("releases", {}).get(version, [])
    entry = next((f for f in files if f.get("filename") == wheel.name), None)
    if entry is None:
        entry = {"filename": wheel.name, "packagetype": "bdist_wheel", "size": size}
    file_entry = trim_file(entry)
    info["yanked"] = bool(file_entry.get("yanked") or False)
    info["yanked_reason"] = file_entry.get("yanked_reason")
    return {"info": info, "last_serial": raw_project.get("last_serial"), "urls": [file_entry]}


# --- driver ------------------------------------------------------------------------------------


def record(names: Iterable[str], workers: int) -> dict[str, Any]:
    projects_dir = OUT / "projects"
    raw_by_name: dict[str, dict[str, Any]] = {}
    latest: dict[str, str] = {}
    wanted_raw = {normalize(n) for n, _ in VERSION_DOCS}

    with httpx.Client(timeout=60.0, follow_redirects=True) as client:

        def one(name: str) -> tuple[str, dict[str, Any] | None, str | None]:
            try:
                return name, fetch_project(client, name), None
            except Exception as exc:
                return name, None, f"{type(exc).__name__}: {exc}"

        with ThreadPoolExecutor(max_workers=workers) as pool:
            for name, raw, error in pool.map(one, names):
                if raw is None:
                    print(f"SKIP {name}: {error}", file=sys.stderr)
                    continue
                key = normalize(name)
                dump(trim_project(raw), projects_dir / f"{key}.json")
                latest[key] = str(raw["info"]["version"])
                if key in wanted_raw:
                    raw_by_name[key] = raw
                print(f"ok   {key} {latest[key]} ({len(raw.get('releases', {}))} releases)")

    versions: dict[str, list[str]] = {}
    for name, version in VERSION_DOCS:
        key = normalize(name)
        if key not in raw_by_name:
            continue
        try:
            doc = build_version_doc(name, version, raw_by_name[key])
        except Exception as exc:
            print(f"SKIP {name}=={version}: {type(exc).__name__}: {exc}", file=sys.stderr)
            continue
        dump(doc, OUT / "versions" / key / f"{version}.json")
        versions.setdefault(key, []).append(version)
        print(f"ok   {key}=={version} (per-version document)")
    return {"projects": latest, "versions": versions}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", help="record just these packages (manifest is merged)")
    parser.add_argument("--workers", type=int, default=8)
    args = parser.parse_args(argv)
    names = list(dict.fromkeys(args.only or PACKAGES))
    result = record(names, args.workers)

    manifest_path = OUT / "MANIFEST.json"
    manifest: dict[str, Any] = {"projects": {}, "versions": {}}
    if args.only and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    manifest["recorded_on"] = dt.date.today().isoformat()
    manifest["projects"].update(result["projects"])
    manifest["versions"].update(result["versions"])
    manifest["projects"] = dict(sorted(manifest["projects"].items()))
    manifest_path.write_text(json.dumps(manifest, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    total = sum(p.stat().st_size for p in OUT.rglob("*.json"))
    print(f"{len(manifest['projects'])} projects, {total / 1e6:.1f} MB under {OUT.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
