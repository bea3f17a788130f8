#!/usr/bin/env bash
# scripts/restore_drill.sh BACKUPDIR — prove a backup restores: checks the sha256 sums, restores
# the dump into a scratch database created on the same server (the role needs CREATEDB), compares
# every table's row count with the manifest, unpacks the media, runs `manage.py migrate --check`
# and `manage.py reconcile` against the scratch database, then drops it (also on failure).
# Exit status 1 when any of it fails. `manage.py restore_drill` does the work.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: $0 BACKUPDIR" >&2; exit 2; }
exec "${PYTHON:-.venv/bin/python}" manage.py restore_drill "$1"
