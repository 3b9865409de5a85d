#!/usr/bin/env bash
# The README's test command: installs everything a fresh machine needs, then runs
# ruff (lint + format), mypy --strict and the test suite. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${AUTODOCS_VENV:-.venv}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip >/dev/null 2>&1 || true
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test]"

echo "== ruff check"; "$VENV/bin/python" -m ruff check src tests bench scripts
echo "== ruff format"; "$VENV/bin/python" -m ruff format --check src tests bench scripts
echo "== mypy --strict"; "$VENV/bin/python" -m mypy src
echo "== pytest"; "$VENV/bin/python" -m pytest "$@"
