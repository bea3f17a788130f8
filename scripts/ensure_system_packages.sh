#!/usr/bin/env bash
# Makes sure the Debian packages the test suite needs are present:
#   postgresql (initdb, pg_ctl), redis-server, chromium, fonts-noto-cjk, poppler-utils (pdftoppm),
#   wrk (the stack's load test, scripts/load.sh).
# As root the missing ones are installed with apt-get (one `apt-get update` first).
# As another user it says plainly what is missing.
# Exit status: non-zero only when something is still missing and CI=true.
# SKIP_APT=1 never calls apt-get.
set -euo pipefail

APT_PACKAGES=(postgresql redis-server chromium fonts-noto-cjk poppler-utils wrk)

is_ci() { [ "${CI:-}" = "true" ] || [ "${CI:-}" = "1" ]; }

have_pg_bin() {
    # $1: initdb or pg_ctl; Debian keeps them in /usr/lib/postgresql/N/bin, off PATH
    local f
    for f in /usr/lib/postgresql/*/bin/"$1"; do
        [ -x "$f" ] && return 0
    done
    command -v "$1" >/dev/null 2>&1
}

have_cjk_fonts() {
    if command -v dpkg-query >/dev/null 2>&1 &&
        [ "$(dpkg-query -W -f='${Status}' fonts-noto-cjk 2>/dev/null || true)" = "install ok installed" ]; then
        return 0
    fi
    local f
    for f in /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc /usr/share/fonts/*/noto*/NotoSansCJK*; do
        [ -e "$f" ] && return 0
    done
    return 1
}

missing=()
check() {
    missing=()
    have_pg_bin initdb || missing+=("initdb (package postgresql)")
    have_pg_bin pg_ctl || missing+=("pg_ctl (package postgresql)")
    command -v redis-server >/dev/null 2>&1 || missing+=("redis-server (package redis-server)")
    [ -x /usr/bin/chromium ] || missing+=("/usr/bin/chromium (package chromium)")
    have_cjk_fonts || missing+=("Noto CJK fonts (package fonts-noto-cjk)")
    command -v pdftoppm >/dev/null 2>&1 || missing+=("pdftoppm (package poppler-utils)")
    command -v wrk >/dev/null 2>&1 || missing+=("wrk (package wrk)")
}

check
if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

echo "system packages: missing: $(printf '%s; ' "${missing[@]}")" >&2
if [ "$(id -u)" -eq 0 ] && [ "${SKIP_APT:-}" != "1" ] && command -v apt-get >/dev/null 2>&1; then
    echo "system packages: installing ${APT_PACKAGES[*]} with apt-get" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q </dev/null >/dev/null || echo "system packages: apt-get update failed" >&2
    apt-get install -y -q "${APT_PACKAGES[@]}" </dev/null >/dev/null ||
        echo "system packages: apt-get install failed" >&2
    check
else
    echo "system packages: not root (or SKIP_APT=1 / no apt-get): cannot install them here." >&2
    echo "system packages: as root run: apt-get update && apt-get install -y ${APT_PACKAGES[*]}" >&2
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "system packages: all present now" >&2
    exit 0
fi
echo "system packages: STILL MISSING: $(printf '%s; ' "${missing[@]}")" >&2
if is_ci; then
    exit 1
fi
exit 0
