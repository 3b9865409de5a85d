"""How often the API reference's signatures agree with ``inspect.signature``, over every package
installed in this environment.

For each installed distribution: its code is read statically (as ``get_api_reference`` does),
30 public callables are sampled with a fixed seed (top-level functions and classes of the
package and its public submodules, and methods of public classes — the sampler of
``tests/docs/test_api_signatures.py``), the package is then imported (here, by the benchmark,
never by AutoDocs) and each sampled callable's parameter names, kinds and defaults are compared
with ``inspect.signature``. Prints per-package and overall agreement.

Goal (issue: API reference): >= 99% agreement for sampled public callables of installed packages.
Run: python bench/api_signatures.py [--packages NAME ...]
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.metadata
import io
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
from tests.docs.test_api_signatures import SAMPLE, SITE, _compare, _expected, _public_callables

from autodocs.docs.api import describe, load_package
from autodocs.sources.environment import open_environment

#: Not libraries: importing them runs a program or needs an optional extra to import at all.
SKIP = {"pip", "setuptools", "wheel", "_distutils_hack", "pkg_resources", "autodocs", "tests"}


def measure(distribution: str) -> tuple[str, int, list[str], float] | None:
    environment = open_environment(SITE)
    assert environment is not None
    installed = environment.distribution(distribution)
    if installed is None:
        return None
    package = installed.top_level[0]
    if package in SKIP or package.startswith("_"):
        return None
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            callables = _public_callables(package)
    except BaseException:
        return None
    if not callables:
        return None
    started = time.perf_counter()
    loaded = load_package(
        list(installed.search_paths), installed.top_level, focus=package, deadline=time.monotonic() + 120
    )
    seconds = time.perf_counter() - started
    sample = random.Random(f"autodocs-{package}").sample(callables, min(SAMPLE, len(callables)))
    compared, problems = 0, []
    for path, value in sample:
        if _expected(path, value) is None:
            continue
        compared += 1
        try:
            root, _ = describe(loaded, path)
        except Exception as exc:
            problems.append(f"{path}: {type(exc).__name__}")
            continue
        try:
            problem = _compare(root, path, value)
        except Exception as exc:  # the comparison itself failed (an exotic default)
            problem = f"{path}: comparison failed ({type(exc).__name__})"
        if problem:
            problems.append(problem)
    return package, compared, problems, seconds


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--packages", nargs="*", help="distribution names (default: every installed one)")
    args = parser.parse_args()
    names = args.packages or sorted({d.metadata["Name"] for d in importlib.metadata.distributions(path=[str(SITE)])})
    total = wrong = 0
    for name in names:
        result = measure(name)
        if result is None:
            continue
        package, compared, problems, seconds = result
        total += compared
        wrong += len(problems)
        print(f"{package:28} read {seconds:5.2f} s  compared {compared:3d}  disagree {len(problems)}")
        for problem in problems[:3]:
            print(f"    {problem[:160]}")
    if not total:
        print("nothing compared")
        return 1
    print(f"overall: {total - wrong}/{total} agree = {(total - wrong) / total:.1%} (goal >= 99%)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
