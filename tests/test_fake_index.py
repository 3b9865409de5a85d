"""The fake index serves recorded data like the real JSON API and misbehaves on command."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.fake_index import DEFAULT_DATA_DIR, FakeIndex, Fault

REPO_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def index() -> Iterator[FakeIndex]:
    with FakeIndex() as server:
        yield server


@pytest.fixture(autouse=True)
def _clean(index: FakeIndex) -> Iterator[None]:
    index.reset()
    index.latency_s = 0.0
    yield
    index.reset()


@pytest.fixture
def client() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5.0) as c:
        yield c


# -- normal answers ------------------------------------------------------------------------------


def test_recorded_data_is_there() -> None:
    manifest = json.loads((DEFAULT_DATA_DIR / "MANIFEST.json").read_text(encoding="utf-8"))
    assert len(list((DEFAULT_DATA_DIR / "projects").glob("*.json"))) >= 100
    assert len(manifest["projects"]) >= 100
    assert "2.31.0" in manifest["versions"]["requests"]


def test_serves_a_project(index: FakeIndex, client: httpx.Client) -> None:
    response = client.get(f"{index.url}/requests/json")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    doc = response.json()
    assert doc["info"]["name"].lower() == "requests"
    assert "2.31.0" in doc["releases"]
    assert "index.invalid" in doc["info"]["project_url"]


def test_keep_alive_reuses_one_connection(index: FakeIndex, client: httpx.Client) -> None:
    ports = set()
    for name in ("httpx", "click", "rich"):
        response = client.get(f"{index.url}/{name}/json")
        assert response.status_code == 200
        stream = response.extensions["network_stream"]
        ports.add(stream.get_extra_info("client_addr"))
    assert len(ports) == 1


def test_unknown_project_is_404(index: FakeIndex, client: httpx.Client) -> None:
    for path in ("/no-such-project-here/json", "/requests/99.99.99/json"):
        response = client.get(f"{index.url}{path}")
        assert response.status_code == 404
        assert response.json() == {"message": "Not Found"}
        assert response.headers["content-type"] == "application/json"
    assert client.get(f"{index.url.removesuffix('/pypi')}/simple/requests/").status_code == 404


@pytest.mark.parametrize(
    ("name", "target"),
    [("Requests", "/pypi/requests/json"), ("typing_extensions", "/pypi/typing-extensions/json")],
)
def test_non_normalized_name_redirects(index: FakeIndex, client: httpx.Client, name: str, target: str) -> None:
    response = client.get(f"{index.url}/{name}/json")
    assert response.status_code == 301
    assert response.headers["location"] == target
    followed = client.get(f"{index.url}/{name}/json", follow_redirects=True)
    assert followed.status_code == 200


def test_synthesized_version_document(index: FakeIndex, client: httpx.Client) -> None:
    doc = client.get(f"{index.url}/requests/2.25.1/json").json()
    assert doc["info"]["version"] == "2.25.1"
    assert "releases" not in doc
    assert doc["info"]["release_url"].endswith("/requests/2.25.1/")
    assert doc["urls"] and doc["urls"][0]["filename"].startswith("requests-2.25.1")


def test_recorded_version_document_has_its_own_description(index: FakeIndex, client: httpx.Client) -> None:
    latest = client.get(f"{index.url}/pydantic/json").json()
    old = client.get(f"{index.url}/pydantic/1.10.13/json").json()
    assert old["info"]["version"] == "1.10.13"
    assert "releases" not in old
    assert old["info"]["description"] != latest["info"]["description"]
    assert old["info"]["requires_dist"] != latest["info"]["requires_dist"]


def test_added_documents(index: FakeIndex, client: httpx.Client) -> None:
    releases = {
        "1.0": [{"filename": "demo-1.0.tar.gz", "yanked": False, "yanked_reason": None}],
        "1.1": [{"filename": "demo-1.1.tar.gz", "yanked": True, "yanked_reason": "broken"}],
        "2.0b1": [],
    }
    index.add_project("Demo_Pkg", {"info": {"name": "demo-pkg", "version": "1.0"}, "releases": releases})
    index.add_version("demo-pkg", "2.0b1", {"info": {"name": "demo-pkg", "version": "2.0b1"}})
    assert client.get(f"{index.url}/demo-pkg/json").json()["releases"] == releases
    yanked = client.get(f"{index.url}/demo-pkg/1.1/json").json()["info"]
    assert (yanked["yanked"], yanked["yanked_reason"]) == (True, "broken")
    assert client.get(f"{index.url}/demo-pkg/2.0b1/json").json()["info"]["version"] == "2.0b1"


def test_request_counting(index: FakeIndex, client: httpx.Client) -> None:
    client.get(f"{index.url}/requests/json")
    client.get(f"{index.url}/requests/2.31.0/json")
    client.get(f"{index.url}/httpx/json")
    assert index.request_count == 3
    assert index.count("/requests/") == 2
    assert index.requests[0] == ("GET", "/pypi/requests/json")
    stats = client.get(f"{index.url.removesuffix('/pypi')}/_stats").json()
    assert stats["requests"] == 3 and stats["by_path"]["/pypi/httpx/json"] == 1
    assert index.request_count == 3  # /_stats is not counted
    index.reset()
    assert index.request_count == 0 and index.requests == []


def test_concurrent_requests_with_latency_are_not_serialised(index: FakeIndex) -> None:
    index.latency_s = 0.2
    names = ["requests", "httpx", "click", "rich", "attrs"] * 24  # 120 requests at once
    limits = httpx.Limits(max_connections=200)

    def fetch(c: httpx.Client, name: str) -> int:
        return c.get(f"{index.url}/{name}/json").status_code

    with httpx.Client(timeout=10.0, limits=limits) as c:
        threads: list[threading.Thread] = []
        results: list[int] = []
        started = time.monotonic()
        for name in names:
            t = threading.Thread(target=lambda n=name: results.append(fetch(c, n)))
            t.start()
            threads.append(t)
        for t in threads:
            t.join()
        elapsed = time.monotonic() - started
    assert results.count(200) == len(names)
    assert elapsed < 3.0


# -- faults -------------------------------------------------------------------------------------


def test_status_fault_with_times_budget(index: FakeIndex, client: httpx.Client) -> None:
    index.set_fault(Fault.status(503), path_contains="/requests/", times=2)
    assert [client.get(f"{index.url}/requests/json").status_code for _ in range(3)] == [503, 503, 200]
    assert client.get(f"{index.url}/httpx/json").status_code == 200


@pytest.mark.parametrize("retry_after", ["1", "Wed, 21 Oct 2015 07:28:00 GMT"])
def test_429_sets_retry_after(index: FakeIndex, client: httpx.Client, retry_after: str) -> None:
    index.set_fault(Fault.status(429, retry_after=retry_after))
    response = client.get(f"{index.url}/requests/json")
    assert response.status_code == 429
    assert response.headers["retry-after"] == retry_after


def test_latency_fault(index: FakeIndex, client: httpx.Client) -> None:
    index.set_fault(Fault.latency(0.3), times=1)
    started = time.monotonic()
    assert client.get(f"{index.url}/click/json").status_code == 200
    assert time.monotonic() - started >= 0.3


def test_reset_fault(index: FakeIndex, client: httpx.Client) -> None:
    index.set_fault(Fault.reset(), times=1)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError, httpx.ConnectError)):
        client.get(f"{index.url}/requests/json")
    assert client.get(f"{index.url}/requests/json").status_code == 200  # a new connection works


def test_truncated_fault(index: FakeIndex, client: httpx.Client) -> None:
    index.set_fault(Fault.truncated(), times=1)
    with pytest.raises((httpx.RemoteProtocolError, httpx.ReadError)):
        client.get(f"{index.url}/requests/json")


def test_invalid_json_fault(index: FakeIndex, client: httpx.Client) -> None:
    index.set_fault(Fault.invalid_json(), times=1)
    response = client.get(f"{index.url}/requests/json")
    assert response.status_code == 200
    with pytest.raises(json.JSONDecodeError):
        response.json()


def test_body_fault(index: FakeIndex, client: httpx.Client) -> None:
    index.set_fault(Fault.body(502, b"<html>bad gateway</html>", {"Content-Type": "text/html"}), times=1)
    response = client.get(f"{index.url}/requests/json")
    assert (response.status_code, response.text) == (502, "<html>bad gateway</html>")
    assert response.headers["content-type"] == "text/html"


def test_slow_drip_fault(index: FakeIndex, client: httpx.Client) -> None:
    index.set_fault(Fault.slow_drip(4096, 0.6), path_contains="/six/", times=1)
    with pytest.raises(httpx.ReadTimeout):  # a gap longer than the read timeout
        client.get(f"{index.url}/six/json", timeout=httpx.Timeout(5.0, read=0.3))
    size = len(client.get(f"{index.url}/six/json").content)
    index.set_fault(Fault.slow_drip(size // 4 + 1, 0.1), path_contains="/six/", times=1)
    started = time.monotonic()
    assert client.get(f"{index.url}/six/json").json()["info"]["name"].lower() == "six"
    assert time.monotonic() - started >= 0.3  # four chunks, three gaps


def test_hang_then_close_fault(index: FakeIndex, client: httpx.Client) -> None:
    index.set_fault(Fault.hang_then_close(0.2), times=1)
    started = time.monotonic()
    with pytest.raises(httpx.RemoteProtocolError):
        client.get(f"{index.url}/requests/json")
    assert time.monotonic() - started >= 0.2


def test_probability_is_seeded() -> None:
    def pattern() -> list[int]:
        with FakeIndex(seed=7) as server, httpx.Client() as c:
            server.set_fault(Fault.status(503), probability=0.5)
            return [c.get(f"{server.url}/six/json").status_code for _ in range(20)]

    first = pattern()
    assert first == pattern()
    assert 503 in first and 200 in first


def test_hang_times_out_and_stop_is_prompt() -> None:
    server = FakeIndex().start()
    server.set_fault(Fault.hang())
    with httpx.Client() as c, pytest.raises(httpx.ReadTimeout):
        c.get(f"{server.url}/requests/json", timeout=httpx.Timeout(5.0, read=0.3))
    errors: list[BaseException] = []

    def hung_request() -> None:
        try:
            httpx.get(f"{server.url}/requests/json", timeout=30.0)
        except httpx.HTTPError as exc:
            errors.append(exc)

    waiter = threading.Thread(target=hung_request)
    waiter.start()
    deadline = time.monotonic() + 2.0
    while server.request_count < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    idle = httpx.Client()  # an idle keep-alive connection must not hold stop() up either
    server.clear_faults()
    idle.get(f"{server.url}/six/json")
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2.0
    waiter.join(timeout=2.0)
    idle.close()
    assert not waiter.is_alive()
    assert errors and isinstance(errors[0], httpx.RemoteProtocolError | httpx.ReadError)


# -- subprocess mode ----------------------------------------------------------------------------


def _spawn(*args: str) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "tests.support.fake_index", *args]
    return subprocess.Popen(command, cwd=REPO_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)


def test_subprocess_mode() -> None:
    with _spawn("--latency-ms", "5", "--fault-mix", '{"503": 0}') as proc:
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline().strip()
            assert line.startswith("READY http://127.0.0.1:") and line.endswith("/pypi")
            url = line.split(" ", 1)[1]
            assert httpx.get(f"{url}/requests/json").json()["info"]["name"].lower() == "requests"
            assert httpx.get(f"{url.removesuffix('/pypi')}/_stats").json()["requests"] == 1
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(timeout=5) == 0
        finally:
            if proc.poll() is None:
                proc.kill()


def test_subprocess_exits_when_stdin_closes() -> None:
    with _spawn("--data", str(DEFAULT_DATA_DIR), "--fault-mix", '{"hang": 1.0}') as proc:
        try:
            assert proc.stdout is not None and proc.stdin is not None
            url = proc.stdout.readline().split()[1]
            with pytest.raises(httpx.ReadTimeout):
                httpx.get(f"{url}/six/json", timeout=0.3)
            proc.stdin.close()
            assert proc.wait(timeout=5) == 0
        finally:
            if proc.poll() is None:
                proc.kill()
