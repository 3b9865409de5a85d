"""TLS to an index on loopback whose certificate a throwaway CA signs: trusted only when told."""

from __future__ import annotations

import asyncio
import select
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import pytest

from autodocs.errors import ConfigError, UpstreamTLSError
from autodocs.index import IndexClient
from autodocs.index.fetch import JsonFetcher
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex
from tests.support.tls import LoopbackCertificates, make_certificates


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCertificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_index(certificates: LoopbackCertificates) -> Iterator[FakeIndex]:
    with FakeIndex(tls=certificates.server_context()) as index:
        yield index


@pytest.fixture(autouse=True)
def isolated_trust(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Only what a test sets decides trust: no inherited CA variables, no user config."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in ("SSL_CERT_FILE", "SSL_CERT_DIR", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize("variable", ["SSL_CERT_FILE", "REQUESTS_CA_BUNDLE"])
async def test_an_index_trusted_through_a_ca_bundle_variable_answers(
    tls_index: FakeIndex,
    certificates: LoopbackCertificates,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    variable: str,
) -> None:
    monkeypatch.setenv(variable, str(certificates.ca_file))
    client = IndexClient(make_settings(tls_index, tmp_path))
    try:
        releases, _ = await client.fetch_project("six")
    finally:
        await client.aclose()
    assert releases.name == "six" and tls_index.url.startswith("https://")


async def test_an_untrusted_certificate_is_a_tls_error_after_one_attempt(tls_index: FakeIndex, tmp_path: Path) -> None:
    client = IndexClient(make_settings(tls_index, tmp_path, max_retry_attempts=3))
    try:
        with pytest.raises(UpstreamTLSError) as caught:
            await client.fetch_project("six")
    finally:
        await client.aclose()
    error = caught.value.to_dict()
    assert error["retryable"] is False
    assert "CERTIFICATE_VERIFY_FAILED" in error["message"] and "127.0.0.1" in error["message"]
    assert any("SSL_CERT_FILE" in suggestion for suggestion in error["suggestions"])
    assert tls_index.connections == 1, "a certificate failure is not retried"
    assert tls_index.request_count == 0


async def test_a_ca_bundle_that_does_not_exist_refuses_to_start(
    tls_index: FakeIndex, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(ConfigError) as caught:
        IndexClient(make_settings(tls_index, tmp_path))
    assert "SSL_CERT_FILE" in caught.value.message


async def test_an_untrusted_certificate_fails_a_download_with_a_tls_error_after_one_attempt(
    tls_index: FakeIndex, tmp_path: Path
) -> None:
    url = tls_index.add_file("pkg-1.0.tar.gz", b"abc").replace("http://", "https://")
    fetcher = JsonFetcher(make_settings(tls_index, tmp_path, max_retry_attempts=3))
    try:
        with pytest.raises(UpstreamTLSError) as caught:
            await fetcher.download(url, tmp_path / "pkg", max_bytes=10)
    finally:
        await fetcher.aclose()
    assert "for 127.0.0.1 is not trusted" in caught.value.message
    assert tls_index.connections == 1, "a certificate failure is not retried"
    assert not (tmp_path / "pkg").exists()


class _Tunnel(BaseHTTPRequestHandler):
    """An HTTPS proxy on loopback: CONNECT opens a tunnel to the host and port it names."""

    tunnels: ClassVar[list[str]] = []

    def do_CONNECT(self) -> None:
        host, _, port = self.path.rpartition(":")
        with socket.create_connection((host, int(port)), timeout=5) as upstream:
            self.tunnels.append(self.path)
            self.send_response(200)
            self.end_headers()
            ends = {self.connection: upstream, upstream: self.connection}
            while readable := select.select(list(ends), [], [], 10)[0]:  # open while idle up to 10 s
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    ends[source].sendall(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def https_proxy(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """A tunnelling proxy named by HTTPS_PROXY; yields the tunnels it opened."""
    _Tunnel.tunnels = []
    proxy = ThreadingHTTPServer(("127.0.0.1", 0), _Tunnel)
    thread = threading.Thread(target=proxy.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy", "HTTP_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy.server_port}")
    try:
        yield _Tunnel.tunnels
    finally:
        proxy.shutdown()
        proxy.server_close()
        thread.join(timeout=2.0)


async def test_behind_a_proxy_the_index_is_trusted_through_the_ca_bundle_variable(
    tls_index: FakeIndex,
    certificates: LoopbackCertificates,
    https_proxy: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificates.ca_file))
    client = IndexClient(make_settings(tls_index, tmp_path))
    try:
        releases, _ = await client.fetch_project("six")
    finally:
        await client.aclose()
    assert releases.name == "six"
    assert https_proxy == [f"127.0.0.1:{tls_index.port}"], "through the proxy's tunnel"


async def test_behind_a_proxy_an_idle_connection_is_kept_past_httpxs_default_five_seconds(
    tls_index: FakeIndex,
    certificates: LoopbackCertificates,
    https_proxy: list[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """Keep-alive lasts 30 s there too (the pool's settings reach httpx's own transports): asked
    again after 6 s idle, the index is asked through the same tunnel."""
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(certificates.ca_file))
    fetcher = JsonFetcher(make_settings(tls_index, tmp_path))
    try:
        await fetcher.get_json(f"{tls_index.url}/six/json")
        await asyncio.sleep(6.0)
        await fetcher.get_json(f"{tls_index.url}/six/json")
    finally:
        await fetcher.aclose()
    assert https_proxy == [f"127.0.0.1:{tls_index.port}"], "one tunnel, one connection"
