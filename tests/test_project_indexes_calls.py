"""Project-aware docs calls: a project's own indexes and lock pins, two real loopback indexes.

"private" and "public" are two fake indexes on loopback. The server's own index is "public",
named by ``PIP_INDEX_URL`` (so no ``AUTODOCS_INDEX_URL``: the project's indexes may be used).
The same name on both is told apart by its markup: private releases are reST, public Markdown.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest

from autodocs.config import Settings
from autodocs.errors import AutoDocsError, to_error_payload
from autodocs.service import AutoDocsService
from tests.support.dists import FixtureProject
from tests.support.fake_index import FakeIndex


@pytest.fixture(scope="module")
def private(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeIndex]:
    with FakeIndex(data_dir=tmp_path_factory.mktemp("no-recorded-data")) as index:
        for version in ("0.9.0", "1.0.0"):
            index.registry.add(FixtureProject("tinylib", version, markup="rst", requires_dist=("privateonly>=0.5",)))
        for version in ("0.5.0", "1.0.0"):
            index.registry.add(FixtureProject("privateonly", version, markup="rst"))
        yield index


@pytest.fixture(scope="module")
def public(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FakeIndex]:
    with FakeIndex(data_dir=tmp_path_factory.mktemp("no-recorded-data")) as index:
        for version in ("1.0.0", "1.1.0"):
            index.registry.add(FixtureProject("tinylib", version))
        index.registry.add(FixtureProject("publiconly", "2.0.0"))
        yield index


@pytest.fixture(autouse=True)
def _fresh_counts(private: FakeIndex, public: FakeIndex, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    private.reset_counts()
    public.reset_counts()
    (tmp_path / "home").mkdir()
    monkeypatch.setenv("HOME", str(tmp_path / "home"))  # no ~/.netrc of this machine's
    monkeypatch.setenv("PIP_INDEX_URL", public.simple_url)


def project_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "cache_dir": tmp_path / "cache",
        "base_retry_delay": 0.01,
        "max_retry_delay": 0.05,
        "request_timeout": 10.0,
        "attempt_timeout": 5.0,
    }
    return Settings(**{**values, **overrides})


@pytest.fixture
async def service(tmp_path: Path) -> AsyncIterator[AutoDocsService]:
    async with AutoDocsService.running(project_settings(tmp_path)) as running:
        yield running


def make_project(folder: Path, files: dict[str, str]) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)
    return str(folder)


def uv_lock(*packages: tuple[str, str, str]) -> str:
    """A uv.lock with each (name, version, registry URL)."""
    entries = [
        f'[[package]]\nname = "{name}"\nversion = "{version}"\nsource = {{ registry = "{registry}" }}\n'
        for name, version, registry in packages
    ]
    return 'version = 1\nrequires-python = ">=3.8"\n\n' + "\n".join(entries)


def pyproject(dependencies: list[str], extra: str = "") -> str:
    listed = ", ".join(f'"{dependency}"' for dependency in dependencies)
    return f'[project]\nname = "app"\nversion = "0.1.0"\ndependencies = [{listed}]\n{extra}'


def error_of(exc: AutoDocsError) -> dict[str, Any]:
    error: dict[str, Any] = to_error_payload(exc)["error"]
    return error


async def test_a_package_locked_to_an_index_is_fetched_only_from_it(
    service: AutoDocsService, private: FakeIndex, public: FakeIndex, tmp_path: Path
) -> None:
    project = make_project(
        tmp_path / "app",
        {
            "pyproject.toml": pyproject(["tinylib"]),
            "uv.lock": uv_lock(("tinylib", "1.0.0", private.simple_url)),
        },
    )
    page = await service.get_package_docs("tinylib", project_path=project)
    assert (page.version, page.format, page.index) == ("1.0.0", "rst", private.simple_url)
    with pytest.raises(AutoDocsError) as raised:  # the public index has 1.1.0; the lock says private
        await service.get_package_docs("tinylib", "==1.1.0", project_path=project)
    assert error_of(raised.value)["type"] == "VersionNotFound"
    assert public.count("tinylib") == 0


async def test_without_a_constraint_the_lock_pin_is_documented_not_the_newest(
    service: AutoDocsService, private: FakeIndex, tmp_path: Path
) -> None:
    project = make_project(
        tmp_path / "app",
        {"pyproject.toml": pyproject(["tinylib"]), "uv.lock": uv_lock(("tinylib", "0.9.0", private.simple_url))},
    )
    assert (await service.get_package_docs("tinylib", project_path=project)).version == "0.9.0"
    assert (await service.get_package_docs("tinylib", "==1.0.0", project_path=project)).version == "1.0.0"


async def test_the_first_index_that_has_the_package_wins(
    service: AutoDocsService, private: FakeIndex, public: FakeIndex, tmp_path: Path
) -> None:
    index_table = f'\n[[tool.uv.index]]\nname = "corp"\nurl = "{private.simple_url}"\n'
    project = make_project(tmp_path / "app", {"pyproject.toml": pyproject(["tinylib", "publiconly"], index_table)})
    both = await service.get_package_docs("tinylib", project_path=project)
    assert (both.format, both.index) == ("rst", private.simple_url), "the project's index is asked first"
    only_public = await service.get_package_docs("publiconly", project_path=project)
    assert (only_public.version, only_public.index) == ("2.0.0", public.simple_url)
    assert public.count("/tinylib") == 0


async def test_a_requirements_index_url_replaces_the_servers_index(
    service: AutoDocsService, private: FakeIndex, public: FakeIndex, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "app", {"requirements.txt": f"--index-url {private.simple_url}\ntinylib\n"})
    page = await service.get_package_docs("tinylib", project_path=project)
    assert (page.version, page.index) == ("1.0.0", private.simple_url)
    with pytest.raises(AutoDocsError) as raised:
        await service.get_package_docs("publiconly", project_path=project)
    assert error_of(raised.value)["type"] == "PackageNotFound"
    assert public.request_count == 0


async def test_an_explicit_autodocs_index_url_wins_over_the_projects_indexes(
    private: FakeIndex, public: FakeIndex, tmp_path: Path
) -> None:
    project = make_project(
        tmp_path / "app",
        {"pyproject.toml": pyproject(["tinylib"]), "uv.lock": uv_lock(("tinylib", "1.0.0", private.simple_url))},
    )
    settings = project_settings(tmp_path, pypi_url=public.simple_url)
    async with AutoDocsService.running(settings) as service:
        page = await service.get_package_docs("tinylib", project_path=project)
    assert (page.version, page.format, page.index) == ("1.0.0", "markdown", public.simple_url)
    assert any("AUTODOCS_INDEX_URL is set" in note for note in page.index_notes)
    assert private.request_count == 0


async def test_context_documents_the_packages_dependencies_at_the_projects_lock_pins(
    service: AutoDocsService, private: FakeIndex, tmp_path: Path
) -> None:
    lock = uv_lock(("tinylib", "1.0.0", private.simple_url), ("privateonly", "0.5.0", private.simple_url))
    project = make_project(tmp_path / "app", {"pyproject.toml": pyproject(["tinylib"]), "uv.lock": lock})
    result = await service.get_docs_with_context("tinylib", project_path=project)
    assert (result.package.version, result.package.index) == ("1.0.0", private.simple_url)
    assert [(page.name, page.version) for page in result.succeeded] == [("privateonly", "0.5.0")]


async def test_a_git_dependency_of_the_project_is_not_fetched_from_an_index_by_its_name(
    service: AutoDocsService, public: FakeIndex, tmp_path: Path
) -> None:
    project = make_project(
        tmp_path / "app", {"pyproject.toml": pyproject(["publiconly @ git+https://example.invalid/publiconly.git"])}
    )
    with pytest.raises(AutoDocsError) as raised:
        await service.get_package_docs("publiconly", project_path=project)
    error = error_of(raised.value)
    assert error["type"] == "IndexNotAllowed" and error["retryable"] is False
    assert "git" in error["message"]
    assert public.request_count == 0


@pytest.mark.parametrize(
    ("lock_name", "lock_text"),
    [
        (
            "poetry.lock",
            '[[package]]\nname = "publiconly"\nversion = "2.1.0.dev0"\noptional = false\nfiles = []\n\n'
            '[package.source]\ntype = "git"\nurl = "https://example.invalid/publiconly.git"\n'
            'reference = "main"\nresolved_reference = "589ecb03f28b30d9a604dc13b51fba55f3981ef5"\n',
        ),
        (
            "uv.lock",
            'version = 1\nrequires-python = ">=3.8"\n\n[[package]]\nname = "publiconly"\nversion = "2.1.0.dev0"\n'
            'source = { git = "https://example.invalid/publiconly.git?branch=main#589ecb03" }\n',
        ),
    ],
)
async def test_a_package_the_lock_took_from_git_is_skipped_not_fetched_from_an_index(
    service: AutoDocsService, public: FakeIndex, tmp_path: Path, lock_name: str, lock_text: str
) -> None:
    """Shaped after poetry's own lock: poetry-core locked from git at a dev version no index has."""
    project = make_project(tmp_path / "app", {lock_name: lock_text})
    scan = await service.scan(project)
    assert [entry.name for entry in scan.skipped] == ["publiconly"]
    assert scan.skipped[0].reason.startswith("a git reference without a version")
    assert "publiconly" not in {dependency.name for dependency in scan.locked_only}
    with pytest.raises(AutoDocsError) as raised:
        await service.get_package_docs("publiconly", project_path=project)
    assert error_of(raised.value)["type"] == "IndexNotAllowed"
    assert public.request_count == 0


async def test_the_operators_index_credentials_never_reach_a_project_index_on_another_origin(
    private: FakeIndex, public: FakeIndex, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PIP_INDEX_URL", public.simple_url.replace("http://", "http://op:s3cret-op-pw@"))
    index_table = f'\n[[tool.uv.index]]\nname = "corp"\nurl = "{private.simple_url}"\n'
    project = make_project(tmp_path / "app", {"pyproject.toml": pyproject(["tinylib"], index_table)})
    async with AutoDocsService.running(project_settings(tmp_path)) as service:
        assert (await service.get_package_docs("tinylib", project_path=project)).index == private.simple_url
        assert (await service.get_package_docs("publiconly", project_path=project)).version == "2.0.0"
    assert private.request_count > 0 and set(private.seen_headers("authorization")) == {None}
    assert public.seen_headers("authorization")[-1] is not None, "its own index still gets them"


# -- HTTP mode: the operator's allow-list and roots ------------------------------------------


async def test_http_mode_ignores_a_project_index_not_on_the_allow_list_and_says_so(
    private: FakeIndex, public: FakeIndex, tmp_path: Path
) -> None:
    project = make_project(tmp_path / "app", {"requirements.txt": f"--index-url {private.simple_url}\ntinylib\n"})
    async with AutoDocsService.running(project_settings(tmp_path), allowed_roots=[tmp_path], transport="http") as svc:
        page = await svc.get_package_docs("tinylib", project_path=project)
    assert (page.format, page.index) == ("markdown", public.simple_url)
    assert any("AUTODOCS_ALLOWED_PROJECT_INDEXES" in note for note in page.index_notes)
    assert private.request_count == 0


async def test_http_mode_never_fetches_a_package_locked_to_an_index_not_on_the_allow_list(
    private: FakeIndex, public: FakeIndex, tmp_path: Path
) -> None:
    project = make_project(
        tmp_path / "app",
        {"pyproject.toml": pyproject(["tinylib"]), "uv.lock": uv_lock(("tinylib", "1.0.0", private.simple_url))},
    )
    async with AutoDocsService.running(project_settings(tmp_path), allowed_roots=[tmp_path], transport="http") as svc:
        with pytest.raises(AutoDocsError) as raised:
            await svc.get_package_docs("tinylib", project_path=project)
    assert error_of(raised.value)["type"] == "IndexNotAllowed"
    assert private.request_count == 0 and public.request_count == 0


async def test_http_mode_uses_a_project_index_listed_by_its_exact_url(private: FakeIndex, tmp_path: Path) -> None:
    project = make_project(
        tmp_path / "app",
        {"pyproject.toml": pyproject(["tinylib"]), "uv.lock": uv_lock(("tinylib", "1.0.0", private.simple_url))},
    )
    settings = project_settings(tmp_path, allowed_project_indexes=[private.simple_url])
    async with AutoDocsService.running(settings, allowed_roots=[tmp_path], transport="http") as svc:
        page = await svc.get_package_docs("tinylib", project_path=project)
    assert (page.format, page.index) == ("rst", private.simple_url)


async def test_http_mode_refuses_a_project_path_outside_the_allowed_roots(
    private: FakeIndex, public: FakeIndex, tmp_path: Path
) -> None:
    outside = make_project(tmp_path / "outside", {"requirements.txt": f"--index-url {private.simple_url}\ntinylib\n"})
    (tmp_path / "root").mkdir()
    async with AutoDocsService.running(
        project_settings(tmp_path), allowed_roots=[tmp_path / "root"], transport="http"
    ) as svc:
        for call in (
            svc.get_package_docs("tinylib", project_path=outside),
            svc.get_docs_with_context("tinylib", project_path=outside),
            svc.get_api_reference("tinylib", project_path=outside),
        ):
            with pytest.raises(AutoDocsError) as raised:
                await call
            error = error_of(raised.value)
            assert error["type"] == "PathNotAllowed" and error["retryable"] is False
            assert str(tmp_path / "root") in error["message"]
    assert private.request_count == 0 and public.request_count == 0
