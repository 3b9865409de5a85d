"""The docs unpacking policy on real (small) sdists built here, including hostile ones."""

from __future__ import annotations

import io
import os
import tarfile
import time
import zipfile
from pathlib import Path, PurePosixPath

import pytest

from autodocs.sources.doc_archive import DocArchiveLimits, unpack_docs
from tests.docset.sdists import SPHINX_PROJECT, TOP, add_tar_file, add_tar_link, make_sdist


def _names(result_files: list[PurePosixPath]) -> set[str]:
    return {p.as_posix() for p in result_files}


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_docs_trees_top_level_readmes_and_included_files_are_kept_code_is_not(tmp_path: Path, kind: str) -> None:
    archive = make_sdist(tmp_path, SPHINX_PROJECT, kind=kind)
    result = unpack_docs(archive, tmp_path / "out")
    names = _names(result.files)
    assert {"README.rst", "CHANGES.rst", "docs/conf.py", "docs/index.rst", "docs/usage.rst", "docs/api.rst"} <= names
    assert "docs_src/tutorial/retry.py" in names  # named by a literalinclude
    assert "setup.py" not in names and "demo/__init__.py" not in names
    assert result.warnings == []


def test_includes_are_followed_transitively(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "docs/index.rst": "Index\n=====\n\n.. include:: ../parts/a.rst\n",
        "parts/a.rst": ".. include:: b.rst\n",
        "parts/b.rst": "B text\n",
        "parts/unused.rst": "never named\n",
    }
    result = unpack_docs(make_sdist(tmp_path, files), tmp_path / "out")
    assert {"parts/a.rst", "parts/b.rst"} <= _names(result.files)
    assert "parts/unused.rst" not in _names(result.files)


def test_traversal_and_absolute_paths_are_never_written(tmp_path: Path) -> None:
    archive = tmp_path / "evil.tar.gz"
    with tarfile.open(archive, "w:gz") as bundle:
        add_tar_file(bundle, f"{TOP}/docs/index.rst", b"Fine\n")
        add_tar_file(bundle, f"{TOP}/docs/../../escaped.rst", b"escaped\n")
        add_tar_file(bundle, "/tmp/absolute-autodocs.rst", b"absolute\n")
    out = tmp_path / "deep" / "out"
    result = unpack_docs(archive, out)
    assert _names(result.files) == {"docs/index.rst"}
    assert not (tmp_path / "escaped.rst").exists() and not (tmp_path / "deep" / "escaped.rst").exists()
    assert any("outside" in w for w in result.warnings)


def test_zip_traversal_is_never_written(tmp_path: Path) -> None:
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        bundle.writestr(f"{TOP}/docs/index.rst", "Fine\n")
        bundle.writestr(f"{TOP}/docs/../../../escaped.rst", "escaped\n")
    result = unpack_docs(archive, tmp_path / "out")
    assert _names(result.files) == {"docs/index.rst"}
    assert not (tmp_path / "escaped.rst").exists()


def test_symlinks_and_hardlinks_are_skipped_with_a_warning(tmp_path: Path) -> None:
    archive = tmp_path / "links.tar.gz"
    with tarfile.open(archive, "w:gz") as bundle:
        add_tar_file(bundle, f"{TOP}/docs/index.rst", b".. include:: passwd.rst\n")
        add_tar_link(bundle, f"{TOP}/docs/passwd.rst", "/etc/passwd")
        add_tar_link(bundle, f"{TOP}/docs/hard.rst", "/etc/passwd", hard=True)
    result = unpack_docs(archive, tmp_path / "out")
    assert _names(result.files) == {"docs/index.rst"}
    assert not any(p.is_symlink() for p in (tmp_path / "out").rglob("*"))
    assert any("links" in w for w in result.warnings)


def test_zip_symlink_is_skipped(tmp_path: Path) -> None:
    archive = tmp_path / "links.zip"
    with zipfile.ZipFile(archive, "w") as bundle:
        link = zipfile.ZipInfo(f"{TOP}/docs/passwd.rst")
        link.external_attr = 0o120777 << 16
        bundle.writestr(link, "/etc/passwd")
        bundle.writestr(f"{TOP}/docs/index.rst", "Fine\n")
    result = unpack_docs(archive, tmp_path / "out")
    assert _names(result.files) == {"docs/index.rst"}


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_a_bomb_stops_within_the_expansion_budget(tmp_path: Path, kind: str) -> None:
    zeros = b"\0" * (64 << 20)  # compresses to ~64 KB
    archive = make_sdist(tmp_path, {"docs/a.rst": "A\n", "docs/bomb.txt": zeros, "docs/z.rst": "Z\n"}, kind=kind)
    limits = DocArchiveLimits(max_file_bytes=128 << 20, expansion_limit=20)
    started = time.monotonic()
    result = unpack_docs(archive, tmp_path / "out", limits)
    assert time.monotonic() - started < 10
    written = sum(p.stat().st_size for p in (tmp_path / "out").rglob("*") if p.is_file())
    assert written <= 20 * archive.stat().st_size + (1 << 16) * 20
    assert any("bomb" in w for w in result.warnings)


def test_a_header_that_understates_its_size_cannot_write_more(tmp_path: Path) -> None:
    archive = make_sdist(tmp_path, {"docs/big.rst": b"x" * 200_000})
    result = unpack_docs(archive, tmp_path / "out", DocArchiveLimits(max_file_bytes=100_000))
    assert "docs/big.rst" not in _names(result.files)


def test_too_many_entries_stops_at_the_cap_with_a_warning(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f"docs/p{i}.rst": "x\n" for i in range(1_200)}
    result = unpack_docs(make_sdist(tmp_path, files), tmp_path / "out", DocArchiveLimits(max_members=1_000))
    assert len(result.files) <= 1_000
    assert any("1000 entries" in w for w in result.warnings)


def test_an_sdist_over_the_size_cap_is_not_unpacked(tmp_path: Path) -> None:
    archive = make_sdist(tmp_path, {"docs/index.rst": os.urandom(50_000)})
    result = unpack_docs(archive, tmp_path / "out", DocArchiveLimits(max_sdist_bytes=10_000))
    assert result.files == []
    assert any("AUTODOCS_MAX_SDIST_BYTES" in w for w in result.warnings)


def test_binary_rst_is_dropped_and_invalid_utf8_is_named(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {"docs/binary.rst": b"\x89PNG\r\n\x1a\n\0\0\0IHDR", "docs/latin.rst": b"caf\xe9\n"}
    result = unpack_docs(make_sdist(tmp_path, files), tmp_path / "out")
    assert _names(result.files) == {"docs/latin.rst"}
    assert any("binary" in w for w in result.warnings)
    assert any("UTF-8" in w for w in result.warnings)


@pytest.mark.parametrize("content", [b"", b"not an archive at all", b"\x1f\x8b\x08\x00garbage"])
def test_a_damaged_archive_is_a_warning_not_an_exception(tmp_path: Path, content: bytes) -> None:
    archive = tmp_path / "broken.tar.gz"
    archive.write_bytes(content)
    result = unpack_docs(archive, tmp_path / "out")
    assert result.files == []
    assert result.warnings


def test_a_truncated_archive_keeps_what_came_before(tmp_path: Path) -> None:
    archive = make_sdist(tmp_path, {"docs/a.rst": "A\n", "docs/b.rst": os.urandom(300_000).hex()})
    data = archive.read_bytes()
    archive.write_bytes(data[: len(data) // 2])
    result = unpack_docs(archive, tmp_path / "out")
    assert "docs/a.rst" in _names(result.files)
    assert any("damaged" in w for w in result.warnings)


def test_a_member_named_like_a_folder_file_clash_is_skipped(tmp_path: Path) -> None:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as bundle:
        add_tar_file(bundle, f"{TOP}/docs/x.rst", b"file\n")
        add_tar_file(bundle, f"{TOP}/docs/x.rst/inner.rst", b"inner\n")
        add_tar_file(bundle, f"{TOP}/docs/x.rst/deeper/inner.rst", b"inner\n")
        add_tar_file(bundle, f"{TOP}/docs/y.rst", b"after\n")
    archive = tmp_path / "clash.tar.gz"
    archive.write_bytes(buffer.getvalue())
    result = unpack_docs(archive, tmp_path / "out")
    assert _names(result.files) == {"docs/x.rst", "docs/y.rst"}


def test_files_named_by_markdown_includes_from_a_parent_folder_are_kept(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {
        "docs/en/mkdocs.yml": "site_name: Demo\n",
        "docs/en/docs/tutorial/first.md": (
            "```Python\n{!../../../docs_src/first.py!}\n```\n\n{* ../../docs_src/second.py hl[1] *}\n"
        ),
        "docs_src/first.py": "print(1)\n",
        "docs_src/second.py": "print(2)\n",
        "docs_src/unused.py": "print(3)\n",
    }
    names = _names(unpack_docs(make_sdist(tmp_path, files), tmp_path / "out").files)
    assert {"docs_src/first.py", "docs_src/second.py"} <= names and "docs_src/unused.py" not in names


def test_kept_files_past_their_cap_are_not_written(tmp_path: Path) -> None:
    files: dict[str, str | bytes] = {f"docs/p{i}.rst": "x\n" for i in range(50)}
    result = unpack_docs(make_sdist(tmp_path, files), tmp_path / "out", DocArchiveLimits(max_kept_files=20))
    assert len(result.files) == 20
    assert any("more than 20 docs files" in w for w in result.warnings)
