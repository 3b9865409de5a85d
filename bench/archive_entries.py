"""Peak memory of refusing a wheel with 740,001 entries: the end-record pre-check against zipfile.

The probe of the security issue: a 63.5 MB wheel listing 740,001 (empty) entries cost +400 MB per
call, because :class:`zipfile.ZipFile` parses the whole central directory on open and the count
was checked afterwards. The wheel is built here (in a temporary folder), then each way of
refusing it runs in a fresh child process that reports its own peak RSS (``VmHWM``; Linux):

  * baseline: the child imports what the refusal needs, and nothing else;
  * zipfile (before): ``zipfile.ZipFile(path).infolist()``, then the count is compared;
  * end record (now): :func:`autodocs.sources.zip_directory.read_zip_directory`, then
    ``could_hold_more_than(AUTODOCS_MAX_ARCHIVE_ENTRIES)`` — the check archives.py makes
    before zipfile ever sees the file.

Run: python bench/archive_entries.py [ENTRIES]   (no network; about a minute to build the wheel)
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRIES = int(sys.argv[1]) if len(sys.argv) > 1 else 740_001
CAP = 50_000

CHILD = """
import json, pathlib, re, sys, time, zipfile
sys.path.insert(0, {src!r})
from autodocs.sources.zip_directory import read_zip_directory
def high_water_kib():  # VmHWM starts afresh at exec (ru_maxrss would carry the parent's peak over)
    return int(re.search(r"VmHWM:\\s+(\\d+)", pathlib.Path("/proc/self/status").read_text()).group(1))
path, how, cap = sys.argv[1], sys.argv[2], int(sys.argv[3])
before = high_water_kib()
started = time.perf_counter()
if how == "zipfile":
    with zipfile.ZipFile(path) as bundle:
        refused = len(bundle.infolist()) > cap
elif how == "end-record":
    refused = read_zip_directory(pathlib.Path(path)).could_hold_more_than(cap)
else:
    refused = None
elapsed = time.perf_counter() - started
after = high_water_kib()
print(json.dumps({{"refused": refused, "peak_kib": after, "growth_kib": after - before, "seconds": elapsed}}))
"""


def build(path: Path, entries: int) -> None:
    with zipfile.ZipFile(path, "w") as wheel:
        wheel.writestr("probe/__init__.py", "x = 1\n")
        wheel.writestr("probe-1.0.dist-info/METADATA", "Metadata-Version: 2.1\nName: probe\nVersion: 1.0\n")
        for index in range(entries - 2):
            wheel.writestr(f"{index:x}", "")


def measure(path: Path, how: str) -> dict[str, float]:
    code = CHILD.format(src=str(ROOT / "src"))
    out = subprocess.run(
        [sys.executable, "-c", code, str(path), how, str(CAP)], capture_output=True, text=True, check=True, timeout=600
    )
    result: dict[str, float] = json.loads(out.stdout)
    return result


def main() -> int:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "probe-1.0-py3-none-any.whl"
        started = time.perf_counter()
        build(path, ENTRIES)
        print(f"built {ENTRIES:,} entries, {path.stat().st_size / 1e6:.1f} MB in {time.perf_counter() - started:.1f} s")
        rows = {how: measure(path, how) for how in ("baseline", "zipfile", "end-record")}
    base = rows["baseline"]["peak_kib"]
    print(f"{'refusal':12} {'refused':>8} {'peak RSS MiB':>13} {'over baseline MiB':>18} {'time ms':>9}")
    for how, row in rows.items():
        print(
            f"{how:12} {row['refused']!s:>8} {row['peak_kib'] / 1024:13.1f} {(row['peak_kib'] - base) / 1024:18.1f} "
            f"{row['seconds'] * 1000:9.1f}"
        )
    zip_cost = rows["zipfile"]["peak_kib"] - base
    record_cost = max(rows["end-record"]["peak_kib"] - base, 1)
    print(f"memory over baseline, zipfile / end record (at least 1 KiB): {zip_cost / record_cost:.0f}x")
    return 0 if rows["end-record"]["refused"] and record_cost < 4096 else 1


if __name__ == "__main__":
    raise SystemExit(main())
