"""The pool's money (R1–R3, R30) and the treasury's subsidy budget, through balanced journals.

Every public service here:

- takes an ``idempotency_key``: the same key with the same content posts once and returns
  the first result; the same key with different content is a ``BusinessError``;
- runs in ``transaction.atomic(durable=True)`` when it is the outermost call, and joins the
  caller's transaction when another service calls it (a claim payment marks its claim paid
  and posts its journal in one commit);
- locks the cash account it moves with ``select_for_update`` (ordered by pk) before it
  looks at the balance, so concurrent payments serialise;
- refuses to let a cash account go below zero on the posting date or any later date (R3);
- writes one audit event per journal in the same transaction.

The double-entry scheme (debit / credit) is in docs/ledger.md.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from django.db import IntegrityError
from django.utils import timezone

from fund.models import Account, AccountKind, Journal, JournalKind, JournalLine, PoolPayment, Programme
from fund.models.ledger import CASH_ACCOUNTS
from fund.rules import pool_payable
from fund.selectors.ledger import account_available
from registry.audit import record_event
from registry.errors import BusinessError
from registry.models import Bank, Guarantor, User

from .posting import (
    ZERO,
    C,
    D,
    PayerKind,
    account_for,
    actor_or_none,
    atomic_block,
    checked_amount,
    checked_date,
    checked_key,
    fingerprint_of,
    insufficient,
    key_conflict,
    lock_accounts,
    payer_account,
    payer_label,
    post_journal,
    post_once,
    post_simple,
    replayed_payment,
    require_available,
)

# --- the pool (R1–R3, R30) -------------------------------------------------------------


def contribution_record(
    *, programme: Programme, payer_kind: PayerKind, bank: Bank | None = None, guarantor: Guarantor | None = None,
    amount: Decimal, on: date, idempotency_key: str, actor: User | None, memo: str = "",
) -> Journal:
    """R1: a contribution to the pool by the treasury, a partner bank or a partner guarantor.

    Debit pool cash, credit the payer's contribution account.
    """
    checked_amount(amount)
    source = payer_account(programme=programme, payer_kind=payer_kind, bank=bank, guarantor=guarantor, refund=False)
    return post_simple(
        operation="contribution_record", programme=programme, kind=JournalKind.CONTRIBUTION,
        cash_kind=AccountKind.POOL_CASH, cash_side=D, other=source, amount=amount, on=on,
        idempotency_key=idempotency_key, actor=actor, reference=f"出资·{payer_label(payer_kind, bank, guarantor)}",
        memo=memo,
    )


def interest_credit(
    *, programme: Programme, amount: Decimal, on: date, idempotency_key: str, actor: User | None, memo: str = ""
) -> Journal:
    """R2: interest earned on the pool's account. Debit pool cash, credit interest earned."""
    return post_simple(
        operation="interest_credit", programme=programme, kind=JournalKind.INTEREST,
        cash_kind=AccountKind.POOL_CASH, cash_side=D, other=account_for(programme, AccountKind.INTEREST_EARNED),
        amount=amount, on=on, idempotency_key=idempotency_key, actor=actor, reference="利息", memo=memo,
    )


def recovery_refund_receive(
    *, programme: Programme, amount: Decimal, reference: str, idempotency_key: str, actor: User | None, on: date,
    memo: str = "",
) -> Journal:
    """R30: money a bank (or guarantor) returns to the pool after a recovery.

    Debit pool cash, credit recoveries returned. Cumulative recoveries never exceed
    the compensation the pool has paid (the per-claim cap is the claims module's).
    """
    return post_simple(
        operation="recovery_refund_receive", programme=programme, kind=JournalKind.RECOVERY_REFUND,
        cash_kind=AccountKind.POOL_CASH, cash_side=D, other=account_for(programme, AccountKind.RECOVERIES_RETURNED),
        amount=amount, on=on, idempotency_key=idempotency_key, actor=actor, reference=reference, memo=memo,
    )


def contribution_refund(
    *, programme: Programme, payer_kind: PayerKind, bank: Bank | None = None, guarantor: Guarantor | None = None,
    amount: Decimal, on: date, idempotency_key: str, actor: User | None, memo: str = "",
) -> Journal:
    """Return (part of) a payer's contribution. Debit the payer's refund account, credit pool cash.

    Never more than the payer's net contribution, never more than the pool holds (R3).
    """
    checked_amount(amount)
    refund_account = payer_account(programme=programme, payer_kind=payer_kind, bank=bank, guarantor=guarantor,
                                    refund=True)
    source = payer_account(programme=programme, payer_kind=payer_kind, bank=bank, guarantor=guarantor, refund=False)
    payer = payer_label(payer_kind, bank, guarantor)

    def within_net_contribution(amount: Decimal) -> None:
        net = _net_contribution(source=source, refunds=refund_account)
        if amount > net:
            raise BusinessError(
                f"退还金额 {amount:,.2f} 元超过{payer}的累计净出资 {net:,.2f} 元", code="refund_exceeds_contribution"
            )

    return post_simple(
        operation="contribution_refund", programme=programme, kind=JournalKind.CONTRIBUTION_REFUND,
        cash_kind=AccountKind.POOL_CASH, cash_side=C, other=refund_account, amount=amount, on=on,
        idempotency_key=idempotency_key, actor=actor, reference=f"退还出资·{payer}", memo=memo,
        check=within_net_contribution,
    )


def _net_contribution(*, source: Account, refunds: Account) -> Decimal:
    """A payer's contributions less what was refunded to it, over all posted lines."""
    net = ZERO
    for line in JournalLine.objects.filter(account_id__in=[source.pk, refunds.pk]).only("account_id", "side", "amount"):
        # contributions are credit-normal, refunds debit-normal: both signs flip for the refund account
        sign = 1 if line.side == C else -1
        net += sign * line.amount
    return net


def pool_pay(
    *, programme: Programme, amount: Decimal, reference: str, idempotency_key: str, actor: User | None, on: date,
    memo: str = "", strict: bool = False,
) -> PoolPayment:
    """Pay from the pool (a compensation), at most what it holds (R3).

    Locks the pool's cash account, so concurrent payments serialise. The pool pays
    min(amount, available on ``on``); the rest is recorded as ``unpaid_amount`` (it stays
    with the bank). When nothing is available it RETURNS a PoolPayment with paid 0 and no
    journal — it does not raise. With ``strict=True`` it pays all or nothing: a shortfall
    raises BusinessError "资金池余额不足…" and records nothing (the key can be retried).
    Debit compensation paid, credit pool cash.
    """
    amount, on, key = checked_amount(amount), checked_date(on), checked_key(idempotency_key)
    fingerprint = fingerprint_of("pool_pay", programme=programme, amount=amount, reference=reference, on=on,
                               memo=memo, strict=strict)
    cash = account_for(programme, AccountKind.POOL_CASH)
    paid_account = account_for(programme, AccountKind.COMPENSATION_PAID)
    try:
        with atomic_block():
            lock_accounts([cash])
            replay = replayed_payment(key=key, fingerprint=fingerprint)
            if replay is not None:
                return replay
            return _pay(programme=programme, cash=cash, paid_account=paid_account, amount=amount, on=on,
                        key=key, fingerprint=fingerprint, reference=reference, memo=memo, actor=actor, strict=strict)
    except IntegrityError:
        replay = replayed_payment(key=key, fingerprint=fingerprint)
        if replay is None:
            raise
        return replay


def _pay(*, programme: Programme, cash: Account, paid_account: Account, amount: Decimal, on: date, key: str,
         fingerprint: str, reference: str, memo: str, actor: User | None, strict: bool) -> PoolPayment:
    if Journal.objects.filter(idempotency_key=key).exists():
        raise key_conflict(key)
    available = account_available(account=cash, on=on)
    paid, unpaid = pool_payable(requested=amount, available=available)
    if strict and unpaid:
        raise insufficient(cash, available=max(available, ZERO), needed=amount, on=on)
    journal = None
    if paid > 0:
        journal = post_journal(programme=programme, kind=JournalKind.POOL_PAYMENT, on=on,
                        lines=[(paid_account, D, paid), (cash, C, paid)], key=key, fingerprint=fingerprint,
                        actor=actor, reference=reference, memo=memo)
    payment = PoolPayment.objects.create(
        programme=programme, reference=reference[:100], requested_on=on, requested_amount=amount, paid_amount=paid,
        unpaid_amount=unpaid, journal=journal, idempotency_key=key, fingerprint=fingerprint, memo=memo[:300],
        actor=actor_or_none(actor),
    )
    record_event(actor=actor_or_none(actor), event_type="ledger.pool_payment", obj=payment, reference=reference,
                 requested=amount, paid=paid, unpaid=unpaid, journal=journal.pk if journal else None)
    return payment


def journal_reverse(
    *, journal: Journal, reason: str, actor: User | None, idempotency_key: str, on: date | None = None
) -> Journal:
    """Correct a mistake: a new journal with every line on the other side, pointing at the original.

    The original is never touched. A journal is reversed at most once; a reversal is not
    itself reversed. ``on`` defaults to today (never before the original's date). A
    reversal that would take money out of a cash account needs that money to be there (R3).
    """
    key = checked_key(idempotency_key)
    if not (reason or "").strip():
        raise BusinessError("冲销必须写明原因", code="reason_required")
    original = Journal.objects.select_related("programme").get(pk=journal.pk)
    posted_on = checked_date(on) if on is not None else max(timezone.localdate(), original.posted_on)
    fingerprint = fingerprint_of("journal_reverse", journal=original, reason=reason, on=on)
    lines = list(original.lines.select_related("account__bank", "account__guarantor"))
    cash = sorted({line.account for line in lines if line.account.kind in CASH_ACCOUNTS}, key=lambda a: a.pk)

    def post() -> Journal:
        if original.kind == JournalKind.REVERSAL:
            raise BusinessError("冲销凭证不能再被冲销；如需更正请重新记账", code="reverse_reversal")
        if Journal.objects.filter(reverses=original).exists():
            raise BusinessError(f"凭证#{original.pk} 已被冲销，不能重复冲销", code="already_reversed")
        if posted_on < original.posted_on:
            raise BusinessError("冲销日期不得早于原凭证的记账日期", code="bad_date")
        mirrored = [(line.account, C if line.side == D else D, line.amount) for line in lines]
        for account in cash:  # cash accounts are debit-normal: a credit takes money out
            outflow = sum((amount for acc, side, amount in mirrored if acc.pk == account.pk and side == C), ZERO)
            outflow -= sum((amount for acc, side, amount in mirrored if acc.pk == account.pk and side == D), ZERO)
            if outflow > 0:
                require_available(account, needed=outflow, on=posted_on)
        return post_journal(programme=original.programme, kind=JournalKind.REVERSAL, on=posted_on, lines=mirrored, key=key,
                     fingerprint=fingerprint, actor=actor, reference=original.reference,
                     memo=f"冲销凭证#{original.pk}：{reason}", reverses=original)

    return post_once(key=key, fingerprint=fingerprint, lock=cash, post=post)


# --- the treasury's subsidy budget (R35–R38; not the pool) -------------------------------


def subsidy_budget_fund(
    *, programme: Programme, amount: Decimal, on: date, idempotency_key: str, actor: User | None, memo: str = ""
) -> Journal:
    """The treasury funds the subsidy budget. Debit subsidy budget cash, credit treasury subsidy funding."""
    return post_simple(
        operation="subsidy_budget_fund", programme=programme, kind=JournalKind.SUBSIDY_BUDGET_FUNDING,
        cash_kind=AccountKind.SUBSIDY_BUDGET_CASH, cash_side=D,
        other=account_for(programme, AccountKind.SUBSIDY_BUDGET_FUNDING), amount=amount, on=on,
        idempotency_key=idempotency_key, actor=actor, reference="贴息补贴预算拨款", memo=memo,
    )


def subsidy_pay(
    *, programme: Programme, amount: Decimal, reference: str, idempotency_key: str, actor: User | None, on: date,
    memo: str = "",
) -> Journal:
    """Pay a subsidy from the budget; raises BusinessError when the budget cannot cover it all.

    Debit subsidies paid, credit subsidy budget cash.
    """
    return post_simple(
        operation="subsidy_pay", programme=programme, kind=JournalKind.SUBSIDY_PAYMENT,
        cash_kind=AccountKind.SUBSIDY_BUDGET_CASH, cash_side=C, other=account_for(programme, AccountKind.SUBSIDIES_PAID),
        amount=amount, on=on, idempotency_key=idempotency_key, actor=actor, reference=reference, memo=memo,
    )
