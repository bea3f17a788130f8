"""``manage.py reconcile``: recompute every ledger balance, print mismatches, exit 1 if any."""

from __future__ import annotations

from datetime import date

from django.core.management.base import BaseCommand, CommandError, CommandParser

from fund.services import ledger_reconcile
from fund.services.reconciliation import DEFAULT_UNPAID_DAYS


class Command(BaseCommand):
    help = "对账：由分录重算全部科目余额并核对；有不符项时退出码为 1"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--as-of", type=date.fromisoformat, default=None, help="核对截止日 YYYY-MM-DD（默认今天）")
        parser.add_argument("--unpaid-days", type=int, default=DEFAULT_UNPAID_DAYS,
                            help=f"批准后超过多少天未支付即列出（默认 {DEFAULT_UNPAID_DAYS}）")
        parser.add_argument("--fail-on-warnings", action="store_true", help="有提示项（逾期未付）时也以 1 退出")

    def handle(self, *args, **options) -> None:
        run = ledger_reconcile(as_of=options["as_of"], unpaid_days=options["unpaid_days"], triggered_by="command")
        for finding in run.findings:
            label = "不符" if finding["severity"] == "error" else "提示"
            self.stdout.write(f"[{label}] {finding['message']}")
        self.stdout.write(
            f"对账记录#{run.pk}：凭证 {run.journals_checked} 张，科目 {run.accounts_checked} 个，"
            f"不符 {run.mismatch_count} 项，提示 {run.warning_count} 项"
        )
        if run.mismatch_count or (options["fail_on_warnings"] and run.warning_count):
            raise CommandError(f"对账发现 {run.mismatch_count} 项不符、{run.warning_count} 项提示", returncode=1)
        self.stdout.write(self.style.SUCCESS("账实相符"))
