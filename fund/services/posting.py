"""Posting machinery shared by the ledger services: validation, idempotency, locks, the journal writer.

Only ``fund.services`` modules use this; callers use the services in ``fund.services.ledger``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Sequence
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Literal

from django.db import IntegrityError, models, transaction

from fund.models import (
    Account,
    AccountKind,
    GuarantorPartnership,
    Journal,
    JournalLine,
    Partnership,
    PoolPayment,
    Programme,
)
from fund.rules import money
from fund.selectors.ledger import (
    account_available,
    contributions_by_partner,
    pool_summary,
    subsidy_budget_balance,
)
from registry.audit import record_event
from registry.errors import BusinessError
from registry.models import Bank, Guarantor, User

PayerKind = Literal["treasury", "bank", "guarantor"]
Line = tuple[Account, str, Decimal]
D, C = "D", "C"
MAX_AMOUNT = Decimal("9999999999999999.99")
ZERO = Decimal("0.00")


# --- helpers ---------------------------------------------------------------------------


def atomic_block() -> transaction.Atomic:
    """Durable at the outermost call; a savepoint inside a caller's transaction."""
    return transaction.atomic(durable=not transaction.get_connection().in_atomic_block)


def checked_amount(value: Any) -> Decimal:
    if isinstance(value, float | bool) or not isinstance(value, Decimal | int | str):
        raise BusinessError("金额必须是 Decimal（不接受浮点数）", code="bad_amount")
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise BusinessError(f"金额“{value}”不是数字", code="bad_amount") from None
    if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
        raise BusinessError(f"金额 {value} 不是最多两位小数的数字", code="bad_amount")
    if amount <= 0:
        raise BusinessError(f"金额必须大于零，现为 {value}", code="bad_amount")
    if amount > MAX_AMOUNT:
        raise BusinessError(f"金额 {value} 超出范围", code="bad_amount")
    return money(amount)


def checked_date(value: Any) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise BusinessError(f"记账日期必须是日期，现为 {value!r}", code="bad_date")
    return value


def checked_key(value: str) -> str:
    key = (value or "").strip()
    if not key or len(key) > 150:
        raise BusinessError("幂等键必须是 1 到 150 个字符", code="bad_idempotency_key")
    return key


def actor_or_none(actor: User | None) -> User | None:
    return actor if actor is not None and getattr(actor, "pk", None) else None


def fingerprint_of(operation: str, **content: Any) -> str:
    def canon(value: Any) -> Any:
        if isinstance(value, Decimal):
            return f"{value:.2f}"
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, models.Model):
            return value.pk
        return value

    payload = {"operation": operation, **{k: canon(v) for k, v in content.items()}}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def key_conflict(key: str) -> BusinessError:
    return BusinessError(
        f"幂等键“{key}”已用于内容不同的另一笔记账，不能重复使用", code="idempotency_conflict", idempotency_key=key
    )


def replayed_journal(*, key: str, fingerprint: str) -> Journal | None:
    journal = Journal.objects.filter(idempotency_key=key).first()
    if journal is not None and journal.fingerprint != fingerprint:
        raise key_conflict(key)
    return journal


def replayed_payment(*, key: str, fingerprint: str) -> PoolPayment | None:
    payment = PoolPayment.objects.select_related("journal").filter(idempotency_key=key).first()
    if payment is not None and payment.fingerprint != fingerprint:
        raise key_conflict(key)
    return payment


def account_for(programme: Programme, kind: str, *, bank: Bank | None = None,
             guarantor: Guarantor | None = None) -> Account:
    account, _ = Account.objects.get_or_create(programme=programme, kind=kind, bank=bank, guarantor=guarantor)
    return account


def lock_accounts(accounts: Sequence[Account]) -> None:
    """Lock the accounts' rows (ordered by pk, so two services never deadlock)."""
    list(Account.objects.select_for_update().filter(pk__in=[a.pk for a in accounts]).order_by("pk"))


def post_once(*, key: str, fingerprint: str, lock: Sequence[Account], post: Callable[[], Journal]) -> Journal:
    """Post at most once per key: lock, replay an earlier identical request, or post."""
    try:
        with atomic_block():
            lock_accounts(lock)
            replay = replayed_journal(key=key, fingerprint=fingerprint)
            return replay if replay is not None else post()
    except IntegrityError:
        # a concurrent request with the same key committed first
        replay = replayed_journal(key=key, fingerprint=fingerprint)
        if replay is None:
            raise
        return replay


def insufficient(account: Account, *, available: Decimal, needed: Decimal, on: date) -> BusinessError:
    if account.kind == AccountKind.POOL_CASH:
        return BusinessError(
            f"资金池余额不足：{on:%Y-%m-%d} 可用余额 {available:,.2f} 元，需支付 {needed:,.2f} 元（R3）",
            code="pool_insufficient", rule="R3", available=available, requested=needed,
        )
    return BusinessError(
        f"贴息补贴预算余额不足：{on:%Y-%m-%d} 可用 {available:,.2f} 元，需支付 {needed:,.2f} 元",
        code="subsidy_budget_insufficient", available=available, requested=needed,
    )


def require_available(account: Account, *, needed: Decimal, on: date) -> None:
    available = account_available(account=account, on=on)
    if available < needed:
        raise insufficient(account, available=available, needed=needed, on=on)


def post_journal(
    *, programme: Programme, kind: str, on: date, lines: list[Line], key: str, fingerprint: str,
    actor: User | None, reference: str = "", memo: str = "", reverses: Journal | None = None,
) -> Journal:
    """Write one journal and its lines (Σ debit = Σ credit) and its audit event."""
    debit = sum((amount for _, side, amount in lines if side == D), ZERO)
    credit = sum((amount for _, side, amount in lines if side == C), ZERO)
    if debit != credit or debit <= 0 or any(amount <= 0 for _, _, amount in lines):
        raise BusinessError(f"凭证借贷不平衡（借方 {debit}，贷方 {credit}），未记账", code="unbalanced")
    if any(account.programme_id != programme.pk for account, _, _ in lines):
        raise BusinessError("分录科目不属于本项目", code="foreign_account")
    if Journal.objects.filter(idempotency_key=key).exists():
        raise key_conflict(key)
    journal = Journal.objects.create(
        programme=programme, kind=kind, posted_on=on, reference=reference[:100], memo=memo[:300],
        idempotency_key=key, fingerprint=fingerprint, reverses=reverses, actor=actor_or_none(actor),
    )
    JournalLine.objects.bulk_create(
        [JournalLine(journal=journal, account=account, side=side, amount=amount) for account, side, amount in lines]
    )
    ensure_invariants(programme=programme)
    record_event(
        actor=actor_or_none(actor), event_type="ledger.journal_posted", obj=journal, kind=kind, posted_on=on,
        amount=debit, reference=reference, memo=memo, reverses=reverses.pk if reverses else None,
        lines=[[str(account), side, amount] for account, side, amount in lines],
    )
    return journal


def ensure_invariants(*, programme: Programme) -> None:
    """After posting, inside the transaction: no sum of R2 may go below zero.

    Cash accounts stay non-negative (R3), recoveries never exceed compensation paid (R30),
    and no payer has been refunded more than it contributed (a reversal could otherwise
    undo a contribution that was already refunded).
    """
    summary = pool_summary(programme=programme)
    if summary.balance < 0 or subsidy_budget_balance(programme=programme) < 0:
        raise BusinessError("资金池余额不足：余额不能为负（R3）", code="pool_insufficient", rule="R3")
    if summary.recoveries > summary.compensation:
        raise BusinessError(
            f"追偿返还累计 {summary.recoveries:,.2f} 元不得超过资金池已付补偿 {summary.compensation:,.2f} 元（R30）",
            code="recoveries_exceed_compensation", rule="R30",
        )
    for payer in contributions_by_partner(programme=programme):
        if payer.net < 0:
            raise BusinessError(
                f"{payer.name}的累计退还 {payer.refunded:,.2f} 元将超过其累计出资 {payer.contributed:,.2f} 元",
                code="refund_exceeds_contribution",
            )


def payer_account(
    *, programme: Programme, payer_kind: str, bank: Bank | None, guarantor: Guarantor | None, refund: bool
) -> Account:
    """The contribution (or refund) account of one payer, who must be a partner of the programme (R1)."""
    refunds = AccountKind.CONTRIBUTION_REFUNDS
    if payer_kind == "treasury":
        if bank is not None or guarantor is not None:
            raise BusinessError("财政出资不应指定银行或担保机构", code="bad_payer")
        return account_for(programme, refunds if refund else AccountKind.TREASURY_CONTRIBUTION)
    if payer_kind == "bank":
        if bank is None or guarantor is not None:
            raise BusinessError("银行出资必须指定银行（且只指定银行）", code="bad_payer")
        if not Partnership.objects.filter(programme=programme, bank=bank).exists():
            raise BusinessError(f"{bank.name} 不是项目“{programme.name}”的合作银行", code="not_partner", rule="R1")
        return account_for(programme, refunds if refund else AccountKind.BANK_CONTRIBUTION, bank=bank)
    if payer_kind == "guarantor":
        if guarantor is None or bank is not None:
            raise BusinessError("担保机构出资必须指定担保机构（且只指定担保机构）", code="bad_payer")
        if not GuarantorPartnership.objects.filter(programme=programme, guarantor=guarantor).exists():
            raise BusinessError(
                f"{guarantor.name} 不是项目“{programme.name}”的合作担保机构", code="not_partner", rule="R1"
            )
        return account_for(programme, refunds if refund else AccountKind.GUARANTOR_CONTRIBUTION, guarantor=guarantor)
    raise BusinessError(f"未知的出资方类型：{payer_kind}", code="bad_payer")


def payer_label(payer_kind: str, bank: Bank | None, guarantor: Guarantor | None) -> str:
    return bank.name if bank else guarantor.name if guarantor else "财政"


def post_simple(
    *, operation: str, programme: Programme, kind: str, cash_kind: str, cash_side: str, other: Account,
    amount: Any, on: Any, idempotency_key: str, actor: User | None, reference: str = "", memo: str = "",
    check: Callable[[Decimal], None] | None = None,
) -> Journal:
    """A two-line journal between a cash account and one other account; ``check`` runs under the lock."""
    amount, on, key = checked_amount(amount), checked_date(on), checked_key(idempotency_key)
    fingerprint = fingerprint_of(operation, programme=programme, account=other, amount=amount, on=on,
                               reference=reference, memo=memo)
    cash = account_for(programme, cash_kind)
    other_side = C if cash_side == D else D

    def post() -> Journal:
        if check is not None:
            check(amount)
        if cash_side == C:
            require_available(cash, needed=amount, on=on)
        return post_journal(programme=programme, kind=kind, on=on, lines=[(cash, cash_side, amount), (other, other_side, amount)],
                     key=key, fingerprint=fingerprint, actor=actor, reference=reference, memo=memo)

    return post_once(key=key, fingerprint=fingerprint, lock=[cash], post=post)
