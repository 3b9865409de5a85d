"""Search quality on real READMEs: 20 recorded packages cached through the service, on both stores.

Each query is written from what one package's README (or summary) says; the package that says
it must come first. A change to tokenizing, weights or query building that breaks one of them
is a regression in what an assistant gets back.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from autodocs.service import AutoDocsService
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex

PACKAGES = (
    "requests",
    "urllib3",
    "httpx",
    "flask",
    "django",
    "fastapi",
    "sqlalchemy",
    "celery",
    "redis",
    "rich",
    "click",
    "jinja2",
    "pytest",
    "numpy",
    "pandas",
    "pyyaml",
    "cryptography",
    "structlog",
    "uvicorn",
    "paramiko",
)
#: (query, the package whose docs answer it)
QUERIES = (
    ("retry connection pool", "urllib3"),
    ("thread-safe connection pooling", "urllib3"),
    ("keep-alive connection pooling", "requests"),
    ("HTTP/2 async client", "httpx"),
    ("task queue worker broker", "celery"),
    ("template engine", "jinja2"),
    ("command line interface toolkit", "click"),
    ("ORM database session", "sqlalchemy"),
    ("progress bars tables terminal", "rich"),
    ("syntax highlighting markdown", "rich"),
    ("SSH2 protocol", "paramiko"),
    ("YAML parser emitter", "pyyaml"),
    ("structured logging", "structlog"),
    ("ASGI server", "uvicorn"),
    ("dataframe time series", "pandas"),
    ("array computing", "numpy"),
    ("test fixtures", "pytest"),
    ("assert statements detailed info", "pytest"),
    ("encrypt symmetric Fernet", "cryptography"),
    ("redis key-value store client", "redis"),
    ("OpenAPI automatic interactive docs", "fastapi"),
)


@pytest.fixture(params=["sqlite", "postgresql"])
def cache_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'cache.db'}"
    return str(request.getfixturevalue("postgres_url"))


async def test_each_query_finds_the_package_whose_docs_answer_it_first(
    fake_index: FakeIndex, cache_url: str, tmp_path: Path
) -> None:
    settings = make_settings(fake_index, tmp_path / "cache", cache_url=cache_url)
    async with AutoDocsService.running(settings) as service:
        await asyncio.gather(*(service.get_package_docs(name) for name in PACKAGES))
        misses = []
        for query, expected in QUERIES:
            result = await service.search_docs(query, limit=5)
            first = result.results[0].package if result.results else None
            if first != expected:
                misses.append(f"{query!r}: {[hit.package for hit in result.results]}, expected {expected} first")
    assert not misses, "\n".join(misses)
