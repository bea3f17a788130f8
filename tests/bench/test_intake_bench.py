"""Intake benchmark (``make bench``): 100,000 registrations and a 100,000-row status report,
end to end (upload service + task, eager), against a bare python-calamine parse of the same file.

Each phase (and each bare parse, before and after the intake: the faster counts) runs in its own process (tests/bench/intake_worker.py) on a scratch database — a new
SQLite file, or a new PostgreSQL database next to DATABASE_URL's — so its peak RSS is measured
for real.  Prints::

    BENCH intake_ratio_<db> <x> x          intake time ÷ bare parse time   (target ≤ 5 on PostgreSQL)
    BENCH intake_rows_per_s_<db> <n> rows/s
    BENCH intake_peak_mb_<db> <n> MB        peak RSS of the intake process  (target ≤ 400)
    BENCH status_ratio_<db> … / status_rows_per_s_<db> … / status_peak_mb_<db> …
    BENCH <kind>_phase_<phase>_<db> <s> s   where the time went (open, read_and_check_rows, cross_check,
                                            apply…, commit, and after a status batch the other apps'
                                            suspension / settlements services)

The peak target is asserted; the PostgreSQL ratio target only with BENCH_ENFORCE_TARGETS=1 (a
shared machine's load moves it), otherwise a miss is printed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

pytestmark = pytest.mark.bench

ROOT = Path(__file__).resolve().parents[2]
RATIO_TARGET_PG = 5.0
PEAK_TARGET_MB = 400.0


def _scratch_database() -> tuple[str, str, object]:
    """(DATABASE_URL for the workers, db label, cleanup)."""
    url = os.environ.get("DATABASE_URL", "")
    if url.startswith(("postgres://", "postgresql://")):
        import psycopg

        name = f"bench_intake_{uuid.uuid4().hex[:8]}"
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        parts = urlsplit(url)
        scratch = urlunsplit(parts._replace(path=f"/{name}"))

        def drop() -> None:
            with psycopg.connect(url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

        return scratch, "pg", drop
    folder = tempfile.mkdtemp(prefix="fundpool-bench-")
    path = Path(folder) / "intake.sqlite3"

    def remove() -> None:
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        Path(folder).rmdir()

    return f"sqlite:///{path}", "sqlite", remove


def _phase(phase: str, database_url: str) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "CELERY_BROKER_URL"}
    env.update(DATABASE_URL=database_url, DJANGO_SETTINGS_MODULE="config.settings", DJANGO_LOG_LEVEL="WARNING")
    done = subprocess.run(
        [sys.executable, "-m", "tests.bench.intake_worker", phase], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=1800, check=False,
    )
    if done.returncode != 0:
        pytest.fail(f"phase {phase} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _measure(kind: str, database_url: str) -> dict:
    """The intake, between two bare parses (each its own process); the faster bare parse counts."""
    before = _phase(f"bare-{kind}", database_url)
    result = _phase(kind, database_url)
    after = _phase(f"bare-{kind}", database_url)
    result["bare_seconds"] = min(before["bare_seconds"], after["bare_seconds"])
    return result


HOOKS = ("suspension", "settlements")  # other apps' services run after a status batch commits


def _report(prefix: str, db: str, result: dict) -> float:
    assert result["status"] == "applied", result
    ratio = result["seconds"] / result["bare_seconds"]
    seconds = result["summary"].get("seconds", {})
    print(f"BENCH {prefix}_ratio_{db} {ratio:.2f} x")
    print(f"BENCH {prefix}_rows_per_s_{db} {result['rows'] / result['seconds']:.0f} rows/s")
    print(f"BENCH {prefix}_peak_mb_{db} {result['peak_mb']:.0f} MB")
    hooks = sum(seconds.get(h, 0) for h in HOOKS)
    if hooks:
        print(f"BENCH {prefix}_ratio_without_hooks_{db} {(result['seconds'] - hooks) / result['bare_seconds']:.2f} x")
    for phase, value in seconds.items():
        print(f"BENCH {prefix}_phase_{phase}_{db} {value:.2f} s")
    print(f"# {prefix} {db}: {result['rows']} rows in {result['seconds']:.2f} s; bare calamine parse "
          f"{result['bare_seconds']:.2f} s; {result['summary']}")
    return ratio


def test_intake_100k_rows_end_to_end():
    database_url, db, cleanup = _scratch_database()
    try:
        _phase("setup", database_url)
        registration = _measure("register", database_url)
        reg_ratio = _report("intake", db, registration)
        status = _measure("status", database_url)
        status_ratio = _report("status", db, status)
    finally:
        cleanup()
    assert registration["peak_mb"] <= PEAK_TARGET_MB
    assert status["peak_mb"] <= PEAK_TARGET_MB
    if db == "pg":
        missed = [f"{name} {ratio:.2f} x" for name, ratio in (("intake", reg_ratio), ("status", status_ratio))
                  if ratio > RATIO_TARGET_PG]
        if missed:
            print(f"# ratio target ≤ {RATIO_TARGET_PG} x missed: {', '.join(missed)} (docs/performance.md)")
        # Timing ratios on a shared 2-core machine vary with its load: enforced only on request.
        if os.environ.get("BENCH_ENFORCE_TARGETS") == "1":
            assert not missed, missed
