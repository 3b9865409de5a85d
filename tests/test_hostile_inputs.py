"""Inputs that once crashed a call into InternalError, and the index's file downloads policy.

Each crash now gets its own structured error (or, for one unreadable module, a skip with a
warning); a file the index lists without a SHA-256 is accepted with a warning; a file on
another host than the index's is fetched without credentials and retried once at most.
"""

from __future__ import annotations

import base64
import io
import time
import zipfile
from pathlib import Path
from typing import Any

import pytest

from autodocs.cache.base import decode_cursor as decode_listing_cursor
from autodocs.errors import CodeUnavailable, InvalidArgument, UpstreamUnavailable
from autodocs.service import AutoDocsService
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex, Fault
from tests.test_api_reference import _serve_wheels, _wheel

HUGE_EXPRESSION = "X = " + "+".join(["1"] * 200_000) + "\n"


def _nested_cursor(depth: int = 5000) -> str:
    raw = ("[" * depth + "]" * depth).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


async def test_a_cursor_of_deeply_nested_json_is_invalid_argument(service: AutoDocsService) -> None:
    cursor = _nested_cursor()
    assert 13_000 <= len(cursor) <= 14_000  # the probe's 13 KB
    with pytest.raises(InvalidArgument, match="cursor"):
        await service.get_package_docs("requests", cursor=cursor)
    with pytest.raises(InvalidArgument, match="cursor"):
        decode_listing_cursor(cursor)


def _wheel_files(index: FakeIndex, name: str, modules: dict[str, str]) -> None:
    """Serve ``name`` 1.0 as a wheel holding ``modules`` (path → source) besides its __init__."""
    data = io.BytesIO(_wheel(name, "1.0", 'def ok(a: int) -> int:\n    """Readable."""\n    return a\n'))
    with zipfile.ZipFile(data, "a") as wheel:
        for path, source in modules.items():
            wheel.writestr(path, source)
    _serve_wheels(index, name, {"1.0": data.getvalue()})


async def test_a_module_with_a_200000_term_expression_is_skipped_with_a_warning(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    name = f"hugeexpr{time.monotonic_ns()}"
    _wheel_files(fake_index, name, {f"{name}/huge.py": HUGE_EXPRESSION})
    async with AutoDocsService.running(make_settings(fake_index, tmp_path / "cache")) as service:
        reply = await service.get_api_reference(name)
    assert [m["path"] for m in reply["members"]] == [f"{name}.ok"]
    assert any(f"{name}.huge" in w and "RecursionError" in w for w in reply["warnings"])


async def test_a_package_that_is_only_such_a_module_is_code_unavailable(fake_index: FakeIndex, tmp_path: Path) -> None:
    name = f"hugeonly{time.monotonic_ns()}"
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as wheel:
        wheel.writestr(f"{name}.py", HUGE_EXPRESSION)
        wheel.writestr(f"{name}-1.0.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    _serve_wheels(fake_index, name, {"1.0": data.getvalue()})
    async with AutoDocsService.running(make_settings(fake_index, tmp_path / "cache")) as service:
        with pytest.raises(CodeUnavailable):
            await service.get_api_reference(name)


def _release(index: FakeIndex, name: str, url: str, *, size: int, sha256: str | None) -> None:
    file: dict[str, Any] = {
        "filename": f"{name}-1.0-py3-none-any.whl",
        "url": url,
        "packagetype": "bdist_wheel",
        "size": size,
        "digests": {"sha256": sha256} if sha256 else {},
        "yanked": False,
        "upload_time_iso_8601": "2024-01-01T00:00:00Z",
    }
    info = {"name": name, "version": "1.0", "summary": "A test package.", "description": "# T\n\nHi.\n"}
    index.add_project(name, {"info": info, "releases": {"1.0": [file]}, "urls": [file]})


async def test_a_wheel_url_answering_404_is_code_unavailable(fake_index: FakeIndex, tmp_path: Path) -> None:
    name = f"gone{time.monotonic_ns()}"
    _release(fake_index, name, f"{fake_index.url.split('/pypi')[0]}/files/{name}-missing.whl", size=10, sha256=None)
    async with AutoDocsService.running(make_settings(fake_index, tmp_path / "cache")) as service:
        with pytest.raises(CodeUnavailable, match="404"):
            await service.get_api_reference(name)


async def test_a_wheel_listed_without_a_sha256_is_accepted_with_a_warning(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    name = f"nohash{time.monotonic_ns()}"
    data = _wheel(name, "1.0", 'def ok() -> None:\n    """Readable."""\n')
    url = fake_index.add_file(f"{name}-1.0-py3-none-any.whl", data)
    _release(fake_index, name, url, size=len(data), sha256=None)
    settings = make_settings(fake_index, tmp_path / "cache")
    for _ in range(2):  # the unpacked tree is reused by the next process: the warning stays
        async with AutoDocsService.running(settings) as service:
            reply = await service.get_api_reference(name)
        assert reply["source"]["kind"] == "wheel"
        assert any("not verified" in w and "SHA-256" in w for w in reply["warnings"])


@pytest.fixture
def files_host() -> Any:
    with FakeIndex() as index:
        yield index


async def test_a_file_on_another_host_gets_no_credentials_and_one_retry_at_most(
    fake_index: FakeIndex, files_host: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The index is asked as ``localhost`` with credentials (in its URL and a .netrc default);
    the file lives on ``127.0.0.1``, another host: neither credential may travel there."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".netrc").write_text("default login netrc-user password netrc-secret\n")
    (home / ".netrc").chmod(0o600)
    monkeypatch.setenv("HOME", str(home))
    name = f"cdn{time.monotonic_ns()}"
    data = _wheel(name, "1.0", 'def ok() -> None:\n    """Readable."""\n')
    url = files_host.add_file(f"{name}-1.0-py3-none-any.whl", data)
    _release(fake_index, name, url, size=len(data), sha256=None)
    index_url = fake_index.url.replace("127.0.0.1", "localhost")
    settings = make_settings(fake_index, tmp_path / "cache", pypi_url=index_url, max_retry_attempts=3)
    async with AutoDocsService.running(settings) as service:
        assert (await service.get_api_reference(name))["source"]["kind"] == "wheel"
        assert "authorization" in fake_index.last_headers()  # the index's own host gets them
        assert "authorization" not in files_host.last_headers()
        files_host.set_fault(Fault.status(503), path_contains="/files/")
        other = f"cdnfail{time.monotonic_ns()}"
        url = files_host.add_file(f"{other}-1.0-py3-none-any.whl", data)
        _release(fake_index, other, url, size=len(data), sha256=None)
        before = files_host.count("/files/")
        with pytest.raises(UpstreamUnavailable):
            await service.get_api_reference(other)
    assert files_host.count("/files/") - before == 2  # one attempt and one retry, not four
