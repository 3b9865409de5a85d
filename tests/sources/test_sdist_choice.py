"""Which file of a release is its sdist, and the index client's cache key."""

from __future__ import annotations

from autodocs.config import Settings
from autodocs.index import IndexClient
from autodocs.index.models import DistFile
from autodocs.sources.sdist import choose_sdist


def dist(filename: str, *, yanked: bool = False, packagetype: str = "") -> DistFile:
    return DistFile(filename, f"https://files.invalid/{filename}", packagetype, 10, None, yanked=yanked)


def test_the_sdist_is_chosen_over_wheels_and_a_tar_gz_over_a_zip() -> None:
    files = (dist("demo-1.0-py3-none-any.whl"), dist("demo-1.0.zip"), dist("demo-1.0.tar.gz"))
    chosen = choose_sdist(files)
    assert chosen is not None and chosen.filename == "demo-1.0.tar.gz"


def test_a_yanked_sdist_is_chosen_only_when_no_other_is_listed() -> None:
    assert choose_sdist((dist("demo-1.0.tar.gz", yanked=True), dist("demo-1.0.zip"))) == dist("demo-1.0.zip")
    assert choose_sdist((dist("demo-1.0.tar.gz", yanked=True),)) == dist("demo-1.0.tar.gz", yanked=True)


def test_a_release_of_wheels_only_has_no_sdist() -> None:
    assert choose_sdist((dist("demo-1.0-py3-none-any.whl", packagetype="bdist_wheel"),)) is None


async def test_the_cache_key_lists_the_indexes_in_order_without_credentials_or_trailing_slashes() -> None:
    settings = Settings(
        pypi_url="https://user:secret@one.invalid/simple/",
        extra_index_urls=["https://two.invalid/pypi/", "https://token@three.invalid:8443/x"],
    )
    client = IndexClient(settings)
    try:
        assert client.cache_key == "https://one.invalid/simple https://two.invalid/pypi https://three.invalid:8443/x"
    finally:
        await client.aclose()
