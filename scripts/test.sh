#!/usr/bin/env bash
# The whole suite (`make test`):
#   setup            scripts/setup.sh (.venv + requirements)
#   system packages  scripts/ensure_system_packages.sh (PostgreSQL, Redis, Chromium, fonts, poppler)
#   lint             ruff check .
#   pytest sqlite    pytest -m "not e2e"                      (embedded SQLite, eager Celery)
#   pytest postgres  pytest -m "not e2e" with DATABASE_URL    (throwaway cluster; `postgres` tests run)
#   pytest e2e       pytest -m e2e tests/e2e                  (Playwright + /usr/bin/chromium, SQLite)
#   stack            scripts/stack/stage.sh: the production-like stack (PostgreSQL, Redis, gunicorn, Celery
#                    worker and beat) up, its smoke check, the fault tests, the restore drill, down (≤ 10 min)
# Every stage runs even when an earlier one failed; a summary follows; exit status 1 if any failed.
# Under CI=true a missing PostgreSQL, Redis or Chromium is a failure; otherwise the stage is reported as
# not run, with the reason (SKIP_STACK=1 skips the stack stage outside CI). pytest's "no tests collected" (exit 5) is accepted for e2e only.
set -euo pipefail

cd "$(dirname "$0")/.."
PY=.venv/bin/python
LOG_DIR=$(mktemp -d /tmp/fundpool-test-logs.XXXXXX)
PG_DIR=""

is_ci() { [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; }

cleanup() {
    if [ -n "$PG_DIR" ]; then
        bash scripts/pg_throwaway.sh stop "$PG_DIR" || true
        PG_DIR=""
    fi
    rm -rf "$LOG_DIR"
}
trap cleanup EXIT
trap 'echo "test.sh: interrupted" >&2; exit 130' INT TERM HUP

STAGES=()
RESULTS=()
FAILED=0
TOTAL_PASSED=0
TOTAL_FAILED=0
TOTAL_SKIPPED=0

record() { # name result [detail]
    STAGES+=("$1")
    RESULTS+=("$2${3:+  ($3)}")
    case "$2" in FAIL*) FAILED=1 ;; esac
}

banner() { printf '\n===== %s =====\n' "$*"; }

# pytest's closing line, e.g. "12 passed, 1 skipped in 3.40s"
pytest_tally() {
    grep -E '^(=+ )?[0-9]+ (passed|failed|skipped|errors?|deselected|xfailed|xpassed)|no tests ran' "$1" |
        tail -n 1 | sed -E 's/^=+ //; s/ =+$//' || true
}

add_counts() {
    local line=$1 n
    n=$(grep -oE '[0-9]+ passed' <<<"$line" | grep -oE '[0-9]+' || true)
    TOTAL_PASSED=$((TOTAL_PASSED + ${n:-0}))
    n=$(grep -oE '[0-9]+ failed' <<<"$line" | grep -oE '[0-9]+' || true)
    TOTAL_FAILED=$((TOTAL_FAILED + ${n:-0}))
    n=$(grep -oE '[0-9]+ errors?' <<<"$line" | grep -oE '[0-9]+' || true)
    TOTAL_FAILED=$((TOTAL_FAILED + ${n:-0}))
    n=$(grep -oE '[0-9]+ skipped' <<<"$line" | grep -oE '[0-9]+' || true)
    TOTAL_SKIPPED=$((TOTAL_SKIPPED + ${n:-0}))
}

# run_pytest NAME ALLOW_EMPTY(0|1) [env assignments…] -- pytest args…
run_pytest() {
    local name=$1 allow_empty=$2 log rc tally
    shift 2
    local envs=()
    while [ "$1" != "--" ]; do
        envs+=("$1")
        shift
    done
    shift
    log="$LOG_DIR/$(tr ' ' '_' <<<"$name").log"
    banner "$name: pytest$(printf ' %q' "$@")${envs[*]+ (with ${envs[*]%%=*} set)}"
    set +e
    env -u DATABASE_URL -u CELERY_BROKER_URL -u REQUIRE_POSTGRES ${envs[@]+"${envs[@]}"} \
        "$PY" -m pytest "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    set -e
    tally=$(pytest_tally "$log")
    add_counts "$tally"
    if [ "$rc" -eq 0 ]; then
        record "$name" PASS "$tally"
    elif [ "$rc" -eq 5 ] && [ "$allow_empty" = 1 ]; then
        record "$name" "PASS" "no tests collected yet"
    elif [ "$rc" -eq 5 ]; then
        record "$name" FAIL "no tests collected (pytest exit 5)"
    else
        record "$name" FAIL "pytest exit $rc${tally:+; $tally}"
    fi
}

have_postgres() {
    local f
    for f in /usr/lib/postgresql/*/bin/initdb; do [ -x "$f" ] && return 0; done
    command -v initdb >/dev/null 2>&1
}

# --- setup ------------------------------------------------------------------------------
banner "setup"
if bash scripts/setup.sh; then
    record "setup" PASS
else
    record "setup" FAIL "scripts/setup.sh"
fi

banner "system packages"
if bash scripts/ensure_system_packages.sh; then
    record "system packages" PASS
else
    record "system packages" FAIL "see messages above"
fi

if [ ! -x "$PY" ]; then
    echo "test.sh: $PY is missing: nothing more can run" >&2
    record "lint (ruff)" "FAIL" "no virtualenv"
else
    # --- lint ---------------------------------------------------------------------------
    banner "lint: ruff check ."
    if .venv/bin/ruff check .; then
        record "lint (ruff)" PASS
    else
        record "lint (ruff)" FAIL
    fi

    # --- SQLite -------------------------------------------------------------------------
    run_pytest "pytest sqlite" 0 -- -m "not e2e"

    # --- PostgreSQL ---------------------------------------------------------------------
    if ! have_postgres; then
        if is_ci; then
            record "pytest postgres" FAIL "PostgreSQL (initdb) not installed; CI=true"
        else
            echo "test.sh: PostgreSQL server binaries not installed: the PostgreSQL stage was NOT run" >&2
            record "pytest postgres" "NOT RUN" "PostgreSQL not installed (apt-get install postgresql)"
        fi
    else
        banner "pytest postgres: starting a throwaway cluster"
        PG_DIR=$(mktemp -d /tmp/fundpool-pg.XXXXXX)
        if bash scripts/pg_throwaway.sh start "$PG_DIR" >/dev/null; then
            PG_URL=$(cat "$PG_DIR/database_url")
            run_pytest "pytest postgres" 0 "DATABASE_URL=$PG_URL" REQUIRE_POSTGRES=1 -- -m "not e2e"
        else
            record "pytest postgres" FAIL "throwaway PostgreSQL did not start"
        fi
        bash scripts/pg_throwaway.sh stop "$PG_DIR" || true
        PG_DIR=""
    fi

    # --- browser ------------------------------------------------------------------------
    if [ ! -x /usr/bin/chromium ]; then
        if is_ci; then
            record "pytest e2e" FAIL "/usr/bin/chromium not installed; CI=true"
        else
            echo "test.sh: /usr/bin/chromium not installed: the browser tests were NOT run" >&2
            record "pytest e2e" "NOT RUN" "/usr/bin/chromium not installed (apt-get install chromium)"
        fi
    else
        run_pytest "pytest e2e" 1 -- -m e2e tests/e2e
    fi

    # --- production-like stack ----------------------------------------------------------
    if ! bash scripts/stack.sh check >/dev/null 2>&1; then
        if is_ci; then
            record "stack" FAIL "PostgreSQL or Redis not installed; CI=true"
        else
            echo "test.sh: PostgreSQL or Redis not installed: the stack stage was NOT run" >&2
            record "stack" "NOT RUN" "PostgreSQL or Redis not installed"
        fi
    elif [ "${SKIP_STACK:-}" = 1 ] && ! is_ci; then
        record "stack" "NOT RUN" "SKIP_STACK=1"
    else
        banner "stack: up, smoke, faults, restore drill, down (scripts/stack/stage.sh)"
        set +e
        env -u DATABASE_URL -u CELERY_BROKER_URL -u STACK_DIR bash scripts/stack/stage.sh 2>&1 | tee "$LOG_DIR/stack.log"
        rc=${PIPESTATUS[0]}
        set -e
        add_counts "$(grep -E '^stack totals: ' "$LOG_DIR/stack.log" | tail -n 1)"
        detail=$(grep -E '^stack detail: ' "$LOG_DIR/stack.log" | tail -n 1 | sed 's/^stack detail: //')
        if [ "$rc" -eq 0 ]; then
            record "stack" PASS "$detail"
        else
            record "stack" FAIL "exit $rc; $detail"
        fi
    fi
fi

# --- summary ----------------------------------------------------------------------------
banner "summary"
for i in "${!STAGES[@]}"; do
    printf '  %-18s %s\n' "${STAGES[$i]}" "${RESULTS[$i]}"
done
if [ "$FAILED" -eq 0 ]; then
    echo "test.sh: all stages that ran passed"
else
    echo "test.sh: SOME STAGES FAILED"
fi
echo "tests: $TOTAL_PASSED passed, $TOTAL_FAILED failed, $TOTAL_SKIPPED skipped"
exit "$FAILED"
