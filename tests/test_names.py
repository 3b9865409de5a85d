"""Names are validated before any URL is built from them."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from autodocs.errors import InvalidPackageName
from autodocs.index.names import normalize_package_name


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [("Requests", "requests"), ("typing_extensions", "typing-extensions"), ("zope.interface", "zope-interface")],
)
def test_normalization(raw: str, normalized: str) -> None:
    assert normalize_package_name(raw) == normalized


@given(st.text(max_size=300))
def test_any_accepted_name_is_url_safe(raw: str) -> None:
    try:
        name = normalize_package_name(raw)
    except InvalidPackageName:
        return
    assert re.fullmatch(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?", name)
