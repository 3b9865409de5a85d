"""The ``autodocs`` command's text output (rich), and its JSON and error printing."""

from __future__ import annotations

import json
import shlex
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from autodocs.cache import CacheStats, EntryPage
from autodocs.cli import EXIT_OK
from autodocs.config import Settings
from autodocs.docs.model import DocsPage, compact
from autodocs.errors import AutoDocsError, to_error_payload
from autodocs.manifests import ScanResult
from autodocs.usecases.replies import ProjectContextResult, PruneResult, RefreshResult, SearchResult

__all__ = [
    "output",
    "print_error",
    "print_json",
    "show_api",
    "show_cache",
    "show_config",
    "show_context",
    "show_page",
    "show_scan",
    "show_search",
]

#: Width given to output that is not a terminal: lines are never wrapped, whatever their length.
_UNWRAPPED = 1_000_000
#: What an unset setting means, where that is not obvious.
_UNSET_MEANS = {
    "AUTODOCS_PYTHON": ": the project's .venv/ or venv/",
    "AUTODOCS_AUTH_TOKEN": ": HTTP serves only loopback addresses",
    "AUTODOCS_ALLOWED_ORIGINS": ": localhost only",
    "AUTODOCS_ALLOWED_HOSTS": ": localhost only",
}


def print_json(model: BaseModel) -> int:
    sys.stdout.write(json.dumps(compact(model.model_dump(mode="json")), ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


def print_error(exc: BaseException, *, as_json: bool) -> None:
    payload = to_error_payload(exc)
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    error = payload["error"]
    console = output(stderr=True)
    console.print(f"[bold red]{error['type']}[/bold red]: {escape(error['message'])}")
    for suggestion in error["suggestions"]:
        console.print(f"  - {escape(suggestion)}")
    if not isinstance(exc, AutoDocsError):
        console.print("  (details are in the log; run with AUTODOCS_LOG_LEVEL=DEBUG)")


def output(*, stderr: bool = False) -> Console:
    """A terminal gets rich's layout at its width. Anything else (a pipe, a file) gets every
    line whole, never wrapped at 80 columns, so cursors, URLs and commands stay copyable."""
    console = Console(stderr=stderr)
    return console if console.is_terminal else Console(stderr=stderr, width=_UNWRAPPED, soft_wrap=True)


def show_config(settings: Settings, as_json: bool) -> int:
    described = settings.describe()
    if as_json:
        print(json.dumps(described, indent=2))
        return EXIT_OK
    console = output()
    width = max(map(len, described))
    for key, value in described.items():
        console.print(f"{key:<{width}}  {escape(_setting_text(key, value))}", highlight=False)
    return EXIT_OK


def _setting_text(key: str, value: Any) -> str:
    """A setting as a person reads it: what an unset value means rather than None or []."""
    if key == "AUTODOCS_ALLOWED_ROOTS":
        if value:
            return f"{','.join(value)} (HTTP; stdio reads anywhere)"
        return f"(not set) HTTP: the working directory ({Path.cwd()}); stdio: anywhere"
    if value is None or value == []:
        return f"(not set{_UNSET_MEANS.get(key, '')})"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def show_api(reply: dict[str, Any]) -> None:
    console = output()
    source = reply["source"]
    console.print(
        f"[bold]{escape(reply['package'])} {escape(reply['version'])}[/bold] — {escape(reply['object_path'])} "
        f"(from {source['kind']}: {escape(source['location'])})"
    )
    for warning in reply.get("warnings", []):
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    for item in [reply["object"], *reply.get("members", [])]:
        console.print(f"\n[bold cyan]{item['kind']}[/bold cyan] {escape(item.get('signature') or item['path'])}")
        docstring = item.get("docstring") or {}
        summary = docstring.get("summary") or item.get("summary")
        if summary:
            console.print(f"    {escape(summary)}")
    if reply.get("omitted_members"):
        console.print(f"\n[dim]not shown: {escape(', '.join(reply['omitted_members']))}[/dim]")


def show_cache(result: CacheStats | EntryPage | PruneResult | RefreshResult) -> None:
    console = output()
    if isinstance(result, EntryPage):
        _show_entries(console, result)
        return
    for key, value in result.model_dump().items():
        if value is None:
            continue
        shown = _size(value) if key.endswith("_bytes") else str(value)
        console.print(f"[bold]{key}[/bold]: {escape(shown)}", highlight=False)


def _show_entries(console: Console, page: EntryPage) -> None:
    table = Table("package", "version", "kind", "last used (UTC)", "index", title="cached entries")
    for entry in page.entries:
        used = datetime.fromtimestamp(entry.last_used, tz=UTC).strftime("%Y-%m-%d %H:%M:%S")
        kind = entry.kind.replace("_", " ")
        table.add_row(escape(entry.name), escape(entry.version or "–"), kind, used, escape(entry.index))
    console.print(table)
    if page.clamped:
        console.print(f"[dim](at most {page.limit_applied} entries a page)[/dim]")
    if page.next_cursor:
        console.print(f"More: autodocs cache list --limit {page.limit_applied} --cursor {page.next_cursor}")


def _size(count: int) -> str:
    if count < 1024:
        return f"{count} bytes"
    shown = float(count)
    for unit in ("KiB", "MiB", "GiB", "TiB"):
        shown /= 1024
        if shown < 1024 or unit == "TiB":
            break
    return f"{shown:.1f} {unit} ({count} bytes)"


def show_scan(result: ScanResult) -> None:
    console = output()
    table = Table("name", "specifier", "extras", "group", "pin", "source", title=result.project_path)
    for dep in result.dependencies:
        where = f"{dep.source.file}:{dep.source.line}" if dep.source.line else dep.source.file
        table.add_row(dep.name, dep.specifier or "*", ",".join(dep.extras), dep.group, dep.pinned_version or "", where)
    console.print(table)
    for failure in result.errors:
        console.print(f"[red]{escape(failure.file)}[/red]: {escape(str(failure.error['message']))}")
    for skipped in result.skipped:
        console.print(f"[yellow]{escape(skipped.name)}[/yellow]: skipped: {escape(skipped.reason)}")


def show_page(page: DocsPage, console: Console | None = None) -> None:
    console = console or output()
    console.print(f"[bold]{escape(page.name)} {escape(page.version)}[/bold]  (source: {page.source})")
    if page.index:
        console.print(f"from the package index {escape(page.index)}", highlight=False)
    for note in page.index_notes:
        console.print(f"[yellow]note:[/yellow] {escape(note)}")
    if page.summary:
        console.print(escape(page.summary))
    for warning in page.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    console.print(escape(page.content), highlight=False)
    for match in page.api_matches:
        console.print(f"API: autodocs api {page.name}:{match.path}  {escape(match.snippet)}", highlight=False)
    if page.next_cursor:
        if console.is_terminal:
            console.rule()
        else:
            console.print("-" * 40)
        console.print(f"More: autodocs docs {page.name} --cursor {page.next_cursor}", highlight=False)


def show_context(result: ProjectContextResult) -> None:
    """Each dependency's page in full (the shared budget already sized them), then what failed."""
    console = output()
    console.print(f"[bold]{escape(result.project_path)}[/bold]")
    for page in result.succeeded:
        console.print()
        if page.content.strip():
            show_page(page, console)
        else:
            console.print(f"[bold]{escape(page.name)} {escape(page.version)}[/bold]  (no room in this budget)")
            console.print(f"Read it: autodocs docs {page.name} --version =={page.version}", highlight=False)
    console.print()
    for failed in result.failed:
        console.print(f"[red]{escape(failed.name)}[/red]: {failed.error_type}: {escape(failed.message)}")
    for skipped in result.skipped:
        console.print(f"[yellow]{escape(skipped.name)}[/yellow]: skipped: {escape(skipped.reason)}")
    console.print(
        f"{len(result.succeeded)} ok, {len(result.failed)} failed, {len(result.skipped)} skipped, "
        f"completion {result.completion_rate:.0%}"
    )


def show_search(result: SearchResult) -> None:
    console = output()
    several = len({hit.index for hit in result.results}) > 1  # then each hit says which index it is from
    table = Table(
        "package", "kind", "path", "snippet", *(["index"] if several else []), title=f"search: {escape(result.query)}"
    )
    for hit in result.results:
        index = [escape(hit.index)] if several else []
        table.add_row(f"{hit.package}=={hit.version}", hit.kind, escape(hit.path), escape(hit.snippet), *index)
    console.print(table)
    for hit in result.results:
        read = (
            f"api {hit.package}:{hit.path}"
            if hit.kind == "api"
            else (f"docs {hit.package} --version =={hit.version} --section {shlex.quote(hit.path)}")
        )
        console.print(f"read: autodocs {escape(read)}", highlight=False)
    for note in result.notes:
        console.print(f"[dim]{escape(note)}[/dim]", highlight=False)
