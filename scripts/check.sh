#!/usr/bin/env bash
# The README's test command: installs everything a fresh machine needs, then runs
# ruff (lint + format), mypy --strict (src and tests) and the test suite. Safe to run repeatedly.
set -euo pipefail
cd "$(dirname "$0")/.."

PYTHON=${PYTHON:-python3}
VENV=${AUTODOCS_VENV:-.venv}

if [ ! -x "$VENV/bin/python" ]; then
    "$PYTHON" -m venv "$VENV"
fi
# pip notes each configured local index that has no page for a name: noise here.
pip_install() {
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "$@" \
        2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}
# Every package comes pinned with its hashes from requirements/test.txt (regenerated on purpose
# by scripts/update-lock.sh), so a new release of ruff, mypy, pytest or anything else cannot
# change a run; the venv's own pip is used as it came with this Python.
pip_install --require-hashes -r requirements/test.txt
# AutoDocs itself, editable, built by the locked setuptools: nothing unpinned is fetched.
pip_install --no-deps --no-build-isolation -e .
# A dependency added to pyproject.toml without regenerating the lock is missing here: say so now.
if ! "$VENV/bin/python" -m pip check --disable-pip-version-check >/dev/null 2>&1; then
    "$VENV/bin/python" -m pip check --disable-pip-version-check 2>/dev/null || true
    echo "requirements/test.txt does not satisfy pyproject.toml: run bash scripts/update-lock.sh" >&2
    exit 1
fi

echo "== ruff check"; "$VENV/bin/python" -m ruff check src tests bench scripts
echo "== ruff format"; "$VENV/bin/python" -m ruff format --check src tests bench scripts
echo "== mypy --strict"; "$VENV/bin/python" -m mypy src tests
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
