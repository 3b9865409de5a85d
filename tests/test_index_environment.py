"""The indexes pip or uv would use: their variables, then pip's files, and the settings built from them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from autodocs.config import DEFAULT_INDEX_URL, load_settings
from autodocs.index_environment import environment_indexes, pip_config_files


def _isolated(tmp_path: Path, **variables: str) -> dict[str, str]:
    """A machine with no pip configuration but the one a test writes under ``tmp_path``."""
    return {"HOME": str(tmp_path / "home"), "XDG_CONFIG_DIRS": str(tmp_path / "xdg"), **variables}


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_pip_index_url_gives_the_index_and_its_space_separated_extras_after_it(tmp_path: Path) -> None:
    env = _isolated(
        tmp_path, PIP_INDEX_URL="https://one.test/simple/", PIP_EXTRA_INDEX_URL="https://two.test/simple  file:///srv/x"
    )
    found = environment_indexes(env, system_files=())
    assert found.index == ("https://one.test/simple", "PIP_INDEX_URL")
    assert found.after == (("https://two.test/simple", "PIP_EXTRA_INDEX_URL"), ("file:///srv/x", "PIP_EXTRA_INDEX_URL"))
    assert found.before == ()


def test_pip_variable_wins_over_uv_and_pip_files(tmp_path: Path) -> None:
    config = _write(tmp_path / "pip.conf", "[global]\nindex-url = https://file.test/simple\n")
    env = _isolated(
        tmp_path,
        PIP_INDEX_URL="https://pip.test/simple",
        UV_INDEX_URL="https://uv.test/simple",
        PIP_CONFIG_FILE=str(config),
    )
    assert environment_indexes(env, system_files=()).index == ("https://pip.test/simple", "PIP_INDEX_URL")


def test_uv_extra_indexes_are_asked_before_its_default_index_as_uv_asks_them(tmp_path: Path) -> None:
    env = _isolated(
        tmp_path,
        UV_DEFAULT_INDEX="https://uv.test/simple",
        UV_INDEX="private=https://private.test/simple",
        UV_EXTRA_INDEX_URL="https://extra.test/simple",
    )
    found = environment_indexes(env, system_files=())
    assert found.index == ("https://uv.test/simple", "UV_DEFAULT_INDEX")
    assert [url for url, _ in found.before] == ["https://private.test/simple", "https://extra.test/simple"]


def test_pip_files_later_file_overrides_and_install_section_overrides_global(tmp_path: Path) -> None:
    system = _write(tmp_path / "etc" / "pip.conf", "[global]\nindex-url = https://system.test/simple\n")
    _write(
        tmp_path / "home" / ".config" / "pip" / "pip.conf",
        "[global]\nindex-url = https://user.test/simple\n[install]\nindex-url = https://install.test/simple\n"
        "extra-index-url =\n    https://a.test/simple\n    https://b.test/simple\n",
    )
    found = environment_indexes(_isolated(tmp_path), system_files=(system,))
    assert found.index is not None
    assert found.index[0] == "https://install.test/simple"
    assert "[install] index-url" in found.index[1]
    assert [url for url, _ in found.after] == ["https://a.test/simple", "https://b.test/simple"]


def test_pip_config_file_variable_is_read_last_and_skips_the_user_files(tmp_path: Path) -> None:
    user = _write(tmp_path / "home" / ".config" / "pip" / "pip.conf", "[global]\nindex-url = https://user.test/s\n")
    named = _write(tmp_path / "named.conf", "[global]\nextra-index-url = https://named.test/simple\n")
    files = pip_config_files(_isolated(tmp_path, PIP_CONFIG_FILE=str(named)), system_files=())
    assert user not in files
    assert files[-1] == named
    found = environment_indexes(_isolated(tmp_path, PIP_CONFIG_FILE=str(named)), system_files=())
    assert found.index is None  # extras only: pip's default index stays the index
    assert [url for url, _ in found.after] == ["https://named.test/simple"]


def test_pip_config_file_devnull_reads_no_file(tmp_path: Path) -> None:
    system = _write(tmp_path / "etc" / "pip.conf", "[global]\nindex-url = https://system.test/simple\n")
    env = _isolated(tmp_path, PIP_CONFIG_FILE=os.devnull)
    assert pip_config_files(env, system_files=(system,)) == []
    assert not environment_indexes(env, system_files=(system,)).configured


def test_malformed_pip_file_and_unusable_urls_name_no_index(tmp_path: Path) -> None:
    broken = _write(tmp_path / "broken.conf", "index-url = https://no-section.test\n")
    env = _isolated(tmp_path, PIP_CONFIG_FILE=str(broken), PIP_EXTRA_INDEX_URL="relative/path ftp://x.test/simple")
    assert not environment_indexes(env, system_files=()).configured


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> pytest.MonkeyPatch:
    for variable in list(os.environ):
        if variable.startswith(("AUTODOCS_", "PIP_", "UV_", "SSL_")):
            monkeypatch.delenv(variable)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PIP_CONFIG_FILE", os.devnull)
    return monkeypatch


def test_settings_take_pip_variables_when_no_autodocs_index_is_set(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PIP_INDEX_URL", "https://user:s3cret@pip.test/simple")
    clean_env.setenv("PIP_EXTRA_INDEX_URL", "https://extra.test/simple")
    clean_env.setenv("AUTODOCS_EXTRA_INDEX_URLS", "https://mine.test/simple")
    settings = load_settings()
    assert settings.pypi_url == "https://user:s3cret@pip.test/simple"
    assert settings.extra_index_urls == ["https://extra.test/simple", "https://mine.test/simple"]
    assert not settings.explicit_index
    described = settings.describe()
    assert described["index source"] == "PIP_INDEX_URL, then PIP_EXTRA_INDEX_URL, then AUTODOCS_EXTRA_INDEX_URLS"
    assert "s3cret" not in str(described)


def test_settings_autodocs_index_url_wins_over_pip_variables(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("PIP_INDEX_URL", "https://pip.test/simple")
    clean_env.setenv("PIP_EXTRA_INDEX_URL", "https://extra.test/simple")
    clean_env.setenv("AUTODOCS_PYPI_URL", "https://mine.test/simple")
    settings = load_settings()
    assert (settings.pypi_url, settings.extra_index_urls) == ("https://mine.test/simple", [])
    assert settings.explicit_index
    assert settings.describe()["index source"] == "AUTODOCS_PYPI_URL"


def test_settings_default_index_when_nothing_names_one(clean_env: pytest.MonkeyPatch) -> None:
    clean_env.setenv("AUTODOCS_INDEX_ORIGIN", "PIP_INDEX_URL")  # never read from a variable
    settings = load_settings()
    assert settings.pypi_url == DEFAULT_INDEX_URL
    assert settings.describe()["index source"] == "the default index"
