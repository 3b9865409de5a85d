"""get_api_reference end to end: code from a real venv or a wheel served by the loopback index."""

from __future__ import annotations

import asyncio
import hashlib
import io
import json
import subprocess
import sys
import tarfile
import time
import venv
import zipfile
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.client.session import ClientSession
from mcp.client.stdio import StdioServerParameters, stdio_client

from autodocs.config import Settings
from autodocs.docs.api import load_package
from autodocs.docs.model import reply_json
from autodocs.docs.tokens import count_tokens
from autodocs.errors import (
    ArchiveTooLarge,
    CodeUnavailable,
    InvalidArgument,
    ObjectNotFound,
    PackageNotFound,
    UpstreamResponseInvalid,
)
from autodocs.index.keys import index_key
from autodocs.service import AutoDocsService
from autodocs.sources.archives import release_code_dir
from tests.conftest import autodocs_command, make_settings
from tests.support.fake_index import FakeIndex
from tests.support.tool_results import tool_error

HOSTILE_INIT = '''"""A package whose import has side effects."""
import pathlib
pathlib.Path({marker!r}).write_text("imported!")
raise SystemExit("importing this package is not allowed")

from .core import Greeter, greet

__all__ = ["Greeter", "greet"]
'''

HOSTILE_CORE = '''import pathlib
pathlib.Path({marker!r}).write_text("core imported!")


def greet(name: str, *, punctuation: str = "!", times: int = 1) -> str:
    """Greet someone.

    Args:
        name: Who to greet.
        punctuation: What ends the greeting.
        times: How often.

    Returns:
        The greeting.

    Raises:
        ValueError: When times is negative.
    """
    return (f"Hello {name}{punctuation} " * times).strip()


class Greeter:
    """Greets with a fixed name.

    Parameters
    ----------
    name : str
        Who to greet.
    """

    def __init__(self, name: str, loud: bool = False) -> None:
        self.name = name

    def greet(self, punctuation: str = "!") -> str:
        """Return the greeting.

        :param punctuation: What ends it.
        :returns: The greeting text.
        """
        return greet(self.name, punctuation=punctuation)

    def _private(self) -> None:
        pass
'''


def _dist_info(site: Path, name: str, version: str, top: str) -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    (info / "top_level.txt").write_text(f"{top}\n")
    (info / "RECORD").write_text(f"{top}/__init__.py,,\n")


def _make_venv(root: Path) -> Path:
    venv.create(root, with_pip=False, symlinks=True)
    return next(root.glob("lib/python3*/site-packages"))


@pytest.fixture
def hostile_project(tmp_path: Path) -> tuple[Path, Path]:
    """A project with a .venv holding a package that exits and writes a file when imported."""
    project = tmp_path / "project"
    project.mkdir()
    marker = tmp_path / "imported.txt"
    site = _make_venv(project / ".venv")
    package = site / "hostile"
    package.mkdir()
    (package / "__init__.py").write_text(HOSTILE_INIT.replace("{marker!r}", repr(str(marker))))
    (package / "core.py").write_text(HOSTILE_CORE.replace("{marker!r}", repr(str(marker))))
    _dist_info(site, "hostile", "1.2.0", "hostile")
    (project / "requirements.txt").write_text("hostile==1.3.0\n")
    return project, marker


async def test_reference_of_a_package_whose_import_exits_is_built_without_running_it(
    service: AutoDocsService, hostile_project: tuple[Path, Path]
) -> None:
    project, marker = hostile_project
    reply = await service.get_api_reference("hostile", project_path=str(project))
    assert not marker.exists()  # nothing of the package ran
    assert reply["source"]["kind"] == "environment"
    assert reply["version"] == "1.2.0"
    members = {m["path"]: m for m in reply["members"]}
    greet = members["hostile.greet"]
    assert greet["signature"] == "greet(name: str, *, punctuation: str = '!', times: int = 1) -> str"
    assert greet["docstring"]["summary"] == "Greet someone."
    assert [p.get("description") for p in greet["parameters"]] == [
        "Who to greet.",
        "What ends the greeting.",
        "How often.",
    ]
    assert greet["docstring"]["raises"][0]["annotation"] == "ValueError"
    greeter = members["hostile.Greeter"]
    assert greeter["signature"] == "Greeter(name: str, loud: bool = False)"
    assert greeter["parameters"][0]["description"] == "Who to greet."  # NumPy style
    # the requirements file asks for another version than the one installed: said, not hidden
    assert not any("lock" in w for w in reply.get("warnings", []))


async def test_sphinx_docstring_and_one_level_of_members_for_a_class(
    service: AutoDocsService, hostile_project: tuple[Path, Path]
) -> None:
    project, marker = hostile_project
    reply = await service.get_api_reference("hostile", "Greeter", project_path=str(project))
    assert reply["object"]["kind"] == "class"
    paths = [m["path"] for m in reply["members"]]
    assert paths == ["hostile.Greeter.greet", "hostile.Greeter.name", "hostile.Greeter._private"]  # public first
    method = reply["members"][0]
    assert method["signature"] == "greet(punctuation: str = '!') -> str"
    assert method["parameters"][0]["description"] == "What ends it."
    assert method["docstring"]["returns"][0]["description"] == "The greeting text."
    assert not marker.exists()


async def test_installed_version_differing_from_the_lock_pin_is_warned(
    service: AutoDocsService, hostile_project: tuple[Path, Path]
) -> None:
    project, _ = hostile_project
    (project / "uv.lock").write_text(
        'version = 1\n\n[[package]]\nname = "hostile"\nversion = "1.3.0"\n'
        'source = { registry = "https://index.invalid/simple" }\n'
    )
    reply = await service.get_api_reference("hostile", project_path=str(project))
    assert reply["version"] == "1.2.0"
    assert any("1.3.0" in w and "lock" in w for w in reply["warnings"]), reply.get("warnings")


async def test_unknown_object_path_suggests_near_names(
    service: AutoDocsService, hostile_project: tuple[Path, Path]
) -> None:
    project, _ = hostile_project
    with pytest.raises(ObjectNotFound) as caught:
        await service.get_api_reference("hostile", "Greter", project_path=str(project))
    assert "hostile.Greeter" in " ".join(caught.value.suggestions)
    for bad in ("../etc/passwd", "a b", "x;rm -rf /", "a" * 600):
        with pytest.raises(InvalidArgument):
            await service.get_api_reference("hostile", bad, project_path=str(project))


async def test_small_budget_keeps_the_reply_within_it_and_lists_what_was_cut(
    service: AutoDocsService, hostile_project: tuple[Path, Path]
) -> None:
    project, _ = hostile_project
    site = next((project / ".venv").glob("lib/python3*/site-packages"))
    lines = [f'def function_{i}(a: int, b: str = "x") -> None:\n    """Does thing {i} well."""\n' for i in range(80)]
    (site / "hostile" / "many.py").write_text("\n".join(lines))
    for budget in (400, 800, 2000):
        reply = await service.get_api_reference("hostile", "hostile.many", project_path=str(project), max_tokens=budget)
        assert count_tokens(json.dumps(reply, ensure_ascii=False)) <= budget
        assert reply["truncated"] is True
        shown = len(reply.get("members", []))
        omitted = reply.get("omitted_count") or len(reply["omitted_members"])
        assert shown + omitted == 80 and reply["omitted_members"]
    big = await service.get_api_reference("hostile", "hostile.many", project_path=str(project), max_tokens=100_000)
    assert len(big["members"]) == 80 and "omitted_members" not in big


async def test_second_call_is_served_from_memory_and_after_restart_from_the_store(
    settings: Settings, hostile_project: tuple[Path, Path]
) -> None:
    project, _ = hostile_project
    async with AutoDocsService.running(settings) as service:
        first = await service.get_api_reference("hostile", project_path=str(project))
        second = await service.get_api_reference("hostile", project_path=str(project))
    assert first["served_from"] == "built" and second["served_from"] == "cache"
    async with AutoDocsService.running(settings) as service:
        third = await service.get_api_reference("hostile", project_path=str(project))
    assert third["served_from"] == "cache"
    assert {k: v for k, v in third.items() if k != "served_from"} == {
        k: v for k, v in first.items() if k != "served_from"
    }


# -- wheels from the loopback index -----------------------------------------------------------


def _wheel(name: str, version: str, body: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr(f"{name}/__init__.py", body)
        wheel.writestr(f"{name}/py.typed", "")
        wheel.writestr(
            f"{name}-{version}.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        )
        wheel.writestr(f"{name}-{version}.dist-info/top_level.txt", f"{name}\n")
        wheel.writestr("../escape.py", "x = 1\n")  # hostile entries are skipped
        wheel.writestr("/abs/evil.py", "x = 1\n")
    return buffer.getvalue()


def _serve_wheels(index: FakeIndex, name: str, versions: dict[str, bytes], *, sha_ok: bool = True) -> None:
    releases: dict[str, list[dict[str, Any]]] = {}
    for version, data in versions.items():
        filename = f"{name}-{version}-py3-none-any.whl"
        url = index.add_file(filename, data)
        digest = hashlib.sha256(data).hexdigest() if sha_ok else "0" * 64
        releases[version] = [
            {
                "filename": filename,
                "url": url,
                "packagetype": "bdist_wheel",
                "size": len(data),
                "digests": {"sha256": digest},
                "yanked": False,
                "upload_time_iso_8601": "2024-01-01T00:00:00Z",
            }
        ]
    latest = list(versions)[-1]
    index.add_project(
        name,
        {
            "info": {"name": name, "version": latest, "summary": "A test package.", "description": "# T\n\nHi.\n"},
            "releases": releases,
            "urls": releases[latest],
        },
    )


async def test_reference_from_a_wheel_for_a_version_that_is_not_installed(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    name = f"wheelpkg{time.monotonic_ns()}"
    _serve_wheels(
        fake_index,
        name,
        {
            "1.0": _wheel(name, "1.0", 'def old(a: int) -> int:\n    """The old API."""\n    return a\n'),
            "2.0": _wheel(
                name, "2.0", 'def new(a: int, *, b: bool = True) -> int:\n    """The new API."""\n    return a\n'
            ),
        },
    )
    settings = make_settings(fake_index, tmp_path / "cache")
    async with AutoDocsService.running(settings) as service:
        reply = await service.get_api_reference(name, version_constraint="<2")
        assert reply["version"] == "1.0"
        folder = release_code_dir(settings.cache_dir, service.index_key, name, "1.0")
        assert reply["source"] == {"kind": "wheel", "location": folder.name, "distribution_version": "1.0"}
        assert [m["signature"] for m in reply["members"]] == ["old(a: int) -> int"]
        newest = await service.get_api_reference(name)
        assert newest["version"] == "2.0"
        assert newest["members"][0]["signature"] == "new(a: int, *, b: bool = True) -> int"
    downloads = fake_index.count("/files/")
    assert downloads == 2
    code = tmp_path / "cache" / "code"
    key = index_key([settings.pypi_url, *settings.extra_index_urls])
    assert sorted(p.name for p in code.iterdir()) == [release_code_dir(code, key, name, v).name for v in ("1.0", "2.0")]
    assert not list(code.rglob("escape.py")) and not list(code.rglob("evil.py"))
    assert not (tmp_path / "escape.py").exists()
    # a new process reuses the unpacked code: no second download
    async with AutoDocsService.running(settings) as service:
        await service.get_api_reference(name, "new", version_constraint="==2.0")
    assert fake_index.count("/files/") == downloads


async def test_oversized_wheel_is_refused_and_nothing_is_written(fake_index: FakeIndex, tmp_path: Path) -> None:
    name = f"bigpkg{time.monotonic_ns()}"
    _serve_wheels(fake_index, name, {"1.0": _wheel(name, "1.0", "x = 1\n" + "# padding\n" * 5000)})
    settings = make_settings(fake_index, tmp_path / "cache", max_wheel_bytes=2048)
    async with AutoDocsService.running(settings) as service:
        with pytest.raises(ArchiveTooLarge) as caught:
            await service.get_api_reference(name)
    assert "AUTODOCS_MAX_WHEEL_BYTES" in str(caught.value) + " ".join(caught.value.suggestions)
    assert fake_index.count("/files/") == 0  # refused from the listed size, before any byte
    code = tmp_path / "cache" / "code"
    assert not code.exists() or not any(code.iterdir())


async def test_wheel_with_a_wrong_checksum_is_discarded(fake_index: FakeIndex, tmp_path: Path) -> None:
    name = f"badsum{time.monotonic_ns()}"
    _serve_wheels(fake_index, name, {"1.0": _wheel(name, "1.0", "x = 1\n")}, sha_ok=False)
    settings = make_settings(fake_index, tmp_path / "cache")
    async with AutoDocsService.running(settings) as service:
        with pytest.raises(UpstreamResponseInvalid, match="SHA-256"):
            await service.get_api_reference(name)
    code = tmp_path / "cache" / "code"
    assert not code.exists() or not any(code.iterdir())


async def test_unknown_package_is_package_not_found(service: AutoDocsService) -> None:
    with pytest.raises(PackageNotFound):
        await service.get_api_reference("no-such-package-anywhere")


async def test_release_without_archives_is_code_unavailable(fake_index: FakeIndex, tmp_path: Path) -> None:
    name = f"nofiles{time.monotonic_ns()}"
    fake_index.add_project(
        name,
        {
            "info": {"name": name, "version": "1.0"},
            "releases": {"1.0": [{"filename": "x.exe", "url": "http://127.0.0.1:9/x", "packagetype": "bdist_wininst"}]},
            "urls": [],
        },
    )
    settings = make_settings(fake_index, tmp_path / "cache")
    async with AutoDocsService.running(settings) as service:
        with pytest.raises(CodeUnavailable):
            await service.get_api_reference(name)


# -- very large packages ------------------------------------------------------------------------


def _big_package(root: Path, modules: int) -> Path:
    site = root / "site-packages"
    top = site / "bigpkg"
    for i in range(modules):
        folder = top / f"sub{i // 100}"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "__init__.py").touch()
        functions = "".join(
            f'def function_{i}_{j}(a: int, b: str = "x") -> int:\n    """Function {j}."""\n    return a\n\n'
            for j in range(6)
        )
        method = "    def method(self, x: float) -> float:\n        return x\n"
        (folder / f"mod{i}.py").write_text(f'"""Module {i}."""\n\n{functions}class Class{i}:\n{method}')
    (top / "__init__.py").write_text(
        '"""A package of many modules."""\nfrom .sub0.mod0 import function_0_0\n\n__all__ = ["function_0_0"]\n'
    )
    _dist_info(site, "bigpkg", "3.0", "bigpkg")
    return site


def test_package_too_big_for_the_deadline_loads_partially_and_says_what_was_skipped(tmp_path: Path) -> None:
    site = _big_package(tmp_path, 2000)
    started = time.monotonic()
    loaded = load_package([site], ("bigpkg",), focus="bigpkg.sub0.mod0", deadline=started + 0.5)
    elapsed = time.monotonic() - started
    assert elapsed < 3.0
    assert loaded.partial and len(loaded.skipped) > 100
    assert loaded.get("bigpkg.sub0.mod0.function_0_0") is not None  # the module asked for came first


async def test_big_package_over_the_deadline_answers_partially_then_completes_in_background(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    site = _big_package(tmp_path, 2000)
    settings = make_settings(fake_index, tmp_path / "cache", python=site, request_timeout=2.0)
    async with AutoDocsService.running(settings) as service:
        started = time.monotonic()
        reply = await service.get_api_reference("bigpkg")
        assert time.monotonic() - started < 2.0  # within the deadline, not after the whole load
        assert reply["partial"] is True
        assert reply["modules_skipped"]
        assert any("deadline" in w for w in reply["warnings"])
        assert reply["members"][0]["path"] == "bigpkg.function_0_0"  # what __init__ re-exports came first
        again: dict[str, Any] = {"partial": True}
        for _ in range(120):
            await asyncio.sleep(0.5)
            try:
                again = await service.get_api_reference("bigpkg", "bigpkg.sub19.mod1999")
            except CodeUnavailable as exc:  # in a module not read yet: retryable, says so
                assert exc.retryable
                continue
            if not again.get("partial"):
                break
        assert not again.get("partial")
        assert again["object"]["kind"] == "module"


# -- transports ---------------------------------------------------------------------------------


def test_cli_api_json_prints_the_tool_object(cli_env: dict[str, str], hostile_project: tuple[Path, Path]) -> None:
    project, marker = hostile_project
    done = subprocess.run(
        [*autodocs_command(), "api", "hostile:greet", "--project", str(project), "--json"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    reply = json.loads(done.stdout)
    assert reply["object"]["path"] == "hostile.greet"
    assert not marker.exists()
    failed = subprocess.run(
        [*autodocs_command(), "api", "hostile:nope", "--project", str(project), "--json"],
        env=cli_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert failed.returncode != 0
    assert json.loads(failed.stdout)["error"]["type"] == "ObjectNotFound"


async def test_mcp_client_gets_a_structured_reference_and_structured_errors(
    cli_env: dict[str, str], hostile_project: tuple[Path, Path]
) -> None:
    project, marker = hostile_project
    params = StdioServerParameters(command=sys.executable, args=["-m", "autodocs", "serve"], env=cli_env)
    with anyio.fail_after(60):
        async with stdio_client(params) as (read, write), ClientSession(read, write) as session:
            await session.initialize()
            tools = {tool.name: tool for tool in (await session.list_tools()).tools}
            schema = tools["get_api_reference"].input_schema["properties"]
            assert schema["object_path"]["description"] and schema["project_path"]["description"]
            result = await session.call_tool(
                "get_api_reference",
                {"package_name": "hostile", "object_path": "Greeter", "project_path": str(project), "max_tokens": 500},
            )
            assert not result.is_error
            assert result.structured_content["object"]["signature"] == "Greeter(name: str, loud: bool = False)"
            bad = await session.call_tool(
                "get_api_reference", {"package_name": "hostile", "object_path": "Nope", "project_path": str(project)}
            )
            assert bad.is_error
            assert tool_error(bad)["type"] == "ObjectNotFound"
            assert tool_error(bad)["retryable"] is False
    assert not marker.exists()


def _sdist(name: str, version: str, body: str) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as sdist:
        for path, text in {
            f"{name}-{version}/PKG-INFO": f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n",
            f"{name}-{version}/setup.py": "raise SystemExit('never run')\n",
            f"{name}-{version}/src/{name}/__init__.py": body,
            f"{name}-{version}/tests/test_it.py": "def test(): pass\n",
        }.items():
            data = text.encode()
            info = tarfile.TarInfo(path)
            info.size = len(data)
            sdist.addfile(info, io.BytesIO(data))
        link = tarfile.TarInfo(f"{name}-{version}/src/{name}/evil.py")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        sdist.addfile(link)
    return buffer.getvalue()


async def test_reference_from_an_sdist_with_a_src_layout_when_there_is_no_wheel(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    name = f"sdistpkg{time.monotonic_ns()}"
    data = _sdist(name, "0.5", 'def hello(who: str = "world") -> str:\n    """Say hello."""\n    return who\n')
    filename = f"{name}-0.5.tar.gz"
    url = fake_index.add_file(filename, data)
    files = [
        {
            "filename": filename,
            "url": url,
            "packagetype": "sdist",
            "size": len(data),
            "digests": {"sha256": hashlib.sha256(data).hexdigest()},
        }
    ]
    fake_index.add_project(name, {"info": {"name": name, "version": "0.5"}, "releases": {"0.5": files}, "urls": files})
    settings = make_settings(fake_index, tmp_path / "cache")
    async with AutoDocsService.running(settings) as service:
        reply = await service.get_api_reference(name)
    assert reply["source"]["kind"] == "sdist"
    assert reply["source"]["distribution_version"] == "0.5"
    assert [m["signature"] for m in reply["members"]] == ["hello(who: str = 'world') -> str"]
    code = release_code_dir(settings.cache_dir, index_key([settings.pypi_url]), name, "0.5")
    assert code.is_dir() and not (code / name / "evil.py").exists()  # links are never created


async def test_wheel_with_two_top_level_packages_and_no_top_level_txt(fake_index: FakeIndex, tmp_path: Path) -> None:
    """Like attrs: 'newname' re-exports from 'oldname' (a sibling top-level package), and the
    wheel has no top_level.txt; the namesake package is the default and both are read."""
    name = f"twotops{time.monotonic_ns()}"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr(
            f"_{name}_old/__init__.py",
            "from dataclasses import dataclass\n\n\n@dataclass\nclass Point:\n"
            '    """A point."""\n\n    x: int\n    y: int = 0\n',
        )
        wheel.writestr(f"{name}/__init__.py", f'from _{name}_old import Point\n\n__all__ = ["Point"]\n')
        wheel.writestr(f"{name}-1.0.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        wheel.writestr(f"{name}-1.0.dist-info/RECORD", f"{name}/__init__.py,,\n_{name}_old/__init__.py,,\n")
    _serve_wheels(fake_index, name, {"1.0": buffer.getvalue()})
    settings = make_settings(fake_index, tmp_path / "cache")
    async with AutoDocsService.running(settings) as service:
        reply = await service.get_api_reference(name, "Point")
    assert reply["object_path"] == f"{name}.Point"
    assert reply["object"]["signature"] == "Point(x: int, y: int = 0)"
    assert reply["object"]["defined_in"] == f"_{name}_old.Point"


async def test_docs_with_a_query_list_matching_entries_of_the_cached_api_reference(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    name = f"matchpkg{time.monotonic_ns()}"
    body = (
        'def open_connection(host: str, port: int = 5432) -> None:\n    """Open a pooled database connection."""\n\n'
        'def render(template: str) -> str:\n    """Render a template."""\n    return template\n'
    )
    _serve_wheels(fake_index, name, {"1.0": _wheel(name, "1.0", body)})
    settings = make_settings(fake_index, tmp_path / "cache")
    async with AutoDocsService.running(settings) as service:
        before = await service.get_package_docs(name, query="database connection")
        assert before.api_matches == ()  # no API reference cached yet
        await service.get_api_reference(name)
        await service.flush_writes()
        page = await service.get_package_docs(name, query="database connection", max_tokens=600)
        assert [m.path for m in page.api_matches][:1] == [f"{name}.open_connection"]
        assert count_tokens(reply_json(page)) <= 600
        plain = await service.get_package_docs(name)
        assert plain.api_matches == ()


async def test_changing_a_memoized_reference_reply_does_not_change_the_next_callers(
    service: AutoDocsService, hostile_project: tuple[Path, Path]
) -> None:
    project, _ = hostile_project
    first = await service.get_api_reference("hostile", "Greeter", project_path=str(project))
    second = await service.get_api_reference("hostile", "Greeter", project_path=str(project))
    assert second["served_from"] == "cache"
    expected = json.loads(json.dumps(second))
    second["members"][0]["signature"] = "changed"
    second["object"]["members"].append("changed")
    third = await service.get_api_reference("hostile", "Greeter", project_path=str(project))
    assert third == expected and first["members"] == expected["members"]
