"""Logging setup: structlog events to stderr (stdout belongs to the MCP stdio transport).

A TTY gets the console renderer; anything else gets one JSON object per line. The
standard library's loggers (the MCP SDK, httpx) go through the same renderer, at
WARNING and above unless AUTODOCS_LOG_LEVEL is DEBUG.
"""

from __future__ import annotations

import logging
import sys

import structlog

__all__ = ["configure_logging"]

_DISCONNECT_NAMES = frozenset(
    {"ClientDisconnect", "ClosedResourceError", "BrokenResourceError", "ConnectionResetError", "BrokenPipeError"}
)


class _DemoteDisconnects(logging.Filter):
    """A library's error record caused only by a client hanging up becomes one debug line.

    The MCP SDK logs a client that disconnects mid-request as an error with a traceback; for a
    server that is an ordinary event. Matched by exception class name so that no transport
    library has to be imported here.
    """

    def __init__(self, level: int) -> None:
        super().__init__()
        self._debug = level <= logging.DEBUG

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.exc_info or record.exc_info[1] is None or not _only_disconnects(record.exc_info[1]):
            return True
        if not self._debug:
            return False
        record.levelno, record.levelname = logging.DEBUG, "DEBUG"
        record.msg = f"{record.getMessage()} (client disconnected)"
        record.args, record.exc_info, record.exc_text = None, None, None
        return True


def _only_disconnects(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_disconnects(inner) for inner in exc.exceptions)
    return type(exc).__name__ in _DISCONNECT_NAMES


def configure_logging(level: str = "INFO", *, json_lines: bool | None = None) -> None:
    numeric = logging.getLevelNamesMapping().get(level.upper(), logging.INFO)
    use_json = not sys.stderr.isatty() if json_lines is None else json_lines
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_DemoteDisconnects(numeric))
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[*shared, structlog.processors.format_exc_info],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if numeric <= logging.DEBUG else max(numeric, logging.WARNING))
