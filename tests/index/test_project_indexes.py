"""Which indexes serve a project: its declared ones in stdio mode, only allowed ones in HTTP mode."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from autodocs.config import DEFAULT_INDEX_URL, Settings, load_settings
from autodocs.errors import ConfigError
from autodocs.index.capabilities import index_endpoints
from autodocs.index.project import ProjectIndexPlan, Transport, is_internal_host, plan_project_indexes
from autodocs.manifests.base import DeclaredIndex, Dependency, IndexRole, SourceLocation

MIRROR = "https://mirror.example.test/simple"  # the server's own index (PIP_INDEX_URL)
PUBLIC_SIMPLE = index_endpoints(DEFAULT_INDEX_URL).simple_url


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for variable in list(os.environ):
        if variable.startswith(("AUTODOCS_", "PIP_", "UV_")):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    monkeypatch.setenv("PIP_INDEX_URL", MIRROR)
    monkeypatch.setenv("AUTODOCS_CACHE_DIR", str(tmp_path / "cache"))
    return monkeypatch


def _settings(environment: pytest.MonkeyPatch, **variables: str) -> Settings:
    for name, value in variables.items():
        environment.setenv(f"AUTODOCS_{name.upper()}", value)
    return load_settings()


def _index(url: str, role: IndexRole = "primary", name: str | None = None) -> DeclaredIndex:
    return DeclaredIndex(url=url, name=name, role=role, source=SourceLocation(file="pyproject.toml", line=3))


def _locked(name: str, index: str) -> Dependency:
    return Dependency(name=name, pinned_version="1.0", index=index, source=SourceLocation(file="uv.lock"))


def _plan(
    settings: Settings,
    declared: list[DeclaredIndex],
    transport: Transport,
    dependencies: list[Dependency] | None = None,
    **options: Any,
) -> ProjectIndexPlan:
    netrc = options.pop("netrc_path", Path(os.devnull))
    return plan_project_indexes(declared, dependencies or [], settings=settings, transport=transport, netrc_path=netrc)


DECLARED = [
    _index("https://late.example.test/simple", "supplemental"),
    _index("https://corp.example.test/simple", "default"),
    _index("https://torch.example.test/whl", "explicit", name="torch"),
    _index("https://first.example.test/simple", "primary"),
]


# -- precedence ------------------------------------------------------------------------------


def test_explicit_autodocs_index_url_wins_over_the_project_indexes_and_its_locks(
    environment: pytest.MonkeyPatch,
) -> None:
    settings = _settings(environment, index_url="https://operator.example.test/simple")
    plan = _plan(settings, DECLARED, "stdio", [_locked("torch", "https://torch.example.test/whl")])
    assert plan.indexes == ("https://operator.example.test/simple",)
    assert not plan.locked
    assert plan.source == "AUTODOCS_INDEX_URL"
    assert "4 declared indexes are not used" in plan.notes[0]


def test_stdio_uses_every_declared_index_primary_then_project_default_then_supplemental(
    environment: pytest.MonkeyPatch,
) -> None:
    plan = _plan(_settings(environment), DECLARED, "stdio")
    assert plan.indexes == (
        "https://first.example.test/simple",
        "https://corp.example.test/simple",  # the project's default replaces the server's
        "https://late.example.test/simple",
    )
    assert plan.source == "project"
    assert not plan.notes


def test_stdio_without_a_project_default_keeps_the_servers_indexes_as_the_default(
    environment: pytest.MonkeyPatch,
) -> None:
    declared = [_index("https://late.example.test/simple", "supplemental"), _index("file:///srv/wheels", "primary")]
    plan = _plan(_settings(environment), declared, "stdio")
    assert plan.indexes == ("file:///srv/wheels", MIRROR, "https://late.example.test/simple")


def test_explicit_index_serves_only_the_packages_locked_to_it(environment: pytest.MonkeyPatch) -> None:
    locks = [_locked("torch", "https://torch.example.test/whl"), _locked("httpx", "https://corp.example.test/simple")]
    plan = _plan(_settings(environment), DECLARED, "stdio", locks)
    assert "https://torch.example.test/whl" not in plan.indexes
    assert plan.locked == {"torch": "https://torch.example.test/whl", "httpx": "https://corp.example.test/simple"}


def test_no_declared_index_leaves_the_servers_own_order(environment: pytest.MonkeyPatch) -> None:
    settings = _settings(environment)
    plan = _plan(settings, [], "http")
    assert plan.indexes == (MIRROR,)
    assert plan.source == settings.index_origin == "PIP_INDEX_URL"


# -- HTTP mode: the allow-list ---------------------------------------------------------------


def test_http_with_an_empty_allow_list_ignores_every_project_index_with_a_note(
    environment: pytest.MonkeyPatch,
) -> None:
    plan = _plan(_settings(environment), DECLARED, "http")
    assert plan.indexes == (MIRROR,)
    assert len(plan.notes) == 4
    assert all("AUTODOCS_ALLOWED_PROJECT_INDEXES" in note for note in plan.notes)
    assert "pyproject.toml:3" in plan.notes[0]


def test_http_package_locked_to_a_refused_index_is_blocked_never_fetched_elsewhere(
    environment: pytest.MonkeyPatch,
) -> None:
    plan = _plan(_settings(environment), DECLARED, "http", [_locked("corp-lib", "https://corp.example.test/simple")])
    assert "corp-lib" in plan.blocked
    assert "corp-lib" not in plan.locked


def test_http_package_locked_to_the_public_index_falls_back_to_the_servers_indexes(
    environment: pytest.MonkeyPatch,
) -> None:
    plan = _plan(_settings(environment), [], "http", [_locked("rich", PUBLIC_SIMPLE)])
    assert not plan.blocked
    assert not plan.locked
    assert plan.indexes == (MIRROR,)


def test_http_index_equal_to_the_servers_own_is_used_without_listing(environment: pytest.MonkeyPatch) -> None:
    declared = [_index(MIRROR + "/", "default")]
    plan = _plan(_settings(environment), declared, "http", [_locked("httpx", MIRROR)])
    assert plan.indexes == (MIRROR + "/",)
    assert plan.locked == {"httpx": MIRROR}
    assert not plan.notes


@pytest.mark.parametrize(
    ("entry", "url", "used"),
    [
        ("corp.example.test", "https://corp.example.test/simple", True),
        ("CORP.example.test", "http://corp.example.test:8080/simple", True),
        ("corp.example.test:8080", "https://corp.example.test/simple", False),
        ("corp.example.test:8443", "https://corp.example.test:8443/simple", True),
        ("https://corp.example.test/team-a", "https://corp.example.test/team-a/simple", True),
        ("https://corp.example.test/team-a", "https://corp.example.test/team-a", True),
        ("https://corp.example.test/team-a", "https://corp.example.test/team-ab/simple", False),
        ("https://corp.example.test/team-a", "http://corp.example.test/team-a/simple", False),
        ("https://corp.example.test/team-a", "https://corp.example.test:444/team-a/simple", False),
        ("*.example.test", "https://corp.example.test/simple", True),
        ("*.example.test", "https://example.test.evil.test/simple", False),
        ("other.example.test", "https://corp.example.test/simple", False),
    ],
)
def test_http_allow_list_entry_matches_hosts_ports_and_path_prefixes(
    environment: pytest.MonkeyPatch, entry: str, url: str, used: bool
) -> None:
    plan = _plan(_settings(environment, allowed_project_indexes=entry), [_index(url, "default")], "http")
    assert (url in plan.indexes) is used
    assert (MIRROR in plan.indexes) is not used


def test_http_never_uses_a_file_index_named_by_a_project(environment: pytest.MonkeyPatch) -> None:
    settings = _settings(environment, allowed_project_indexes="*.example.test", allow_file_indexes="true")
    plan = _plan(settings, [_index("file:///etc", "default")], "http", [_locked("x", "file:///etc")])
    assert plan.indexes == (MIRROR,)
    assert "local folder" in plan.notes[0]
    assert "x" in plan.blocked


@pytest.mark.parametrize(
    "host",
    [
        "127.0.0.1",
        "127.1",
        "2130706433",
        "0x7f.0.0.1",
        "10.1.2.3",
        "192.168.0.10",
        "169.254.169.254",
        "[::1]",
        "[::ffff:127.0.0.1]",
        "[fd00::1]",
        "localhost",
        "pkgs.localhost",
        "metadata.google.internal",
        "index.corp.internal",
        "printer.local",
    ],
)
def test_internal_hosts_are_recognised_from_the_name_alone(host: str) -> None:
    assert is_internal_host(host)


@pytest.mark.parametrize("host", ["corp.example.test", "8.8.8.8", "[2001:4860:4860::8888]", "internal.example.test"])
def test_public_hosts_are_not_internal(host: str) -> None:
    assert not is_internal_host(host)


def test_http_internal_host_needs_its_exact_host_not_a_wildcard(environment: pytest.MonkeyPatch) -> None:
    url = "https://pkgs.corp.internal/simple"
    wildcard = _plan(_settings(environment, allowed_project_indexes="*.corp.internal"), [_index(url)], "http")
    assert url not in wildcard.indexes
    assert "loopback, private or internal" in wildcard.notes[0]
    exact = _plan(_settings(environment, allowed_project_indexes="pkgs.corp.internal"), [_index(url)], "http")
    assert url in exact.indexes


def test_http_loopback_address_is_used_only_when_listed(environment: pytest.MonkeyPatch) -> None:
    url = "http://127.0.0.1:3141/root/simple"
    assert url not in _plan(_settings(environment), [_index(url)], "http").indexes
    listed = _settings(environment, allowed_project_indexes="http://127.0.0.1:3141/root")
    assert url in _plan(listed, [_index(url)], "http").indexes


def test_http_host_with_operator_url_credentials_needs_its_exact_host(environment: pytest.MonkeyPatch) -> None:
    other_repo = "https://creds.example.test/repo-b/simple"
    settings = _settings(
        environment,
        extra_index_urls="https://bot:s3cret@creds.example.test/repo-a/simple",
        allowed_project_indexes="*.example.test",
    )
    plan = _plan(settings, [_index(other_repo)], "http")
    assert other_repo not in plan.indexes
    assert "credentials" in plan.notes[0]
    assert "s3cret" not in " ".join(plan.notes)
    listed = _settings(environment, allowed_project_indexes="*.example.test,creds.example.test")
    assert other_repo in _plan(listed, [_index(other_repo)], "http").indexes


@pytest.mark.parametrize(
    "netrc_text",
    ["machine corp.example.test login bot password s3cret\n", "default login bot password s3cret\n", "machine\n"],
)
def test_http_host_with_netrc_credentials_or_an_unreadable_netrc_needs_its_exact_host(
    environment: pytest.MonkeyPatch, tmp_path: Path, netrc_text: str
) -> None:
    netrc = tmp_path / "netrc"
    netrc.write_text(netrc_text, encoding="utf-8")
    netrc.chmod(0o600)
    url = "https://corp.example.test/simple"
    settings = _settings(environment, allowed_project_indexes="*.example.test")
    plan = _plan(settings, [_index(url)], "http", netrc_path=netrc)
    assert url not in plan.indexes
    exact = _settings(environment, allowed_project_indexes="corp.example.test")
    assert url in _plan(exact, [_index(url)], "http", netrc_path=netrc).indexes


def test_stdio_never_reads_the_allow_list_or_credentials(environment: pytest.MonkeyPatch, tmp_path: Path) -> None:
    url = "http://127.0.0.1:3141/simple"
    plan = _plan(_settings(environment), [_index(url, "default")], "stdio", netrc_path=tmp_path / "missing")
    assert plan.indexes == (url,)


@pytest.mark.parametrize(
    "entry", ["ftp://x.example.test", "https://user:pw@x.example.test", "not a host", "*", "file:///srv"]
)
def test_allowed_project_indexes_refuses_entries_that_are_no_url_prefix_or_host(
    environment: pytest.MonkeyPatch, entry: str
) -> None:
    environment.setenv("AUTODOCS_ALLOWED_PROJECT_INDEXES", entry)
    with pytest.raises(ConfigError, match="AUTODOCS_ALLOWED_PROJECT_INDEXES") as raised:
        load_settings()
    assert ":pw@" not in str(raised.value)
