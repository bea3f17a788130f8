#!/usr/bin/env bash
# The stack stage of scripts/test.sh (CI): in a fresh STACK_DIR, run
#     scripts/stack.sh up; smoke; faults; drill
# each bounded by what is left of STACK_STAGE_TIMEOUT (600 s for the whole stage), and always
# `scripts/stack.sh down` at the end, on failure, timeout or interrupt too (trap).
# Closing lines:
#     stack totals: N passed, N failed, N skipped
#     stack detail: up …; smoke …; faults …; drill …
# Exit status 0 only when every step passed.
set -uo pipefail

cd "$(dirname "$0")/../.."
OWN_DIR=""
if [ -z "${STACK_DIR:-}" ]; then
    STACK_DIR=$(mktemp -d /tmp/fundpool-stack.XXXXXX)
    OWN_DIR=$STACK_DIR
fi
export STACK_DIR
LIMIT=${STACK_STAGE_TIMEOUT:-600}
DOWN_RESERVE=30
STARTED=$SECONDS
LOGS=$(mktemp -d /tmp/fundpool-stage-logs.XXXXXX)
RC=0
DETAIL=()
PASSED=0
FAILED_N=0
SKIPPED=0

finish() {
    local code=$?
    trap - EXIT INT TERM HUP
    echo "stage: stopping the stack" >&2
    timeout --kill-after=10 60 bash scripts/stack.sh down || echo "stage: down failed" >&2
    if [ -n "$OWN_DIR" ]; then rm -rf "$OWN_DIR"; fi
        [ "$RC" -ne 0 ] || RC=$code
    echo "stack totals: $PASSED passed, $FAILED_N failed, $SKIPPED skipped"
    echo "stack detail: ${DETAIL[*]:-nothing ran} (in $((SECONDS - STARTED))s)"
    exit "$RC"
}
trap finish EXIT
trap 'echo "stage: interrupted" >&2; RC=130; exit 130' INT TERM HUP

left() { echo $((LIMIT - DOWN_RESERVE - (SECONDS - STARTED))); }

show_logs() {
    local f
    for f in "$STACK_DIR"/logs/{web,worker,beat}.log; do
        [ -s "$f" ] || continue
        echo "----- last lines of $f -----" >&2
        tail -n 20 "$f" >&2
    done
}

step() { # name log command…: run bounded by the time left; returns its status
    local name=$1 log=$2 budget rc
    shift 2
    budget=$(left)
    if [ "$budget" -le 10 ]; then
        echo "stage: no time left for $name" >&2
        return 124
    fi
    echo "===== stack $name (at most ${budget}s) =====" >&2
    timeout --kill-after=15 "$budget" "$@" 2>&1 | tee "$log"
    rc=${PIPESTATUS[0]}
    [ "$rc" -ne 124 ] || echo "stage: $name timed out after ${budget}s" >&2
    return "$rc"
}

count() { # add "N passed / N failed / N skipped / N pending" of one closing line
    local line=$1 n
    n=$(grep -oE '[0-9]+ passed' <<<"$line" | head -n 1 | grep -oE '[0-9]+' || true)
    PASSED=$((PASSED + ${n:-0}))
    for n in $(grep -oE '[0-9]+ (failed|errors?)' <<<"$line" | grep -oE '[0-9]+' || true); do
        FAILED_N=$((FAILED_N + n))
    done
    n=$(grep -oE '[0-9]+ skipped' <<<"$line" | head -n 1 | grep -oE '[0-9]+' || true)
    SKIPPED=$((SKIPPED + ${n:-0}))
}


# --- up -----------------------------------------------------------------------------------------
if step up "$LOGS/up.log" bash scripts/stack.sh up; then
    DETAIL+=("up ok ($(grep -oE 'up in [0-9]+s' "$LOGS/up.log" | tail -n 1));")
else
    RC=1
    DETAIL+=("up FAILED: the stack did not start;")
    exit 1
fi

# --- smoke --------------------------------------------------------------------------------------
step smoke "$LOGS/smoke.log" bash scripts/stack.sh smoke
rc=$?
line=$(grep -E '^smoke: [0-9]+ passed' "$LOGS/smoke.log" | tail -n 1)
count "$line"
[ "$rc" -eq 0 ] || { RC=1; [ -n "$line" ] || FAILED_N=$((FAILED_N + 1)); show_logs; }
DETAIL+=("smoke ${line#smoke: }$([ "$rc" -eq 0 ] || echo " FAILED (exit $rc)");")

# --- faults -------------------------------------------------------------------------------------
step faults "$LOGS/faults.log" bash scripts/stack.sh faults
rc=$?
line=$(grep -E '^(=+ )?[0-9]+ (passed|failed|errors?|skipped)' "$LOGS/faults.log" | tail -n 1 | sed -E 's/^=+ //; s/ =+$//')
count "$line"
[ "$rc" -eq 0 ] || { RC=1; [ -n "$line" ] || FAILED_N=$((FAILED_N + 1)); show_logs; }
DETAIL+=("faults ${line:-no result}$([ "$rc" -eq 0 ] || echo " FAILED (exit $rc)");")
grep -E '^FAULT ' "$LOGS/faults.log" | sed 's/^/  /' >&2 || true

# --- restore drill ------------------------------------------------------------------------------
step drill "$LOGS/drill.log" bash scripts/stack.sh drill
rc=$?
if [ "$rc" -eq 0 ]; then
    PASSED=$((PASSED + 1))
    DETAIL+=("drill ok ($(grep -E '^DRILL (tables|rows|count_mismatches|reconcile) ' "$LOGS/drill.log" | cut -d' ' -f2- | paste -sd, -))")
else
    RC=1
    FAILED_N=$((FAILED_N + 1))
    DETAIL+=("drill FAILED (exit $rc)")
fi
