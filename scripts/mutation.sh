#!/usr/bin/env bash
# Mutation testing of the resilience core with mutmut 3. Too slow for CI: scripts/check.sh does
# not call it. The modules mutated and the tests run against them are listed in one place,
# [tool.mutmut] in pyproject.toml; docs/mutation.md lists the mutants marked as equivalent.
#
#   scripts/mutation.sh                # mutate every listed module, print the per-module figures
#   scripts/mutation.sh 'autodocs.memo*'   # only mutants whose name matches (mutmut's globs)
#
# Runs under `nice` (a shared machine); MUTATION_JOBS sets mutmut's worker count (default 2).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${AUTODOCS_VENV:-.venv}
JOBS=${MUTATION_JOBS:-2}
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test,mutation]"

# mutmut keeps results in mutants/ and reuses those of unchanged functions; a fresh run is
# what the figures in the report must come from, so start clean unless asked not to.
if [ "${MUTATION_KEEP:-0}" != "1" ]; then
    rm -rf mutants
fi
nice -n 15 "$VENV/bin/mutmut" run --max-children "$JOBS" "$@" || true
"$VENV/bin/python" scripts/mutation_report.py
