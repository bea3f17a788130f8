"""``manage.py backup OUTDIR``: pg_dump of the database, tar of MEDIA_ROOT, manifest with sha256."""

from __future__ import annotations

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError, CommandParser

from registry.backups import KEY_TABLES, BackupError, backup_create


class Command(BaseCommand):
    help = "备份：数据库（pg_dump -Fc）、附件目录（MEDIA_ROOT）与带 sha256 的清单，写入一个新目录"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("outdir", type=Path, help="新的备份目录（不存在或为空）")

    def handle(self, *args, **options) -> None:
        try:
            manifest = backup_create(outdir=options["outdir"])
        except BackupError as exc:
            raise CommandError(str(exc)) from exc
        tables = manifest["tables"]
        self.stdout.write(f"备份目录：{options['outdir']}")
        for name, meta in manifest["files"].items():
            self.stdout.write(f"  {name:<14} {meta['bytes']:>12} 字节  sha256 {meta['sha256']}")
        self.stdout.write(f"  数据表 {len(tables)} 张，共 {sum(tables.values())} 行；附件 {manifest['media']['files']} 个")
        for table in KEY_TABLES:
            if table in tables:
                self.stdout.write(f"  BACKUP {table} {tables[table]}")
        self.stdout.write(self.style.SUCCESS("备份完成"))
