"""The ``autodocs`` command.

``--json`` prints exactly the object the matching MCP tool returns (its structured
content); on failure, the ``{"error": {...}}`` object on stdout and exit code 1
(2 for bad configuration or usage). Human output and progress go through rich.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from autodocs import __version__
from autodocs.config import Settings, load_settings
from autodocs.docs.model import DocsPage, compact
from autodocs.errors import AutoDocsError, ConfigError, to_error_payload
from autodocs.gc_tuning import tune_garbage_collector
from autodocs.logs import configure_logging
from autodocs.manifests import ScanResult
from autodocs.service import AutoDocsService, ProjectContextResult, SearchResult

__all__ = ["main"]

T = TypeVar("T", bound=BaseModel)

EXIT_OK, EXIT_ERROR, EXIT_USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return EXIT_USAGE
    try:
        settings = load_settings()
    except ConfigError as exc:
        _print_error(exc, as_json=getattr(args, "json", False))
        return EXIT_USAGE
    if args.command == "serve":
        return _serve(settings, args)
    configure_logging(
        "WARNING" if settings.log_level == "INFO" else settings.log_level, repeat_interval=settings.log_repeat_interval
    )
    if args.command == "config":
        return _config(settings, args.json)
    handlers: dict[str, Callable[[AutoDocsService, argparse.Namespace], Awaitable[int]]] = {
        "scan": _scan,
        "docs": _docs,
        "search": _search,
        "api": _api,
        "context": _context,
        "cache": _cache,
    }
    tune_garbage_collector()
    try:
        return asyncio.run(_with_service(settings, args, handlers[args.command]))
    except KeyboardInterrupt:
        return 130


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="autodocs", description="Version-exact documentation for a Python project's dependencies."
    )
    parser.add_argument("--version", action="version", version=f"autodocs {__version__}")
    commands = parser.add_subparsers(dest="command")

    serve = commands.add_parser("serve", help="run the MCP server")
    serve.add_argument("--transport", choices=["stdio", "http"], default="stdio")
    serve.add_argument("--host", help="HTTP: address to bind (default AUTODOCS_HOST, 127.0.0.1)")
    serve.add_argument("--port", type=int, help="HTTP: port to bind (default AUTODOCS_PORT, 8765; 0: any free)")

    scan = commands.add_parser("scan", help="list a project's dependencies")
    scan.add_argument("path")
    scan.add_argument("--json", action="store_true", help="print the scan_dependencies result")

    docs = commands.add_parser("docs", help="documentation of one package")
    docs.add_argument("name")
    docs.add_argument("--version", dest="spec", metavar="SPEC", help="PEP 440 constraint or exact version")
    docs.add_argument("--query", help="rank sections by relevance to this question")
    docs.add_argument("--max-tokens", type=int)
    docs.add_argument("--section", action="append", dest="sections", metavar="TITLE", help="only this section")
    docs.add_argument("--cursor", help="next_cursor of a previous page")
    docs.add_argument("--json", action="store_true", help="print the get_package_docs result")

    search = commands.add_parser("search", help="full-text search over the cached docs")
    search.add_argument("query")
    search.add_argument("--project", help="only this project's dependencies (at their lock pins when locked)")
    search.add_argument(
        "--package", action="append", dest="packages", metavar="NAME[==VERSION]", help="only this package"
    )
    search.add_argument("--limit", type=int, default=10, help="hits to show (at most 50)")
    search.add_argument("--json", action="store_true", help="print the search_docs result")

    api = commands.add_parser("api", help="API reference of a package, read from its code (never run)")
    api.add_argument("target", metavar="NAME[:object.path]", help="e.g. httpx or httpx:Client.get")
    api.add_argument("--project", help="project folder: its .venv/ or venv/ and lock file are used")
    api.add_argument("--version", dest="spec", metavar="SPEC", help="PEP 440 constraint or exact version")
    api.add_argument("--max-tokens", type=int)
    api.add_argument("--json", action="store_true", help="print the get_api_reference result")

    context = commands.add_parser("context", help="scan a project and fetch docs for every dependency")
    context.add_argument("path")
    context.add_argument("--max-tokens", type=int, help="budget shared by all packages")
    context.add_argument("--json", action="store_true")

    cache = commands.add_parser("cache", help="inspect, list, prune or clear the cache")
    cache.add_argument("action", choices=["stats", "list", "prune", "clear"])
    cache.add_argument("--package", help="with clear: only this package")
    cache.add_argument("--cursor", help="with list: next_cursor of the previous page")
    cache.add_argument("--limit", type=int, default=100, help="with list: entries per page (at most 1000)")
    cache.add_argument("--json", action="store_true")

    config = commands.add_parser("config", help="print the effective settings (secrets masked)")
    config.add_argument("--json", action="store_true")
    return parser


def _serve(settings: Settings, args: argparse.Namespace) -> int:
    if args.transport == "stdio":
        from autodocs.server import serve_stdio

        tune_garbage_collector()
        return serve_stdio(settings)
    from autodocs.server.http import serve_http

    tune_garbage_collector()
    overrides = {key: value for key, value in (("host", args.host), ("port", args.port)) if value is not None}
    try:
        return serve_http(settings.model_copy(update=overrides) if overrides else settings)
    except ConfigError as exc:
        _print_error(exc, as_json=False)
        return EXIT_USAGE


async def _with_service(
    settings: Settings,
    args: argparse.Namespace,
    handler: Callable[[AutoDocsService, argparse.Namespace], Awaitable[int]],
) -> int:
    try:
        async with AutoDocsService.running(settings) as service:
            return await handler(service, args)
    except Exception as exc:
        _print_error(exc, as_json=args.json)
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_ERROR


async def _scan(service: AutoDocsService, args: argparse.Namespace) -> int:
    result = await service.scan(args.path)
    if args.json:
        return _print_json(result)
    _show_scan(result)
    return EXIT_OK


async def _docs(service: AutoDocsService, args: argparse.Namespace) -> int:
    page = await service.get_package_docs(
        args.name,
        args.spec,
        query=args.query,
        max_tokens=args.max_tokens,
        sections=args.sections,
        cursor=args.cursor,
    )
    if args.json:
        return _print_json(page)
    _show_page(page)
    return EXIT_OK


async def _api(service: AutoDocsService, args: argparse.Namespace) -> int:
    name, _, object_path = args.target.partition(":")
    reply = await service.get_api_reference(
        name,
        object_path or None,
        project_path=args.project,
        version_constraint=args.spec,
        max_tokens=args.max_tokens,
    )
    if args.json:
        sys.stdout.write(json.dumps(reply, ensure_ascii=False, indent=2) + "\n")
        return EXIT_OK
    _show_api(reply)
    return EXIT_OK


def _show_api(reply: dict[str, Any]) -> None:
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


async def _search(service: AutoDocsService, args: argparse.Namespace) -> int:
    result = await service.search_docs(args.query, project_path=args.project, packages=args.packages, limit=args.limit)
    if args.json:
        return _print_json(result)
    _show_search(result)
    return EXIT_OK


async def _context(service: AutoDocsService, args: argparse.Namespace) -> int:
    console = Console(stderr=True)
    with Progress(
        TextColumn("[progress.description]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
        disable=not console.is_terminal,
    ) as progress:
        task = progress.add_task("Fetching docs", total=None)

        async def advance(name: str, ok: bool, total: int) -> None:
            progress.update(task, advance=1, total=total, description=f"{'ok ' if ok else 'err'} {name}")

        result = await service.project_context(args.path, max_tokens=args.max_tokens, on_progress=advance)
    if args.json:
        _print_json(result)
    else:
        _show_context(result)
    return EXIT_OK if not result.failed else EXIT_ERROR


async def _cache(service: AutoDocsService, args: argparse.Namespace) -> int:
    result: BaseModel
    if args.action == "stats":
        result = await service.cache_stats()
    elif args.action == "list":
        result = await service.list_cache(cursor=args.cursor, limit=args.limit)
    elif args.action == "prune":
        result = await service.prune_cache()
    else:
        result = await service.refresh(args.package)
    if args.json:
        return _print_json(result)
    for key, value in result.model_dump().items():
        Console().print(f"[bold]{key}[/bold]: {escape(str(value))}")
    return EXIT_OK


def _config(settings: Settings, as_json: bool) -> int:
    described = settings.describe()
    if as_json:
        print(json.dumps(described, indent=2))
        return EXIT_OK
    table = Table("variable", "value", title="AutoDocs effective settings")
    for key, value in described.items():
        table.add_row(key, escape(str(value)))
    Console().print(table)
    return EXIT_OK


def _print_json(model: BaseModel) -> int:
    sys.stdout.write(json.dumps(compact(model.model_dump(mode="json")), ensure_ascii=False, indent=2) + "\n")
    return EXIT_OK


def _print_error(exc: BaseException, *, as_json: bool) -> None:
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


def _show_scan(result: ScanResult) -> None:
    console = Console()
    table = Table("name", "specifier", "extras", "group", "pin", "source", title=result.project_path)
    for dep in result.dependencies:
        where = f"{dep.source.file}:{dep.source.line}" if dep.source.line else dep.source.file
        table.add_row(dep.name, dep.specifier or "*", ",".join(dep.extras), dep.group, dep.pinned_version or "", where)
    console.print(table)
    for failure in result.errors:
        console.print(f"[red]{escape(failure.file)}[/red]: {escape(str(failure.error['message']))}")
    for skipped in result.skipped:
        console.print(f"[yellow]{skipped.name}[/yellow]: skipped: {escape(skipped.reason)}")


def _show_page(page: DocsPage) -> None:
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


def _show_context(result: ProjectContextResult) -> None:
    console = Console()
    table = Table("package", "version", "tokens", "summary", title=result.project_path)
    for page in result.succeeded:
        table.add_row(page.name, page.version, str(page.tokens), escape((page.summary or "")[:70]))
    console.print(table)
    for failed in result.failed:
        console.print(f"[red]{failed.name}[/red]: {failed.error_type}: {escape(failed.message)}")
    for skipped in result.skipped:
        console.print(f"[yellow]{skipped.name}[/yellow]: skipped: {escape(skipped.reason)}")
    console.print(
        f"{len(result.succeeded)} ok, {len(result.failed)} failed, {len(result.skipped)} skipped, "
        f"completion {result.completion_rate:.0%}"
    )


def _show_search(result: SearchResult) -> None:
    console = Console()
    table = Table("package", "kind", "path", "snippet", title=f"search: {escape(result.query[:80])}")
    for hit in result.results:
        table.add_row(f"{hit.package}=={hit.version}", hit.kind, escape(hit.path), escape(hit.snippet))
    console.print(table)
    for note in result.notes:
        console.print(f"[dim]{escape(note)}[/dim]")


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
