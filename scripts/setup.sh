#!/usr/bin/env bash
# Idempotent developer setup: a virtualenv in .venv with requirements-dev.txt.
#
# - finds python3.11 (or any python3 >= 3.11; $PYTHON overrides);
# - creates .venv when it is missing or broken;
# - runs pip only when requirements*.txt changed since the last successful
#   install (their hash is kept in .venv/.requirements.sha256).
# Quiet on success; pip's errors are shown.
set -euo pipefail

cd "$(dirname "$0")/.."
VENV=.venv
STAMP="$VENV/.requirements.sha256"

py_ok() {
    # true when "$1" runs and is Python >= 3.11
    "$1" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' >/dev/null 2>&1
}

find_python() {
    local c
    for c in "${PYTHON:-}" python3.11 python3 python3.12 python3.13; do
        [ -n "$c" ] || continue
        if command -v "$c" >/dev/null 2>&1 && py_ok "$c"; then
            command -v "$c"
            return 0
        fi
    done
    return 1
}

if [ -d "$VENV" ] && ! py_ok "$VENV/bin/python"; then
    echo "setup: $VENV is broken or too old; recreating it" >&2
    rm -rf "$VENV"
fi

if [ ! -x "$VENV/bin/python" ]; then
    if ! PY=$(find_python); then
        echo "setup: ERROR: no Python >= 3.11 found (tried python3.11, python3; set PYTHON=/path/to/python)" >&2
        exit 1
    fi
    echo "setup: creating $VENV with $PY ($("$PY" --version 2>&1))" >&2
    "$PY" -m venv "$VENV"
fi

req_hash() {
    # every requirements file counts (requirements-dev.txt includes requirements.txt)
    cat requirements*.txt | sha256sum | cut -d' ' -f1
}

want=$(req_hash)
have=$(cat "$STAMP" 2>/dev/null || true)
if [ "$want" != "$have" ]; then
    echo "setup: installing requirements-dev.txt into $VENV" >&2
    export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1
    # this machine's pip config may name local find-links folders that do not exist:
    # drop pip's warnings about those, keep everything else (errors included)
    set +e
    "$VENV/bin/python" -m pip install -q -r requirements-dev.txt 2>&1 |
        grep -v -E "^WARNING: Location 'file:[^']*' is ignored" >&2
    rc=${PIPESTATUS[0]}
    set -e
    if [ "$rc" -ne 0 ]; then
        echo "setup: ERROR: pip install -r requirements-dev.txt failed (exit $rc)" >&2
        exit "$rc"
    fi
    echo "$want" >"$STAMP"
fi
