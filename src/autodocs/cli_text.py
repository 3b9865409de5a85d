"""The ``autodocs`` command's text output (rich), and its JSON and error printing."""

from __future__ import annotations

import json
import sys
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
from autodocs.service import ProjectContextResult, PruneResult, RefreshResult, SearchResult

__all__ = [
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


def print_json(model: BaseModel) -> int:
    sys.stdout.write(json.dumps(compact(model.model_dump(mode="json")), ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


def print_error(exc: BaseException, *, as_json: bool) -> None:
    payload = to_error_payload(exc)
    if as_json:
        sys.stdout.write(json.dumps(payload, ensure_ascii=False, indent=2) + "\n")
        return
    error = payload["error"]
    console = Console(stderr=True)
    console.print(f"[bold red]{error['type']}[/bold red]: {escape(error['message'])}")
    for suggestion in error["suggestions"]:
        console.print(f"  - {escape(suggestion)}")
    if not isinstance(exc, AutoDocsError):
        console.print("  (details are in the log; run with AUTODOCS_LOG_LEVEL=DEBUG)")


def show_config(settings: Settings, as_json: bool) -> int:
    described = settings.describe()
    if as_json:
        print(json.dumps(described, indent=2))
        return EXIT_OK
    table = Table("variable", "value", title="AutoDocs effective settings")
    for key, value in described.items():
        table.add_row(key, escape(str(value)))
    Console().print(table)
    return EXIT_OK


def show_api(reply: dict[str, Any]) -> None:
    console = Console()
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
    for key, value in result.model_dump().items():
        Console().print(f"[bold]{key}[/bold]: {escape(str(value))}")


def show_scan(result: ScanResult) -> None:
    console = Console()
    table = Table("name", "specifier", "extras", "group", "pin", "source", title=result.project_path)
    for dep in result.dependencies:
        where = f"{dep.source.file}:{dep.source.line}" if dep.source.line else dep.source.file
        table.add_row(dep.name, dep.specifier or "*", ",".join(dep.extras), dep.group, dep.pinned_version or "", where)
    console.print(table)
    for failure in result.errors:
        console.print(f"[red]{escape(failure.file)}[/red]: {escape(str(failure.error['message']))}")


def show_page(page: DocsPage) -> None:
    console = Console()
    console.print(f"[bold]{page.name} {page.version}[/bold]  (source: {page.source})")
    if page.summary:
        console.print(escape(page.summary))
    for warning in page.warnings:
        console.print(f"[yellow]warning:[/yellow] {escape(warning)}")
    console.print(escape(page.content), highlight=False)
    if page.next_cursor:
        console.rule()
        console.print(f"More: autodocs docs {page.name} --cursor {page.next_cursor}")


def show_context(result: ProjectContextResult) -> None:
    console = Console()
    table = Table("package", "version", "tokens", "summary", title=result.project_path)
    for page in result.succeeded:
        table.add_row(page.name, page.version, str(page.tokens), escape((page.summary or "")[:70]))
    console.print(table)
    for failed in result.failed:
        console.print(f"[red]{failed.name}[/red]: {failed.error_type}: {escape(failed.message)}")
    console.print(f"{len(result.succeeded)} ok, {len(result.failed)} failed, completion {result.completion_rate:.0%}")


def show_search(result: SearchResult) -> None:
    console = Console()
    table = Table("package", "kind", "path", "snippet", title=f"search: {escape(result.query[:80])}")
    for hit in result.results:
        table.add_row(f"{hit.package}=={hit.version}", hit.kind, escape(hit.path), escape(hit.snippet))
    console.print(table)
    for note in result.notes:
        console.print(f"[dim]{escape(note)}[/dim]")
