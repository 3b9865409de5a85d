"""The ``autodocs`` commands other than ``serve``: scan, docs, search, api, context, cache, config.

Each prints the matching tool's result with ``--json``, else text (:mod:`autodocs.cli_text`).
Imported only once the command is known, so ``serve`` loads neither these nor the service.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Awaitable, Callable

from pydantic import BaseModel
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from autodocs.cli import EXIT_ERROR, EXIT_OK, EXIT_USAGE
from autodocs.cli_text import (
    print_error,
    print_json,
    show_api,
    show_cache,
    show_config,
    show_context,
    show_page,
    show_scan,
    show_search,
)
from autodocs.config import Settings
from autodocs.errors import ConfigError
from autodocs.service import AutoDocsService
from autodocs.usecases.search import CLI_HINTS, search_cached_docs

__all__ = ["run_command"]


def run_command(settings: Settings, args: argparse.Namespace) -> int:
    """Run one command other than ``serve``; returns the exit code."""
    if args.command == "config":
        return show_config(settings, args.json)
    handlers: dict[str, Callable[[AutoDocsService, argparse.Namespace], Awaitable[int]]] = {
        "scan": _scan,
        "docs": _docs,
        "search": _search,
        "api": _api,
        "context": _context,
        "cache": _cache,
    }
    try:
        return asyncio.run(_with_service(settings, args, handlers[args.command]))
    except KeyboardInterrupt:
        return 130


async def _with_service(
    settings: Settings,
    args: argparse.Namespace,
    handler: Callable[[AutoDocsService, argparse.Namespace], Awaitable[int]],
) -> int:
    try:
        async with AutoDocsService.running(settings, one_shot=True) as service:
            return await handler(service, args)
    except Exception as exc:
        print_error(exc, as_json=args.json)
        return EXIT_USAGE if isinstance(exc, ConfigError) else EXIT_ERROR


async def _scan(service: AutoDocsService, args: argparse.Namespace) -> int:
    result = await service.scan(args.path)
    if args.json:
        return print_json(result)
    show_scan(result)
    return EXIT_OK


async def _docs(service: AutoDocsService, args: argparse.Namespace) -> int:
    page = await service.get_package_docs(
        args.name,
        args.spec,
        query=args.query,
        max_tokens=args.max_tokens,
        sections=args.sections,
        cursor=args.cursor,
        project_path=args.project,
    )
    if args.json:
        return print_json(page)
    show_page(page)
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
    show_api(reply)
    return EXIT_OK


async def _search(service: AutoDocsService, args: argparse.Namespace) -> int:
    result = await search_cached_docs(
        service, args.query, project_path=args.project, packages=args.packages, limit=args.limit, hints=CLI_HINTS
    )
    if args.json:
        return print_json(result)
    show_search(result)
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
        print_json(result)
    else:
        show_context(result)
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
        return print_json(result)
    show_cache(result)
    return EXIT_OK
