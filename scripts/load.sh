#!/usr/bin/env bash
# Load test of the running stack (scripts/stack.sh up; `scripts/stack.sh load` runs this).
# For each endpoint, one bounded run of wrk (Debian package wrk; a Python generator in
# tests/load/loadgen.py when wrk is missing) against 127.0.0.1 only, and two lines:
#     BENCH load_<name>_rps <value> req/s
#     BENCH load_<name>_p95_ms <value> ms
# Endpoints: healthz (/healthz, the trivial reference: one SELECT 1 and a broker ping),
# stats (/api/public/stats/, else / until it exists), loans (/api/bank/loans/ as bank01, token auth,
# first page of 50), lookup (/enterprise/lookup/: the anonymous lookup page; the lookup itself is a
# POST throttled per client address by design, so loading it would measure the throttle).
# An endpoint that does not answer 200 yet is reported as skipped, with its status.
# Knobs: LOAD_SECONDS (5, at most 15 per run), LOAD_CONNECTIONS (8), LOAD_THREADS (2), LOAD_TOOL (wrk|python).
set -euo pipefail

# shellcheck source=scripts/stack/lib.sh
. "$(dirname "$0")/stack/lib.sh"
cd "$ROOT"
[ -n "${STACK_URL:-}" ] || load_stack_env

SECONDS_PER_RUN=${LOAD_SECONDS:-5}
[ "$SECONDS_PER_RUN" -le 15 ] || SECONDS_PER_RUN=15
CONNECTIONS=${LOAD_CONNECTIONS:-8}
THREADS=${LOAD_THREADS:-2}
TOOL=${LOAD_TOOL:-}
if [ -z "$TOOL" ]; then
    if command -v wrk >/dev/null 2>&1; then TOOL=wrk; else TOOL=python; fi
fi
case "$STACK_URL" in
http://127.* | http://localhost*) ;;
*) sdie "load tests run against loopback only, not $STACK_URL" ;;
esac

# the stack serves HTTPS semantics behind a proxy; say so, as nginx would
COMMON_HEADERS=("X-Forwarded-Proto: https")

bank_token() {
    if [ -n "${STACK_BANK_TOKEN:-}" ]; then echo "$STACK_BANK_TOKEN"; return; fi
    "$PY" manage.py drf_create_token bank01 2>/dev/null | grep -oE '[0-9a-f]{40}' | head -n 1
}

status_of() { # path header…
    local path=$1
    shift
    "$PY" - "$STACK_URL$path" "$@" <<'EOF'
import sys, urllib.request, urllib.error
req = urllib.request.Request(sys.argv[1])
for h in sys.argv[2:]:
    k, v = h.split(":", 1)
    req.add_header(k.strip(), v.strip())
try:
    with urllib.request.urlopen(req, timeout=20) as r:
        print(r.status)
except urllib.error.HTTPError as e:
    print(e.code)
except OSError:
    print("unreachable")
EOF
}

run_one() { # name path header…
    local name=$1 path=$2 line code args=()
    shift 2
    local headers=("${COMMON_HEADERS[@]}" "$@")
    code=$(status_of "$path" "${headers[@]}")
    if [ "$code" != 200 ]; then
        echo "load: $name skipped: GET $path answered $code (not available yet?)" >&2
        SKIPPED+=("$name ($path: $code)")
        return 0
    fi
    local h
    for h in "${headers[@]}"; do args+=(-H "$h"); done
    echo "load: $name: GET $path for ${SECONDS_PER_RUN}s, $CONNECTIONS connections ($TOOL)" >&2
    if [ "$TOOL" = wrk ]; then
        line=$(wrk -t"$THREADS" -c"$CONNECTIONS" -d"${SECONDS_PER_RUN}s" --timeout 10s --latency \
            -s tests/load/report.lua "${args[@]}" "$STACK_URL$path" | tee -a "$LOG_DIR/load.log" | grep '^WRKRESULT' || true)
    else
        line=$("$PY" tests/load/loadgen.py "$STACK_URL$path" --seconds "$SECONDS_PER_RUN" \
            --connections "$CONNECTIONS" "${args[@]}" | tee -a "$LOG_DIR/load.log" | grep '^WRKRESULT' || true)
    fi
    [ -n "$line" ] || { echo "load: $name: no result" >&2; FAILED=1; return 0; }
    local rps p95 p50 non2xx errs requests
    rps=$(grep -oE 'rps=[0-9.]+' <<<"$line" | cut -d= -f2)
    p50=$(grep -oE 'p50_ms=[0-9.]+' <<<"$line" | cut -d= -f2)
    p95=$(grep -oE 'p95_ms=[0-9.]+' <<<"$line" | cut -d= -f2)
    non2xx=$(grep -oE 'non2xx=[0-9]+' <<<"$line" | cut -d= -f2)
    errs=$(grep -oE 'socket_errors=[0-9]+' <<<"$line" | cut -d= -f2)
    requests=$(grep -oE 'requests=[0-9]+' <<<"$line" | cut -d= -f2)
    echo "BENCH load_${name}_rps $rps req/s"
    echo "BENCH load_${name}_p95_ms $p95 ms"
    SUMMARY+=("$(printf '%-8s %-34s %8s req/s  p50 %7s ms  p95 %7s ms  requests %6s  non-2xx %s  socket errors %s' \
        "$name" "$path" "$rps" "$p50" "$p95" "$requests" "$non2xx" "$errs")")
    if [ "${non2xx:-0}" -gt 0 ] || [ "${errs:-0}" -gt 0 ]; then
        echo "load: $name: $non2xx non-2xx answers and $errs socket errors of $requests requests" >&2
    fi
}

mkdir -p "$LOG_DIR"
SUMMARY=()
SKIPPED=()
FAILED=0
TOKEN=$(bank_token || true)

run_one healthz /healthz
if [ "$(status_of /api/public/stats/ "${COMMON_HEADERS[@]}")" = 200 ]; then
    run_one stats /api/public/stats/
else
    echo "load: /api/public/stats/ not available yet: measuring the public home page / instead" >&2
    run_one home /
fi
if [ -n "$TOKEN" ]; then
    run_one loans /api/bank/loans/ "Authorization: Token $TOKEN"
else
    SKIPPED+=("loans (no token for bank01)")
fi
run_one lookup /enterprise/lookup/

echo
echo "load: $(date -Is) $STACK_URL, $TOOL, ${SECONDS_PER_RUN}s per endpoint, $CONNECTIONS connections, $(nproc) cores"
printf '  %s\n' "${SUMMARY[@]}"
[ ${#SKIPPED[@]} -eq 0 ] || printf '  skipped: %s\n' "${SKIPPED[@]}"
exit "$FAILED"
