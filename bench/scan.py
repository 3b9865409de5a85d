"""Scan a synthetic 200-package uv workspace: how long scan_project takes, and files per second.

The monorepo is built in a temporary folder: a root pyproject.toml declaring
``[tool.uv.workspace] members = ["packages/*"]``, 200 members each with a pyproject.toml
(PEP 621 dependencies, an optional extra, a PEP 735 group, a uv source on a sibling) and
every fourth one a requirements-dev.txt, plus a uv.lock pinning everything.

Goal (issue: manifests): a 200-package monorepo scans in under a second. Run: python bench/scan.py
"""

from __future__ import annotations

import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from autodocs.manifests.scan import scan_project

MEMBERS = 200
ROUNDS = 5
THIRD_PARTY = [f"dep-{n:03d}" for n in range(150)]


def build_monorepo(root: Path) -> None:
    (root / "pyproject.toml").write_text(
        '[project]\nname = "mono"\nversion = "0"\ndependencies = ["pkg-000"]\n'
        '[tool.uv.workspace]\nmembers = ["packages/*"]\n[tool.uv.sources]\npkg-000 = { workspace = true }\n'
    )
    lock = ['version = 1\nrequires-python = ">=3.11"\n']
    for index in range(MEMBERS):
        name = f"pkg-{index:03d}"
        folder = root / "packages" / name
        folder.mkdir(parents=True)
        deps = [f'"{THIRD_PARTY[(index * 7 + k) % len(THIRD_PARTY)]}>=1.{k}"' for k in range(8)]
        sibling = f"pkg-{(index + 1) % MEMBERS:03d}"
        listed = "".join(f"    {dep},\n" for dep in [*deps, f'"{sibling}"'])
        (folder / "pyproject.toml").write_text(
            f'[project]\nname = "{name}"\nversion = "0.1.0"\ndependencies = [\n{listed}]\n'
            "[project.optional-dependencies]\nfast = [\"orjson>=3 ; platform_python_implementation == 'CPython'\"]\n"
            '[dependency-groups]\ntest = ["pytest>=8", "hypothesis"]\n'
            f"[tool.uv.sources]\n{sibling} = {{ workspace = true }}\n"
        )
        if index % 4 == 0:
            (folder / "requirements-dev.txt").write_text("ruff>=0.6\nmypy>=1.11 --hash=sha256:00\n")
        lock.append(f'[[package]]\nname = "{name}"\nversion = "0.1.0"\nsource = {{ editable = "packages/{name}" }}\n')
    for dep in [*THIRD_PARTY, "orjson", "pytest", "hypothesis", "ruff", "mypy", "iniconfig"]:
        registry = '{ registry = "https://example.invalid/simple" }'
        lock.append(f'[[package]]\nname = "{dep}"\nversion = "1.9.0"\nsource = {registry}\n')
    (root / "uv.lock").write_text("\n".join(lock))


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        build_monorepo(root)
        timings = []
        for _ in range(ROUNDS):
            started = time.perf_counter()
            result = scan_project(root)
            timings.append(time.perf_counter() - started)
        assert not result.errors, result.errors[:3]
        files = len(result.files_read)
        median = statistics.median(timings)
        counts = f"dependencies={len(result.dependencies)} locked_only={len(result.locked_only)}"
        print(f"members={MEMBERS} files={files} {counts}")
        print(f"scan median={median * 1000:.0f} ms best={min(timings) * 1000:.0f} ms files/s={files / median:,.0f}")
        print(f"goal < 1000 ms: {'met' if median < 1.0 else 'NOT met'}")


if __name__ == "__main__":
    main()
