"""Per-module figures of the last mutmut run (scripts/mutation.sh calls this).

Reads ``mutmut results --all true`` (one ``name: status`` line per mutant) and counts, for each
module listed in ``[tool.mutmut] only_mutate``, the mutants killed, survived, timed out and
otherwise, plus the lines marked ``# pragma: no mutate`` (equivalent mutants, never generated;
docs/mutation.md says why for each). Score is mutmut's: (killed + timeout) / (total - skipped).
Exit status 1 when a module scores under the goal or any mutant survived.
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from collections import Counter
from pathlib import Path

GOAL_PERCENT = 90.0
ROOT = Path(__file__).resolve().parents[1]
MUTMUT = Path(sys.executable).parent / "mutmut"


def module_name(path: str) -> str:
    """``src/autodocs/server/ratelimit.py`` -> ``autodocs.server.ratelimit``."""
    return path.removeprefix("src/").removesuffix(".py").replace("/", ".")


def statuses_by_module(modules: list[str]) -> dict[str, Counter[str]]:
    output = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    counts: dict[str, Counter[str]] = {module: Counter() for module in modules}
    for line in output.splitlines():
        name, separator, status = line.strip().rpartition(": ")
        if not separator:
            continue
        # Longest match first, so ``autodocs.index.fetch`` never counts under ``autodocs.index``.
        owner = next((m for m in sorted(modules, key=len, reverse=True) if name.startswith(m + ".")), None)
        if owner is not None:
            counts[owner][status] += 1
    return counts


def marked_lines(path: Path) -> int:
    return sum("# pragma: no mutate" in line for line in path.read_text(encoding="utf-8").splitlines())


def main() -> int:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    paths: list[str] = config["only_mutate"]
    modules = [module_name(path) for path in paths]
    counts = statuses_by_module(modules)
    columns = ("total", "killed", "surv", "tmout", "other", "equiv")
    print(f"{'module':<32} " + " ".join(f"{column:>6}" for column in columns) + f" {'score':>7}")
    failed = False
    for path, module in zip(paths, modules, strict=True):
        count = counts[module]
        total = sum(count.values())
        killed, survived, timeout = count["killed"], count["survived"], count["timeout"]
        other = total - killed - survived - timeout
        tested = total - count["skipped"]
        score = 100.0 * (killed + timeout) / tested if tested else 0.0
        failed = failed or survived > 0 or score < GOAL_PERCENT
        equivalent = marked_lines(ROOT / path)
        print(
            f"{module:<32} "
            + " ".join(f"{n:>6}" for n in (total, killed, survived, timeout, other, equivalent))
            + f" {score:>6.1f}%"
        )
    print("equiv: lines marked `# pragma: no mutate` (docs/mutation.md); other: no tests, suspicious, ...")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
