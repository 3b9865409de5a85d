"""Settings: defaults, validation that names the variable, and masking of secrets."""

from __future__ import annotations

import pytest

from autodocs.config import DEFAULT_INDEX_URL, load_settings, mask_url
from autodocs.errors import ConfigError


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for key in list(__import__("os").environ):
        if key.startswith("AUTODOCS_"):
            monkeypatch.delenv(key)
    settings = load_settings()
    assert settings.pypi_url == DEFAULT_INDEX_URL
    assert (settings.max_concurrent, settings.request_timeout, settings.max_tokens) == (10, 30.0, 30000)
    assert settings.index_keepalive == 30.0
    assert settings.effective_cache_url.endswith("cache.db")


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("AUTODOCS_MAX_CONCURRENT", "0", ">= 1"),
        ("AUTODOCS_REQUEST_TIMEOUT", "-1", "> 0"),
        ("AUTODOCS_INDEX_KEEPALIVE", "0", "> 0"),
        ("AUTODOCS_INDEX_KEEPALIVE", "3601", "<= 3600"),
        ("AUTODOCS_MAX_TOKENS", "lots", "AUTODOCS_MAX_TOKENS='lots'"),
        ("AUTODOCS_PYPI_URL", "ftp://x", "http(s) URL"),
        ("AUTODOCS_LOG_LEVEL", "LOUD", "AUTODOCS_LOG_LEVEL"),
        ("AUTODOCS_CACHE_URL", "mysql://x", "sqlite:///"),
    ],
)
def test_invalid_values_name_the_variable_and_range(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert variable in caught.value.message
    assert expected in caught.value.message


@pytest.mark.parametrize(
    ("token", "shown"),
    [("", "''"), ("   ", "'   '"), ("\t\n", "'\\t\\n'"), ("fifteen-chars-x", "'***'")],
)
def test_empty_blank_or_short_auth_tokens_are_refused_without_showing_them(
    monkeypatch: pytest.MonkeyPatch, token: str, shown: str
) -> None:
    monkeypatch.setenv("AUTODOCS_AUTH_TOKEN", token)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert f"AUTODOCS_AUTH_TOKEN={shown}" in caught.value.message
    assert token.strip() == "" or token not in caught.value.message


def test_a_sixteen_character_token_is_accepted_and_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTODOCS_AUTH_TOKEN", "x" * 16)
    assert load_settings().describe()["AUTODOCS_AUTH_TOKEN"] == "***"


def test_mask_url_hides_passwords_and_tokens() -> None:
    assert mask_url("https://u:p@h.example/pypi") == "https://u:***@h.example/pypi"
    assert mask_url("https://tok@h.example:8443/x") == "https://***@h.example:8443/x"
    assert mask_url("https://h.example/x") == "https://h.example/x"


@pytest.mark.parametrize(
    ("variable", "value", "expected"),
    [
        ("AUTODOCS_CIRCUIT_BREAKER_FAILURE_RATE", "0", "> 0 and <= 100"),
        ("AUTODOCS_CIRCUIT_BREAKER_FAILURE_RATE", "101", "> 0 and <= 100"),
        ("AUTODOCS_CIRCUIT_BREAKER_WINDOW", "0.5", ">= 1 and <= 3600"),
        ("AUTODOCS_CIRCUIT_BREAKER_SILENCE", "0", "> 0 and <= 600"),
        ("AUTODOCS_CIRCUIT_BREAKER_THRESHOLD", "0", ">= 1 and <= 1000"),
    ],
)
def test_circuit_breaker_settings_are_validated(
    monkeypatch: pytest.MonkeyPatch, variable: str, value: str, expected: str
) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert variable in caught.value.message and expected in caught.value.message


def test_the_circuit_breaker_threshold_variable_still_sets_the_minimum_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTODOCS_CIRCUIT_BREAKER_THRESHOLD", "7")
    settings = load_settings()
    assert settings.circuit_breaker_threshold == 7
    assert (settings.circuit_breaker_failure_rate, settings.circuit_breaker_window) == (50.0, 60.0)
    assert settings.circuit_breaker_silence == 5.0
