#!/usr/bin/env bash
# scripts/backup.sh OUTDIR — back up the database named by DATABASE_URL (pg_dump -Fc, in one
# snapshot) and MEDIA_ROOT (tar.gz) into the new folder OUTDIR, with manifest.json (sha256 of
# each file, row count of every table) and SHA256SUMS. `manage.py backup` does the work.
# Run it with the deployment's environment (e.g. `set -a; . /etc/fundpool/env; set +a`).
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
exec "${PYTHON:-.venv/bin/python}" manage.py backup "$1"
