"""Logging setup: structlog events to stderr (stdout belongs to the MCP stdio transport).

A TTY gets the console renderer; anything else gets one JSON object per line. The
standard library's loggers (the MCP SDK, httpx, asyncio) go through the same renderer, at
WARNING and above unless AUTODOCS_LOG_LEVEL is DEBUG. A warning or error repeated
identically is logged once per ``repeat_interval`` (:class:`RepeatLimiter`): asyncio alone
logs one traceback per failed ``accept()``, hundreds of thousands a minute when the process
runs out of open files.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Hashable

import structlog

__all__ = ["RepeatLimiter", "configure_logging"]

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


class RepeatLimiter(logging.Filter):
    """Identical warnings and errors, logged once per ``interval`` seconds with a count.

    The first of a kind is logged at once; its repeats within the interval are dropped and
    counted, and the next one after the interval carries ``repeats_dropped``. Works as a
    ``logging.Filter`` for the standard library's records and as a structlog processor for
    ours; "identical" means the same logger, level, message template's first line (or event)
    and exception type.
    """

    #: Kinds remembered at most; past that, kinds not seen for an interval are forgotten.
    MAX_KINDS = 1024

    def __init__(self, interval: float, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__()
        self._interval = interval
        self._clock = clock
        self._kinds: dict[Hashable, list[float]] = {}  # kind -> [window start, dropped count]

    @property
    def kinds(self) -> int:
        """How many kinds of record are remembered now."""
        return len(self._kinds)

    def admit(self, kind: Hashable) -> int | None:
        """None: drop this one; else how many of its kind were dropped since the last one logged."""
        now = self._clock()
        seen = self._kinds.get(kind)
        if seen is not None and now - seen[0] < self._interval:
            seen[1] += 1
            return None
        if len(self._kinds) >= self.MAX_KINDS:
            self._kinds = {key: value for key, value in self._kinds.items() if now - value[0] < self._interval}
        self._kinds[kind] = [now, 0]
        return int(seen[1]) if seen is not None else 0

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno < logging.WARNING or not self._interval:
            return True
        error = record.exc_info[0].__name__ if record.exc_info and record.exc_info[0] else None
        # The first line only: asyncio's "Exception in callback ..." goes on with a handle whose
        # repr holds its due time, different in every record of the same failure.
        first_line = str(record.msg).partition("\n")[0][:200]
        dropped = self.admit((record.name, record.levelno, first_line, error))
        if dropped is None:
            return False
        if dropped:
            record.repeats_dropped = dropped
        return True

    def __call__(self, _: object, method: str, event: structlog.types.EventDict) -> structlog.types.EventDict:
        if method not in ("warning", "error", "critical", "exception") or not self._interval:
            return event
        dropped = self.admit((method, event.get("event"), str(event.get("error", ""))))
        if dropped is None:
            raise structlog.DropEvent
        if dropped:
            event["repeats_dropped"] = dropped
        return event


def _only_disconnects(exc: BaseException) -> bool:
    if isinstance(exc, BaseExceptionGroup):
        return all(_only_disconnects(inner) for inner in exc.exceptions)
    return type(exc).__name__ in _DISCONNECT_NAMES


def configure_logging(level: str = "INFO", *, json_lines: bool | None = None, repeat_interval: float = 10.0) -> None:
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
    repeats = RepeatLimiter(repeat_interval)
    structlog.configure(
        processors=[repeats, *shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(numeric),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.addFilter(_DemoteDisconnects(numeric))
    handler.addFilter(repeats)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                *shared,
                structlog.stdlib.ExtraAdder(allow=["repeats_dropped"]),
                structlog.processors.format_exc_info,
            ],
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if numeric <= logging.DEBUG else max(numeric, logging.WARNING))
    # markdown-it logs every block rule it tries at DEBUG: thousands of lines per document.
    logging.getLogger("markdown_it").setLevel(max(numeric, logging.INFO))
