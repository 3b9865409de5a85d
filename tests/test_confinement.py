"""Project paths stay inside AUTODOCS_ALLOWED_ROOTS, also while a link is flipped underfoot."""

from __future__ import annotations

import errno
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from autodocs.config import Settings
from autodocs.confine import UNCONFINED, Confinement, _open_beneath
from autodocs.errors import AutoDocsError, PathNotAllowed
from autodocs.service import AutoDocsService

#: Scans per race test: enough for the unfixed code to lose (it did in about 1 of 4 calls).
RACE_CALLS = 300


@pytest.fixture
def tree(tmp_path: Path) -> tuple[Path, Path]:
    """``allowed/inside`` and ``outside``, each a project whose manifest names its own package."""
    allowed, outside = tmp_path / "allowed", tmp_path / "outside"
    (allowed / "inside").mkdir(parents=True)
    outside.mkdir()
    (allowed / "inside" / "requirements.txt").write_text("inside-package\n")
    (outside / "requirements.txt").write_text("outside-secret\n")
    return allowed, outside


def test_a_link_inside_the_root_is_followed_and_one_leading_out_is_refused(tree: tuple[Path, Path]) -> None:
    allowed, outside = tree
    os.symlink(allowed / "inside", allowed / "good")
    os.symlink(outside, allowed / "bad")
    roots = Confinement.of([allowed])
    assert roots.read_bytes(allowed / "good" / "requirements.txt", 100) == b"inside-package\n"
    with pytest.raises(PathNotAllowed):
        roots.read_bytes(allowed / "bad" / "requirements.txt", 100)
    with pytest.raises(PathNotAllowed):
        roots.list_directory(allowed / "bad")
    assert UNCONFINED.read_bytes(allowed / "bad" / "requirements.txt", 100) == b"outside-secret\n"


def test_a_fifo_is_refused_without_blocking(tree: tuple[Path, Path]) -> None:
    allowed, _ = tree
    os.mkfifo(allowed / "inside" / "pipe")
    with pytest.raises(OSError):
        Confinement.of([allowed]).read_bytes(allowed / "inside" / "pipe", 100)


@contextmanager
def flipping(link: Path, first: Path, second: Path) -> Iterator[None]:
    """Re-point ``link`` between ``first`` and ``second`` in a loop, from a thread, while the block runs."""
    done = threading.Event()
    spare = link.with_name(link.name + ".next")

    def loop() -> None:
        turn = 0
        while not done.is_set():
            turn ^= 1
            spare.unlink(missing_ok=True)
            os.symlink(first if turn else second, spare)
            os.replace(spare, link)  # atomic: the link always exists, pointing one way or the other
            time.sleep(0.0002)  # lets the scan's threads run: a new state every few hundred microseconds

    thread = threading.Thread(target=loop, daemon=True)
    thread.start()
    try:
        yield
    finally:
        done.set()
        thread.join(5)


async def _scan_many(settings: Settings, allowed: Path, project: Path) -> tuple[int, int]:
    read_inside = read_outside = 0
    async with AutoDocsService.running(settings, allowed_roots=[allowed]) as service:
        for _ in range(RACE_CALLS):
            try:
                result = await service.scan(str(project))
            except AutoDocsError:
                continue
            names = {dependency.name for dependency in result.dependencies}
            read_outside += "outside-secret" in names
            read_inside += "inside-package" in names
    return read_inside, read_outside


async def test_project_link_flipped_between_inside_and_outside_never_reads_outside(
    settings: Settings, tree: tuple[Path, Path]
) -> None:
    allowed, outside = tree
    project = allowed / "project"
    os.symlink(allowed / "inside", project)
    with flipping(project, outside, allowed / "inside"):
        read_inside, read_outside = await _scan_many(settings, allowed, project)
    assert read_outside == 0
    assert read_inside > 0  # the link inside the root is still followed


def test_a_folder_swapped_for_a_link_after_resolving_is_not_opened(tree: tuple[Path, Path]) -> None:
    """The window itself, made wide: the path is resolved, then a folder on it becomes a link out."""
    allowed, outside = tree
    (outside / "requirements.txt").write_text("outside-secret\n")
    real = Confinement.of([allowed]).resolve(allowed / "inside" / "requirements.txt")
    os.rename(allowed / "inside", allowed / "away")
    os.symlink(outside, allowed / "inside")
    with pytest.raises(OSError) as caught:
        _open_beneath(allowed, real, directory=False)
    assert caught.value.errno in (errno.ELOOP, errno.ENOTDIR)
    with pytest.raises(PathNotAllowed):  # resolved again: now it leads out
        Confinement.of([allowed]).read_bytes(allowed / "inside" / "requirements.txt", 100)
