"""Verify the audit hash chain; exit status 1 naming the first broken event."""

from django.core.management.base import BaseCommand, CommandError

from registry.audit import audit_chain_verify


class Command(BaseCommand):
    help = "校验审计事件哈希链；链断开时指出第一个被篡改的事件并以状态 1 退出。"

    def handle(self, *args, **options):
        report = audit_chain_verify()
        if not report.ok:
            where = f"事件 #{report.broken_id}" if report.broken_id is not None else "链锚点"
            raise CommandError(f"审计链校验失败（{where}）：{report.reason}；此前 {report.checked} 条事件完好。")
        self.stdout.write(f"审计链完整：共 {report.checked} 条事件，链头摘要 {report.head or '（空）'}")
