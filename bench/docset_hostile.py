"""Hostile sdists at full size, with the default limits: time and memory of the docs unpacking and build.

The tests use low caps to stay fast; this runs the real sizes once:

- 100,000 small pages in ``docs/`` (the entry cap is 100,000: all are unpacked, the first
  ``MAX_PAGES`` read);
- 100,001 entries (one past the cap: unpacking stops with a warning);
- a gzip bomb: one 1 GiB ``docs/`` member of zeros (about 1 MB compressed);
- a zip bomb: 20 members of 64 MiB zeros each;
- a page that includes itself, and 1,000 pages including ``/etc/passwd``.

Each case runs in a fresh child process so its peak memory (``ru_maxrss``) is its own.

    python -m bench.docset_hostile
"""

from __future__ import annotations

import io
import json
import resource
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from pathlib import Path

TOP = "hostile-1.0"


def _tar(path: Path, members: list[tuple[str, bytes]]) -> None:
    with tarfile.open(path, "w:gz", compresslevel=1) as bundle:
        for name, data in members:
            info = tarfile.TarInfo(f"{TOP}/{name}")
            info.size = len(data)
            bundle.addfile(info, io.BytesIO(data))


def _tar_zeros(path: Path, size: int) -> None:
    class Zeros(io.RawIOBase):
        def __init__(self) -> None:
            self.left = size

        def readable(self) -> bool:
            return True

        def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
            count = min(len(buffer), self.left)
            buffer[:count] = bytes(count)
            self.left -= count
            return count

    with tarfile.open(path, "w:gz", compresslevel=9) as bundle:
        info = tarfile.TarInfo(f"{TOP}/docs/index.rst")
        info.size = 6
        bundle.addfile(info, io.BytesIO(b"Index\n"))
        info = tarfile.TarInfo(f"{TOP}/docs/bomb.rst")
        info.size = size
        bundle.addfile(info, io.BufferedReader(Zeros()))


def _zip_bomb(path: Path) -> None:
    block = bytes(64 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as bundle:
        for index in range(20):
            bundle.writestr(f"{TOP}/docs/p{index}.rst", block)


def make_cases(folder: Path) -> dict[str, Path]:
    cases = {}
    many = [(f"docs/p{i:06}.rst", f"Page {i}\n=========\n\nText.\n".encode()) for i in range(100_000)]
    cases["100,000 pages"] = folder / "many.tar.gz"
    _tar(cases["100,000 pages"], many)
    cases["100,001 entries"] = folder / "over.tar.gz"
    _tar(cases["100,001 entries"], [*many, ("docs/last.rst", b"x\n")])
    cases["gzip bomb 1 GiB"] = folder / "gzbomb.tar.gz"
    _tar_zeros(cases["gzip bomb 1 GiB"], 1 << 30)
    cases["zip bomb 20 x 64 MiB"] = folder / "bomb.zip"
    _zip_bomb(cases["zip bomb 20 x 64 MiB"])
    includes = [("docs/index.rst", b"Index\n=====\n\n.. include:: index.rst\n")]
    includes += [
        (f"docs/p{i}.rst", b".. include:: /etc/passwd\n\n.. literalinclude:: ../../../etc/passwd\n")
        for i in range(1000)
    ]
    cases["recursive + /etc/passwd includes"] = folder / "includes.tar.gz"
    _tar(cases["recursive + /etc/passwd includes"], includes)
    return cases


def run_case(archive: Path) -> dict[str, object]:
    """In the child: unpack and build, then report time, memory and what was kept."""
    from autodocs.docset.build import build_docset_from_sdist

    target = archive.parent / f"out-{archive.stem}"
    started = time.perf_counter()
    docset = build_docset_from_sdist(archive, target)
    seconds = time.perf_counter() - started
    shutil.rmtree(target, ignore_errors=True)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    leaked = any("root:" in page.text for page in docset.pages)
    return {"seconds": seconds, "peak_mb": peak_mb, "pages": len(docset.pages), "leak": leaked,
            "warnings": sorted({w.split(": ", 1)[-1][:70] for w in docset.warnings})[:3]}  # fmt: skip


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--case":
        print(json.dumps(run_case(Path(sys.argv[2]))))
        return
    folder = Path(tempfile.mkdtemp(prefix="autodocs-hostile-"))
    try:
        started = time.perf_counter()
        cases = make_cases(folder)
        print(f"built the archives in {time.perf_counter() - started:.1f} s")
        for name, archive in cases.items():
            child = subprocess.run(
                [sys.executable, "-m", "bench.docset_hostile", "--case", str(archive)],
                capture_output=True,
                text=True,
                check=True,
            )
            report = json.loads(child.stdout.strip().splitlines()[-1])
            size = archive.stat().st_size / 1e6
            print(
                f"{name:34} {size:7.1f} MB  {report['seconds']:6.2f} s  peak {report['peak_mb']:6.0f} MB  "
                f"pages {report['pages']:6}  leak {report['leak']}  {report['warnings']}"
            )
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
