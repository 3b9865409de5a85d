"""Archives with too many entries are refused from their end record, before their list is read."""

from __future__ import annotations

import hashlib
import io
import struct
import tarfile
import time
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from autodocs.errors import TooManyArchiveEntries
from autodocs.service import AutoDocsService
from autodocs.sources.zip_directory import MAX_ENTRY_BYTES, ZipDirectory, read_zip_directory
from tests.conftest import make_settings
from tests.support.fake_index import FakeIndex


def _many_entries_zip(name: str, entries: int) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr(f"{name}/__init__.py", "x = 1\n")
        wheel.writestr(f"{name}-1.0.dist-info/METADATA", f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        for index in range(entries - 2):
            wheel.writestr(f"{name}/empty{index}.txt", "")
    return buffer.getvalue()


def _corrupt_central_directory(data: bytes) -> bytes:
    """Zero the whole central directory; only the end record stays readable."""
    with zipfile.ZipFile(io.BytesIO(data)) as bundle:
        start = min(info.header_offset for info in bundle.infolist())
        end = data.rfind(b"PK\x05\x06")
        cd_start = end - sum(46 + len(i.filename.encode()) + len(i.extra) + len(i.comment) for i in bundle.infolist())
    assert start == 0 and cd_start > 0
    return data[:cd_start] + b"\0" * (end - cd_start) + data[end:]


def _serve(index: FakeIndex, name: str, filename: str, data: bytes) -> None:
    url = index.add_file(filename, data)
    files = [
        {
            "filename": filename,
            "url": url,
            "packagetype": "bdist_wheel" if filename.endswith(".whl") else "sdist",
            "size": len(data),
            "digests": {"sha256": hashlib.sha256(data).hexdigest()},
        }
    ]
    index.add_project(name, {"info": {"name": name, "version": "1.0"}, "releases": {"1.0": files}, "urls": files})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    names=st.lists(st.from_regex(r"[a-z]{1,12}/[a-z_]{1,20}\.py", fullmatch=True), max_size=60, unique=True),
    comment=st.binary(max_size=300).filter(lambda c: b"PK" not in c),
)
def test_end_record_count_equals_what_zipfile_lists(names: list[str], comment: bytes) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as bundle:
        for name in names:
            bundle.writestr(name, "x = 1\n")
        bundle.comment = comment
    path = Path(f"/tmp/autodocs-zipdir-{time.monotonic_ns()}.zip")
    try:
        path.write_bytes(buffer.getvalue())
        directory = read_zip_directory(path)
        assert directory is not None
        with zipfile.ZipFile(path) as bundle:
            assert directory.entries == len(bundle.infolist()) == len(names)
            assert directory.offset == min((i.header_offset for i in bundle.infolist()), default=0) + sum(
                30 + len(i.filename.encode()) + i.compress_size for i in bundle.infolist()
            )
    finally:
        path.unlink(missing_ok=True)


def test_zip64_end_record_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.zip"
    with zipfile.ZipFile(path, "w") as bundle:  # more than 0xFFFF entries: zipfile writes ZIP64 end records
        for index in range(0x10000 + 5):
            bundle.writestr(f"{index}", "")
    directory = read_zip_directory(path)
    assert directory is not None and directory.entries == 0x10000 + 5
    assert directory.could_hold_more_than(0x10000) and not directory.could_hold_more_than(0x10005)


def test_a_file_without_an_end_record_has_no_directory(tmp_path: Path) -> None:
    path = tmp_path / "not.zip"
    path.write_bytes(b"no zip here" * 100)
    assert read_zip_directory(path) is None


async def test_wheel_with_too_many_entries_is_refused_before_its_directory_is_parsed(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    """The central directory is zeroed: parsing it would fail as an invalid zip, so the refusal
    on the count proves the count came from the end record alone."""
    name = f"manyfiles{time.monotonic_ns()}"
    data = _corrupt_central_directory(_many_entries_zip(name, 300))
    _serve(fake_index, name, f"{name}-1.0-py3-none-any.whl", data)
    settings = make_settings(fake_index, tmp_path / "cache", max_archive_entries=100)
    async with AutoDocsService.running(settings) as service:
        with pytest.raises(TooManyArchiveEntries) as caught:
            await service.get_api_reference(name)
    assert "300 files" in caught.value.message
    assert any("AUTODOCS_MAX_ARCHIVE_ENTRIES" in s for s in caught.value.suggestions)
    code = tmp_path / "cache" / "code"
    assert not code.exists() or not any(code.iterdir())


async def test_end_record_understating_the_count_is_refused_on_the_directory_size(
    fake_index: FakeIndex, tmp_path: Path
) -> None:
    """zipfile walks the directory by its size, so a small stated count does not make it cheap."""
    name = f"liar{time.monotonic_ns()}"
    data = bytearray(_many_entries_zip(name, 20 + 100 * MAX_ENTRY_BYTES // 46))
    end = data.rfind(b"PK\x05\x06")
    data[end + 8 : end + 12] = (5).to_bytes(2, "little") * 2  # entries on this disk, total entries
    _serve(fake_index, name, f"{name}-1.0-py3-none-any.whl", bytes(data))
    settings = make_settings(fake_index, tmp_path / "cache", max_archive_entries=100)
    async with AutoDocsService.running(settings) as service:
        with pytest.raises(TooManyArchiveEntries, match="directory"):
            await service.get_api_reference(name)


async def test_sdist_with_too_many_entries_stops_reading_at_the_cap(fake_index: FakeIndex, tmp_path: Path) -> None:
    """Garbage follows the entries past the cap: reading on would fail as an invalid tar."""
    name = f"manytar{time.monotonic_ns()}"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as bundle:
        for index in range(150):
            info = tarfile.TarInfo(f"{name}-1.0/{name}/m{index}.py")
            info.size = 6
            bundle.addfile(info, io.BytesIO(b"x = 1\n"))
    data = buffer.getvalue()[: 130 * 1024] + b"\xff" * 4096
    _serve(fake_index, name, f"{name}-1.0.tar.gz", data)
    settings = make_settings(fake_index, tmp_path / "cache", max_archive_entries=100)
    async with AutoDocsService.running(settings) as service:
        with pytest.raises(TooManyArchiveEntries, match="more than 100 files"):
            await service.get_api_reference(name)


def test_a_directory_of_exactly_the_allowed_size_could_hold_no_more_entries() -> None:
    assert not ZipDirectory(entries=1, size=10 * MAX_ENTRY_BYTES, offset=0).could_hold_more_than(10)
    assert ZipDirectory(entries=1, size=10 * MAX_ENTRY_BYTES + 1, offset=0).could_hold_more_than(10)


def test_an_end_record_followed_by_the_longest_comment_is_found(tmp_path: Path) -> None:
    path = tmp_path / "commented.zip"
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("a.py", "x = 1\n")
        bundle.comment = b"c" * 0xFFFF
    directory = read_zip_directory(path)
    assert directory is not None and directory.entries == 1


def test_an_end_record_signature_inside_a_member_does_not_fool_the_reader(tmp_path: Path) -> None:
    path = tmp_path / "decoy.zip"
    decoy = b"PK\x05\x06" + b"\x00\x00\x00\x00\x07\x00\x07\x00" + b"\xff" * 10
    with zipfile.ZipFile(path, "w") as bundle:
        bundle.writestr("a.bin", decoy, compress_type=zipfile.ZIP_STORED)
        bundle.writestr("b.py", "x = 1\n")
    directory = read_zip_directory(path)
    assert directory is not None and directory.entries == 2


def test_an_end_record_cut_short_is_no_directory(tmp_path: Path) -> None:
    path = tmp_path / "cut.zip"
    path.write_bytes(b"data" * 10 + b"PK\x05\x06" + b"\x00" * 17)  # one byte short of the 22
    assert read_zip_directory(path) is None


def _end_record(entries: int, size: int, offset: int) -> bytes:
    return b"PK\x05\x06" + struct.pack("<4H2LH", 0, 0, entries, entries, size, offset, 0)


def _zip64_locator(offset: int) -> bytes:
    return b"PK\x06\x07" + struct.pack("<LQL", 0, offset, 1)


def test_a_zip64_locator_pointing_past_the_end_is_no_directory(tmp_path: Path) -> None:
    """The locator opens the file, so it sits at the very start of what is read."""
    path = tmp_path / "past.zip"
    path.write_bytes(_zip64_locator(0) + _end_record(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF))
    assert read_zip_directory(path) is None


def test_a_zip64_locator_pointing_at_anything_but_a_zip64_record_is_no_directory(tmp_path: Path) -> None:
    path = tmp_path / "elsewhere.zip"
    path.write_bytes(b"\x00" * 56 + _zip64_locator(0) + _end_record(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF))
    assert read_zip_directory(path) is None


def test_a_zip64_record_ending_at_the_last_byte_of_the_file_is_read(tmp_path: Path) -> None:
    """The record may reach the very end (here it overlaps the locator and end record that follow
    its first 14 bytes): only a record that would pass the end is refused unread."""
    path = tmp_path / "tight.zip"
    path.write_bytes(b"PK\x06\x06" + b"\x00" * 10 + _zip64_locator(0) + _end_record(0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF))
    assert path.stat().st_size == 56
    assert read_zip_directory(path) is not None
