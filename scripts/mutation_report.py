"""Per-module figures of the last mutmut run (scripts/mutation.sh calls this).

Reads ``mutmut results --all true`` (one ``name: status`` line per mutant) and counts, for each
module listed in ``[tool.mutmut] only_mutate``, the mutants killed, survived, timed out and
otherwise. Equivalent mutants come in two kinds, both explained in docs/mutation.md:

* ``marked``: lines marked ``# pragma: no mutate`` (mutmut generates no mutant there);
* ``listed``: survivors on lines that also carry killable mutants, listed in the table
  "Equivalent survivors" of docs/mutation.md by module, function and mutated line (the ``+``
  line of ``mutmut show``, or ``(removed) LINE`` for a removed line), so that the listing
  survives renumbering.

Score: (killed + timeout) / (total - skipped - listed). Exit status 1 when a module scores under
the goal or an unlisted mutant survived.
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
LISTING = ROOT / "docs" / "mutation.md"
LISTING_SECTION = "## Equivalent survivors"


def module_name(path: str) -> str:
    """``src/autodocs/server/ratelimit.py`` -> ``autodocs.server.ratelimit``."""
    return path.removeprefix("src/").removesuffix(".py").replace("/", ".")


def function_name(mutant: str, module: str) -> str:
    """``autodocs.index.fetch.xǁJsonFetcherǁ_read_capped__mutmut_5`` -> ``_read_capped``;
    ``autodocs.index.fetch.x__outcome__mutmut_3`` -> ``_outcome``."""
    mangled = mutant[len(module) + 1 :].rsplit("__mutmut_", 1)[0]
    return mangled.split("ǁ")[-1] if "ǁ" in mangled else mangled.removeprefix("x_")


def listed_equivalents() -> set[tuple[str, str, str]]:
    """(module, function, mutated line) of each row of the listing's table."""
    rows: set[tuple[str, str, str]] = set()
    in_section = False
    for line in LISTING.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            in_section = line.strip() == LISTING_SECTION
        elif in_section and line.startswith("| `"):
            cells = [cell.strip().strip("`") for cell in line.strip("|").split("|")]
            rows.add((module_name("src/autodocs/" + cells[0]), cells[1], cells[2]))
    return rows


def mutated_lines(mutant: str) -> set[str]:
    """The ``+`` lines of the mutant's diff; for a mutant that only removes lines, each removed
    line as ``(removed) LINE``."""
    diff = subprocess.run([str(MUTMUT), "show", mutant], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    lines = diff.splitlines()
    added = {line[1:].strip() for line in lines if line.startswith("+") and not line.startswith("+++")}
    removed = {line[1:].strip() for line in lines if line.startswith("-") and not line.startswith("---")}
    return added or {f"(removed) {line}" for line in removed}


def statuses_by_module(modules: list[str]) -> dict[str, Counter[str]]:
    output = subprocess.run(
        [str(MUTMUT), "results", "--all", "true"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    listed = listed_equivalents()
    counts: dict[str, Counter[str]] = {module: Counter() for module in modules}
    for line in output.splitlines():
        name, separator, status = line.strip().rpartition(": ")
        if not separator:
            continue
        # Longest match first, so ``autodocs.index.fetch`` never counts under ``autodocs.index``.
        owner = next((m for m in sorted(modules, key=len, reverse=True) if name.startswith(m + ".")), None)
        if owner is None:
            continue
        if status == "survived":
            function = function_name(name, owner)
            if any((owner, function, mutated) in listed for mutated in mutated_lines(name)):
                status = "listed"
        counts[owner][status] += 1
    return counts


def marked_lines(path: Path) -> int:
    return sum("# pragma: no mutate" in line for line in path.read_text(encoding="utf-8").splitlines())


def main() -> int:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["mutmut"]
    paths: list[str] = config["only_mutate"]
    modules = [module_name(path) for path in paths]
    counts = statuses_by_module(modules)
    columns = ("total", "killed", "surv", "tmout", "other", "marked", "listed")
    print(f"{'module':<28} " + " ".join(f"{column:>6}" for column in columns) + f" {'score':>7}")
    failed = False
    for path, module in zip(paths, modules, strict=True):
        count = counts[module]
        total = sum(count.values())
        killed, survived, timeout, listed = count["killed"], count["survived"], count["timeout"], count["listed"]
        other = total - killed - survived - timeout - listed
        tested = total - count["skipped"] - listed
        score = 100.0 * (killed + timeout) / tested if tested else 0.0
        failed = failed or survived > 0 or score < GOAL_PERCENT
        figures = (total, killed, survived, timeout, other, marked_lines(ROOT / path), listed)
        print(f"{module:<28} " + " ".join(f"{n:>6}" for n in figures) + f" {score:>6.1f}%")
    print("marked: lines with `# pragma: no mutate`; listed: equivalent survivors (docs/mutation.md);")
    print("other: no tests, suspicious, not checked. score: (killed + timeout) / (total - skipped - listed)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
