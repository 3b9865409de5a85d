"""A release's archive: which file is chosen, and the rules of unpacking it (caps on size,
expansion and entries; what is kept; where it lands). Each archive is served by the fake index
and fetched through a real fetcher (these tests kill the mutants of autodocs.sources.archives:
docs/mutation.md)."""

from __future__ import annotations

import asyncio
import errno
import gzip
import hashlib
import io
import os
import shutil
import tarfile
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from autodocs.errors import (
    ArchiveTooLarge,
    CacheError,
    CodeUnavailable,
    TooManyArchiveEntries,
    UpstreamResponseInvalid,
)
from autodocs.index.fetch import JsonFetcher
from autodocs.index.keys import DEFAULT_INDEX_KEY
from autodocs.index.models import DistFile
from autodocs.sources.archives import (
    UNVERIFIED_MARKER,
    choose_archive,
    downloaded_code_bytes,
    fetch_release_code,
    release_code_dir,
)
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex

MIB = 1 << 20
PLENTY = 10 * MIB


@pytest.fixture
async def fetcher(fake_index: FakeIndex, tmp_path: Path) -> AsyncIterator[JsonFetcher]:
    subject = JsonFetcher(make_settings(fake_index, tmp_path / "cache", max_retry_attempts=0))
    yield subject
    await subject.aclose()


def dist(filename: str, *, size: int | None = 1000, yanked: bool = False, url: str = "") -> DistFile:
    kind = "bdist_wheel" if filename.endswith(".whl") else "sdist"
    return DistFile(
        filename=filename,
        url=url or f"http://127.0.0.1:1/{filename}",
        packagetype=kind,
        size=size,
        sha256=None,
        yanked=yanked,
    )


def zip_of(members: dict[str, bytes], *, stored: dict[str, bytes] | None = None) -> bytes:
    """A zip of ``members`` (deflated) and ``stored`` (uncompressed), in that order."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
        for name, data in members.items():
            bundle.writestr(name, data)
        for name, data in (stored or {}).items():
            bundle.writestr(name, data, compress_type=zipfile.ZIP_STORED)
    return buffer.getvalue()


def tar_of(members: dict[str, bytes], *, links: dict[str, str] | None = None, compress: bool = True) -> bytes:
    """A tar of ``links`` (symbolic links), then ``members``."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz" if compress else "w") as bundle:
        for name, target in (links or {}).items():
            info = tarfile.TarInfo(name)
            info.type = tarfile.SYMTYPE
            info.linkname = target
            bundle.addfile(info)
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def served(index: FakeIndex, filename: str, data: bytes, *, sha256: str | None = "", size: int | None = -1) -> DistFile:
    """``data`` served as ``filename``, listed with its true SHA-256 and size unless told otherwise."""
    url = index.add_file(filename, data)
    kind = "bdist_wheel" if filename.endswith(".whl") else "sdist"
    digest = hashlib.sha256(data).hexdigest() if sha256 == "" else sha256
    listed_size = len(data) if size == -1 else size
    return DistFile(filename=filename, url=url, packagetype=kind, size=listed_size, sha256=digest)


async def unpack(
    fetcher: JsonFetcher, tmp_path: Path, chosen: DistFile, *, max_bytes: int = PLENTY, max_entries: int = 1000
) -> Path:
    destination = tmp_path / "code" / "pkg-1.0"
    await fetch_release_code(fetcher, (chosen,), destination, max_bytes=max_bytes, max_entries=max_entries)
    return destination


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def wheel_name() -> str:
    return f"pkg{time.monotonic_ns()}-1.0-py3-none-any.whl"


def sdist_name(suffix: str = ".tar.gz") -> str:
    return f"pkg{time.monotonic_ns()}-1.0{suffix}"


# -- where the code lives ----------------------------------------------------------------------


def test_the_code_folder_is_named_by_canonical_name_and_a_safe_version(tmp_path: Path) -> None:
    assert (
        release_code_dir(tmp_path, DEFAULT_INDEX_KEY, "Foo_Bar", "1.0+Local!x-y")
        == tmp_path / "code" / "foo-bar-1.0+Local!x-y"
    )
    assert (
        release_code_dir(tmp_path, DEFAULT_INDEX_KEY, "pkg", "1.0/../../x y") == tmp_path / "code" / "pkg-1.0_.._.._x_y"
    )


def test_code_from_another_index_is_filed_under_the_release_and_a_stable_digest_of_the_index(
    tmp_path: Path,
) -> None:
    """16 hex digits of the index key's SHA-256 after ``@``: stable, so code downloaded before is found again."""
    key = "https://mirror.example.test/simple"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    assert release_code_dir(tmp_path, key, "Foo_Bar", "1.0") == tmp_path / "code" / f"foo-bar-1.0@{digest}"


def test_downloaded_code_bytes_sums_every_unpacked_file(tmp_path: Path) -> None:
    assert downloaded_code_bytes(tmp_path) == 0
    (tmp_path / "code" / "a-1.0" / "a").mkdir(parents=True)
    (tmp_path / "code" / "a-1.0" / "a" / "__init__.py").write_bytes(b"x" * 10)
    (tmp_path / "code" / "b-2.0").mkdir()
    (tmp_path / "code" / "b-2.0" / "b.py").write_bytes(b"y" * 5)
    (tmp_path / "elsewhere.py").write_bytes(b"z" * 100)
    assert downloaded_code_bytes(tmp_path) == 15


def test_a_file_removed_while_the_code_folder_is_summed_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "code" / "a-1.0").mkdir(parents=True)
    (tmp_path / "code" / "a-1.0" / "kept.py").write_bytes(b"x" * 10)
    (tmp_path / "code" / "a-1.0" / "gone.py").write_bytes(b"y" * 5)
    real_lstat = os.lstat

    def vanishing(path: str | os.PathLike[str], *args: object, **kwargs: object) -> os.stat_result:
        # The walk listed gone.py; a cache prune removes it before its size is read (a race no
        # real clock can time, so the removal is played here).
        if os.fspath(path).endswith("gone.py"):
            raise FileNotFoundError(errno.ENOENT, "removed meanwhile", os.fspath(path))
        return real_lstat(path)

    monkeypatch.setattr(os, "lstat", vanishing)
    assert downloaded_code_bytes(tmp_path) == 10


# -- which archive -----------------------------------------------------------------------------


def test_a_pure_python_wheel_is_chosen_before_any_other_file() -> None:
    files = (
        dist("p-1.0.tar.gz"),
        dist("p-1.0-cp311-cp311-manylinux_2_17_x86_64.whl"),
        dist("p-1.0-py3-none-any.whl"),
        dist("p-1.0-py2-none-any.whl"),
    )
    assert choose_archive(files) == files[2]


def test_without_a_pure_wheel_a_linux_x86_64_build_is_chosen_then_the_smallest() -> None:
    mac = dist("p-1.0-cp311-cp311-macosx_11_0_arm64.whl", size=10)
    arm = dist("p-1.0-cp311-cp311-manylinux_2_17_aarch64.whl", size=20)
    big_linux = dist("p-1.0-cp310-cp310-manylinux_2_17_x86_64.whl", size=3000)
    small_linux = dist("p-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", size=2000)
    assert choose_archive((mac, arm, big_linux, small_linux, dist("p-1.0.tar.gz"))) == small_linux
    assert choose_archive((arm, mac)) == mac
    unsized = dist("p-1.0-cp312-cp312-win_amd64.whl", size=None)
    one_byte = dist("p-1.0-cp311-cp311-win32.whl", size=1)
    assert choose_archive((one_byte, unsized)) == unsized  # an unknown size counts as nothing


def test_without_a_wheel_the_first_sdist_is_chosen_tar_or_zip() -> None:
    tar, zipped = dist("p-1.0.tar.gz"), dist("p-1.0.zip")
    assert choose_archive((dist("p-1.0.exe"), tar, zipped)) == tar
    assert choose_archive((dist("p-1.0.tar.bz2"), zipped, tar)) == zipped
    assert choose_archive((dist("p-1.0.egg"),)) is None
    assert choose_archive(()) is None


def test_yanked_files_are_never_chosen() -> None:
    pure = dist("p-1.0-py3-none-any.whl", yanked=True)
    linux = dist("p-1.0-cp311-cp311-manylinux_2_17_x86_64.whl", yanked=True)
    sdist = dist("p-1.0.tar.gz", yanked=True)
    assert choose_archive((pure, linux, sdist)) is None
    other = dist("p-1.0-cp311-cp311-win_amd64.whl")
    assert choose_archive((pure, linux, other)) == other
    assert choose_archive((pure, sdist, dist("p-1.0.zip"))) == dist("p-1.0.zip")


async def test_a_release_without_an_archive_is_code_unavailable_naming_it(fetcher: JsonFetcher, tmp_path: Path) -> None:
    with pytest.raises(CodeUnavailable, match=r"pkg-1\.0"):
        await fetch_release_code(fetcher, (), tmp_path / "pkg-1.0", max_bytes=PLENTY, max_entries=10)


# -- the download ------------------------------------------------------------------------------


async def test_a_listed_size_over_the_cap_is_refused_before_any_byte(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    data = zip_of({"pkg/__init__.py": b"x = 1\n"})
    chosen = served(fake_index, wheel_name(), data)
    with pytest.raises(ArchiveTooLarge) as caught:
        await unpack(fetcher, tmp_path, chosen, max_bytes=len(data) - 1)
    assert caught.value.message == (
        f"{chosen.filename} is {len(data)} bytes, above AUTODOCS_MAX_WHEEL_BYTES ({len(data) - 1}); "
        "it was not downloaded."
    )
    assert fake_index.count("/files/") == 0
    assert not (tmp_path / "code").exists() or not any((tmp_path / "code").iterdir())


async def test_a_listed_size_at_the_cap_is_downloaded_and_unpacked(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    data = zip_of({"pkg/__init__.py": b"x = 1\n"})
    chosen = served(fake_index, wheel_name(), data)
    destination = await unpack(fetcher, tmp_path, chosen, max_bytes=len(data))
    assert files_under(destination) == ["pkg/__init__.py"]
    assert (destination / "pkg" / "__init__.py").read_bytes() == b"x = 1\n"


async def test_an_unlisted_size_is_downloaded_and_the_chosen_file_returned(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    chosen = served(fake_index, wheel_name(), zip_of({"pkg/__init__.py": b"x = 1\n"}), size=None)
    destination = tmp_path / "new" / "folders" / "pkg-1.0"
    assert await fetch_release_code(fetcher, (chosen,), destination, max_bytes=PLENTY, max_entries=10) == chosen
    assert files_under(destination) == ["pkg/__init__.py"]
    assert os.listdir(destination.parent) == ["pkg-1.0"]  # the work folder is gone


async def test_the_download_goes_to_a_hidden_work_folder_beside_the_destination(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    """Beside it, so the final rename stays on one file system; hidden and named for the release,
    so nothing reading the code folder takes it for a release."""
    chosen = served(fake_index, wheel_name(), zip_of({"pkg/__init__.py": b"x = 1\n"}))
    fake_index.latency_s = 0.5
    (tmp_path / "code").mkdir()
    underway = asyncio.ensure_future(unpack(fetcher, tmp_path, chosen))
    seen: list[str] = []
    while not seen and not underway.done():
        await asyncio.sleep(0.01)
        seen = os.listdir(tmp_path / "code")
    await underway
    assert len(seen) == 1 and seen[0].startswith(".pkg-1.0.")
    assert os.listdir(tmp_path / "code") == ["pkg-1.0"]


async def test_a_listed_file_answering_404_is_code_unavailable(
    fetcher: JsonFetcher, fake_index: FakeIndex, tmp_path: Path
) -> None:
    chosen = dist(wheel_name(), url=f"http://127.0.0.1:{fake_index.port}/files/missing.whl")
    with pytest.raises(CodeUnavailable, match="404"):
        await unpack(fetcher, tmp_path, chosen)
    assert os.listdir(tmp_path / "code") == []


async def unpack_while_the_work_folder_is_removed(
    index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path, chosen: DistFile
) -> None:
    """Fetch ``chosen``; once its request has reached the index (which holds its answer 1 s),
    remove the hidden work folder, as clearing the cache folder meanwhile would."""
    index.latency_s = 1.0
    (tmp_path / "code").mkdir()
    underway = asyncio.ensure_future(unpack(fetcher, tmp_path, chosen))
    while index.count("/files/") == 0 and not underway.done():
        await asyncio.sleep(0.01)
    held = not underway.done()
    work = list((tmp_path / "code").glob(".pkg-1.0.*"))
    for folder in work:
        shutil.rmtree(folder)
    try:
        await underway
    finally:
        assert held and len(work) == 1, "the work folder was removed while the answer was awaited"
        assert os.listdir(tmp_path / "code") == []


async def test_a_404_stays_the_error_when_the_work_folder_was_removed_meanwhile(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    """The clean-up of a work folder that is gone already adds no error of its own."""
    chosen = dist(wheel_name(), url=f"http://127.0.0.1:{fake_index.port}/files/missing.whl")
    with pytest.raises(CodeUnavailable, match="404"):
        await unpack_while_the_work_folder_is_removed(fake_index, fetcher, tmp_path, chosen)


async def test_an_archive_whose_work_folder_was_removed_meanwhile_is_a_retryable_cache_error(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    """Not the bare FileNotFoundError of writing into a folder that is gone."""
    chosen = served(fake_index, wheel_name(), zip_of({"pkg/__init__.py": b"x = 1\n"}))
    with pytest.raises(CacheError) as caught:
        await unpack_while_the_work_folder_is_removed(fake_index, fetcher, tmp_path, chosen)
    assert caught.value.to_dict() == {
        "type": "CacheError",
        "message": "The work folder for pkg-1.0's code vanished while it was being fetched; nothing was kept.",
        "suggestions": ["Ask again: the code is fetched anew (was the cache folder being cleared?)."],
        "retryable": True,
    }


async def test_a_tree_already_in_place_is_kept_when_another_process_won_the_race(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    chosen = served(fake_index, wheel_name(), zip_of({"pkg/__init__.py": b"x = 1\n"}))
    destination = tmp_path / "code" / "pkg-1.0"
    (destination / "pkg").mkdir(parents=True)
    (destination / "pkg" / "other.py").write_text("y = 2\n")
    await unpack(fetcher, tmp_path, chosen)
    assert files_under(destination) == ["pkg/other.py"]
    assert os.listdir(tmp_path / "code") == ["pkg-1.0"]


async def test_a_destination_that_is_a_file_is_a_real_failure(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    chosen = served(fake_index, wheel_name(), zip_of({"pkg/__init__.py": b"x = 1\n"}))
    (tmp_path / "code").mkdir()
    (tmp_path / "code" / "pkg-1.0").write_text("not a folder")
    with pytest.raises(OSError):
        await unpack(fetcher, tmp_path, chosen)


# -- the checksum ------------------------------------------------------------------------------


async def test_an_archive_not_matching_its_listed_sha256_is_discarded(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    data = zip_of({"pkg/__init__.py": b"x = 1\n"})
    chosen = served(fake_index, wheel_name(), data, sha256=hashlib.sha256(data + b"!").hexdigest())
    with pytest.raises(UpstreamResponseInvalid, match="SHA-256"):
        await unpack(fetcher, tmp_path, chosen)
    assert os.listdir(tmp_path / "code") == []


async def test_a_listed_sha256_in_upper_case_matches(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    data = zip_of({"pkg/__init__.py": b"x = 1\n"})
    chosen = served(fake_index, wheel_name(), data, sha256=hashlib.sha256(data).hexdigest().upper())
    destination = await unpack(fetcher, tmp_path, chosen)
    assert files_under(destination) == ["pkg/__init__.py"]


async def test_the_checksum_covers_an_archive_larger_than_one_read(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    data = zip_of({"pkg/__init__.py": b"x = 1\n"}, stored={"pkg/blob.bin": os.urandom(MIB + 100)})
    tampered = bytearray(data)
    tampered[MIB + 50] ^= 0xFF  # past the first megabyte read
    chosen = served(fake_index, wheel_name(), bytes(tampered), sha256=hashlib.sha256(data).hexdigest())
    with pytest.raises(UpstreamResponseInvalid, match="SHA-256"):
        await unpack(fetcher, tmp_path, chosen)


async def test_an_archive_listed_without_a_sha256_is_unpacked_and_marked_unverified(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    filename = wheel_name()
    chosen = served(fake_index, filename, zip_of({"pkg/__init__.py": b"x = 1\n"}), sha256=None)
    destination = await unpack(fetcher, tmp_path, chosen)
    assert (destination / UNVERIFIED_MARKER).read_text(encoding="utf-8") == filename
    assert (destination / "pkg" / "__init__.py").exists()


async def test_a_verified_archive_carries_no_unverified_marker(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    chosen = served(fake_index, wheel_name(), zip_of({"pkg/__init__.py": b"x = 1\n"}))
    destination = await unpack(fetcher, tmp_path, chosen)
    assert not (destination / UNVERIFIED_MARKER).exists()


# -- what is kept, and where -------------------------------------------------------------------

KEPT = {
    "pkg/__init__.py": b"a",
    "pkg/sub/deep/er.py": b"nested",
    "pkg/stubs.pyi": b"b",
    "pkg/py.typed": b"",
    "pkg-1.0.dist-info/METADATA": b"c",
    "pkg-1.0.dist-info/RECORD": b"d",
    "pkg-1.0.dist-info/top_level.txt": b"pkg\n",
}
DROPPED = {
    "pkg/README.txt": b"e",
    "pkg/_speedups.so": b"f",
    "pkg/data.json": b"g",
    "../escape.py": b"h",
    "/abs/olute.py": b"i",
    "pkg/we ird.py": b"k",
    "pkg/sub/../up.py": b"l",
}


async def test_a_wheel_keeps_only_code_and_metadata_at_their_own_paths(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    data = zip_of(
        {"pkg/": b""}
        | DROPPED
        | KEPT
        | {"PKG-INFO": b"m", "pkg\\win.py": b"n", "src/lib.py": b"o", "pkg/./dot.py": b"j"}
    )
    destination = await unpack(fetcher, tmp_path, served(fake_index, wheel_name(), data))
    assert files_under(destination) == sorted([*KEPT, "PKG-INFO", "pkg/dot.py", "pkg/win.py", "src/lib.py"])
    assert not (tmp_path / "escape.py").exists()


@pytest.mark.parametrize("suffix", [".tar.gz", ".zip"])
async def test_an_sdist_drops_its_top_folder_and_a_src_layout_folder(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path, suffix: str
) -> None:
    members = {
        "pkg-1.0/notes.txt": b"n",
        "pkg-1.0/src": b"a file named like the folder",
        "top.py": b"t",
        "pkg-1.0/PKG-INFO": b"p",
        "pkg-1.0/setup.py": b"s",
        "pkg-1.0/src/pkg/__init__.py": b"a",
        "pkg-1.0/docs/conf.py": b"c",
    }
    data = zip_of(members) if suffix == ".zip" else tar_of(members)
    destination = await unpack(fetcher, tmp_path, served(fake_index, sdist_name(suffix), data))
    assert files_under(destination) == ["PKG-INFO", "docs/conf.py", "pkg/__init__.py", "setup.py"]


async def test_an_sdist_never_creates_links(fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path) -> None:
    data = tar_of({"pkg-1.0/pkg/__init__.py": b"a"}, links={"pkg-1.0/pkg/link.py": "/etc/passwd"})
    destination = await unpack(fetcher, tmp_path, served(fake_index, sdist_name(), data))
    assert files_under(destination) == ["pkg/__init__.py"]
    assert not (destination / "pkg" / "link.py").is_symlink()


async def test_a_damaged_zip_is_an_invalid_answer(fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path) -> None:
    with pytest.raises(UpstreamResponseInvalid) as caught:
        await unpack(fetcher, tmp_path, served(fake_index, wheel_name(), b"not a zip at all" * 10))
    assert caught.value.message == "The downloaded archive is not a valid zip file (no end record)."
    data = bytearray(zip_of({"pkg/__init__.py": b"x = 1\n" * 100}))
    data[40:60] = b"\0" * 20  # inside the first member's compressed data
    with pytest.raises(UpstreamResponseInvalid, match="not a valid zip file"):
        await unpack(fetcher, tmp_path, served(fake_index, wheel_name(), bytes(data)))


async def test_a_damaged_tar_is_an_invalid_answer(fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path) -> None:
    with pytest.raises(UpstreamResponseInvalid, match="not a valid tar file"):
        await unpack(fetcher, tmp_path, served(fake_index, sdist_name(), b"\x1f\x8b" + b"broken" * 50))


# -- the caps ----------------------------------------------------------------------------------


def _halves(total: int) -> dict[str, bytes]:
    """Two kept files of ``total`` bytes together (compressible: the archive stays small)."""
    return {"pkg/a.py": b"\0" * (total // 2), "pkg/b.py": b"\0" * (total - total // 2)}


@pytest.mark.parametrize("suffix", [".whl", ".tar.gz"])
async def test_a_small_archive_may_unpack_to_one_mebibyte_not_a_byte_more(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path, suffix: str
) -> None:
    """Under 1 MiB the floor, not 20 times the archive's size, is the budget; it counts every
    kept file (each of these is under it alone) and only kept files."""

    def build(total: int) -> tuple[str, bytes]:
        members = _halves(total) | {"pkg/big.txt": b"\0" * (2 * MIB)}
        if suffix == ".whl":
            return wheel_name(), zip_of(members)
        return sdist_name(), tar_of({f"pkg-1.0/{name}": data for name, data in members.items()})

    filename, data = build(MIB)
    assert len(data) * 20 < MIB
    destination = await unpack(fetcher, tmp_path / "fits", served(fake_index, filename, data))
    assert files_under(destination) == ["pkg/a.py", "pkg/b.py"]
    filename, data = build(MIB + 1)
    with pytest.raises(ArchiveTooLarge) as caught:
        await unpack(fetcher, tmp_path / "over", served(fake_index, filename, data))
    assert type(caught.value) is ArchiveTooLarge
    assert caught.value.message == "The archive unpacks to far more than its size; it was discarded."
    assert os.listdir(tmp_path / "over" / "code") == []


def _zip_of_size(kept_total: int, size: int) -> bytes:
    """A zip of exactly ``size`` bytes whose kept files hold ``kept_total`` bytes (padded with a
    stored file that is not kept)."""
    unpadded = len(zip_of(_halves(kept_total), stored={"pkg/pad.bin": b""}))
    data = zip_of(_halves(kept_total), stored={"pkg/pad.bin": b"\1" * (size - unpadded)})
    assert len(data) == size
    return data


async def test_an_archive_may_unpack_to_twenty_times_its_size_not_a_byte_more(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    kept = 20 * 160_000  # above the 1 MiB floor
    data = _zip_of_size(kept, kept // 20)
    destination = await unpack(fetcher, tmp_path / "fits", served(fake_index, wheel_name(), data))
    assert files_under(destination) == ["pkg/a.py", "pkg/b.py"]
    data = _zip_of_size(kept, kept // 20 - 1)
    with pytest.raises(ArchiveTooLarge, match="far more than its size"):
        await unpack(fetcher, tmp_path / "over", served(fake_index, wheel_name(), data))


def _numbered(count: int, prefix: str = "") -> dict[str, bytes]:
    return {f"{prefix}pkg/m{index}.py": b"x" for index in range(count)}


@pytest.mark.parametrize("suffix", [".whl", ".tar.gz"])
async def test_an_archive_of_exactly_max_entries_is_unpacked_one_more_is_refused(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path, suffix: str
) -> None:
    def build(count: int) -> tuple[str, bytes]:
        if suffix == ".whl":
            return wheel_name(), zip_of(_numbered(count))
        return sdist_name(), tar_of(_numbered(count, prefix="pkg-1.0/"))

    filename, data = build(20)
    destination = await unpack(fetcher, tmp_path / "fits", served(fake_index, filename, data), max_entries=20)
    assert len(files_under(destination)) == 20
    filename, data = build(21)
    with pytest.raises(TooManyArchiveEntries, match=r"AUTODOCS_MAX_ARCHIVE_ENTRIES \(20\)"):
        await unpack(fetcher, tmp_path / "over", served(fake_index, filename, data), max_entries=20)
    assert os.listdir(tmp_path / "over" / "code") == []


async def test_a_zip_whose_end_record_understates_its_entries_is_refused_once_listed(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    """A directory small enough to pass the size check, with a stated count of 5: the entries
    zipfile lists are counted again."""
    data = bytearray(zip_of(_numbered(30)))
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = (5).to_bytes(2, "little") * 2
    with pytest.raises(TooManyArchiveEntries, match=r"lists 30 files, above AUTODOCS_MAX_ARCHIVE_ENTRIES \(29\)"):
        await unpack(fetcher, tmp_path, served(fake_index, wheel_name(), bytes(data)), max_entries=29)


@pytest.mark.parametrize("suffix", [".whl", ".tar.gz"])
async def test_a_file_and_a_folder_of_the_same_name_keep_the_first_and_skip_the_other(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path, suffix: str
) -> None:
    members = {
        "pkg/a.py": b"file",
        "pkg/a.py/inner.py": b"under a file",
        "pkg/b.py/inner.py": b"folder first",
        "pkg/b.py": b"file over a folder",
        "pkg/c.py": b"after",
    }
    if suffix == ".whl":
        filename, data = wheel_name(), zip_of(members)
    else:
        filename, data = sdist_name(), tar_of({f"pkg-1.0/{name}": body for name, body in members.items()})
    destination = await unpack(fetcher, tmp_path, served(fake_index, filename, data))
    assert files_under(destination) == ["pkg/a.py", "pkg/b.py/inner.py", "pkg/c.py"]


@pytest.mark.parametrize("suffix", [".whl", ".tar.gz"])
async def test_names_longer_than_a_file_system_allows_are_skipped_not_errors(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path, suffix: str
) -> None:
    """A segment of 255 characters and a member path of 1024 (the sdist's top folder included)
    are kept; one more is skipped."""
    top = "" if suffix == ".whl" else "p/"
    deep = top + "pkg/" + "/".join(["d" * 200] * 4)

    def path_of(length: int, letter: str) -> str:
        return deep + "/" + letter * (length - len(deep) - 4) + ".py"

    members = {
        top + "pkg/" + "a" * 252 + ".py": b"longest name",
        top + "pkg/" + "b" * 253 + ".py": b"one too long",
        path_of(1024, "c"): b"longest path",
        path_of(1025, "e"): b"one too long",
        top + "pkg/after.py": b"after",
    }
    filename, data = (wheel_name(), zip_of(members)) if suffix == ".whl" else (sdist_name(), tar_of(members))
    destination = await unpack(fetcher, tmp_path, served(fake_index, filename, data))
    kept = sorted(p.read_bytes() for p in destination.rglob("*") if p.is_file())
    assert kept == [b"after", b"longest name", b"longest path"]


@pytest.mark.parametrize("suffix", [".whl", ".tar.gz"])
async def test_a_full_disk_while_unpacking_is_raised_as_such_not_blamed_on_the_archive(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    """No test machine can fill its disk on demand: the copy into the tree fails as a full disk would."""

    def disk_full(source: object, sink: object) -> None:
        raise OSError(errno.ENOSPC, "No space left on device")

    members = {"pkg/__init__.py": b"x = 1\n"}
    if suffix == ".whl":
        filename, data = wheel_name(), zip_of(members)
    else:
        filename, data = sdist_name(), tar_of({f"pkg-1.0/{name}": body for name, body in members.items()})
    chosen = served(fake_index, filename, data)
    monkeypatch.setattr("autodocs.sources.archives.shutil.copyfileobj", disk_full)
    with pytest.raises(OSError) as caught:
        await unpack(fetcher, tmp_path, chosen)
    assert caught.value.errno == errno.ENOSPC
    assert os.listdir(tmp_path / "code") == []


async def test_a_tar_whose_compressed_stream_breaks_midway_is_an_invalid_answer(
    fake_index: FakeIndex, fetcher: JsonFetcher, tmp_path: Path
) -> None:
    """The second gzip member is not gzip: the decompressor's error (an OSError without an
    error number) is the archive's fault."""
    plain = tar_of({"pkg-1.0/pkg/a.py": b"x" * 100, "pkg-1.0/pkg/b.py": b"y" * 100}, compress=False)
    data = gzip.compress(plain[:1024]) + b"\x1f\x8bnot gzip at all" * 10
    with pytest.raises(UpstreamResponseInvalid, match="not a valid tar file"):
        await unpack(fetcher, tmp_path, served(fake_index, sdist_name(), data))
