"""The index client against the loopback fake: retries, caps, credentials, exact request counts."""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest
import structlog

from autodocs.config import Settings
from autodocs.errors import (
    PackageNotFound,
    RateLimited,
    UpstreamResponseInvalid,
    UpstreamTimeout,
    UpstreamUnavailable,
)
from autodocs.index import IndexClient
from autodocs.index.fetch import JsonFetcher
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex, Fault


async def client_for(index: FakeIndex, tmp_path: Path, **overrides: object) -> IndexClient:
    return IndexClient(make_settings(index, tmp_path, **overrides))


async def test_404_is_not_retried(fake_index: FakeIndex, tmp_path: Path) -> None:
    client = await client_for(fake_index, tmp_path)
    with pytest.raises(PackageNotFound):
        await client.fetch_project("no-such-package-xyz")
    assert fake_index.request_count == 1
    await client.aclose()


async def test_5xx_is_retried_then_succeeds(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.status(503), times=2)
    client = await client_for(fake_index, tmp_path)
    releases, latest = await client.fetch_project("six")
    assert latest is not None
    assert releases.name == "six" and latest.version == releases.latest
    assert fake_index.request_count == 3
    await client.aclose()


async def test_each_retry_is_logged_once_numbered_across_all_attempts(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.status(500))
    client = await client_for(fake_index, tmp_path, max_retry_attempts=3)
    with structlog.testing.capture_logs() as logs, pytest.raises(UpstreamUnavailable):
        await client.fetch_project("six")
    retries = [entry for entry in logs if entry["event"] == "index.retry_scheduled"]
    assert [entry["attempt"] for entry in retries] == [1, 2, 3]
    assert all(entry["cause"] == "UpstreamUnavailable" for entry in retries)
    assert retries[0]["waited_s"] == 0 and retries[2]["waited_s"] >= retries[1]["waited_s"]
    assert fake_index.request_count == 4
    await client.aclose()


async def test_429_with_retry_after_waits_at_least_that_long(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.status(429, retry_after="1"), times=1)
    client = await client_for(fake_index, tmp_path, max_retry_delay=5.0)
    started = time.monotonic()
    await client.fetch_project("six")
    assert time.monotonic() - started >= 1.0
    assert fake_index.request_count == 2
    await client.aclose()


async def test_429_retry_after_is_capped_at_max_retry_delay(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.status(429, retry_after="3600"), times=1)
    client = await client_for(fake_index, tmp_path, max_retry_delay=0.2)
    started = time.monotonic()
    await client.fetch_project("six")
    assert time.monotonic() - started < 5
    await client.aclose()


async def test_persistent_429_ends_as_rate_limited_with_retry_after(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.status(429, retry_after="0"))
    client = await client_for(fake_index, tmp_path, max_retry_attempts=1)
    with pytest.raises(RateLimited) as caught:
        await client.fetch_project("six")
    assert caught.value.to_dict()["retry_after_s"] == 0.0
    assert fake_index.request_count == 2
    await client.aclose()


async def test_invalid_json_is_retried_once_then_fails(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.invalid_json())
    client = await client_for(fake_index, tmp_path)
    with pytest.raises(UpstreamResponseInvalid):
        await client.fetch_project("six")
    assert fake_index.request_count == 2
    await client.aclose()


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
async def test_json_with_a_byte_order_mark_or_in_utf16_is_read(
    fake_index: FakeIndex, tmp_path: Path, encoding: str
) -> None:
    """RFC 8259 readers may accept these; the fast parser does not, so the fallback must."""
    page = {"info": {"name": "six", "version": "1.0"}, "releases": {"1.0": [{"yanked": False}]}, "urls": []}
    fake_index.set_fault(Fault.body(200, json.dumps(page).encode(encoding)), times=1)
    client = await client_for(fake_index, tmp_path)
    releases, latest = await client.fetch_project("six")
    assert latest is not None
    assert latest.version == "1.0" and [release.version for release in releases.releases] == ["1.0"]
    assert fake_index.request_count == 1
    await client.aclose()


async def test_a_json_answer_that_is_not_an_object_is_invalid(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.body(200, b"null"))
    client = await client_for(fake_index, tmp_path, max_retry_attempts=0)
    with pytest.raises(UpstreamResponseInvalid) as caught:
        await client.fetch_project("six")
    assert "not a JSON object" in caught.value.message
    await client.aclose()


async def test_oversized_body_is_abandoned(fake_index: FakeIndex, tmp_path: Path) -> None:
    client = await client_for(fake_index, tmp_path, max_upstream_bytes=64 * 1024)
    with pytest.raises(UpstreamResponseInvalid) as caught:
        await client.fetch_project("django")
    assert "larger than" in caught.value.message
    assert fake_index.request_count == 1, "too large is not retried"
    await client.aclose()


async def test_reset_connection_is_retried(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.reset(), times=1)
    client = await client_for(fake_index, tmp_path)
    await client.fetch_project("six")
    assert fake_index.request_count == 2
    await client.aclose()


async def test_a_reset_that_persists_is_reported_as_a_failed_connection(fake_index: FakeIndex, tmp_path: Path) -> None:
    """A dropped connection is not a timeout: the error says the connection failed, at once."""
    fake_index.set_fault(Fault.reset())
    client = await client_for(fake_index, tmp_path, max_retry_attempts=1, base_retry_delay=0.01)
    started = time.monotonic()
    with pytest.raises(UpstreamUnavailable) as caught:
        await client.fetch_project("six")
    assert "Connection to the package index failed" in caught.value.message
    assert time.monotonic() - started < 2
    assert fake_index.request_count == 2
    await client.aclose()


async def test_a_refused_connection_is_reported_as_such(tmp_path: Path) -> None:
    import socket

    with socket.socket() as probe:  # a loopback port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = IndexClient(Settings(cache_dir=tmp_path, pypi_url=f"http://127.0.0.1:{port}/pypi", max_retry_attempts=0))
    with pytest.raises(UpstreamUnavailable) as caught:
        await client.fetch_project("six")
    assert "Connection to the package index failed" in caught.value.message
    assert "ConnectError" in caught.value.message
    await client.aclose()


async def test_hanging_index_times_out_per_attempt(fake_index: FakeIndex, tmp_path: Path) -> None:
    fake_index.set_fault(Fault.hang())
    client = await client_for(fake_index, tmp_path, attempt_timeout=0.3, max_retry_attempts=1)
    started = time.monotonic()
    with pytest.raises(UpstreamTimeout):
        await client.fetch_project("six")
    assert time.monotonic() - started < 3
    await client.aclose()


async def test_credentials_are_sent_but_never_shown(fake_index: FakeIndex, tmp_path: Path) -> None:
    url_with_secret = fake_index.url.replace("http://", "http://alice:s3cret@")
    client = IndexClient(make_settings(fake_index, tmp_path, pypi_url=url_with_secret, max_retry_attempts=0))
    fake_index.set_fault(Fault.status(500))
    with pytest.raises(UpstreamUnavailable) as caught:
        await client.fetch_project("six")
    assert "s3cret" not in str(caught.value.to_dict())
    assert "alice" not in caught.value.message, "credentials are taken out of every URL"
    assert fake_index.last_headers().get("authorization", "").startswith("Basic ")
    await client.aclose()


async def test_netrc_credentials_are_used(
    fake_index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("machine 127.0.0.1 login bob password hunter2\n")
    (home / ".netrc").chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    client = await client_for(fake_index, tmp_path)
    await client.fetch_project("six")
    assert fake_index.last_headers().get("authorization", "").startswith("Basic ")
    await client.aclose()


class _ForwardProxy(BaseHTTPRequestHandler):
    """A loopback HTTP forward proxy: relays each absolute-form GET to the fake index."""

    upstream = ""
    seen: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.seen.append(self.path)
        upstream = urllib.parse.urlsplit(self.upstream)
        connection = http.client.HTTPConnection(upstream.netloc, timeout=5)  # no proxy: the fake index
        try:
            connection.request("GET", urllib.parse.urlsplit(self.path).path)
            body = connection.getresponse().read()
        finally:
            connection.close()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_a_proxy_named_by_the_environment_carries_the_requests(
    fake_index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _ForwardProxy.upstream, _ForwardProxy.seen = fake_index.url, []
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _ForwardProxy)
    threading.Thread(target=proxy.serve_forever, daemon=True).start()
    try:
        for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTPS_PROXY", "https_proxy", "http_proxy"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_port}")
        # A host that resolves nowhere: only the proxy can answer for it.
        client = IndexClient(Settings(cache_dir=tmp_path, pypi_url="http://index.invalid/pypi", max_retry_attempts=0))
        releases, _ = await client.fetch_project("six")
        await client.aclose()
    finally:
        proxy.shutdown()
        proxy.server_close()
    assert releases.name == "six"
    assert _ForwardProxy.seen == ["http://index.invalid/pypi/six/json"]
    assert fake_index.request_count == 1


async def test_an_answer_that_stalls_after_its_headers_is_sent_again_at_once(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    fake_index.set_fault(Fault.slow_drip(16, 30.0), times=1)  # headers and 16 bytes, then silence
    client = await client_for(fake_index, tmp_path, circuit_breaker_silence=0.5)
    started = time.monotonic()
    try:
        releases, _ = await client.fetch_project("six")
    finally:
        await client.aclose()
    assert releases.name == "six"
    assert time.monotonic() - started < 3.0, "waited for the deadline instead of asking again"
    assert fake_index.request_count == 2


class _RedirectLoop(BaseHTTPRequestHandler):
    requests = 0

    def do_GET(self) -> None:
        type(self).requests += 1
        self.send_response(302)
        self.send_header("Location", self.path + "x")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


async def test_a_redirect_loop_is_an_invalid_answer_not_an_internal_error(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RedirectLoop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/pypi"
        client = IndexClient(Settings(cache_dir=tmp_path, pypi_url=url, request_timeout=5.0))
        try:
            with pytest.raises(UpstreamResponseInvalid, match="redirected") as caught:
                await client.fetch_project("six")
        finally:
            await client.aclose()
        assert caught.value.retryable is False
        assert caught.value.message.startswith(f"The package index redirected {url}/")
        assert caught.value.suggestions == [
            "Check the index URL (AUTODOCS_INDEX_URL): a proxy or login page may be redirecting in a loop."
        ]
    finally:
        server.shutdown()
        server.server_close()


async def test_a_download_redirected_in_a_loop_is_an_invalid_answer_naming_its_url(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _RedirectLoop)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/files/pkg-1.0.tar.gz"
        fetcher = JsonFetcher(Settings(cache_dir=tmp_path, pypi_url=url, request_timeout=5.0))
        try:
            _RedirectLoop.requests = 0
            with pytest.raises(UpstreamResponseInvalid) as caught:
                await fetcher.download(url, tmp_path / "pkg", max_bytes=100)
            assert _RedirectLoop.requests == 6  # the request and 5 redirects followed
        finally:
            await fetcher.aclose()
        assert caught.value.message == (
            f"The package index redirected {url} more than 5 times; it was not followed further."
        )
        assert not (tmp_path / "pkg").exists()
    finally:
        server.shutdown()
        server.server_close()
