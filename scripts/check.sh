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
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -e ".[test,postgres]"

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
# The client interop tests drive the real MCP clients: the Inspector CLI and the TypeScript SDK,
# pinned in tests/clients/node (package-lock.json). They need Node.js 18+ (Debian's is 18).
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
    if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "== installing Node.js (for the client interop tests)"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nodejs npm >/dev/null
    else
        echo "warning: Node.js is not installed (and cannot apt-get it here): the client interop tests will be skipped" >&2
    fi
fi
if command -v npm >/dev/null 2>&1; then
    clients=tests/clients/node
    if [ ! -f "$clients/node_modules/.package-lock.json" ] \
        || [ "$clients/package-lock.json" -nt "$clients/node_modules/.package-lock.json" ]; then
        echo "== installing the MCP clients for the interop tests (npm ci)"
        (cd "$clients" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
fi
echo "== pytest"; "$VENV/bin/python" -m pytest "$@"
