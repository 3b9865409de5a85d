"""The fetch policy's rules, one per test, against loopback servers (they kill the mutants of
autodocs.index.fetch: docs/mutation.md). Every call fails fast: no retries unless the rule is
about retries, and time limits of a fraction of a second."""

from __future__ import annotations

import asyncio
import json
import random
import socket
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import httpx
import pytest
import structlog

import autodocs
from autodocs.config import Settings, mask_url
from autodocs.deadline import deadline_scope
from autodocs.errors import (
    ArchiveTooLarge,
    CircuitOpen,
    RateLimited,
    UpstreamResponseInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from autodocs.index.fetch import JsonFetcher, NotFound, _environment_names_proxy
from autodocs.index.slots import RequestSlots
from tests.conftest import make_settings
from tests.support.dists import FixtureProject
from tests.support.fake_index import FakeIndex, Fault

CAP = 64 * 1024  # the smallest MAX_UPSTREAM_BYTES allowed


def fetcher_for(index: FakeIndex, tmp_path: Path, **overrides: Any) -> JsonFetcher:
    values: dict[str, Any] = {"max_retry_attempts": 0}
    values.update(overrides)
    return JsonFetcher(make_settings(index, tmp_path / "cache", **values))


@pytest.fixture
async def fetcher(fake_index: FakeIndex, tmp_path: Path) -> AsyncIterator[JsonFetcher]:
    subject = fetcher_for(fake_index, tmp_path)
    yield subject
    await subject.aclose()


def json_object_of(size: int) -> bytes:
    """A JSON object of exactly ``size`` bytes."""
    body = json.dumps({"pad": ""}).encode()
    return json.dumps({"pad": "x" * (size - len(body))}).encode()


class _Chunked(BaseHTTPRequestHandler):
    """Answers a JSON object of the size in the path (``/SIZE``), chunked: no Content-Length."""

    protocol_version = "HTTP/1.1"
    chunk: ClassVar[int] = 16 * 1024

    def do_GET(self) -> None:
        body = json_object_of(int(self.path.strip("/")))
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for start in range(0, len(body), self.chunk):
            part = body[start : start + self.chunk]
            self.wfile.write(f"{len(part):x}\r\n".encode() + part + b"\r\n")
        self.wfile.write(b"0\r\n\r\n")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def chunked_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Chunked)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=2.0)


@pytest.fixture
def black_hole() -> Iterator[str]:
    """A port whose connections never complete: its one-place accept queue is already full."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    filler = socket.create_connection(server.getsockname())
    try:
        yield f"http://127.0.0.1:{server.getsockname()[1]}"
    finally:
        filler.close()
        server.close()


# -- answers that are not 200 ------------------------------------------------------------------


async def test_404_raises_not_found_and_counts_as_not_found(fake_index: FakeIndex, fetcher: JsonFetcher) -> None:
    with pytest.raises(NotFound):
        await fetcher.get_json(f"{fake_index.url}/no-such-package/json")
    assert fetcher.outcomes == {"not_found": 1}


async def test_429_is_rate_limited_with_its_retry_after(fake_index: FakeIndex, fetcher: JsonFetcher) -> None:
    fake_index.set_fault(Fault.status(429, retry_after="7"))
    url = f"{fake_index.url}/six/json"
    with pytest.raises(RateLimited) as caught:
        await fetcher.get_json(url)
    assert caught.value.message == f"The package index rate-limited {url} (429)."
    assert caught.value.details == {"retry_after_s": 7.0}
    assert fetcher.outcomes == {"rate_limited": 1}


async def test_5xx_is_unavailable_naming_the_status(fake_index: FakeIndex, fetcher: JsonFetcher) -> None:
    fake_index.set_fault(Fault.status(500))
    url = f"{fake_index.url}/six/json"
    with pytest.raises(UpstreamUnavailable) as caught:
        await fetcher.get_json(url)
    assert caught.value.message == f"The package index answered 500 for {url}."
    assert caught.value.retryable
    assert caught.value.details == {}
    assert fetcher.outcomes == {"unavailable": 1}


async def test_a_5xx_retry_after_is_kept(fake_index: FakeIndex, fetcher: JsonFetcher) -> None:
    fake_index.set_fault(Fault.status(503, retry_after=" 4 "))
    with pytest.raises(UpstreamUnavailable) as caught:
        await fetcher.get_json(f"{fake_index.url}/six/json")
    assert caught.value.details == {"retry_after_s": 4.0}


async def test_a_retry_after_date_in_the_past_is_zero(fake_index: FakeIndex, fetcher: JsonFetcher) -> None:
    fake_index.set_fault(Fault.status(503, retry_after="Wed, 21 Oct 2015 07:28:00 GMT"))
    with pytest.raises(UpstreamUnavailable) as caught:
        await fetcher.get_json(f"{fake_index.url}/six/json")
    assert caught.value.details == {"retry_after_s": 0.0}


async def test_a_retry_after_that_is_neither_seconds_nor_a_date_is_ignored(
    fake_index: FakeIndex, fetcher: JsonFetcher
) -> None:
    fake_index.set_fault(Fault.status(503, retry_after="soon"))
    with pytest.raises(UpstreamUnavailable) as caught:
        await fetcher.get_json(f"{fake_index.url}/six/json")
    assert caught.value.details == {}


async def test_a_4xx_below_500_is_invalid_and_not_retryable(fake_index: FakeIndex, fetcher: JsonFetcher) -> None:
    fake_index.set_fault(Fault.status(499))
    url = f"{fake_index.url}/six/json"
    with pytest.raises(UpstreamResponseInvalid) as caught:
        await fetcher.get_json(url)
    assert caught.value.message == f"The package index answered 499 for {url}."
    assert not caught.value.retryable
    assert caught.value.suggestions == ["The package index did not answer properly; try again in a moment."]
    assert fetcher.outcomes == {"invalid": 1}


@pytest.mark.parametrize("status", [401, 403])
async def test_401_and_403_suggest_checking_the_credentials(
    fake_index: FakeIndex, fetcher: JsonFetcher, status: int
) -> None:
    fake_index.set_fault(Fault.status(status))
    with pytest.raises(UpstreamResponseInvalid) as caught:
        await fetcher.get_json(f"{fake_index.url}/six/json")
    assert caught.value.suggestions == ["Check the credentials for this index (in AUTODOCS_INDEX_URL or ~/.netrc)."]


# -- bodies ------------------------------------------------------------------------------------


async def test_a_declared_length_over_the_cap_is_refused_unread(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.body(200, json_object_of(CAP + 1)))
    fetcher = fetcher_for(fake_index, tmp_path, max_upstream_bytes=CAP, max_retry_attempts=3)
    url = f"{fake_index.url}/six/json"
    with pytest.raises(UpstreamResponseInvalid) as caught:
        await fetcher.get_json(url)
    await fetcher.aclose()
    assert caught.value.message == f"The package index's answer for {url} is larger than {CAP} bytes; it was not read."
    assert not caught.value.retryable
    assert caught.value.suggestions == [
        "Raise AUTODOCS_MAX_UPSTREAM_BYTES if this package's metadata is really that large."
    ]
    assert fake_index.request_count == 1


async def test_a_declared_length_at_the_cap_is_read(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.body(200, json_object_of(CAP)))
    fetcher = fetcher_for(fake_index, tmp_path, max_upstream_bytes=CAP)
    data = await fetcher.get_json(f"{fake_index.url}/six/json")
    await fetcher.aclose()
    assert len(data["pad"]) > CAP - 20


async def test_a_streamed_body_over_the_cap_is_abandoned(
    fake_index: FakeIndex, tmp_path: Path, chunked_server: str
) -> None:
    fetcher = fetcher_for(fake_index, tmp_path, max_upstream_bytes=CAP)
    url = f"{chunked_server}/{CAP + 1}"
    with pytest.raises(UpstreamResponseInvalid) as caught:
        await fetcher.get_json(url)
    await fetcher.aclose()
    assert caught.value.message == f"The package index's answer for {url} is larger than {CAP} bytes; it was not read."


async def test_a_streamed_body_at_the_cap_is_read_whole(
    fake_index: FakeIndex, tmp_path: Path, chunked_server: str
) -> None:
    fetcher = fetcher_for(fake_index, tmp_path, max_upstream_bytes=CAP)
    data = await fetcher.get_json(f"{chunked_server}/{CAP}")
    await fetcher.aclose()
    assert json.dumps(data).encode() == json_object_of(CAP).replace(b'":"', b'": "')


# -- the breaker's log -------------------------------------------------------------------------


async def test_each_circuit_change_is_logged_with_its_host(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.status(500))
    fetcher = fetcher_for(fake_index, tmp_path, circuit_breaker_threshold=1)
    with structlog.testing.capture_logs() as logs, pytest.raises(UpstreamUnavailable):
        await fetcher.get_json(f"{fake_index.url}/six/json")
    await fetcher.aclose()
    changes = [entry for entry in logs if entry["event"] == "index.circuit"]
    assert changes == [
        {"event": "index.circuit", "host": "127.0.0.1", "old": "closed", "new": "open", "log_level": "warning"}
    ]
    assert fetcher.breaker_states() == {"127.0.0.1": "open"}


async def test_circuit_openings_counts_each_hosts_openings(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.status(500))
    fetcher = fetcher_for(fake_index, tmp_path, circuit_breaker_threshold=1)
    assert fetcher.circuit_openings() == {}
    with pytest.raises(UpstreamUnavailable):
        await fetcher.get_json(f"{fake_index.url}/six/json")
    await fetcher.aclose()
    assert fetcher.circuit_openings() == {"127.0.0.1": 1}


async def test_an_open_circuit_fails_at_once_without_a_request(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.status(500), times=1)
    fetcher = fetcher_for(fake_index, tmp_path, circuit_breaker_threshold=1)
    with pytest.raises(UpstreamUnavailable):
        await fetcher.get_json(f"{fake_index.url}/six/json")
    with pytest.raises(CircuitOpen):
        await fetcher.get_json(f"{fake_index.url}/six/json")
    await fetcher.aclose()
    assert fake_index.request_count == 1


# -- downloads ---------------------------------------------------------------------------------


async def test_a_download_writes_the_file_and_returns_its_size(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    url = fake_index.add_file("pkg-1.0.tar.gz", b"x" * 5000)
    target = tmp_path / "pkg.tar.gz"
    assert await fetcher.download(url, target, max_bytes=5000) == 5000
    assert target.read_bytes() == b"x" * 5000
    assert fetcher.outcomes == {"ok": 1}
    assert fetcher.requests_sent == 1


async def test_a_download_declared_over_max_bytes_is_refused_and_nothing_kept(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    url = fake_index.add_file("big-1.0.tar.gz", b"x" * 5001)
    target = tmp_path / "big.tar.gz"
    with pytest.raises(ArchiveTooLarge) as caught:
        await fetcher.download(url, target, max_bytes=5000)
    assert caught.value.message == f"{url} is larger than 5000 bytes; the download was stopped and nothing was kept."
    assert not target.exists()
    assert fetcher.outcomes == {"error": 1}


async def test_a_streamed_download_over_max_bytes_is_stopped_and_nothing_kept(
    fetcher: JsonFetcher, tmp_path: Path, chunked_server: str
) -> None:
    target = tmp_path / "big.json"
    url = f"{chunked_server}/{CAP + 1}"
    with pytest.raises(ArchiveTooLarge) as caught:
        await fetcher.download(url, target, max_bytes=CAP)
    assert caught.value.message == f"{url} is larger than {CAP} bytes; the download was stopped and nothing was kept."
    assert not target.exists()


async def test_a_streamed_download_of_exactly_max_bytes_is_kept(
    fetcher: JsonFetcher, tmp_path: Path, chunked_server: str
) -> None:
    target = tmp_path / "whole.json"
    assert await fetcher.download(f"{chunked_server}/{CAP}", target, max_bytes=CAP) == CAP
    assert target.read_bytes() == json_object_of(CAP)


async def test_a_download_answering_404_is_not_found(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    with pytest.raises(NotFound):
        await fetcher.download(f"http://127.0.0.1:{fake_index.port}/files/none.whl", tmp_path / "n", max_bytes=10)
    assert fetcher.outcomes == {"not_found": 1}


async def test_a_download_failing_with_5xx_is_retried(fake_index: FakeIndex, tmp_path: Path) -> None:
    url = fake_index.add_file("pkg-1.0.tar.gz", b"abc")
    fake_index.set_fault(Fault.status(502), path_contains="/files/", times=1)
    fetcher = fetcher_for(fake_index, tmp_path, max_retry_attempts=1)
    assert await fetcher.download(url, tmp_path / "pkg", max_bytes=10) == 3
    await fetcher.aclose()
    assert fetcher.outcomes == {"unavailable": 1, "ok": 1}
    assert fetcher.requests_sent == 2


async def test_a_refused_download_is_unavailable(fetcher: JsonFetcher, tmp_path: Path) -> None:
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    port = closed.server_port
    closed.server_close()
    with pytest.raises(UpstreamUnavailable) as caught:
        await fetcher.download(f"http://127.0.0.1:{port}/f.whl", tmp_path / "f", max_bytes=10)
    assert caught.value.message == f"The download of http://127.0.0.1:{port}/f.whl failed: ConnectError."
    assert fetcher.outcomes == {"unavailable": 1}


async def test_a_download_silent_past_the_host_limit_counts_against_the_host(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    url = fake_index.add_file("hung-1.0.tar.gz", b"abc")
    fake_index.set_fault(Fault.hang(), path_contains="/files/")
    fetcher = fetcher_for(
        fake_index, tmp_path, circuit_breaker_silence=0.2, circuit_breaker_threshold=1, attempt_timeout=30.0
    )
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout) as caught:
        await fetcher.download(url, tmp_path / "hung", max_bytes=10)
    elapsed = time.monotonic() - started
    await fetcher.aclose()
    assert caught.value.message == f"The download of {url} stalled for 0.2 s."
    assert elapsed < 3.0, "the silence limit, not ATTEMPT_TIMEOUT (30 s)"
    assert fetcher.outcomes == {"timeout": 1}
    assert fetcher.breaker_states() == {"127.0.0.1": "open"}


async def test_a_download_given_up_by_the_observed_limit_is_neutral(fake_index: FakeIndex, tmp_path: Path) -> None:
    url = fake_index.add_file("hung-1.0.tar.gz", b"abc")
    fetcher = fetcher_for(
        fake_index, tmp_path, circuit_breaker_silence=5.0, circuit_breaker_threshold=1, circuit_breaker_failure_rate=10
    )
    for _ in range(8):  # fast answers: the observed limit falls to its floor, 0.5 s
        await fetcher.get_json(f"{fake_index.url}/six/json")
    fake_index.set_fault(Fault.hang(), path_contains="/files/")
    with pytest.raises(UpstreamTimeout) as caught:
        await fetcher.download(url, tmp_path / "hung", max_bytes=10)
    await fetcher.aclose()
    assert caught.value.message == f"The download of {url} stalled for 0.5 s."
    assert fetcher.breaker_states() == {"127.0.0.1": "closed"}


async def test_a_download_while_the_circuit_is_open_fails_at_once(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.status(500), times=1)
    fetcher = fetcher_for(fake_index, tmp_path, circuit_breaker_threshold=1)
    with pytest.raises(UpstreamUnavailable):
        await fetcher.get_json(f"{fake_index.url}/six/json")
    url = fake_index.add_file("pkg-1.0.tar.gz", b"abc")
    with pytest.raises(CircuitOpen):
        await fetcher.download(url, tmp_path / "pkg", max_bytes=10)
    await fetcher.aclose()
    assert fake_index.request_count == 1


# -- counters and environment ------------------------------------------------------------------


async def test_requests_and_retries_are_counted_from_zero(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.status(500), times=2)
    fetcher = fetcher_for(fake_index, tmp_path, max_retry_attempts=2)
    assert (fetcher.requests_sent, fetcher.retries, fetcher.hedges_sent) == (0, 0, 0)
    await fetcher.get_json(f"{fake_index.url}/six/json")
    await fetcher.aclose()
    assert (fetcher.requests_sent, fetcher.retries) == (3, 2)


@pytest.mark.parametrize("variable", ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "https_proxy", "all_proxy"])
def test_any_proxy_variable_names_a_proxy(monkeypatch: pytest.MonkeyPatch, variable: str) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    assert not _environment_names_proxy()
    monkeypatch.setenv(variable, "http://127.0.0.1:9")
    assert _environment_names_proxy()


# -- more downloads ----------------------------------------------------------------------------


async def test_each_download_is_counted_by_outcome(fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path) -> None:
    url = fake_index.add_file("pkg-1.0.tar.gz", b"abc")
    missing = f"http://127.0.0.1:{fake_index.port}/files/none.whl"
    for index in range(2):
        await fetcher.download(url, tmp_path / f"pkg{index}", max_bytes=10)
        with pytest.raises(NotFound):
            await fetcher.download(missing, tmp_path / f"none{index}", max_bytes=10)
    assert fetcher.outcomes == {"ok": 2, "not_found": 2}


async def test_a_download_answering_5xx_names_its_url_and_counts_against_the_host(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    url = fake_index.add_file("pkg-1.0.tar.gz", b"abc")
    fake_index.set_fault(Fault.status(500), path_contains="/files/")
    fetcher = fetcher_for(fake_index, tmp_path, circuit_breaker_threshold=1)
    with pytest.raises(UpstreamUnavailable) as caught:
        await fetcher.download(url, tmp_path / "pkg", max_bytes=10)
    await fetcher.aclose()
    assert caught.value.message == f"The package index answered 500 for {url}."
    assert fetcher.breaker_states() == {"127.0.0.1": "open"}


async def test_a_download_answering_404_shows_the_host_works(fake_index: FakeIndex, tmp_path: Path) -> None:
    fetcher = fetcher_for(fake_index, tmp_path, circuit_breaker_threshold=1)
    with pytest.raises(NotFound):
        await fetcher.download(f"http://127.0.0.1:{fake_index.port}/files/none.whl", tmp_path / "n", max_bytes=10)
    await fetcher.aclose()
    assert fetcher.breaker_states() == {"127.0.0.1": "closed"}


async def test_a_download_declared_too_large_is_refused_before_its_body_comes(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.set_fault(Fault.body(200, b"", {"Content-Length": "999999"}), path_contains="/files/")
    fetcher = fetcher_for(fake_index, tmp_path, circuit_breaker_silence=5.0)
    started = time.monotonic()
    with pytest.raises(ArchiveTooLarge):
        await fetcher.download(f"http://127.0.0.1:{fake_index.port}/files/big.whl", tmp_path / "big", max_bytes=1000)
    await fetcher.aclose()
    assert time.monotonic() - started < 2.5, "refused on its Content-Length, not after waiting for the body"


async def test_an_answer_declared_too_large_is_refused_before_its_body_comes(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.set_fault(Fault.body(200, b"", {"Content-Length": str(CAP + 1)}))
    fetcher = fetcher_for(fake_index, tmp_path, max_upstream_bytes=CAP, circuit_breaker_silence=5.0)
    started = time.monotonic()
    with pytest.raises(UpstreamResponseInvalid) as caught:
        await fetcher.get_json(f"{fake_index.url}/six/json")
    await fetcher.aclose()
    assert "larger than" in caught.value.message
    assert time.monotonic() - started < 2.5, "refused on its Content-Length, not after waiting for the body"


async def test_each_download_retry_doubles_the_silence_limit(fake_index: FakeIndex, tmp_path: Path) -> None:
    url = fake_index.add_file("hung-1.0.tar.gz", b"abc")
    fetcher = fetcher_for(fake_index, tmp_path, circuit_breaker_silence=5.0, max_retry_attempts=1)
    for _ in range(8):  # fast answers: the observed limit falls to its floor, 0.5 s
        await fetcher.get_json(f"{fake_index.url}/six/json")
    fake_index.set_fault(Fault.hang(), path_contains="/files/")
    with pytest.raises(UpstreamTimeout) as caught:
        await fetcher.download(url, tmp_path / "hung", max_bytes=10)
    await fetcher.aclose()
    assert caught.value.message == f"The download of {url} stalled for 1.0 s."


async def test_a_download_whose_connection_never_completes_gives_up_at_the_silence_limit(
    fake_index: FakeIndex, tmp_path: Path, black_hole: str
) -> None:
    fetcher = fetcher_for(fake_index, tmp_path, circuit_breaker_silence=0.3, attempt_timeout=30.0)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        await fetcher.download(f"{black_hole}/f.whl", tmp_path / "f", max_bytes=10)
    await fetcher.aclose()
    assert time.monotonic() - started < 3.0


async def test_a_hedge_that_lost_counts_as_cancelled(fake_index: FakeIndex, tmp_path: Path) -> None:
    fetcher = fetcher_for(fake_index, tmp_path)
    for _ in range(8):  # fast answers: hedge after 0.2 s, the floor
        await fetcher.get_json(f"{fake_index.url}/six/json")
    for _ in range(2):
        fake_index.set_fault(Fault.hang(), times=1)
        await fetcher.get_json(f"{fake_index.url}/six/json")
    await fetcher.aclose()
    assert fetcher.hedges_sent == 2
    assert fetcher.outcomes == {"ok": 10, "cancelled": 2}


async def test_a_call_ending_at_its_deadline_names_the_url(fake_index: FakeIndex, fetcher: JsonFetcher) -> None:
    fake_index.set_fault(Fault.hang())
    url = f"{fake_index.url}/six/json"
    with deadline_scope(0.3), pytest.raises(UpstreamTimeout) as caught:
        await fetcher.get_json(url)
    assert caught.value.message == f"The package index did not answer {url} within the call's deadline."


# -- admission order under a full slot table (MAX_CONCURRENT = 1) -------------------------------


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(500):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the condition never held")


async def test_a_download_retry_goes_before_calls_waiting_with_their_first_request(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    retried = fake_index.add_file("retried-1.0.tar.gz", b"r")
    slow = fake_index.add_file("slow-1.0.tar.gz", b"s")
    new = fake_index.add_file("new-1.0.tar.gz", b"n")
    fake_index.set_fault(Fault.status(502, retry_after="1"), path_contains="retried", times=1)
    fake_index.set_fault(Fault.latency(0.8), path_contains="slow")
    fetcher = fetcher_for(fake_index, tmp_path, max_concurrent=1, max_retry_attempts=1, max_retry_delay=0.3)
    retrying = asyncio.create_task(fetcher.download(retried, tmp_path / "r", max_bytes=10))
    await until(lambda: fake_index.count("retried") == 1)  # failed; retries 0.3 s later
    holding = asyncio.create_task(fetcher.download(slow, tmp_path / "s", max_bytes=10))
    await until(lambda: fake_index.count("slow") == 1)  # holds the one slot for 0.8 s
    waiting = asyncio.create_task(fetcher.download(new, tmp_path / "n", max_bytes=10))
    await asyncio.gather(retrying, holding, waiting)
    await fetcher.aclose()
    files = [path.rsplit("/", 1)[-1].split("-")[0] for _, path in fake_index.requests]
    assert files == ["retried", "slow", "retried", "new"]


async def test_a_page_retry_goes_before_calls_waiting_with_their_first_request(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    retried = fake_index.add_file("retried-1.0.tar.gz", b"r")
    slow = fake_index.add_file("slow-1.0.tar.gz", b"ss")
    new = fake_index.add_file("new-1.0.tar.gz", b"n")
    fake_index.set_fault(Fault.status(502, retry_after="1"), path_contains="retried", times=1)
    fake_index.set_fault(Fault.slow_drip(1, 0.8), path_contains="slow")  # answering: never hedged
    fetcher = fetcher_for(fake_index, tmp_path, max_concurrent=1, max_retry_attempts=1, max_retry_delay=0.3)
    retrying = asyncio.create_task(fetcher.get_page(retried))
    await until(lambda: fake_index.count("retried") == 1)  # failed; retries 0.3 s later
    holding = asyncio.create_task(fetcher.get_page(slow))
    await until(lambda: fake_index.count("slow") == 1)  # holds the one slot for 0.8 s
    waiting = asyncio.create_task(fetcher.get_page(new))
    await asyncio.gather(retrying, holding, waiting)
    await fetcher.aclose()
    files = [path.rsplit("/", 1)[-1].split("-")[0] for _, path in fake_index.requests]
    assert files == ["retried", "slow", "retried", "new"]


async def test_a_pages_first_request_waits_behind_earlier_first_requests(fake_index: FakeIndex, tmp_path: Path) -> None:
    slow = fake_index.add_file("slow-1.0.tar.gz", b"ss")
    later = fake_index.add_file("later-1.0.tar.gz", b"l")
    fake_index.set_fault(Fault.slow_drip(1, 0.8), path_contains="slow")  # answering: never hedged
    fetcher = fetcher_for(fake_index, tmp_path, max_concurrent=1)
    holding = asyncio.create_task(fetcher.get_page(slow))
    await until(lambda: fake_index.count("slow") == 1)  # holds the one slot for 0.8 s
    earlier = asyncio.create_task(fetcher.get_json(f"{fake_index.url}/six/json"))
    await asyncio.sleep(0.05)
    paging = asyncio.create_task(fetcher.get_page(later))
    await asyncio.gather(holding, earlier, paging)
    await fetcher.aclose()
    assert [path for _, path in fake_index.requests][1:] == ["/pypi/six/json", "/files/later-1.0.tar.gz"]


async def test_with_one_slot_a_hedge_takes_the_slot_of_its_silent_request(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    """The hedge does not queue behind the request it relieves, and gets a connection of its own."""
    fetcher = fetcher_for(fake_index, tmp_path, max_concurrent=1, circuit_breaker_silence=5.0)
    for _ in range(8):  # fast answers: hedge after 0.2 s, the floor
        await fetcher.get_json(f"{fake_index.url}/six/json")
    fake_index.set_fault(Fault.hang(), times=1)
    started = time.monotonic()
    data = await fetcher.get_json(f"{fake_index.url}/six/json")
    elapsed = time.monotonic() - started
    await fetcher.aclose()
    assert data["info"]["name"] == "six" and fetcher.hedges_sent == 1
    assert elapsed < 2.5, "answered by the hedge, not after the host's silence limit (5 s)"


async def test_an_answered_call_returns_before_the_calls_its_slot_goes_to(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    """It lets a waiting request out first, then returns at once: no pause before its own answer."""
    fetcher = fetcher_for(fake_index, tmp_path, max_concurrent=1)
    fake_index.set_fault(Fault.latency(0.2), times=1)  # the first call holds the slot while the others queue
    finished: list[int] = []

    async def call(number: int) -> None:
        await fetcher.get_json(f"{fake_index.url}/six/json")
        finished.append(number)

    await asyncio.gather(*(call(number) for number in range(3)))
    await fetcher.aclose()
    assert finished == [0, 1, 2]


async def test_a_retried_attempt_doubles_the_limit_at_which_a_silent_request_is_given_up(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    """The third attempt's first request hangs and its hedge answers 503 (a host error: the
    silent request is no longer kept): it is given up at 0.5 s x 2 x 2, then the call fails."""
    fetcher = fetcher_for(
        fake_index,
        tmp_path,
        max_retry_attempts=2,
        circuit_breaker_silence=10.0,
        attempt_timeout=10.0,
        request_timeout=20.0,
    )
    for _ in range(8):  # fast answers: the observed limit falls to its floor, 0.5 s
        await fetcher.get_json(f"{fake_index.url}/six/json")
    fake_index.set_fault(Fault.status(503), times=2)
    fake_index.set_fault(Fault.hang(), times=1)
    fake_index.set_fault(Fault.status(503))
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable):
        await fetcher.get_json(f"{fake_index.url}/six/json")
    elapsed = time.monotonic() - started
    await fetcher.aclose()
    assert fetcher.retries == 2 and fetcher.hedges_sent == 1
    assert 1.9 < elapsed < 4.0, "given up after 2 s: not 0.125 s (halved), not 4.5 s (tripled)"


async def test_a_downloads_first_request_waits_behind_earlier_first_requests(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    slow = fake_index.add_file("slow-1.0.tar.gz", b"s")
    later = fake_index.add_file("later-1.0.tar.gz", b"l")
    fake_index.set_fault(Fault.latency(0.8), path_contains="slow")
    fetcher = fetcher_for(fake_index, tmp_path, max_concurrent=1)
    holding = asyncio.create_task(fetcher.download(slow, tmp_path / "s", max_bytes=10))
    await until(lambda: fake_index.count("slow") == 1)  # holds the one slot for 0.8 s
    earlier = asyncio.create_task(fetcher.get_json(f"{fake_index.url}/six/json"))
    await asyncio.sleep(0.05)
    downloading = asyncio.create_task(fetcher.download(later, tmp_path / "l", max_bytes=10))
    await asyncio.gather(holding, earlier, downloading)
    await fetcher.aclose()
    assert [path for _, path in fake_index.requests][1:] == ["/pypi/six/json", "/files/later-1.0.tar.gz"]


async def test_a_download_through_a_proxy_that_never_connects_gives_up_at_the_silence_limit(
    fake_index: FakeIndex, tmp_path: Path, black_hole: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """httpx's own transport (a proxy is named) bounds the connection by the connect limit alone."""
    for name in ("NO_PROXY", "no_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "http_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", black_hole)
    url = fake_index.add_file("pkg-1.0.tar.gz", b"abc")
    fetcher = fetcher_for(fake_index, tmp_path, circuit_breaker_silence=0.3, attempt_timeout=30.0)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        await fetcher.download(url, tmp_path / "pkg", max_bytes=10)
    await fetcher.aclose()
    assert time.monotonic() - started < 3.0


# -- the requests themselves -------------------------------------------------------------------


async def test_requests_name_autodocs_and_ask_for_json(fake_index: FakeIndex, fetcher: JsonFetcher) -> None:
    await fetcher.get_json(f"{fake_index.url}/six/json")
    headers = fake_index.last_headers()
    assert headers["user-agent"] == f"autodocs/{autodocs.__version__}"
    assert headers["accept"] == "application/json"


class _TimeoutsSeen(httpx.AsyncBaseTransport):
    """httpx's own transport, noting the time limits each request was sent with."""

    def __init__(self) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self.timeouts: list[dict[str, float | None]] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.timeouts.append(dict(request.extensions["timeout"]))
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


async def test_a_connection_gets_ten_seconds_at_most_however_long_the_silence_limit(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    seen = _TimeoutsSeen()
    settings = make_settings(
        fake_index, tmp_path / "cache", circuit_breaker_silence=30.0, attempt_timeout=30.0, request_timeout=60.0
    )
    fetcher = JsonFetcher(settings, transport=seen)
    await fetcher.download(fake_index.add_file("pkg-1.0.tar.gz", b"abc"), tmp_path / "pkg", max_bytes=10)
    await fetcher.get_json(f"{fake_index.url}/six/json")
    await fetcher.aclose()
    limits = {"connect": 10.0, "read": 30.0, "write": 30.0, "pool": 30.0}
    assert seen.timeouts == [limits, limits], "the download's, then the page's"


class _Untyped(BaseHTTPRequestHandler):
    """Answers ``{}`` with no Content-Type."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_a_page_without_a_content_type_has_an_empty_one(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Untyped)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_port}/simple/six/"
    fetcher = JsonFetcher(Settings(cache_dir=tmp_path / "cache", pypi_url=url, max_retry_attempts=0))
    try:
        page = await fetcher.get_page(url)
    finally:
        await fetcher.aclose()
        server.shutdown()
        server.server_close()
        thread.join(timeout=2.0)
    assert (page.status, page.content_type, page.body) == (200, "", b"{}")


async def test_a_body_cut_short_is_unavailable_naming_the_error(fake_index: FakeIndex, fetcher: JsonFetcher) -> None:
    fake_index.set_fault(Fault.truncated())
    url = f"{fake_index.url}/six/json"
    with pytest.raises(UpstreamUnavailable) as caught:
        await fetcher.get_json(url)
    assert caught.value.message == f"The package index's answer for {url} was cut short (RemoteProtocolError)."


async def test_a_body_that_is_not_json_is_invalid(fake_index: FakeIndex, fetcher: JsonFetcher) -> None:
    fake_index.set_fault(Fault.invalid_json())
    url = f"{fake_index.url}/six/json"
    with pytest.raises(UpstreamResponseInvalid) as caught:
        await fetcher.get_json(url)
    assert caught.value.message == f"The package index sent invalid JSON for {url}."


async def test_a_redirect_is_followed(fake_index: FakeIndex, tmp_path: Path) -> None:
    # httpx's own engine: through the aiohttp one a redirect fails today (docs/mutation.md).
    fetcher = JsonFetcher(make_settings(fake_index, tmp_path / "cache"), transport=httpx.AsyncHTTPTransport())
    data = await fetcher.get_json(f"{fake_index.url}/Six/json")  # the index redirects to /six/
    await fetcher.aclose()
    assert data["info"]["name"].lower() == "six"
    assert [path for _, path in fake_index.requests] == ["/pypi/Six/json", "/pypi/six/json"]


async def test_backoff_waits_are_full_jitter_up_to_base_doubled_per_retry(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.set_fault(Fault.status(500), times=3)
    fetcher = fetcher_for(fake_index, tmp_path, max_retry_attempts=3, base_retry_delay=0.01, max_retry_delay=0.03)
    draws = random.Random(18)
    raw = [draws.uniform(0, min(0.03, 0.01 * 2**retry)) for retry in range(3)]
    random.seed(18)
    with structlog.testing.capture_logs() as logs:
        await fetcher.get_json(f"{fake_index.url}/six/json")
    await fetcher.aclose()
    retries = [entry for entry in logs if entry["event"] == "index.retry_scheduled"]
    assert [entry["wait_s"] for entry in retries] == [round(wait, 3) for wait in raw]
    assert [entry["waited_s"] for entry in retries] == [round(sum(raw[:count]), 3) for count in range(3)]


async def test_a_refused_connection_suggests_checking_the_index_url(tmp_path: Path) -> None:
    closed = ThreadingHTTPServer(("127.0.0.1", 0), BaseHTTPRequestHandler)
    index_url = f"http://127.0.0.1:{closed.server_port}/pypi"
    closed.server_close()
    fetcher = JsonFetcher(
        Settings(cache_dir=tmp_path / "cache", pypi_url=index_url, max_retry_attempts=0, request_timeout=10.0)
    )
    with pytest.raises(UpstreamUnavailable) as caught:
        await fetcher.get_json(f"{index_url}/six/json")
    await fetcher.aclose()
    assert caught.value.message == f"Connection to the package index failed for {index_url}/six/json: ConnectError."
    assert caught.value.suggestions == [
        f"Check that AUTODOCS_INDEX_URL ({index_url}) is reachable from here.",
        "If it is, the index is having trouble: try again in a moment.",
    ]


# -- any page ----------------------------------------------------------------------------------


async def test_a_page_comes_back_as_it_came_with_the_callers_headers_sent(
    fake_index: FakeIndex, fetcher: JsonFetcher
) -> None:
    url = fake_index.add_file("pkg-1.0.tar.gz", b"the file's bytes")
    page = await fetcher.get_page(url, headers={"X-Probe": "sent"})
    assert (page.url, page.status, page.body) == (url, 200, b"the file's bytes")
    assert (page.content_type, page.content_range) == ("application/zip", None)
    assert fake_index.seen_headers("x-probe") == ["sent"]


async def test_a_byte_range_comes_back_as_a_206_page_with_its_content_range(
    fake_index: FakeIndex, fetcher: JsonFetcher
) -> None:
    project = FixtureProject("rangedpkg", "1.0")
    fake_index.registry.add(project)
    filename, data = project.wheel()
    page = await fetcher.get_page(
        f"http://127.0.0.1:{fake_index.port}/files/{filename}", headers={"Range": "bytes=0-9"}
    )
    assert (page.status, page.body, page.content_range) == (206, data[:10], f"bytes 0-9/{len(data)}")


async def test_index_credentials_go_with_a_download_from_the_index_never_to_another_host(
    fake_index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both hosts have a ``~/.netrc`` entry; "localhost" is the same server under another name."""
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login reader password s3cret\nmachine localhost login reader password s3cret\n")
    netrc.chmod(0o600)
    monkeypatch.setenv("HOME", str(tmp_path))
    url = fake_index.add_file("pkg-1.0.tar.gz", b"abc")
    fetcher = fetcher_for(fake_index, tmp_path)
    await fetcher.download(url, tmp_path / "own", max_bytes=10)
    await fetcher.download(url.replace("127.0.0.1", "localhost"), tmp_path / "other", max_bytes=10)
    await fetcher.aclose()
    authorization = fake_index.seen_headers("authorization")
    assert len(authorization) == 2 and authorization[0] is not None and authorization[0].startswith("Basic ")
    assert authorization[1] is None


async def test_a_failing_page_is_named_with_its_credentials_masked(fake_index: FakeIndex, fetcher: JsonFetcher) -> None:
    fake_index.set_fault(Fault.status(500))
    url = f"{fake_index.url}/six/json".replace("://", "://user:secret@")
    with pytest.raises(UpstreamUnavailable) as caught:
        await fetcher.get_page(url)
    assert caught.value.message == f"The package index answered 500 for {mask_url(url)}."
    assert "secret" not in caught.value.message


async def test_a_page_from_the_index_gets_the_full_retry_budget(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.status(500), times=2)
    fetcher = fetcher_for(fake_index, tmp_path, max_retry_attempts=2)
    page = await fetcher.get_page(f"{fake_index.url}/six/json")
    await fetcher.aclose()
    assert page.status == 200 and fake_index.count("/six/json") == 3


async def test_a_download_from_another_host_than_the_index_is_retried_once_at_most(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.set_fault(Fault.status(500), path_contains="/files/")
    url = fake_index.add_file("pkg-1.0.tar.gz", b"abc").replace("127.0.0.1", "localhost")
    fetcher = fetcher_for(fake_index, tmp_path, max_retry_attempts=3)
    with pytest.raises(UpstreamUnavailable):
        await fetcher.download(url, tmp_path / "pkg", max_bytes=10)
    await fetcher.aclose()
    assert fake_index.count("/files/") == 2


async def test_a_fetcher_given_slots_admits_its_requests_through_them(fake_index: FakeIndex, tmp_path: Path) -> None:
    shared = RequestSlots(1)  # the process's slots, shared with another fetcher
    fetcher = JsonFetcher(make_settings(fake_index, tmp_path / "cache", max_concurrent=10), slots=shared)
    async with shared.slot(follow_up=False):  # another fetcher's request holds the only slot
        call = asyncio.create_task(fetcher.get_json(f"{fake_index.url}/six/json"))
        await asyncio.sleep(0.3)
        assert fake_index.request_count == 0, "waits for the shared slot"
    await call
    await fetcher.aclose()
    assert fetcher.slots is shared and fake_index.request_count == 1


async def test_the_indexes_a_fetcher_serves_get_the_full_retry_budget(fake_index: FakeIndex, tmp_path: Path) -> None:
    """A project's own index (here the fake index under another name) is served: full retries."""
    fake_index.set_fault(Fault.status(500), path_contains="/files/")
    url = fake_index.add_file("pkg-1.0.tar.gz", b"abc").replace("127.0.0.1", "localhost")
    settings = make_settings(fake_index, tmp_path / "cache", max_retry_attempts=3)
    fetcher = JsonFetcher(settings, index_urls=[f"http://localhost:{fake_index.port}/pypi"])
    with pytest.raises(UpstreamUnavailable):
        await fetcher.download(url, tmp_path / "pkg", max_bytes=10)
    await fetcher.aclose()
    assert fake_index.count("/files/") == 4


async def test_an_idle_connection_is_kept_past_httpxs_default_five_seconds(
    fake_index: FakeIndex, fetcher: JsonFetcher
) -> None:
    """Keep-alive lasts 30 s (the pool's settings reach the transport): asked again after 6 s idle,
    the index is asked on the same connection."""
    before = fake_index.connections
    await fetcher.get_json(f"{fake_index.url}/six/json")
    await asyncio.sleep(6.0)
    await fetcher.get_json(f"{fake_index.url}/six/json")
    assert fake_index.connections - before == 1


async def test_a_fetcher_given_its_transport_resolves_no_names_itself(fake_index: FakeIndex, tmp_path: Path) -> None:
    fetcher = JsonFetcher(make_settings(fake_index, tmp_path / "cache"), transport=httpx.AsyncHTTPTransport())
    await fetcher.aclose()
    assert fetcher.resolver is None
