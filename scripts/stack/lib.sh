# shellcheck shell=bash
# Shared by scripts/stack.sh, scripts/load.sh, scripts/backup.sh and scripts/restore_drill.sh.
# Paths of the production-like stack and the helpers that start, find and stop its processes.
# Every process is started in its own session (setsid), so its pid is also its process group
# and stopping it stops its children (gunicorn's and Celery's workers) too. Nothing is ever
# found or stopped by name: only by the pid files written here.

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
STACK_DIR=${STACK_DIR:-$ROOT/var/stack}
ENV_FILE=$STACK_DIR/env
PID_DIR=$STACK_DIR/pids
LOG_DIR=$STACK_DIR/logs
VENV=$ROOT/.venv
PY=$VENV/bin/python

slog() {
    echo "stack: $*" >&2
    if [ -d "$LOG_DIR" ]; then echo "$(date -Is) $*" >>"$LOG_DIR/stack.log"; fi
}
sdie() { slog "ERROR: $*"; exit 1; }
is_ci() { [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; }

# Load the stack's environment (written by `stack.sh up`) into this shell, exported.
load_stack_env() {
    [ -f "$ENV_FILE" ] || sdie "the stack is not up ($ENV_FILE missing): run scripts/stack.sh up"
    set -a
    # shellcheck disable=SC1090
    . "$ENV_FILE"
    set +a
}

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

random_hex() { od -An -N"${1:-16}" -tx1 /dev/urandom | tr -d ' \n'; }

# Highest installed PostgreSQL major version's bin folder (as scripts/pg_throwaway.sh does).
pg_bin() {
    if [ -n "${PG_BIN:-}" ]; then echo "$PG_BIN"; return; fi
    local d best=""
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
        [ -x "$d/pg_ctl" ] && best=$d
    done
    if [ -z "$best" ] && command -v pg_ctl >/dev/null 2>&1; then best=$(dirname "$(command -v pg_ctl)"); fi
    [ -n "$best" ] || return 1
    echo "$best"
}

# Run a PostgreSQL binary as the cluster's OS user (postgres when we are root).
as_pg_user() {
    local dir=$1
    shift
    if [ "$(id -u)" -eq 0 ]; then
        (cd "$dir" && runuser -u "${PG_OS_USER:-postgres}" -- "$@")
    else
        (cd "$dir" && "$@")
    fi
}

pid_alive() { # pid: a live process, not a zombie
    local pid=$1
    [ -n "$pid" ] && [ -d "/proc/$pid" ] && ! awk '{exit ($3 == "Z") ? 0 : 1}' "/proc/$pid/stat" 2>/dev/null
}

# pid of a service from its pid file when that process is alive and is what we started
# (its command line contains the expected word), else empty.
service_pid() {
    local name=$1 word pid
    case "$name" in
    web) word=gunicorn ;;
    worker | beat) word=celery ;;
    redis) word=redis-server ;;
    *) return 1 ;;
    esac
    pid=$(cat "$PID_DIR/$name.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && pid_alive "$pid" && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q "$word"; then
        echo "$pid"
    fi
}

pg_pid() {
    local dir pid
    dir=$(cat "$STACK_DIR/pg.dir" 2>/dev/null || true)
    [ -n "$dir" ] || return 0
    pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
    if [ -n "$pid" ] && pid_alive "$pid"; then echo "$pid"; fi
}

# Signal a process group we started (pid == pgid thanks to setsid), or the pid alone.
signal_group() {
    local sig=$1 pid=$2
    if [ "$(ps -o pgid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ]; then
        kill -s "$sig" -- "-$pid" 2>/dev/null || true
    else
        kill -s "$sig" "$pid" 2>/dev/null || true
    fi
}

group_alive() { # any live process left in the group pgid? (zombies do not count: where PID 1
    # does not reap orphans, as in some containers, a stopped daemon stays a zombie)
    local pgid=$1
    ps -o stat= -g "$pgid" 2>/dev/null | grep -qv '^Z'
}

# Stop a service: SIGTERM to its leader, then after `grace` seconds SIGKILL to the group.
stop_service() {
    local name=$1 grace=${2:-15} pid i
    pid=$(service_pid "$name")
    if [ -z "$pid" ]; then
        rm -f "$PID_DIR/$name.pid"
        return 0
    fi
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 5; i++)); do
        pid_alive "$pid" || break
        sleep 0.2
    done
    # the children (gunicorn and Celery pool workers) follow their leader; whatever remains is killed
    signal_group TERM "$pid"
    sleep 0.5
    if pid_alive "$pid" || group_alive "$pid"; then
        slog "$name ($pid) did not stop in ${grace}s: SIGKILL"
        signal_group KILL "$pid"
        sleep 0.5
    fi
    rm -f "$PID_DIR/$name.pid"
}

# SIGKILL a service's whole process group at once (the fault tests' "kill -9").
kill_service() {
    local name=$1 pid
    pid=$(service_pid "$name")
    [ -n "$pid" ] || { slog "$name is not running"; return 1; }
    signal_group KILL "$pid"
    for _ in $(seq 50); do group_alive "$pid" || break; sleep 0.1; done
    rm -f "$PID_DIR/$name.pid"
    slog "$name: process group $pid killed with SIGKILL"
}

# Start CMD… in its own session with the stack's environment, output to logs/NAME.log.
spawn() {
    local name=$1
    shift
    (
        load_stack_env
        cd "$ROOT"
        exec setsid "$@"
    ) >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
    echo $! >"$PID_DIR/$name.pid"
}
