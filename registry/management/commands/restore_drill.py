"""``manage.py restore_drill BACKUPDIR``: restore into a scratch database, prove it, drop it."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.backups import BackupError, restore_drill


class Command(BaseCommand):
    help = "恢复演练：把备份恢复到临时数据库，核对行数、附件、迁移与对账，然后删除临时库；不合格时退出码为 1"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("backup_dir", type=Path, help="manage.py backup 写出的目录")

    def handle(self, *args, **options) -> None:
        try:
            report = restore_drill(backup_dir=options["backup_dir"], log=self.stdout.write)
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        out = self.stdout.write
        out(f"DRILL tables {report.tables}")
        out(f"DRILL rows {report.rows}")
        for table, rows in report.key_counts.items():
            out(f"DRILL {table} {rows}")
        out(f"DRILL count_mismatches {len(report.count_mismatches)}")
        for line in report.count_mismatches:
            out(f"  行数不符 {line}")
        out(f"DRILL media_files {report.media_files}{'  ' + report.media_problem if report.media_problem else ''}")
        out(f"DRILL migrate_check {report.migrate_check}")
        out(f"DRILL reconcile {report.reconcile}{'  ' + report.reconcile_summary if report.reconcile_summary else ''}")
        if not report.ok:
            raise CommandError("恢复演练不合格（见上）", returncode=1)
        self.stdout.write(self.style.SUCCESS("恢复演练通过：备份可以恢复"))
