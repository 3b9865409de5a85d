"""Host names resolved once per host and shared, on a real loopback index (index/resolver.py)."""

from __future__ import annotations

import asyncio
import ssl
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from autodocs.index import IndexClient
from autodocs.index.resolver import HostResolver, ResolvedTransport
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex
from tests.support.tls import LoopbackCertificates, make_certificates


class CountingLookup:
    """A resolver that answers after a delay (a slow DNS server) and counts the lookups."""

    def __init__(self, *answers: list[str] | OSError, delay: float = 0.05) -> None:
        self.answers = list(answers)
        self.delay = delay
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls.append(host)
        await asyncio.sleep(self.delay)
        answer = self.answers[0] if len(self.answers) == 1 else self.answers.pop(0)
        if isinstance(answer, OSError):
            raise answer
        return answer


def client_with(lookup: CountingLookup, ca_file: Path | None = None) -> httpx.AsyncClient:
    inner = httpx.AsyncHTTPTransport(verify=ssl.create_default_context(cafile=ca_file) if ca_file else True)
    return httpx.AsyncClient(transport=ResolvedTransport(inner, HostResolver(lookup)))


def by_name(index: FakeIndex, host: str = "localhost") -> str:
    return index.url.replace("127.0.0.1", host)


async def test_a_burst_of_requests_to_one_name_costs_one_lookup(fake_index: FakeIndex) -> None:
    lookup = CountingLookup(["127.0.0.1"])
    async with client_with(lookup) as client:
        answers = await asyncio.gather(*(client.get(f"{by_name(fake_index)}/six/json") for _ in range(30)))
    assert [answer.status_code for answer in answers] == [200] * 30
    assert lookup.calls == ["localhost"]
    assert answers[0].request.url.host == "localhost"  # callers see the name they asked for


async def test_the_host_header_keeps_the_name_while_the_connection_goes_to_the_address(
    fake_index: FakeIndex,
) -> None:
    seen: list[str] = []

    async def record(request: httpx.Request) -> None:
        seen.append(request.headers["host"])

    lookup = CountingLookup(["127.0.0.1"])
    inner = httpx.AsyncHTTPTransport()
    async with httpx.AsyncClient(
        transport=ResolvedTransport(inner, HostResolver(lookup)), event_hooks={"request": [record]}
    ) as client:
        answer = await client.get(f"{by_name(fake_index)}/six/json")
    assert answer.status_code == 200 and seen == [f"localhost:{fake_index.port}"]


async def test_an_address_that_refuses_is_forgotten_and_the_name_looked_up_again(fake_index: FakeIndex) -> None:
    # 127.0.0.2 is loopback too, but nothing listens there on the index's port.
    lookup = CountingLookup(["127.0.0.2"], ["127.0.0.1"])
    async with client_with(lookup) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{by_name(fake_index)}/six/json")
        answer = await client.get(f"{by_name(fake_index)}/six/json")
    assert answer.status_code == 200 and lookup.calls == ["localhost", "localhost"]


async def test_a_failed_lookup_is_a_connect_error_and_is_not_kept(fake_index: FakeIndex) -> None:
    lookup = CountingLookup(OSError("temporary failure in name resolution"), ["127.0.0.1"])
    async with client_with(lookup) as client:
        with pytest.raises(httpx.ConnectError, match="cannot resolve localhost"):
            await client.get(f"{by_name(fake_index)}/six/json")
        answer = await client.get(f"{by_name(fake_index)}/six/json")
    assert answer.status_code == 200 and len(lookup.calls) == 2


async def test_answers_expire_after_their_time_to_live(fake_index: FakeIndex) -> None:
    now = [0.0]
    lookup = CountingLookup(["127.0.0.1"])
    resolver = HostResolver(lookup, ttl=60, clock=lambda: now[0])
    async with httpx.AsyncClient(transport=ResolvedTransport(httpx.AsyncHTTPTransport(), resolver)) as client:
        await client.get(f"{by_name(fake_index)}/six/json")
        now[0] = 59.9
        await client.get(f"{by_name(fake_index)}/six/json")
        assert len(lookup.calls) == 1
        now[0] = 60.0
        await client.get(f"{by_name(fake_index)}/six/json")
    assert len(lookup.calls) == 2 and resolver.lookups == 2


async def test_a_caller_cancelled_during_the_lookup_does_not_cancel_it_for_the_others(fake_index: FakeIndex) -> None:
    lookup = CountingLookup(["127.0.0.1"], delay=0.2)
    async with client_with(lookup) as client:
        first = asyncio.ensure_future(client.get(f"{by_name(fake_index)}/six/json"))
        second = asyncio.ensure_future(client.get(f"{by_name(fake_index)}/six/json"))
        await asyncio.sleep(0.05)
        first.cancel()
        answer = await second
    assert answer.status_code == 200 and lookup.calls == ["localhost"]


async def test_ip_literals_are_never_looked_up(fake_index: FakeIndex) -> None:
    lookup = CountingLookup(["127.0.0.1"])
    async with client_with(lookup) as client:
        answer = await client.get(f"{fake_index.url}/six/json")
    assert answer.status_code == 200 and lookup.calls == []


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> LoopbackCertificates:
    return make_certificates(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def tls_index(certificates: LoopbackCertificates) -> Iterator[FakeIndex]:
    with FakeIndex(tls=certificates.server_context()) as index:
        yield index


async def test_tls_checks_the_certificate_against_the_name_not_the_address(
    tls_index: FakeIndex, certificates: LoopbackCertificates
) -> None:
    async with client_with(CountingLookup(["127.0.0.1"]), certificates.ca_file) as client:
        answer = await client.get(f"{by_name(tls_index)}/six/json")
    assert answer.status_code == 200
    # Same address, a name the certificate does not carry: refused, though the address is in it.
    async with client_with(CountingLookup(["127.0.0.1"]), certificates.ca_file) as client:
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            await client.get(f"{by_name(tls_index, 'index.invalid')}/six/json")


async def test_the_index_client_resolves_each_host_once_for_a_burst_of_packages(
    fake_index: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    client = IndexClient(make_settings(fake_index, tmp_path, pypi_url=by_name(fake_index)))
    assert client.fetcher.resolver is not None
    try:
        answers = await asyncio.gather(*(client.fetch_project("six") for _ in range(20)))
    finally:
        await client.aclose()
    assert all(releases.name == "six" for releases, _ in answers)
    assert client.fetcher.resolver.lookups == 1


async def test_a_lookup_answering_no_address_is_a_connect_error_naming_the_host(fake_index: FakeIndex) -> None:
    async with client_with(CountingLookup([])) as client:
        with pytest.raises(httpx.ConnectError) as caught:
            await client.get(f"{by_name(fake_index)}/six/json")
    assert str(caught.value) == "cannot resolve localhost: no address for localhost"
    assert caught.value.request.url.host == "localhost"  # the request it failed, as httpx errors carry


async def test_an_address_that_refuses_is_dropped_and_the_next_one_used_without_a_lookup(
    fake_index: FakeIndex,
) -> None:
    lookup = CountingLookup(["127.0.0.2", "127.0.0.1"])
    async with client_with(lookup) as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{by_name(fake_index)}/six/json")
        first = await client.get(f"{by_name(fake_index)}/six/json")
        second = await client.get(f"{by_name(fake_index)}/six/json")
    assert first.status_code == second.status_code == 200 and lookup.calls == ["localhost"]


async def test_past_256_hosts_the_remembered_answers_are_dropped() -> None:
    lookup = CountingLookup(["127.0.0.1"], delay=0.0)
    resolver = HostResolver(lookup)
    for number in range(256):
        await resolver.addresses(f"host{number}", 80)
    await resolver.addresses("host0", 80)
    assert resolver.lookups == 256  # all 256 remembered
    await resolver.addresses("host256", 80)
    await resolver.addresses("host0", 80)
    assert resolver.lookups == 258  # the 257th made room by forgetting the others


async def test_the_lookup_is_for_the_urls_port_or_its_schemes_default() -> None:
    ports: list[tuple[str, int]] = []

    async def lookup(host: str, port: int) -> list[str]:
        ports.append((host, port))
        return ["127.0.0.1"]

    transport = ResolvedTransport(httpx.MockTransport(lambda request: httpx.Response(204)), HostResolver(lookup))
    async with httpx.AsyncClient(transport=transport) as client:
        for url in ("http://a.test/", "https://b.test/", "http://c.test:8080/", "https://d.test:8443/"):
            assert (await client.get(url)).status_code == 204
    assert ports == [("a.test", 80), ("b.test", 443), ("c.test", 8080), ("d.test", 8443)]


async def test_other_schemes_pass_through_without_a_lookup() -> None:
    lookup = CountingLookup(["127.0.0.1"])
    seen: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(str(request.url))
        return httpx.Response(204)

    transport = ResolvedTransport(httpx.MockTransport(answer), HostResolver(lookup))
    reply = await transport.handle_async_request(httpx.Request("GET", "ws://a.test/socket"))
    assert reply.status_code == 204 and seen == ["ws://a.test/socket"] and lookup.calls == []


async def test_a_request_body_goes_to_the_address_unchanged() -> None:
    def echo(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=request.read())

    transport = ResolvedTransport(httpx.MockTransport(echo), HostResolver(CountingLookup(["127.0.0.1"])))
    async with httpx.AsyncClient(transport=transport) as client:
        reply = await client.post("http://a.test/upload", content=b"the body")
    assert reply.content == b"the body" and reply.request.url.host == "a.test"
