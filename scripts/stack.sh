#!/usr/bin/env bash
# A production-like stack on this machine (issue 8; `make stack`):
#   PostgreSQL  a throwaway cluster (scripts/pg_throwaway.sh) in var/stack/pg
#   Redis       redis-server on a free loopback port, data in var/stack/redis
#   web         gunicorn, 3 workers, on 127.0.0.1:<free port> (deploy/gunicorn.conf.py)
#   worker      celery -A config worker --concurrency 2
#   beat        celery -A config beat -s var/stack/beat-schedule
# with production settings: DJANGO_DEBUG=false, whitenoise CompressedManifestStaticFilesStorage
# after collectstatic, secure cookies (clients send X-Forwarded-Proto: https, as nginx does), PII keys
# and a Redis cache from the environment, JSON logs in var/stack/logs/, `check --deploy` (errors fail),
# migrate + load_demo.
#
#   scripts/stack.sh up        start everything (fails, and cleans up, if any service does not start)
#   scripts/stack.sh smoke     tests/stack/smoke.py: login, upload a workbook, wait for it, statistics
#   scripts/stack.sh faults    tests/stack/test_faults.py (pytest -m stack): kill -9, PostgreSQL stop, …
#   scripts/stack.sh drill     scripts/backup.sh + scripts/restore_drill.sh against the stack's database
#   scripts/stack.sh load      scripts/load.sh (wrk) against the stack
#   scripts/stack.sh down      stop everything it started (by pid files) and remove its data
#   scripts/stack.sh status    what runs, and /healthz
#   scripts/stack.sh run       up + smoke, then stays in the foreground until Ctrl-C, then down (make stack)
#   scripts/stack.sh check     exit 0 when PostgreSQL and Redis are installed
#   scripts/stack.sh kill|stop|start web|worker|beat|redis|pg    one service (used by the fault tests)
#   scripts/stack.sh env       print the stack's environment (to `eval` or `source` it elsewhere)
#
# Knobs: STACK_DIR (var/stack), STACK_WEB_WORKERS (3), STACK_WORKER_CONCURRENCY (2),
# STACK_VISIBILITY_TIMEOUT (60 s: short, so the fault tests see a redelivery), STACK_SECURE_COOKIES
# (true), STACK_HOLD (1: `run` waits for Ctrl-C; 0: `run` stops after the smoke check), DEMO_PASSWORD.
set -euo pipefail

# shellcheck source=scripts/stack/lib.sh
. "$(dirname "$0")/stack/lib.sh"
cd "$ROOT"

SERVICES=(web worker beat) # started after PostgreSQL and Redis, stopped before them

manage() { (load_stack_env && "$PY" manage.py "$@"); }

missing_prerequisites() {
    MISSING=()
    pg_bin >/dev/null || MISSING+=("PostgreSQL server (apt-get install postgresql)")
    command -v redis-server >/dev/null 2>&1 || MISSING+=("redis-server (apt-get install redis-server)")
    [ ${#MISSING[@]} -gt 0 ]
}

# PostgreSQL and Redis; as root they are installed with apt-get when missing (SKIP_APT=1: never)
check_prerequisites() {
    if missing_prerequisites && [ "$(id -u)" -eq 0 ] && [ "${SKIP_APT:-}" != 1 ] && command -v apt-get >/dev/null; then
        slog "installing postgresql redis-server with apt-get"
        { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql redis-server; } \
            </dev/null >/dev/null || slog "apt-get failed"
    fi
    if missing_prerequisites; then
        slog "missing: $(printf '%s; ' "${MISSING[@]}")"
        return 1
    fi
}

cmd_check() {
    if missing_prerequisites; then
        slog "missing: $(printf '%s; ' "${MISSING[@]}")"
        return 1
    fi
    slog "prerequisites present"
}

# --- PostgreSQL --------------------------------------------------------------------------------
pg_dir() { cat "$STACK_DIR/pg.dir" 2>/dev/null || true; }

choose_pg_dir() {
    # var/stack/pg when the postgres OS user can reach it and the socket path fits, else /tmp
    local want=$STACK_DIR/pg
    mkdir -p "$want"
    if [ ${#want} -le 80 ] && { [ "$(id -u)" -ne 0 ] ||
        runuser -u "${PG_OS_USER:-postgres}" -- test -x "$STACK_DIR" 2>/dev/null; }; then
        echo "$want"
    else
        rmdir "$want" 2>/dev/null || true
        mktemp -d /tmp/fundpool-stack-pg.XXXXXX
    fi
}

start_pg_first_time() {
    local dir line
    dir=$(choose_pg_dir)
    echo "$dir" >"$STACK_DIR/pg.dir"
    line=$(bash scripts/pg_throwaway.sh start "$dir") || return 1
    sed -E "s/^export DATABASE_URL='(.*)'$/\1/" <<<"$line"
}

# stop PostgreSQL with `pg_ctl -m immediate` (like a crash; the cluster's files stay)
pg_stop_immediate() {
    local dir bin
    dir=$(pg_dir)
    bin=$(pg_bin)
    [ -n "$(pg_pid)" ] || { slog "PostgreSQL is not running"; return 0; }
    as_pg_user "$dir" "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null
    slog "PostgreSQL stopped (-m immediate)"
}

# start the stopped cluster again on its port, with pg_throwaway.sh's options
pg_start_again() {
    local dir bin port
    dir=$(pg_dir)
    bin=$(pg_bin)
    port=$(cat "$dir/port")
    [ -z "$(pg_pid)" ] || { slog "PostgreSQL is already running"; return 0; }
    as_pg_user "$dir" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
        start >/dev/null
    slog "PostgreSQL started again on 127.0.0.1:$port"
}

# --- Redis -------------------------------------------------------------------------------------
start_redis() {
    local port=$1 i
    mkdir -p "$STACK_DIR/redis"
    rm -f "$STACK_DIR/redis/redis.pid"
    # appendonly: queued tasks survive a Redis restart, as they must in production
    redis-server --port "$port" --bind 127.0.0.1 --protected-mode yes --daemonize yes \
        --dir "$STACK_DIR/redis" --pidfile "$STACK_DIR/redis/redis.pid" \
        --logfile "$LOG_DIR/redis.log" --appendonly yes --save "" >/dev/null
    for ((i = 0; i < 100; i++)); do
        if [ -s "$STACK_DIR/redis/redis.pid" ] && redis-cli -p "$port" ping 2>/dev/null | grep -q PONG; then
            cp "$STACK_DIR/redis/redis.pid" "$PID_DIR/redis.pid"
            return 0
        fi
        sleep 0.1
    done
    slog "Redis did not answer on port $port"
    return 1
}

# --- web, worker, beat ---------------------------------------------------------------------------
start_web() { spawn web "$VENV/bin/gunicorn" -c deploy/gunicorn.conf.py config.wsgi:application; }
start_worker() {
    spawn worker "$VENV/bin/celery" -A config worker --concurrency "${STACK_WORKER_CONCURRENCY:-2}" \
        -l info -n "stack@%h" --without-mingle --without-gossip
}
start_beat() { spawn beat "$VENV/bin/celery" -A config beat -s "$STACK_DIR/beat-schedule" -l info; }

wait_http_ok() { # url seconds
    "$PY" - "$1" "$2" <<'EOF'
import sys, time, urllib.request, urllib.error
url, limit = sys.argv[1], float(sys.argv[2])
deadline = time.monotonic() + limit
last = ""
while time.monotonic() < deadline:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers={"X-Forwarded-Proto": "https"}), timeout=5) as r:
            if r.status == 200:
                sys.exit(0)
    except urllib.error.HTTPError as e:
        last = f"HTTP {e.code}: {e.read()[:200]!r}"
    except OSError as e:
        last = str(e)
    time.sleep(0.3)
print(f"stack: {url} not ready in {limit:.0f}s: {last}", file=sys.stderr)
sys.exit(1)
EOF
}

# the worker logs "… ready." once it consumes; wait for that line written after `since` bytes
wait_worker_ready() { # seconds [since_bytes]
    local limit=$1 since=${2:-0} i
    for ((i = 0; i < limit * 5; i++)); do
        [ -n "$(service_pid worker)" ] || { slog "the worker exited"; return 1; }
        if tail -c +"$((since + 1))" "$LOG_DIR/worker.log" 2>/dev/null | grep -q 'ready\.'; then
            return 0
        fi
        sleep 0.2
    done
    slog "the worker was not ready in ${limit}s"
    return 1
}

wait_alive() { # name seconds: still running after that many seconds
    sleep "$2"
    [ -n "$(service_pid "$1")" ] || { slog "$1 exited right after starting"; return 1; }
}

start_service() {
    local name=$1 since
    load_stack_env
    [ -z "$(service_pid "$name")" ] || { slog "$name is already running"; return 0; }
    case "$name" in
    web) start_web && wait_http_ok "$STACK_URL/healthz" 60 ;;
    worker)
        since=$(stat -c %s "$LOG_DIR/worker.log" 2>/dev/null || echo 0)
        start_worker && wait_worker_ready 90 "$since"
        ;;
    beat) start_beat && wait_alive beat 2 ;;
    redis) start_redis "$STACK_REDIS_PORT" ;;
    pg) pg_start_again ;;
    *) sdie "unknown service $name" ;;
    esac
}

print_failure_logs() {
    local f
    for f in "$LOG_DIR"/*.log "$(pg_dir)/server.log"; do
        [ -s "$f" ] || continue
        echo "----- last lines of $f -----" >&2
        tail -n 25 "$f" >&2
    done
}

write_env() { # database_url redis_port web_port
    local secure=${STACK_SECURE_COOKIES:-true}
    {
        echo "# written by scripts/stack.sh up at $(date -Is); sourced by every stack verb"
        printf '%s=%q\n' \
            DJANGO_SETTINGS_MODULE config.settings \
            DATABASE_URL "$1" \
            CELERY_BROKER_URL "redis://127.0.0.1:$2/0" \
            DJANGO_CACHE_URL "redis://127.0.0.1:$2/1" \
            DJANGO_DEBUG false \
            DJANGO_SECRET_KEY "stack-$(random_hex 32)" \
            DJANGO_ALLOWED_HOSTS "127.0.0.1,localhost" \
            DJANGO_SECURE_COOKIES "$secure" \
            DJANGO_SECURE_SSL_REDIRECT false \
            DJANGO_STATICFILES_STORAGE whitenoise.storage.CompressedManifestStaticFilesStorage \
            DJANGO_STATIC_ROOT "$STACK_DIR/static" \
            DJANGO_MEDIA_ROOT "$STACK_DIR/media" \
            DJANGO_LOG_FORMAT json \
            DJANGO_LOG_LEVEL INFO \
            DJANGO_PROXY_COUNT 0 \
            PII_ENCRYPTION_KEY "$(python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())')" \
            PII_HASH_KEY "$(random_hex 32)" \
            PII_KEY_DIR "$STACK_DIR/keys" \
            CELERY_VISIBILITY_TIMEOUT "${STACK_VISIBILITY_TIMEOUT:-60}" \
            DEMO_PASSWORD "${DEMO_PASSWORD:-Stack-$(random_hex 6)}" \
            GUNICORN_BIND "127.0.0.1:$3" \
            GUNICORN_WORKERS "${STACK_WEB_WORKERS:-3}" \
            STACK_DIR "$STACK_DIR" \
            STACK_PG_DIR "$(pg_dir)" \
            STACK_REDIS_PORT "$2" \
            STACK_WEB_PORT "$3" \
            STACK_URL "http://127.0.0.1:$3"
    } >"$ENV_FILE"
    chmod 600 "$ENV_FILE"
}

check_deploy() {
    manage check --deploy >"$LOG_DIR/check_deploy.log" 2>&1 || { cat "$LOG_DIR/check_deploy.log" >&2; return 1; }
    grep -E '^\S+: \(' "$LOG_DIR/check_deploy.log" | sed 's/^/stack:   /' >&2 || true
}

load_demo() {
    # synchronous: with no broker the demo's tasks run eagerly, in this process
    (load_stack_env && CELERY_BROKER_URL="" "$PY" manage.py load_demo) >"$LOG_DIR/load_demo.log" 2>&1 ||
        { tail -n 30 "$LOG_DIR/load_demo.log" >&2; return 1; }
}

step() { # label command…: runs it, prints how long it took
    local label=$1 t0=$SECONDS
    shift
    slog "$label …"
    "$@" || { slog "$label FAILED"; return 1; }
    slog "$label done ($((SECONDS - t0))s)"
}

cmd_up() {
    local t0=$SECONDS db_url redis_port web_port name
    check_prerequisites || sdie "cannot start the stack without them"
    if [ -f "$ENV_FILE" ]; then
        for name in "${SERVICES[@]}" redis; do
            if [ -n "$(service_pid "$name")" ]; then
                sdie "a stack is already running from $STACK_DIR (scripts/stack.sh down first)"
            fi
        done
        slog "removing the leftovers of an earlier stack"
        cmd_down
    fi
    bash scripts/setup.sh
    mkdir -p "$STACK_DIR" "$PID_DIR" "$LOG_DIR" "$STACK_DIR/media" "$STACK_DIR/static"
    : >"$LOG_DIR/stack.log"

    # from here on a failure stops whatever was started (the caller's EXIT trap comes back after)
    local previous_trap
    previous_trap=$(trap -p EXIT)
    trap 'rc=$?; if [ $rc -ne 0 ]; then slog "up failed: cleaning up"; print_failure_logs; cmd_down; fi' EXIT

    db_url=$(start_pg_first_time) || { slog "PostgreSQL did not start"; return 1; }
    redis_port=$(free_port)
    web_port=$(free_port)
    write_env "$db_url" "$redis_port" "$web_port"
    step "Redis on 127.0.0.1:$redis_port" start_redis "$redis_port"
    step "migrate" manage migrate --noinput -v 0
    step "collectstatic (CompressedManifestStaticFilesStorage)" manage collectstatic --noinput -v 0
    step "check --deploy (errors fail; warnings listed)" check_deploy
    step "load_demo" load_demo
    step "web (gunicorn, ${STACK_WEB_WORKERS:-3} workers) on 127.0.0.1:$web_port" start_service web
    step "Celery worker" start_service worker
    step "Celery beat" start_service beat
    if [ -n "$previous_trap" ]; then eval "$previous_trap"; else trap - EXIT; fi
    load_stack_env
    slog "up in $((SECONDS - t0))s: $STACK_URL (health: $STACK_URL/healthz)"
    slog "  logins: bureau_admin, bank01 … with password \$DEMO_PASSWORD=$DEMO_PASSWORD (see $ENV_FILE)"
    slog "  logs (JSON lines): $LOG_DIR/{web,worker,beat,redis}.log; PostgreSQL: $(pg_dir)/server.log"
    slog "  clients must send X-Forwarded-Proto: https (secure cookies; nginx does this in production)"
}

cmd_down() {
    local name dir
    for name in beat worker web; do stop_service "$name" 15; done
    stop_service redis 10
    dir=$(pg_dir)
    if [ -n "$dir" ] && [ -d "$dir" ]; then
        bash scripts/pg_throwaway.sh stop "$dir" || slog "could not stop PostgreSQL in $dir"
    fi
    # keep the logs for a look afterwards; everything else goes
    rm -rf "$STACK_DIR/redis" "$STACK_DIR/pg" "$STACK_DIR/media" "$STACK_DIR/static" "$STACK_DIR/backups" \
        "$STACK_DIR/beat-schedule"* "$STACK_DIR/pg.dir" "$ENV_FILE" "$PID_DIR" "$STACK_DIR/work"
    slog "down (logs kept in $LOG_DIR)"
}

cmd_status() {
    local name pid rc=0
    load_stack_env
    for name in web worker beat redis pg; do
        if [ "$name" = pg ]; then pid=$(pg_pid); else pid=$(service_pid "$name"); fi
        if [ -n "$pid" ]; then
            printf '  %-7s running (pid %s)\n' "$name" "$pid"
        else
            printf '  %-7s NOT RUNNING\n' "$name"
            rc=1
        fi
    done
    "$PY" -c 'import sys, urllib.request as u
try:
    r = u.urlopen(sys.argv[1] + "/healthz", timeout=10); print("  healthz", r.status, r.read().decode())
except Exception as e:
    print("  healthz", e)' "$STACK_URL"
    return $rc
}

run_py() { # script args…: with the stack environment
    (load_stack_env && "$PY" "$@")
}

cmd_smoke() { run_py tests/stack/smoke.py "$@"; }

cmd_faults() {
    (
        load_stack_env
        "$PY" -m pytest tests/stack -m stack -s -v -p no:cacheprovider \
            -o addopts="--strict-markers" "$@"
    )
}

cmd_drill() {
    local out
    load_stack_env
    out="$STACK_DIR/backups/$(date +%Y%m%dT%H%M%S)"
    bash scripts/backup.sh "$out"
    bash scripts/restore_drill.sh "$out"
}

cmd_load() { (load_stack_env && bash scripts/load.sh "$@"); }

cmd_run() {
    local name
    trap 'cmd_down' EXIT
    trap 'echo; slog "stopping"; exit 0' INT TERM
    cmd_up
    cmd_smoke
    if [ "${STACK_HOLD:-1}" = "0" ]; then return 0; fi
    load_stack_env
    slog "the stack runs at $STACK_URL — Ctrl-C stops it"
    while sleep 5; do
        for name in "${SERVICES[@]}" redis; do
            [ -n "$(service_pid "$name")" ] || { slog "$name stopped unexpectedly; see $LOG_DIR/$name.log"; exit 1; }
        done
    done
}

verb=${1:-}
[ $# -gt 0 ] && shift
case "$verb" in
up) cmd_up ;;
down) cmd_down ;;
status) cmd_status ;;
smoke) cmd_smoke "$@" ;;
faults) cmd_faults "$@" ;;
drill) cmd_drill ;;
load) cmd_load "$@" ;;
run) cmd_run ;;
check) cmd_check ;;
env) cat "$ENV_FILE" ;;
kill) kill_service "${1:?service}" ;;
stop)
    case "${1:?service}" in
    pg) pg_stop_immediate ;;
    *) stop_service "$1" 15 ;;
    esac
    ;;
start) start_service "${1:?service}" ;;
*)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 2
    ;;
esac
