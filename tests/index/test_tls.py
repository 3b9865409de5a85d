"""TLS to an index on loopback whose certificate a throwaway CA signs: trusted only when told."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from autodocs.errors import ConfigError, UpstreamTLSError
from autodocs.index import IndexClient
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
