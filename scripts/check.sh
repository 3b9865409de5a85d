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
# The cache tests start their own PostgreSQL server from the installed binaries.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing PostgreSQL (for the cache tests)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
        echo "warning: PostgreSQL is not installed (and cannot apt-get it here): its cache tests will be skipped" >&2
    fi
fi
echo "== pytest"; "$VENV/bin/python" -m pytest "$@"
