"""Logging: repeated identical errors are logged once per interval, with a count."""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterator

import pytest
import structlog

from autodocs.logs import RepeatLimiter, configure_logging


@pytest.fixture
def restore_logging() -> Iterator[None]:
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def _lines(captured: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_a_flood_of_identical_asyncio_errors_is_logged_once_then_with_its_count(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("INFO", json_lines=True, repeat_interval=1.0)
    asyncio_log = logging.getLogger("asyncio")
    failure = OSError(24, "Too many open files")
    for _ in range(300):
        asyncio_log.error("socket.accept() out of system resource", exc_info=failure)
    for when in range(100):  # asyncio's form: the same failure, a timer's due time in its second line
        asyncio_log.error(
            f"Exception in callback _start_serving()\nhandle: <TimerHandle when={when}>", exc_info=failure
        )
    logging.getLogger("other").error("a different error")
    time.sleep(1.05)
    asyncio_log.error("socket.accept() out of system resource", exc_info=failure)
    lines = _lines(capsys.readouterr().err)
    floods = [line for line in lines if line["event"] == "socket.accept() out of system resource"]
    assert len(floods) == 2
    assert "repeats_dropped" not in floods[0] and "Too many open files" in str(floods[0]["exception"])
    assert floods[1]["repeats_dropped"] == 299
    assert [line["event"] for line in lines].count("a different error") == 1
    assert sum(str(line["event"]).startswith("Exception in callback") for line in lines) == 1


def test_our_own_repeated_errors_are_limited_too_but_info_lines_never_are(
    capsys: pytest.CaptureFixture[str], restore_logging: None
) -> None:
    configure_logging("INFO", json_lines=True, repeat_interval=60.0)
    log = structlog.get_logger("test")
    for _ in range(50):
        log.error("fetch.failed", error="ConnectError")
        log.info("fetch.ok")
    log.error("fetch.failed", error="ReadTimeout")
    events = [line["event"] for line in _lines(capsys.readouterr().err)]
    assert events.count("fetch.failed") == 2  # one per distinct error
    assert events.count("fetch.ok") == 50


def test_the_limiter_forgets_old_kinds_rather_than_growing_without_bound() -> None:
    now = [0.0]
    limiter = RepeatLimiter(1.0, clock=lambda: now[0])
    for kind in range(RepeatLimiter.MAX_KINDS * 3):
        now[0] += 0.01
        assert limiter.admit(kind) == 0
    assert limiter.kinds <= RepeatLimiter.MAX_KINDS
