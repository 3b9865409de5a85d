"""Acceptance (issue 21): four real-world-shaped projects, every locked index dependency at its pin.

The four are shaped after the projects of the issue: an httpx-like library locked by uv, a
flask-like app pinned by a pip-compile'd requirements file with hashes and ``--index-url``, the
full-stack FastAPI template (a uv workspace whose lock records the default public index) and a
poetry-like project (``poetry.lock`` and ``[[tool.poetry.source]]``, one package pinned to an
explicit private source). Their indexes are two loopback fake indexes: a "mirror" that, like
the one these machines reach, serves no per-version JSON pages, and a "private" one. The
server's own index (``PIP_INDEX_URL``) is the mirror: a lock entry that names the default public
index is served by it; any HTTPS request (the public index) would go to a dead loopback proxy.

Each project is documented twice: ``project_context`` (every direct dependency, lock pins
first), and ``get_package_docs(name, project_path=...)`` for every locked package that comes
from an index, transitive ones included. Git and path dependencies are listed as skipped.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from autodocs.config import DEFAULT_INDEX_URL, Settings
from autodocs.index.capabilities import index_endpoints
from autodocs.service import AutoDocsService
from autodocs.usecases.replies import ProjectContextResult
from tests.support.dists import FixtureProject, sha256
from tests.support.fake_index import FakeIndex

#: name -> (the version a project pins, a newer release the index also lists)
MIRROR = {
    # httpx-like
    "anyio": ("4.2.0", "4.4.0"),
    "certifi": ("2023.11.17", "2024.2.2"),
    "httpcore": ("1.0.2", "1.0.5"),
    "idna": ("3.6", "3.7"),
    "sniffio": ("1.3.0", "1.3.1"),
    "h11": ("0.14.0", "0.16.0"),
    "h2": ("4.1.0", "4.2.0"),
    "pytest": ("7.4.3", "8.2.0"),
    # flask-like
    "blinker": ("1.7.0", "1.8.2"),
    "click": ("8.1.7", "8.1.8"),
    "itsdangerous": ("2.1.2", "2.2.0"),
    "jinja2": ("3.1.2", "3.1.4"),
    "markupsafe": ("2.1.3", "2.1.5"),
    "werkzeug": ("3.0.1", "3.0.3"),
    # the FastAPI template
    "fastapi": ("0.109.1", "0.111.0"),
    "pydantic": ("2.5.3", "2.7.1"),
    "sqlmodel": ("0.0.14", "0.0.18"),
    "alembic": ("1.12.1", "1.13.1"),
    "email-validator": ("2.1.0.post1", "2.1.1"),
    "starlette": ("0.35.1", "0.37.2"),
    "sqlalchemy": ("2.0.25", "2.0.30"),
    # poetry-like
    "cleo": ("2.1.0", "2.1.1"),
    "dulwich": ("0.21.7", "0.22.1"),
    "keyring": ("24.3.0", "25.2.1"),
    "rapidfuzz": ("3.6.1", "3.9.1"),
}
PRIVATE = {"trove-classifiers": ("2024.1.8", "2024.5.22")}


@pytest.fixture(scope="module")
def mirror(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeIndex]:
    with FakeIndex(data_dir=tmp_path_factory.mktemp("empty")) as index:
        index.modes.version_pages = False  # as the mirror these machines reach: 404 for every version page
        for name, versions in MIRROR.items():
            for version in versions:
                index.registry.add(FixtureProject(name, version))
        yield index


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeIndex]:
    with FakeIndex(data_dir=tmp_path_factory.mktemp("empty")) as index:
        for name, versions in PRIVATE.items():
            for version in versions:
                index.registry.add(FixtureProject(name, version, markup="rst"))
        yield index


@pytest.fixture
async def service(mirror: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[AutoDocsService]:
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PIP_INDEX_URL", mirror.simple_url)
    monkeypatch.setenv("HTTPS_PROXY", "http://127.0.0.1:9")  # the public index: unreachable, by design
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    settings = Settings(cache_dir=tmp_path / "cache", base_retry_delay=0.01, max_retry_delay=0.05, max_retry_attempts=0)
    async with AutoDocsService.running(settings) as running:
        yield running


def uv_lock_entries(registry: str, *names: str) -> str:
    return "".join(
        f'\n[[package]]\nname = "{name}"\nversion = "{MIRROR[name][0]}"\nsource = {{ registry = "{registry}" }}\n'
        for name in names
    )


def write(folder: Path, files: dict[str, str]) -> Path:
    for relative, text in files.items():
        (folder / relative).parent.mkdir(parents=True, exist_ok=True)
        (folder / relative).write_text(text)
    return folder


def httpx_like(folder: Path, mirror: FakeIndex) -> Path:
    """uv: a library with optional extras, a dev group, a path and a git source; uv.lock registries."""
    pyproject = """[project]
name = "httpx-like"
version = "0.27.0"
dependencies = ["certifi", "httpcore==1.*", "anyio", "idna", "sniffio", "httpx-testhelper", "brotlicffi"]

[project.optional-dependencies]
http2 = ["h2>=3,<5"]

[dependency-groups]
dev = ["pytest>=7"]

[tool.uv.sources]
httpx-testhelper = { path = "tools/helper", editable = true }
brotlicffi = { git = "https://github.com/python-hyper/brotlicffi", rev = "v1.1.0.0" }
"""
    lock = 'version = 1\nrequires-python = ">=3.8"\n'
    lock += '\n[[package]]\nname = "httpx-like"\nversion = "0.27.0"\nsource = { editable = "." }\n'
    lock += uv_lock_entries(mirror.simple_url, "anyio", "certifi", "h11", "h2", "httpcore", "idna", "pytest", "sniffio")
    lock += '\n[[package]]\nname = "httpx-testhelper"\nversion = "0.1.0"\nsource = { editable = "tools/helper" }\n'
    lock += (
        '\n[[package]]\nname = "brotlicffi"\nversion = "1.1.0.0"\n'
        'source = { git = "https://github.com/python-hyper/brotlicffi?rev=v1.1.0.0#0a1b2c3d" }\n'
    )
    return write(folder, {"pyproject.toml": pyproject, "uv.lock": lock, "tools/helper/pyproject.toml": ""})


def flask_like(folder: Path, mirror: FakeIndex) -> Path:
    """pip-compile'd requirements: --index-url, pins with hashes, an editable path and a git line."""
    lines = [f"--index-url {mirror.simple_url}", ""]
    for name in ("blinker", "click", "itsdangerous", "jinja2", "markupsafe", "werkzeug"):
        version = MIRROR[name][0]
        wheel = FixtureProject(name, version).wheel()[1]
        lines += [f"{name}=={version} \\", f"    --hash=sha256:{sha256(wheel)}", "    # via flask-like"]
    lines += ["-e ./src/flask-ext#egg=flask-ext", "git+https://github.com/django/asgiref@3.7.2#egg=asgiref"]
    return write(folder, {"requirements.txt": "\n".join(lines) + "\n", "src/flask-ext/pyproject.toml": ""})


def fastapi_template_like(folder: Path) -> Path:
    """A uv workspace (the backend is a member) whose lock records the default public index."""
    public = index_endpoints(DEFAULT_INDEX_URL).simple_url
    root = '[project]\nname = "app"\nversion = "0.1.0"\n\n[tool.uv.workspace]\nmembers = ["backend"]\n'
    backend = """[project]
name = "backend"
version = "0.1.0"
dependencies = ["fastapi[standard]<1.0.0,>=0.109.1", "pydantic>2.0", "sqlmodel<1.0.0,>=0.0.14",
                "alembic<2.0.0,>=1.12.1", "email-validator<3.0.0.0,>=2.1.0.post1"]

[dependency-groups]
dev = ["pytest<8.0.0,>=7.4.3"]
"""
    lock = 'version = 1\nrequires-python = ">=3.10"\n\n[manifest]\nmembers = ["app", "backend"]\n'
    lock += '\n[[package]]\nname = "backend"\nversion = "0.1.0"\nsource = { editable = "backend" }\n'
    names = ("alembic", "email-validator", "fastapi", "pydantic", "pytest", "sqlalchemy", "sqlmodel", "starlette")
    lock += uv_lock_entries(public, *names)
    return write(folder, {"pyproject.toml": root, "backend/pyproject.toml": backend, "uv.lock": lock})


def poetry_like(folder: Path, mirror: FakeIndex, private: FakeIndex) -> Path:
    """Poetry: a primary source (the mirror), an explicit private one for one package, git and path deps."""
    pyproject = f"""[tool.poetry]
name = "poetry-like"
version = "1.8.0"
description = ""
authors = []

[tool.poetry.dependencies]
python = "^3.8"
cleo = "^2.1.0"
dulwich = "^0.21.2"
keyring = "^24.0.0"
rapidfuzz = "^3.0.0"
trove-classifiers = {{ version = ">=2022.5.19", source = "internal" }}
poetry-core = {{ git = "https://github.com/python-poetry/poetry-core.git", branch = "main" }}
poetry-plugin-local = {{ path = "../poetry-plugin-local", develop = true }}

[[tool.poetry.source]]
name = "mirror"
url = "{mirror.simple_url}"
priority = "primary"

[[tool.poetry.source]]
name = "internal"
url = "{private.simple_url}"
priority = "explicit"
"""
    lock = "# This file is automatically @generated by Poetry and should not be changed by hand.\n"
    for name in ("cleo", "dulwich", "keyring", "rapidfuzz"):
        lock += (
            f'\n[[package]]\nname = "{name}"\nversion = "{MIRROR[name][0]}"\noptional = false\n'
            f'python-versions = ">=3.8"\nfiles = []\n\n[package.source]\ntype = "legacy"\n'
            f'url = "{mirror.simple_url}"\nreference = "mirror"\n'
        )
    lock += (
        f'\n[[package]]\nname = "trove-classifiers"\nversion = "{PRIVATE["trove-classifiers"][0]}"\n'
        f'optional = false\npython-versions = "*"\nfiles = []\n\n[package.source]\ntype = "legacy"\n'
        f'url = "{private.simple_url}"\nreference = "internal"\n'
    )
    lock += (
        '\n[[package]]\nname = "poetry-core"\nversion = "1.9.0"\noptional = false\npython-versions = ">=3.8"\n'
        'files = []\n\n[package.source]\ntype = "git"\nurl = "https://github.com/python-poetry/poetry-core.git"\n'
        'reference = "main"\nresolved_reference = "0123456789abcdef"\n'
    )
    lock += (
        '\n[[package]]\nname = "poetry-plugin-local"\nversion = "0.1.0"\noptional = false\npython-versions = "*"\n'
        'files = []\ndevelop = true\n\n[package.source]\ntype = "directory"\nurl = "../poetry-plugin-local"\n'
    )
    return write(folder, {"pyproject.toml": pyproject, "poetry.lock": lock})


@dataclass
class Figures:
    locked_from_an_index: int
    documented_at_pin: int
    direct_documented: int
    skipped: list[str]


async def check(service: AutoDocsService, project: Path, expected_skipped: set[str]) -> Figures:
    """Both ways of documenting the project; every locked index dependency at its exact pin."""
    result: ProjectContextResult = await service.project_context(str(project))
    assert result.failed == [], [(f.name, f.message) for f in result.failed]
    pages = {page.name: page.version for page in result.succeeded}
    direct = [d for d in result.scan.dependencies if d.pinned_version and d.url is None]
    for dependency in direct:
        assert pages.get(dependency.name) == dependency.pinned_version, dependency.name
    assert {s.name for s in result.skipped} == expected_skipped
    for skipped in result.skipped:
        assert skipped.reason.startswith(("a git reference", "a local path")), skipped
    locked = {d.name: d.pinned_version for d in [*result.scan.dependencies, *result.scan.locked_only] if d.index}
    documented = 0
    for name, pin in locked.items():
        page = await service.get_package_docs(name, project_path=str(project))
        assert page.version == pin, (name, page.version, pin)
        documented += 1
    return Figures(len(locked), documented, len(direct), sorted(expected_skipped))


async def test_an_httpx_like_uv_project(service: AutoDocsService, mirror: FakeIndex, tmp_path: Path) -> None:
    figures = await check(service, httpx_like(tmp_path / "httpx", mirror), {"httpx-testhelper", "brotlicffi"})
    assert figures == Figures(8, 8, 7, ["brotlicffi", "httpx-testhelper"])
    assert mirror.count("/pypi/anyio/4.2.0/json") <= 1, "the mirror's missing version pages are learnt once"


async def test_a_flask_like_requirements_project(service: AutoDocsService, mirror: FakeIndex, tmp_path: Path) -> None:
    project = flask_like(tmp_path / "flask", mirror)
    result = await service.project_context(str(project))
    assert result.failed == [] and {s.name for s in result.skipped} == {"flask-ext", "asgiref"}
    assert {page.name: page.version for page in result.succeeded} == {
        name: MIRROR[name][0] for name in ("blinker", "click", "itsdangerous", "jinja2", "markupsafe", "werkzeug")
    }
    for page in result.succeeded:
        assert page.content, page.name


async def test_a_fastapi_template_like_workspace_locked_to_the_public_index(
    service: AutoDocsService, mirror: FakeIndex, tmp_path: Path
) -> None:
    figures = await check(service, fastapi_template_like(tmp_path / "template"), set())
    assert figures == Figures(8, 8, 6, [])
    page = await service.get_package_docs("starlette", project_path=str(tmp_path / "template"))
    assert page.index == mirror.simple_url, "the lock's public index is served by the server's own mirror of it"


async def test_a_poetry_like_project_with_an_explicit_private_source(
    service: AutoDocsService, mirror: FakeIndex, private: FakeIndex, tmp_path: Path
) -> None:
    project = poetry_like(tmp_path / "poetry", mirror, private)
    figures = await check(service, project, {"poetry-core", "poetry-plugin-local"})
    assert figures == Figures(5, 5, 5, ["poetry-core", "poetry-plugin-local"])
    page = await service.get_package_docs("trove-classifiers", project_path=str(project))
    assert (page.index, page.format) == (private.simple_url, "rst")
    assert mirror.count("trove-classifiers") == 0, "a package pinned to a source is fetched only from it"
