"""The ``autodocs`` command: its arguments, and which module runs each command.

``--json`` prints exactly the object the matching MCP tool returns (its structured
content); on failure, the ``{"error": {...}}`` object on stdout and exit code 1
(2 for bad configuration or usage). Human output and progress go through rich
(:mod:`autodocs.cli_text`).

Only what a command needs is imported: ``serve`` over stdio loads neither rich nor the
commands that call the service directly (:mod:`autodocs.cli_commands`), so a host starting
a server per session gets its ``initialize`` answer sooner (``bench/startup.py``).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from autodocs import __version__
from autodocs.config import Settings, load_settings
from autodocs.errors import ConfigError
from autodocs.gc_tuning import tune_garbage_collector
from autodocs.logs import configure_logging

__all__ = ["main"]

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
    from autodocs.cli_commands import run_command

    tune_garbage_collector()  # after the command's imports: they live as long as the process
    return run_command(settings, args)


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
    docs.add_argument("--project", help="project folder: its package indexes and lock pin are used")
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
    api.add_argument("--project", help="project folder: its .venv/ or venv/, lock file and package indexes are used")
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


def _print_error(exc: BaseException, *, as_json: bool) -> None:
    from autodocs.cli_text import print_error

    print_error(exc, as_json=as_json)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
