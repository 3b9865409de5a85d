"""Bounds on reading code: size caps on modules and packages, a memory-limited worker process."""

from __future__ import annotations

import asyncio
import hashlib
import io
import os
import signal
import threading
import time
import zipfile
from pathlib import Path

import anyio
import httpx
import pytest

from autodocs.docs.analysis import AnalysisRequest, AnalysisWorkers
from autodocs.docs.api_limits import SourceLimits
from autodocs.errors import AnalysisMemoryExceeded
from autodocs.service import AutoDocsService
from tests.conftest import make_settings
from tests.server.test_http import call_tool, http_server
from tests.support.fake_index import FakeIndex
from tests.support.tool_results import tool_error

MIB = 1024 * 1024


def _dist_info(site: Path, name: str) -> None:
    info = site / f"{name}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "top_level.txt").write_text(f"{name}\n")


def _package(site: Path, name: str, modules: dict[str, str]) -> None:
    for module, text in modules.items():
        path = site / name / f"{module}.py"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    _dist_info(site, name)


def _many_modules(site: Path, name: str, count: int) -> None:
    """A package of ``count`` small modules: a few seconds and about 100 MB to read."""
    function = 'def f{j}(a: int, *, b: str = "x") -> int:\n    """F {j}."""\n    return a\n\n'
    functions = "".join(function.format(j=j) for j in range(5))
    modules = {f"m{i}": f'"""Module {i}."""\n\n{functions}class C{i}:\n    """C."""\n' for i in range(count)}
    modules["__init__"] = '"""Many modules."""\nfrom .m0 import f0\n\n__all__ = ["f0"]\n'
    _package(site, name, modules)


def _table_module(rows: int) -> str:
    """One module-level table: griffe keeps an expression tree of it, ~200 bytes per source byte."""
    body = ",\n".join(f'    ({i}, "v{i}", {{"k": [{i}, {i + 1}]}})' for i in range(rows))
    return f'"""A table."""\n\nTABLE = [\n{body}\n]\n'


def _gone(pid: int, within: float) -> bool:
    """The process has exited (a zombie counts as exited) within ``within`` seconds."""
    stop = time.monotonic() + within
    while time.monotonic() < stop:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return True
        if state in ("Z", "X"):
            return True
        time.sleep(0.05)
    return False


def _descendants(root: int) -> set[int]:
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(stat.parent.name)] = int(fields[1])
    found: set[int] = set()
    frontier = {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


# -- size caps ------------------------------------------------------------------------------


async def test_module_over_the_size_cap_in_a_small_wheel_is_skipped_with_a_warning(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    name = f"bigmodule{time.monotonic_ns()}"
    padding = "".join(f"# {hashlib.sha256(str(i).encode()).hexdigest()} {'-' * 66}\n" for i in range(18_000))
    huge = '"""Huge."""\n\ndef hidden() -> None:\n    """Never read."""\n\n' + padding
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as wheel:
        wheel.writestr(f"{name}/__init__.py", 'from .small import greet\n\n__all__ = ["greet"]\n')
        wheel.writestr(f"{name}/small.py", 'def greet(who: str) -> str:\n    """Greet."""\n    return who\n')
        wheel.writestr(f"{name}/huge.py", huge)
        wheel.writestr(f"{name}-1.0.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    data = buffer.getvalue()
    assert len(huge) > 2 * MIB and len(data) < len(huge) // 3  # a small wheel
    filename = f"{name}-1.0-py3-none-any.whl"
    files = [
        {
            "filename": filename,
            "url": fake_index.add_file(filename, data),
            "packagetype": "bdist_wheel",
            "size": len(data),
            "digests": {"sha256": hashlib.sha256(data).hexdigest()},
        }
    ]
    fake_index.add_project(name, {"info": {"name": name, "version": "1.0"}, "releases": {"1.0": files}, "urls": files})
    async with AutoDocsService.running(make_settings(fake_index, tmp_path / "cache")) as service:
        reply = await service.get_api_reference(name)
    assert [m["path"] for m in reply["members"]] == [f"{name}.greet"]
    warning = next(w for w in reply["warnings"] if "AUTODOCS_MAX_MODULE_BYTES" in w)
    assert f"{name}.huge ({len(huge)} bytes)" in warning
    assert not reply.get("partial")


async def test_source_read_per_package_stops_at_its_cap_with_a_warning(fake_index: FakeIndex, tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    module = '"""M."""\n\n' + "".join(f"def f{i}(a: int) -> int:\n    return a\n\n" for i in range(300))
    modules = {f"m{i}": module for i in range(8)} | {"__init__": '"""Top."""\n'}
    _package(site, "sourcecap", modules)
    settings = make_settings(fake_index, tmp_path / "cache", python=site, max_package_source_bytes=3 * len(module))
    async with AutoDocsService.running(settings) as service:
        reply = await service.get_api_reference("sourcecap")
    warning = next(w for w in reply["warnings"] if "AUTODOCS_MAX_PACKAGE_SOURCE_BYTES" in w)
    assert "6 module(s) not read" in warning  # __init__ and two modules fit in three modules' bytes
    assert len(reply["object"]["members"]) == 2


# -- the worker process ----------------------------------------------------------------------


async def test_analysis_over_the_memory_cap_is_a_structured_error_and_health_answers_meanwhile(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    site = tmp_path / "site-packages"
    _many_modules(site, "manymods", 600)
    _package(site, "memhog", {"__init__": _table_module(30_000)})  # 1.3 MB: ~300 MB to read
    _package(site, "tiny", {"__init__": 'def hello() -> str:\n    """Hi."""\n    return "hi"\n'})
    env = {**cli_env, "AUTODOCS_PYTHON": str(site), "AUTODOCS_ANALYSIS_MEMORY_BYTES": str(160 * MIB)}
    env["AUTODOCS_REQUEST_TIMEOUT"] = "120"
    latencies: list[float] = []
    done = threading.Event()

    def poll_health(url: str) -> None:
        while not done.is_set():  # a new connection each time, as a kubelet probe connects
            started = time.perf_counter()
            assert httpx.get(f"{url}/health", timeout=10).status_code == 200
            latencies.append(time.perf_counter() - started)
            time.sleep(0.01)

    with http_server(env) as server:
        poller = threading.Thread(target=poll_health, args=(server.url,))
        poller.start()
        try:
            with anyio.fail_after(120):
                many = await call_tool(server.url, "get_api_reference", {"package_name": "manymods"})
                hog = await call_tool(server.url, "get_api_reference", {"package_name": "memhog"})
        finally:
            done.set()
            poller.join()
        assert not many.is_error and not many.structured_content.get("partial")
        assert hog.is_error
        error = tool_error(hog)
        assert error["type"] == "AnalysisMemoryExceeded" and error["package"] == "memhog 1.0"
        assert "AUTODOCS_ANALYSIS_MEMORY_BYTES" in error["message"]
        assert any("AUTODOCS_ANALYSIS_MEMORY_BYTES" in s for s in error["suggestions"])
        assert len(latencies) > 10 and max(latencies) < 0.3, sorted(latencies)[-5:]
        with anyio.fail_after(60):
            tiny = await call_tool(server.url, "get_api_reference", {"package_name": "tiny"})
        assert not tiny.is_error and tiny.structured_content["members"][0]["path"] == "tiny.hello"
        assert server.process.poll() is None


def _request(site: Path, name: str, *, seconds: float = 300) -> AnalysisRequest:
    return AnalysisRequest(
        package=f"{name} 1.0",
        tree_key=(name, "x"),
        search_paths=(site,),
        top_names=(name,),
        object_path=name,
        deadline=time.monotonic() + seconds,
        limits=SourceLimits(),
    )


async def test_a_worker_killed_mid_analysis_is_a_structured_error_and_the_next_call_gets_a_new_one(
    tmp_path: Path,
) -> None:
    site = tmp_path / "site-packages"
    _package(site, "slowpkg", {"__init__": _table_module(30_000)})
    _package(site, "tiny", {"__init__": 'def hello() -> str:\n    """Hi."""\n    return "hi"\n'})
    workers = AnalysisWorkers(1024 * MIB)
    try:
        running = asyncio.ensure_future(workers.analyse(_request(site, "slowpkg")))
        while not workers.pids():
            await asyncio.sleep(0.01)
        [pid] = workers.pids()
        await asyncio.sleep(0.3)
        os.kill(pid, signal.SIGKILL)  # as the kernel ends a process out of memory
        with pytest.raises(AnalysisMemoryExceeded) as caught:
            await running
        assert caught.value.details["package"] == "slowpkg 1.0"
        assert "AUTODOCS_ANALYSIS_MEMORY_BYTES" in caught.value.message
        analysis = await workers.analyse(_request(site, "tiny"))
        assert [m.path for m in analysis.members] == ["tiny.hello"]
        assert workers.pids() != [pid]
    finally:
        await workers.aclose()


async def test_closing_kills_a_busy_worker(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    _package(site, "slowpkg", {"__init__": _table_module(30_000)})  # seconds to read; killed long before
    workers = AnalysisWorkers(1024 * MIB)
    running = asyncio.ensure_future(workers.analyse(_request(site, "slowpkg")))
    while not workers.pids():
        await asyncio.sleep(0.01)
    [pid] = workers.pids()
    await asyncio.sleep(0.3)
    await workers.aclose()
    assert _gone(pid, within=1.0)
    assert (await asyncio.wait([running], timeout=5))[0]


def test_sigterm_during_a_background_load_kills_the_worker_and_exits_promptly(
    cli_env: dict[str, str], tmp_path: Path
) -> None:
    site = tmp_path / "site-packages"
    _many_modules(site, "slowpkg", 5000)  # the complete load takes several seconds
    env = {**cli_env, "AUTODOCS_PYTHON": str(site), "AUTODOCS_REQUEST_TIMEOUT": "2"}
    with http_server(env) as server:
        reply = anyio.run(call_tool, server.url, "get_api_reference", {"package_name": "slowpkg"})
        assert reply.structured_content.get("partial") is True  # the complete load runs in the background
        workers = _descendants(server.process.pid)
        assert len(workers) >= 2  # the fork server and at least the background worker
        started = time.monotonic()
        server.process.send_signal(signal.SIGTERM)
        assert server.process.wait(timeout=20) == 0
        assert time.monotonic() - started < 4.0  # not after the background load
    assert all(_gone(pid, within=2.0) for pid in workers), [p for p in workers if not _gone(p, 0.1)]
