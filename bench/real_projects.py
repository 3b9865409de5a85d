"""Real projects' locked dependencies documented at their lock pins (issue 21), against a live index.

For each project folder given, as a user would with ``autodocs docs NAME --project FOLDER``:

1. the project is scanned (``scan``);
2. every dependency that a lock file or an exact ``==`` pin (a pip-compiled requirements file)
   fixes and that comes from a package index is asked for with
   ``get_package_docs(name, project_path=FOLDER)``, no version given: the project's pin must be
   the version in the reply;
3. git, path and URL dependencies must be listed in the scan's ``skipped`` (never asked for).

It prints one row per project::

    project | locked deps | documented at pin | skipped (git/path) | failed (error types)

A name a project pins at more than one version (two requirements files that disagree) counts
as documented at its pin when the reply is one of them.

The projects' files are never part of this repository: pass folders that hold them. This bench
talks to the package index the settings name (``AUTODOCS_INDEX_URL``, else pip's and uv's
settings, else the default), never to anything else; it runs nowhere in CI. Bounded: one call
per locked name, at most ``--concurrency`` at once (the index client's own request slots and
deadline apply under that), each under ``--call-timeout`` seconds.

    python -m bench.real_projects /path/to/httpx /path/to/flask [--cache-dir DIR] [--verbose]
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from autodocs.config import load_settings
from autodocs.errors import AutoDocsError
from autodocs.manifests.base import Dependency, ScanResult
from autodocs.service import AutoDocsService


@dataclass
class ProjectRow:
    project: str
    pins: dict[str, set[str]] = field(default_factory=dict)
    documented: list[str] = field(default_factory=list)
    wrong_version: list[str] = field(default_factory=list)
    failed: Counter[str] = field(default_factory=Counter)
    failures: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def _exact_pin(dependency: Dependency) -> str | None:
    """The one version a lock pin or an ``==V`` requirement fixes; None when nothing fixes one."""
    if dependency.url is not None:
        return None
    if dependency.pinned_version:
        return dependency.pinned_version
    try:
        specifiers = list(SpecifierSet(dependency.specifier))
    except InvalidSpecifier:
        return None
    if len(specifiers) == 1 and specifiers[0].operator in ("==", "===") and "*" not in specifiers[0].version:
        return specifiers[0].version
    return None


def locked_pins(scan: ScanResult) -> dict[str, set[str]]:
    """Every index dependency the project's locks or ``==`` pins fix, with its pinned versions."""
    skipped = {entry.name for entry in scan.skipped}
    pins: dict[str, set[str]] = {}
    for dependency in [*scan.dependencies, *scan.locked_only]:
        pin = _exact_pin(dependency)
        if pin is not None and dependency.name not in skipped:
            pins.setdefault(dependency.name, set()).add(pin)
    return pins


async def check_project(service: AutoDocsService, folder: Path, *, concurrency: int, call_timeout: float) -> ProjectRow:
    scan = await service.scan(str(folder))
    row = ProjectRow(project=folder.name, pins=locked_pins(scan))
    row.skipped = sorted(f"{entry.name} ({entry.reason.split(':')[0]})" for entry in scan.skipped)
    slots = asyncio.Semaphore(concurrency)

    async def one(name: str, versions: set[str]) -> None:
        async with slots:
            try:
                async with asyncio.timeout(call_timeout):
                    page = await service.get_package_docs(name, project_path=str(folder))
            except AutoDocsError as exc:
                row.failed[type(exc).__name__] += 1
                row.failures.append(f"{name}=={'|'.join(sorted(versions))}: {type(exc).__name__}: {exc}")
                return
            except TimeoutError:
                row.failed["TimeoutError"] += 1
                row.failures.append(f"{name}=={'|'.join(sorted(versions))}: no reply in {call_timeout:.0f} s")
                return
        if page.version in versions:
            row.documented.append(name)
        else:
            row.wrong_version.append(f"{name}: pinned {'|'.join(sorted(versions))}, reply {page.version}")

    await asyncio.gather(*(one(name, versions) for name, versions in sorted(row.pins.items())))
    if row.wrong_version:
        row.failed["WrongVersion"] += len(row.wrong_version)
        row.failures.extend(row.wrong_version)
    return row


def format_table(rows: list[ProjectRow]) -> str:
    header = ("project", "locked deps", "documented at pin", "skipped (git/path)", "failed (error types)")
    lines = [" | ".join(header), " | ".join("-" * len(title) for title in header)]
    for row in rows:
        failed = sum(row.failed.values())
        kinds = ", ".join(f"{kind} {count}" for kind, count in row.failed.most_common())
        lines.append(
            " | ".join(
                (
                    row.project,
                    str(len(row.pins)),
                    str(len(row.documented)),
                    str(len(row.skipped)),
                    f"{failed} ({kinds})" if failed else "0",
                )
            )
        )
    return "\n".join(lines)


async def main_async(arguments: argparse.Namespace, folders: list[Path]) -> list[ProjectRow]:
    overrides = {"cache_dir": Path(arguments.cache_dir)} if arguments.cache_dir else {}
    settings = load_settings(**overrides)
    rows = []
    async with AutoDocsService.running(settings, transport="stdio", one_shot=True) as service:
        for folder in folders:
            rows.append(
                await check_project(
                    service,
                    folder,
                    concurrency=arguments.concurrency,
                    call_timeout=arguments.call_timeout,
                )
            )
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("projects", nargs="+", help="project folders (their manifests and lock files)")
    parser.add_argument("--cache-dir", help="the cache to use (default: a fresh temporary one)")
    parser.add_argument("--concurrency", type=int, default=6, help="docs calls at once (default 6)")
    parser.add_argument("--call-timeout", type=float, default=90.0, help="seconds per docs call (default 90)")
    parser.add_argument("--verbose", action="store_true", help="list each failure and skipped dependency")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="autodocs-real-projects-") as fresh:
        if not arguments.cache_dir:
            arguments.cache_dir = fresh
        rows = asyncio.run(main_async(arguments, [Path(folder).resolve() for folder in arguments.projects]))
    print(format_table(rows))
    if arguments.verbose:
        for row in rows:
            for line in [*row.failures, *(f"skipped: {entry}" for entry in row.skipped)]:
                print(f"{row.project}: {line}", file=sys.stderr)
    return 0 if all(not row.failed for row in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
