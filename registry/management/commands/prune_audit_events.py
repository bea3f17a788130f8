"""Retention job: delete audit events older than N days (N >= 184, i.e. at least six months)."""

from django.core.management.base import BaseCommand, CommandError

from registry.audit import MIN_RETENTION_DAYS, AuditRetentionError, audit_events_prune


class Command(BaseCommand):
    help = f"清理超过保存期的审计事件（--older-than-days 不小于 {MIN_RETENTION_DAYS}，即至少保存六个月），并写入链锚点。"

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, required=True, dest="days")

    def handle(self, *args, days: int, **options):
        try:
            anchor = audit_events_prune(older_than_days=days)
        except AuditRetentionError as exc:
            raise CommandError(str(exc)) from exc
        if anchor is None:
            self.stdout.write(f"没有早于 {days} 天的审计事件，未清理。")
        else:
            self.stdout.write(
                f"已清理 {anchor.pruned_count} 条审计事件；链锚点 #{anchor.pk}，自事件 #{anchor.first_event_id or '（新事件）'} 起校验。"
            )
