#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests and benchmarks.
#
#   scripts/pg_throwaway.sh start [DIR]   initdb in DIR (default: a new /tmp/fundpool-pg.XXXXXX),
#                                         start it on a free 127.0.0.1 port, create role and
#                                         database "fundpool"; prints one line on stdout:
#                                             export DATABASE_URL='postgres://fundpool:…@127.0.0.1:PORT/fundpool'
#                                         (so `eval "$(scripts/pg_throwaway.sh start DIR)"` works);
#                                         the URL is also written to DIR/database_url.
#   scripts/pg_throwaway.sh stop DIR      `pg_ctl -m immediate stop`, then removes DIR.
#   scripts/pg_throwaway.sh exec CMD …    start in a new temp folder, run CMD with DATABASE_URL
#                                         exported, stop and clean up; exits with CMD's status.
#
# Works with Debian's postgresql package (binaries in /usr/lib/postgresql/N/bin, off PATH;
# PG_BIN=/path/to/bin overrides). As root, the server runs as the "postgres" user
# (PG_OS_USER overrides) through runuser, since PostgreSQL refuses to run as root.
# Never touches Debian's own cluster (port 5432, /var/run/postgresql).
set -euo pipefail

MARKER=.fundpool-throwaway-pg
ROLE=fundpool
DBNAME=fundpool

log() { echo "pg_throwaway: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

find_pg_bin() {
    if [ -n "${PG_BIN:-}" ]; then
        [ -x "$PG_BIN/initdb" ] || die "PG_BIN=$PG_BIN has no initdb"
        echo "$PG_BIN"
        return
    fi
    local d best=""
    # highest major version wins (15 < 16 …): sort -V on the folder names
    for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V); do
        [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && best=$d
    done
    if [ -z "$best" ] && command -v initdb >/dev/null 2>&1; then
        best=$(dirname "$(command -v initdb)")
    fi
    [ -n "$best" ] || die "PostgreSQL server binaries (initdb, pg_ctl) not found: apt-get install postgresql"
    echo "$best"
}

os_user() {
    if [ "$(id -u)" -eq 0 ]; then
        echo "${PG_OS_USER:-postgres}"
    else
        id -un
    fi
}

# Run a PostgreSQL binary as the unprivileged OS user, from inside the cluster folder
# (so a cwd such as /root that the user cannot enter causes no trouble).
as_pg() {
    local dir=$1
    shift
    if [ "$(id -u)" -eq 0 ]; then
        (cd "$dir" && runuser -u "$(os_user)" -- "$@")
    else
        (cd "$dir" && "$@")
    fi
}

free_port() {
    python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

random_password() {
    od -An -N16 -tx1 /dev/urandom | tr -d ' \n'
}

cmd_start() {
    local dir=${1:-}
    local bin user port pw url attempt started=0
    bin=$(find_pg_bin)
    user=$(os_user)
    if [ -z "$dir" ]; then
        dir=$(mktemp -d /tmp/fundpool-pg.XXXXXX)
    fi
    mkdir -p "$dir"
    dir=$(cd "$dir" && pwd)
    [ -e "$dir/data" ] && die "$dir/data already exists (stop the old cluster first: $0 stop $dir)"
    # the socket path must fit in sun_path (107 bytes)
    [ ${#dir} -le 80 ] || die "folder path too long for a Unix socket: $dir"
    touch "$dir/$MARKER"

    if [ "$(id -u)" -eq 0 ]; then
        id "$user" >/dev/null 2>&1 || die "OS user '$user' does not exist (it comes with Debian's postgresql package; or set PG_OS_USER)"
        chown -R "$user:" "$dir"
        chmod 700 "$dir"
        runuser -u "$user" -- test -w "$dir" ||
            die "user $user cannot write $dir (is a parent folder closed to it? use a folder under /tmp)"
    fi

    as_pg "$dir" "$bin/initdb" -D "$dir/data" -U postgres -E UTF8 --no-locale \
        --auth-local=trust --auth-host=scram-sha-256 >"$dir/initdb.log" 2>&1 ||
        { cat "$dir/initdb.log" >&2; die "initdb failed"; }

    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        if as_pg "$dir" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
            -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
            start >/dev/null; then
            started=1
            break
        fi
        log "start on port $port failed (attempt $attempt); server log:"
        tail -n 5 "$dir/server.log" >&2 || true
    done
    [ "$started" = 1 ] || die "could not start PostgreSQL"
    echo "$port" >"$dir/port"

    pw=$(random_password)
    as_pg "$dir" "$bin/psql" -X -q -h "$dir" -p "$port" -U postgres -d postgres -v ON_ERROR_STOP=1 \
        -c "CREATE ROLE $ROLE LOGIN CREATEDB PASSWORD '$pw'" \
        -c "CREATE DATABASE $DBNAME OWNER $ROLE" >/dev/null ||
        die "could not create role/database (server log: $dir/server.log)"

    url="postgres://$ROLE:$pw@127.0.0.1:$port/$DBNAME"
    echo "$url" >"$dir/database_url"
    if [ "$(id -u)" -eq 0 ]; then chown "$user:" "$dir/port" "$dir/database_url"; fi
    log "PostgreSQL $("$bin/pg_ctl" --version | awk '{print $3}') up on 127.0.0.1:$port (folder $dir)"
    echo "export DATABASE_URL='$url'"
}

cmd_stop() {
    local dir=${1:-}
    [ -n "$dir" ] || die "usage: $0 stop DIR"
    if [ ! -d "$dir" ]; then
        log "$dir does not exist: nothing to stop"
        return 0
    fi
    dir=$(cd "$dir" && pwd)
    if [ ! -e "$dir/$MARKER" ]; then
        die "$dir was not made by this script ($MARKER missing): refusing to remove it"
    fi
    if [ -f "$dir/data/postmaster.pid" ]; then
        local bin pid
        bin=$(find_pg_bin)
        pid=$(head -n 1 "$dir/data/postmaster.pid" 2>/dev/null || true)
        if ! as_pg "$dir" "$bin/pg_ctl" -D "$dir/data" -m immediate -w -t 30 stop >/dev/null; then
            # pg_ctl could not stop it: end the postmaster this script started, by its pid,
            # if it is still a live (not zombie) postgres process
            if [ -n "$pid" ] && grep -q '^postgres' "/proc/$pid/comm" 2>/dev/null &&
                ! awk '{exit ($3 == "Z") ? 0 : 1}' "/proc/$pid/stat" 2>/dev/null; then
                log "pg_ctl stop failed; killing postmaster $pid"
                kill -9 "$pid" 2>/dev/null || true
                sleep 1
            fi
        fi
    fi
    rm -rf "$dir"
    log "stopped and removed $dir"
}

cmd_exec() {
    [ $# -gt 0 ] || die "usage: $0 exec CMD [ARGS…]"
    local dir line rc=0
    dir=$(mktemp -d /tmp/fundpool-pg.XXXXXX)
    # shellcheck disable=SC2064
    trap "cmd_stop '$dir' || true" EXIT
    trap 'exit 130' INT TERM
    line=$(cmd_start "$dir") || exit 1
    eval "$line"
    "$@" || rc=$?
    return "$rc"
}

case "${1:-}" in
start) shift; cmd_start "$@" ;;
stop) shift; cmd_stop "$@" ;;
exec) shift; cmd_exec "$@" ;;
*)
    echo "usage: $0 start [DIR] | stop DIR | exec CMD [ARGS…]" >&2
    exit 2
    ;;
esac
