#!/usr/bin/env bash
# Regenerates requirements/test.txt, the lock scripts/check.sh installs the test environment
# from: every package of pyproject.toml's runtime dependencies and its `test` and `postgres`
# extras, plus the build backend (setuptools), pinned with their hashes.
#
# Run it on purpose, after changing dependencies in pyproject.toml (or to take new releases),
# then run scripts/check.sh and commit both files:
#     bash scripts/update-lock.sh                            keep every pin that still fits
#     bash scripts/update-lock.sh --upgrade                  newest releases of everything
#     bash scripts/update-lock.sh --upgrade-package ruff     newest ruff, the rest kept
#
# pip-tools resolves with this machine's pip configuration (its extra indexes and find-links
# folder), the same pip check.sh installs with, so the hashes cover the files pip will pick
# here and in CI. The lock is for CPython 3.11 on Linux x86_64, the machines we test on.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
TOOLS=${AUTODOCS_LOCK_VENV:-.venv-lock}
PIP_TOOLS_VERSION=7.6.2

if [ ! -x "$TOOLS/bin/pip-compile" ] || ! "$TOOLS/bin/pip-compile" --version | grep -q " $PIP_TOOLS_VERSION\$"; then
    "$PYTHON" -m venv "$TOOLS"
    "$TOOLS/bin/python" -m pip install --quiet --disable-pip-version-check "pip-tools==$PIP_TOOLS_VERSION"
fi

mkdir -p requirements
# --all-build-deps: setuptools too, so check.sh builds the editable install without fetching
# anything unpinned. Index and find-links options stay out of the file: pip's own
# configuration supplies them on each machine.
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
"$TOOLS/bin/pip-compile" --quiet \
    --extra test --extra postgres --all-build-deps \
    --generate-hashes --allow-unsafe --strip-extras \
    --no-emit-index-url --no-emit-find-links \
    --output-file requirements/test.txt \
    "$@" pyproject.toml 2>"$log" || status=$?
# pip's notes about a configured index without a page for some name are noise here.
grep -v "is ignored: it is neither a file nor a directory" "$log" >&2 || true
[ "$status" -eq 0 ] || exit "$status"
echo "requirements/test.txt: $(grep -c '==' requirements/test.txt) packages pinned"
