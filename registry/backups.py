"""Backups of the PostgreSQL database and MEDIA_ROOT, and the drill that proves they restore.

``backup_create(outdir=)`` writes into a new folder:
  ``database.dump``  ``pg_dump -Fc`` taken in an exported snapshot, so the row counts in the
                     manifest are those of the dump, exactly;
  ``media.tar.gz``   MEDIA_ROOT (uploaded workbooks, claim documents), taken after the dump, so
                     every file the database names is in it;
  ``manifest.json``  when, from which database, pg_dump's version, the latest applied migration
                     per app, the row count of every table, the media's file count and size, and
                     the sha256 and size of both files;
  ``SHA256SUMS``     the same checksums for ``sha256sum -c``.

``restore_drill(backup_dir=)`` checks the checksums, restores the dump into a scratch database
created on the same server, compares every table's row count with the manifest, unpacks the
media and compares its files, runs ``manage.py migrate --check`` and ``manage.py reconcile``
against the scratch database, and drops it whatever happened.  Operators run it after every
backup they intend to rely on (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import psycopg
from django.conf import settings
from psycopg import sql

FORMAT_VERSION = 1
DUMP_NAME = "database.dump"
MEDIA_NAME = "media.tar.gz"
MANIFEST_NAME = "manifest.json"
# the tables an operator looks at first in the drill's report
KEY_TABLES = (
    "registry_enterprise", "registry_user", "registry_domainevent", "fund_loan", "fund_journal",
    "fund_journalline", "fund_poolpayment", "fund_claim", "banks_intakebatch", "banks_statusreport",
)
PROJECT_DIR = Path(settings.BASE_DIR)


class BackupError(RuntimeError):
    """A backup or a drill that cannot be made or did not prove what it must."""


@dataclass
class DrillReport:
    scratch_database: str
    tables: int = 0
    rows: int = 0
    count_mismatches: list[str] = field(default_factory=list)
    media_files: int = 0
    media_problem: str = ""
    migrate_check: str = ""
    reconcile: str = ""
    reconcile_summary: str = ""
    key_counts: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.count_mismatches and not self.media_problem and self.migrate_check == "ok" and (
            self.reconcile in ("ok", "not available")
        )


# --- connections ---------------------------------------------------------------------------


def _db() -> dict[str, Any]:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        raise BackupError(f"备份需要 PostgreSQL 数据库（DATABASE_URL），当前为 {db['ENGINE']}")
    return db


def _conninfo(dbname: str | None = None) -> dict[str, Any]:
    db = _db()
    return {
        "host": db.get("HOST") or None, "port": db.get("PORT") or None, "user": db.get("USER") or None,
        "password": db.get("PASSWORD") or None, "dbname": dbname or db["NAME"],
    }


def _url(dbname: str) -> str:
    """DATABASE_URL of another database on the same server (for manage.py subprocesses)."""
    db = _db()
    auth = quote(db.get("USER") or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    return f"postgres://{auth}@{db.get('HOST') or 'localhost'}:{db.get('PORT') or 5432}/{dbname}"


def _pg_env() -> dict[str, str]:
    """Environment for pg_dump / pg_restore: the password goes there, never on a command line."""
    db = _db()
    env = dict(os.environ)
    env.update({"PGHOST": str(db.get("HOST") or "localhost"), "PGPORT": str(db.get("PORT") or 5432),
                "PGUSER": str(db.get("USER") or "")})
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = str(db["PASSWORD"])
    return env


def _pg_tool(name: str, server_version_num: int) -> str:
    """The client tool of the server's major version when installed (Debian keeps them apart)."""
    major = server_version_num // 10000
    candidate = Path(f"/usr/lib/postgresql/{major}/bin/{name}")
    if candidate.is_file():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise BackupError(f"找不到 {name}（apt-get install postgresql-client）")
    return found


def _table_counts(cur: psycopg.Cursor) -> dict[str, int]:
    cur.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename"
    )
    tables = [row[0] for row in cur.fetchall()]
    counts = {}
    for table in tables:
        cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table)))
        counts[table] = cur.fetchone()[0]
    return counts


def _run(argv: list[str], **kwargs: Any) -> subprocess.CompletedProcess:
    # argv: PostgreSQL's tools, git and manage.py with arguments from settings, never from a request
    return subprocess.run(argv, capture_output=True, text=True, check=False, **kwargs)  # noqa: S603


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _git_commit() -> str:
    git = shutil.which("git")
    if not git:
        return ""
    try:
        return _run([git, "rev-parse", "HEAD"], cwd=PROJECT_DIR, timeout=10).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return ""


# --- backup --------------------------------------------------------------------------------


def _media_stats(root: Path) -> dict[str, int]:
    files = [p for p in root.rglob("*") if p.is_file()] if root.is_dir() else []
    return {"files": len(files), "bytes": sum(p.stat().st_size for p in files)}


def backup_create(*, outdir: Path) -> dict[str, Any]:
    """Dump the database and MEDIA_ROOT into the new folder ``outdir``; returns the manifest."""
    outdir = Path(outdir)
    if outdir.exists() and any(outdir.iterdir()):
        raise BackupError(f"{outdir} 已存在且不为空：备份不会覆盖已有文件")
    outdir.mkdir(parents=True, exist_ok=True)
    started = datetime.now(tz=UTC)
    with psycopg.connect(**_conninfo()) as conn:
        conn.execute("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        with conn.cursor() as cur:
            cur.execute("SELECT pg_export_snapshot(), current_setting('server_version_num')::int, version()")
            snapshot, version_num, version = cur.fetchone()
            counts = _table_counts(cur)
            cur.execute("SELECT app, max(name) FROM django_migrations GROUP BY app ORDER BY app")
            migrations = dict(cur.fetchall())
            pg_dump = _pg_tool("pg_dump", version_num)
            # the dump sees exactly what the counts saw: the snapshot of this open transaction
            dump = _run(
                [pg_dump, "-Fc", "--no-owner", "--no-privileges", f"--snapshot={snapshot}",
                 "-d", _db()["NAME"], "-f", str(outdir / DUMP_NAME)],
                env=_pg_env(),
            )
        conn.rollback()
    if dump.returncode != 0:
        raise BackupError(f"pg_dump 失败：{dump.stderr.strip()}")
    dump_version = _run([pg_dump, "--version"]).stdout.strip()

    media_root = Path(settings.MEDIA_ROOT)
    with tarfile.open(outdir / MEDIA_NAME, "w:gz") as tar:
        if media_root.is_dir():
            tar.add(media_root, arcname="media")
    db = _db()
    manifest = {
        "format": FORMAT_VERSION,
        "created_at": started.isoformat(timespec="seconds"),
        "finished_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "git_commit": _git_commit(),
        "database": {"name": db["NAME"], "host": db.get("HOST"), "port": db.get("PORT"), "server": version},
        "pg_dump": dump_version,
        "migrations": migrations,
        "tables": counts,
        "media": {"root": str(media_root), **_media_stats(media_root)},
        "files": {
            name: {"sha256": _sha256(outdir / name), "bytes": (outdir / name).stat().st_size}
            for name in (DUMP_NAME, MEDIA_NAME)
        },
    }
    (outdir / MANIFEST_NAME).write_text(json.dumps(manifest, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    (outdir / "SHA256SUMS").write_text(
        "".join(f"{meta['sha256']}  {name}\n" for name, meta in manifest["files"].items()), encoding="utf-8"
    )
    return manifest


# --- restore drill ---------------------------------------------------------------------------


def read_manifest(backup_dir: Path) -> dict[str, Any]:
    """The manifest, after checking both files against their recorded sha256 and size."""
    path = Path(backup_dir) / MANIFEST_NAME
    if not path.is_file():
        raise BackupError(f"{path} 不存在：不是本系统的备份目录")
    manifest = json.loads(path.read_text(encoding="utf-8"))
    if manifest.get("format") != FORMAT_VERSION:
        raise BackupError(f"备份格式 {manifest.get('format')} 不受支持（需要 {FORMAT_VERSION}）")
    for name, meta in manifest["files"].items():
        file = Path(backup_dir) / name
        if not file.is_file():
            raise BackupError(f"备份缺少文件 {name}")
        if file.stat().st_size != meta["bytes"] or _sha256(file) != meta["sha256"]:
            raise BackupError(f"{name} 的校验和与清单不符：备份已损坏")
    return manifest


def _manage(*args: str, database: str) -> subprocess.CompletedProcess:
    env = dict(os.environ, DATABASE_URL=_url(database), CELERY_BROKER_URL="")
    return _run([sys.executable, str(PROJECT_DIR / "manage.py"), *args], cwd=PROJECT_DIR, env=env, timeout=600)


def _compare_counts(manifest: dict[str, Any], restored: dict[str, int], report: DrillReport) -> None:
    expected = manifest["tables"]
    for table in sorted(set(expected) | set(restored)):
        want, got = expected.get(table), restored.get(table)
        if want != got:
            report.count_mismatches.append(f"{table}: 备份时 {want}，恢复后 {got}")
    report.tables = len(restored)
    report.rows = sum(restored.values())
    report.key_counts = {t: restored[t] for t in KEY_TABLES if t in restored}


def _check_media(backup_dir: Path, manifest: dict[str, Any], report: DrillReport) -> None:
    with tempfile.TemporaryDirectory(prefix="fundpool-drill-media-") as tmp:
        with tarfile.open(Path(backup_dir) / MEDIA_NAME, "r:gz") as tar:
            tar.extractall(tmp, filter="data")
        stats = _media_stats(Path(tmp) / "media")
    report.media_files = stats["files"]
    want = {k: manifest["media"][k] for k in ("files", "bytes")}
    if stats != want:
        report.media_problem = f"附件恢复后 {stats}，备份时 {want}"


def restore_drill(*, backup_dir: Path, log=print) -> DrillReport:
    """Restore ``backup_dir`` into a scratch database, prove it, drop it (see the module doc)."""
    manifest = read_manifest(backup_dir)
    log(f"校验和正确：{', '.join(manifest['files'])}（备份于 {manifest['created_at']}）")
    scratch = f"{_db()['NAME']}_drill_{datetime.now(tz=UTC):%Y%m%d%H%M%S}"[:63]
    report = DrillReport(scratch_database=scratch)
    admin = psycopg.connect(**_conninfo(), autocommit=True)
    try:
        version_num = admin.execute("SELECT current_setting('server_version_num')::int").fetchone()[0]
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(scratch)))
        log(f"已建临时数据库 {scratch}")
        restore = _run(
            [_pg_tool("pg_restore", version_num), "--no-owner", "--no-privileges", "--exit-on-error",
             "-d", scratch, str(Path(backup_dir) / DUMP_NAME)],
            env=_pg_env(),
        )
        if restore.returncode != 0:
            raise BackupError(f"pg_restore 失败：{restore.stderr.strip()}")
        with psycopg.connect(**_conninfo(scratch)) as conn, conn.cursor() as cur:
            _compare_counts(manifest, _table_counts(cur), report)
        _check_media(backup_dir, manifest, report)
        check = _manage("migrate", "--check", database=scratch)
        report.migrate_check = "ok" if check.returncode == 0 else f"exit {check.returncode}: {check.stdout}{check.stderr}"
        rec = _manage("reconcile", database=scratch)
        if rec.returncode == 0:
            report.reconcile = "ok"
        elif "Unknown command" in rec.stderr:
            report.reconcile = "not available"
        else:
            report.reconcile = f"exit {rec.returncode}: {(rec.stdout + rec.stderr).strip()[-2000:]}"
        report.reconcile_summary = " ".join(rec.stdout.strip().splitlines()[-2:])
    finally:
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(scratch)))
        admin.close()
        log(f"已删除临时数据库 {scratch}")
    return report
