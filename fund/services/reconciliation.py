"""Reconciliation of the ledger (daily task and ``manage.py reconcile``).

Recomputes every balance from lines and checks what must hold: each journal balances
and has at least two lines; each line's account belongs to the journal's programme; no
account is negative on its normal side, and no cash account was negative on any day;
R2's identity (pool cash = contributions + interest + recoveries − compensation −
refunds) and the subsidy budget's; recoveries never exceed compensation (R30); no payer
got back more than it put in; each pool payment's parts add up and match its journal;
each reversal mirrors its original. Nothing is cached, so there is no cached balance to
compare. Approved-but-unpaid items from the registered sources (fund.hooks) older than
the threshold are listed as warnings. Every finding is logged (mismatches at ERROR) and
stored on a ``ReconciliationRun`` shown in the admin.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, F
from django.utils import timezone

from fund import hooks
from fund.models import (
    Account,
    AccountKind,
    Journal,
    JournalKind,
    JournalLine,
    PoolPayment,
    ReconciliationRun,
)
from fund.models.ledger import CASH_ACCOUNTS, CONTRIBUTION_KINDS, DEBIT_NORMAL
from fund.rules import normal_balance
from fund.selectors.ledger import sum_side

logger = logging.getLogger("fund.reconciliation")
ZERO = Decimal("0.00")
DEFAULT_UNPAID_DAYS = 30


def _finding(findings: list[dict[str, Any]], severity: str, code: str, message: str, **detail: Any) -> None:
    findings.append({"severity": severity, "code": code, "message": message,
                     **{k: str(v) if isinstance(v, Decimal | date) else v for k, v in detail.items()}})


def _check_journals(findings: list[dict[str, Any]]) -> int:
    journals = Journal.objects.annotate(n=Count("lines"), debit=sum_side("D", "lines__"),
                                        credit=sum_side("C", "lines__"))
    # compared in Python: the sums arrive quantized to cents (SQLite sums decimals as floats)
    for j in journals.order_by("pk"):
        if j.n >= 2 and j.debit == j.credit and j.debit > 0:
            continue
        _finding(findings, "error", "journal_unbalanced",
                 f"凭证#{j.pk} 借贷不平衡或分录不足：借方 {j.debit}，贷方 {j.credit}，分录 {j.n} 条",
                 journal=j.pk, debit=j.debit, credit=j.credit, lines=j.n)
    for line in JournalLine.objects.exclude(account__programme=F("journal__programme")).order_by("pk"):
        _finding(findings, "error", "line_foreign_account",
                 f"分录#{line.pk}（凭证#{line.journal_id}）的科目不属于凭证所属项目", line=line.pk)
    return Journal.objects.count()


def _check_accounts(findings: list[dict[str, Any]]) -> int:
    totals = {
        r["account_id"]: (r["debit"], r["credit"])
        for r in JournalLine.objects.values("account_id").annotate(debit=sum_side("D"), credit=sum_side("C"))
        .order_by()
    }
    per_programme: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    per_payer: dict[tuple[int, int | None, int | None], Decimal] = defaultdict(lambda: ZERO)
    accounts = list(Account.objects.select_related("programme"))
    for account in accounts:
        debit, credit = totals.get(account.pk, (ZERO, ZERO))
        balance = normal_balance(debit=debit, credit=credit, debit_normal=account.kind in DEBIT_NORMAL)
        per_programme[account.programme_id][account.kind] += balance
        if balance < 0:
            _finding(findings, "error", "account_negative", f"科目“{account}”（{account.programme.code}）余额为负：{balance}",
                     account=account.pk, balance=balance)
        if account.kind in CONTRIBUTION_KINDS or account.kind == AccountKind.CONTRIBUTION_REFUNDS:
            sign = -1 if account.kind == AccountKind.CONTRIBUTION_REFUNDS else 1
            per_payer[(account.programme_id, account.bank_id, account.guarantor_id)] += sign * balance
        if account.kind in CASH_ACCOUNTS:
            _check_running(findings, account)
    for (programme_id, bank_id, guarantor_id), net in per_payer.items():
        if net < 0:
            _finding(findings, "error", "refund_exceeds_contribution",
                     f"项目#{programme_id} 出资方（银行#{bank_id or '-'}，担保#{guarantor_id or '-'}）退还超过出资：净额 {net}",
                     programme=programme_id, net=net)
    for programme_id, kinds in per_programme.items():
        _check_identities(findings, programme_id, kinds)
    return len(accounts)


def _check_running(findings: list[dict[str, Any]], account: Account) -> None:
    rows = (
        JournalLine.objects.filter(account=account).values("journal__posted_on")
        .annotate(debit=sum_side("D"), credit=sum_side("C")).order_by("journal__posted_on")
    )
    running = ZERO
    for row in rows:
        running += normal_balance(debit=row["debit"], credit=row["credit"], debit_normal=True)
        if running < 0:
            _finding(findings, "error", "cash_negative_on_date",
                     f"科目“{account}”在 {row['journal__posted_on']} 的余额为负：{running}",
                     account=account.pk, on=row["journal__posted_on"], balance=running)
            return


def _check_identities(findings: list[dict[str, Any]], programme_id: int, kinds: dict[str, Decimal]) -> None:
    contributions = sum((kinds[k] for k in CONTRIBUTION_KINDS), ZERO)
    expected = (contributions + kinds[AccountKind.INTEREST_EARNED] + kinds[AccountKind.RECOVERIES_RETURNED]
                - kinds[AccountKind.COMPENSATION_PAID] - kinds[AccountKind.CONTRIBUTION_REFUNDS])
    if kinds[AccountKind.POOL_CASH] != expected:
        _finding(findings, "error", "pool_identity",
                 f"项目#{programme_id} 资金池余额 {kinds[AccountKind.POOL_CASH]} ≠ 出资+利息+追偿−补偿−退还 {expected}（R2）",
                 programme=programme_id, balance=kinds[AccountKind.POOL_CASH], expected=expected)
    budget = kinds[AccountKind.SUBSIDY_BUDGET_FUNDING] - kinds[AccountKind.SUBSIDIES_PAID]
    if kinds[AccountKind.SUBSIDY_BUDGET_CASH] != budget:
        _finding(findings, "error", "subsidy_identity",
                 f"项目#{programme_id} 贴息补贴预算余额 {kinds[AccountKind.SUBSIDY_BUDGET_CASH]} ≠ 拨款−已付 {budget}",
                 programme=programme_id)
    if kinds[AccountKind.RECOVERIES_RETURNED] > kinds[AccountKind.COMPENSATION_PAID]:
        _finding(findings, "error", "recoveries_exceed_compensation",
                 f"项目#{programme_id} 追偿返还 {kinds[AccountKind.RECOVERIES_RETURNED]} 超过已付补偿 "
                 f"{kinds[AccountKind.COMPENSATION_PAID]}（R30）", programme=programme_id)


def _check_payments(findings: list[dict[str, Any]]) -> None:
    for payment in PoolPayment.objects.select_related("journal").order_by("pk"):
        if payment.requested_amount != payment.paid_amount + payment.unpaid_amount:
            _finding(findings, "error", "payment_parts", f"资金池支付#{payment.pk} 申请额 ≠ 实付 + 未付",
                     payment=payment.pk)
        credited = ZERO
        if payment.journal_id:
            credited = sum((line.amount for line in payment.journal.lines.filter(
                account__kind=AccountKind.POOL_CASH, side="C")), ZERO)
        if credited != payment.paid_amount:
            _finding(findings, "error", "payment_journal",
                     f"资金池支付#{payment.pk} 实付 {payment.paid_amount} 与凭证支出 {credited} 不符",
                     payment=payment.pk, paid=payment.paid_amount, journal_amount=credited)


def _check_reversals(findings: list[dict[str, Any]]) -> None:
    for reversal in Journal.objects.filter(kind=JournalKind.REVERSAL).prefetch_related("lines", "reverses__lines"):
        mine = sorted((ln.account_id, ln.side, ln.amount) for ln in reversal.lines.all())
        flipped = sorted((ln.account_id, "C" if ln.side == "D" else "D", ln.amount)
                         for ln in reversal.reverses.lines.all())
        if mine != flipped:
            _finding(findings, "error", "reversal_mismatch",
                     f"冲销凭证#{reversal.pk} 与原凭证#{reversal.reverses_id} 的分录不对应", journal=reversal.pk)


def _check_unpaid(findings: list[dict[str, Any]], *, as_of: date, unpaid_days: int) -> None:
    cutoff = as_of - timedelta(days=unpaid_days)
    for source in hooks.unpaid_sources():
        for item in source(as_of=as_of):
            if item.approved_on < cutoff:
                _finding(findings, "warning", "approved_unpaid",
                         f"{item.source} {item.reference} 已于 {item.approved_on} 批准，{item.amount} 元超过 "
                         f"{unpaid_days} 天仍未支付", source=item.source, reference=item.reference,
                         amount=item.amount, approved_on=item.approved_on, programme=item.programme_code)


def ledger_reconcile(
    *, as_of: date | None = None, unpaid_days: int = DEFAULT_UNPAID_DAYS, triggered_by: str = "command"
) -> ReconciliationRun:
    """Check the whole ledger; store and log the findings; return the run (``run.ok``)."""
    as_of = as_of or timezone.localdate()
    findings: list[dict[str, Any]] = []
    journals = _check_journals(findings)
    accounts = _check_accounts(findings)
    _check_payments(findings)
    _check_reversals(findings)
    _check_unpaid(findings, as_of=as_of, unpaid_days=unpaid_days)
    errors = [f for f in findings if f["severity"] == "error"]
    for f in findings:
        logger.log(logging.ERROR if f["severity"] == "error" else logging.WARNING, "对账%s：%s",
                   "不符" if f["severity"] == "error" else "提示", f["message"])
    run = ReconciliationRun.objects.create(
        as_of=as_of, triggered_by=triggered_by, ok=not errors, mismatch_count=len(errors),
        warning_count=len(findings) - len(errors), journals_checked=journals, accounts_checked=accounts,
        findings=findings,
    )
    logger.log(logging.ERROR if errors else logging.INFO, "对账完成：凭证 %s 张，科目 %s 个，不符 %s 项，提示 %s 项",
               journals, accounts, len(errors), run.warning_count)
    return run
