#!/usr/bin/env bash
# Runs Ward's whole test suite on this machine.
#
# Tests that need PostgreSQL read WARD_TEST_POSTGRES_URL; without it they print
# "SKIPPED" and pass. The Vault client tests use the hvac Python client, which
# this script installs into .venv when Python 3 is available; the scanner tests
# need git and openssl on PATH.
set -euo pipefail
cd "$(dirname "$0")/.."

export WARD_TEST_POSTGRES_URL="${WARD_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"

if command -v python3 >/dev/null 2>&1; then
    if [ ! -x .venv/bin/python ]; then
        python3 -m venv .venv
    fi
    .venv/bin/python -m pip install --quiet --disable-pip-version-check -r scripts/requirements-test.txt
    export WARD_HVAC_PYTHON="$PWD/.venv/bin/python"
    export WARD_REQUIRE_HVAC=1
else
    echo "WARNING: python3 not found; the hvac client tests will be SKIPPED" >&2
fi

if command -v cargo-nextest >/dev/null 2>&1; then
    cargo nextest run --workspace --no-fail-fast "$@"
else
    cargo test --workspace --no-fail-fast "$@"
fi
