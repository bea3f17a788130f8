"""registry/backups.py: a backup restores into a scratch database with the same rows (PostgreSQL)."""

import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from registry.backups import BackupError, backup_create, read_manifest, restore_drill
from tests.factories import BankFactory


def test_backup_needs_postgresql(settings, tmp_path):
    if settings.DATABASES["default"]["ENGINE"] != "django.db.backends.sqlite3":
        pytest.skip("runs on SQLite only")
    with pytest.raises(CommandError, match="PostgreSQL"):
        call_command("backup", str(tmp_path / "b"))


def test_a_tampered_backup_is_refused_before_anything_is_restored(tmp_path):
    (tmp_path / "database.dump").write_bytes(b"changed")
    (tmp_path / "manifest.json").write_text(json.dumps({
        "format": 1, "files": {"database.dump": {"sha256": "0" * 64, "bytes": 7}},
    }))
    with pytest.raises(BackupError, match="校验和"):
        read_manifest(tmp_path)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_backup_then_restore_drill_finds_the_same_rows_and_files(settings, tmp_path):
    # given some data and an uploaded file
    settings.MEDIA_ROOT = tmp_path / "media"
    (tmp_path / "media" / "intake").mkdir(parents=True)
    (tmp_path / "media" / "intake" / "a.xlsx").write_bytes(b"PK\x03\x04 workbook")
    BankFactory.create_batch(3)
    # when it is backed up and the backup restored into a scratch database
    manifest = backup_create(outdir=tmp_path / "backup")
    report = restore_drill(backup_dir=tmp_path / "backup", log=lambda _: None)
    # then every table has the same rows, the file is there, the schema and the ledger agree
    assert manifest["tables"]["registry_bank"] == 3
    assert manifest["media"]["files"] == 1
    assert report.count_mismatches == []
    assert report.key_counts.get("fund_loan") == manifest["tables"]["fund_loan"]
    assert report.media_files == 1
    assert report.migrate_check == "ok"
    assert report.reconcile == "ok"
    assert report.ok
