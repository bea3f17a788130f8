"""Reads of the ledger. Every balance is summed from journal lines (R2); nothing is cached."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from django.db.models import Case, DecimalField, QuerySet, Sum, Value, When
from django.db.models.functions import Coalesce

from fund.models import Account, AccountKind, JournalLine, Programme
from fund.models.ledger import CONTRIBUTION_KINDS, DEBIT_NORMAL
from fund.rules import lowest_balance_from, money, normal_balance
from registry.models import Bank, Guarantor

ZERO = Decimal("0.00")
_MONEY_OUT = DecimalField(max_digits=20, decimal_places=2)


def sum_side(side: str, prefix: str = "") -> Coalesce:
    return Coalesce(
        Sum(Case(When(**{f"{prefix}side": side}, then=f"{prefix}amount"), default=Value(ZERO),
                 output_field=_MONEY_OUT)),
        Value(ZERO), output_field=_MONEY_OUT,
    )


def _lines(*, programme: Programme, as_of: date | None) -> QuerySet[JournalLine]:
    lines = JournalLine.objects.filter(journal__programme=programme)
    if as_of is not None:
        lines = lines.filter(journal__posted_on__lte=as_of)
    return lines


@dataclass(frozen=True)
class AccountBalance:
    account: Account
    debit: Decimal
    credit: Decimal

    @property
    def balance(self) -> Decimal:
        return normal_balance(debit=self.debit, credit=self.credit, debit_normal=self.account.kind in DEBIT_NORMAL)


def account_balances(*, programme: Programme, as_of: date | None = None) -> list[AccountBalance]:
    """Every account of the programme with its debits, credits and balance on its normal side."""
    totals = {
        row["account_id"]: (row["debit"], row["credit"])
        for row in _lines(programme=programme, as_of=as_of).values("account_id")
        .annotate(debit=sum_side("D"), credit=sum_side("C")).order_by()
    }
    accounts = Account.objects.filter(programme=programme).select_related("bank", "guarantor")
    return [AccountBalance(a, *totals.get(a.pk, (ZERO, ZERO))) for a in accounts]


def _kind_balance(*, programme: Programme, kind: str, as_of: date | None) -> Decimal:
    row = _lines(programme=programme, as_of=as_of).filter(account__kind=kind).aggregate(
        debit=sum_side("D"), credit=sum_side("C")
    )
    return money(normal_balance(debit=row["debit"], credit=row["credit"], debit_normal=kind in DEBIT_NORMAL))


def pool_balance(*, programme: Programme, as_of: date | None = None) -> Decimal:
    """The pool's balance (R2): its cash account, summed from lines posted up to ``as_of``."""
    return _kind_balance(programme=programme, kind=AccountKind.POOL_CASH, as_of=as_of)


def subsidy_budget_balance(*, programme: Programme, as_of: date | None = None) -> Decimal:
    """What is left of the treasury's subsidy budget (not the pool)."""
    return _kind_balance(programme=programme, kind=AccountKind.SUBSIDY_BUDGET_CASH, as_of=as_of)


def account_available(*, account: Account, on: date) -> Decimal:
    """What a cash account can pay on ``on`` without any balance from ``on`` onwards going negative.

    Lines are dated by their journal; a payment dated ``on`` must leave the balance on every
    later day with activity non-negative too (R3), so a back-dated payment cannot overdraw
    the past.
    """
    rows = (
        JournalLine.objects.filter(account=account).values("journal__posted_on")
        .annotate(debit=sum_side("D"), credit=sum_side("C")).order_by("journal__posted_on")
    )
    debit_normal = account.kind in DEBIT_NORMAL
    opening = ZERO
    later: list[Decimal] = []
    for row in rows:
        change = normal_balance(debit=row["debit"], credit=row["credit"], debit_normal=debit_normal)
        if row["journal__posted_on"] <= on:
            opening += change
        else:
            later.append(change)
    return lowest_balance_from(opening=opening, changes=later)


@dataclass(frozen=True)
class PoolSummary:
    """The pool's balance and its parts (R2): contributions + interest + recoveries − compensation − refunds."""

    contributions: Decimal
    interest: Decimal
    recoveries: Decimal
    compensation: Decimal
    refunds: Decimal
    balance: Decimal

    @property
    def contributed_capital(self) -> Decimal:
        """Contributions net of refunds: the base of the R33 floor."""
        return self.contributions - self.refunds

    @property
    def identity_holds(self) -> bool:
        return self.balance == self.contributions + self.interest + self.recoveries - self.compensation - self.refunds


def pool_summary(*, programme: Programme, as_of: date | None = None) -> PoolSummary:
    by_kind: dict[str, Decimal] = {}
    for item in account_balances(programme=programme, as_of=as_of):
        by_kind[item.account.kind] = by_kind.get(item.account.kind, ZERO) + item.balance
    return PoolSummary(
        contributions=sum((by_kind.get(k, ZERO) for k in CONTRIBUTION_KINDS), ZERO),
        interest=by_kind.get(AccountKind.INTEREST_EARNED, ZERO),
        recoveries=by_kind.get(AccountKind.RECOVERIES_RETURNED, ZERO),
        compensation=by_kind.get(AccountKind.COMPENSATION_PAID, ZERO),
        refunds=by_kind.get(AccountKind.CONTRIBUTION_REFUNDS, ZERO),
        balance=by_kind.get(AccountKind.POOL_CASH, ZERO),
    )


def contributed_capital(*, programme: Programme, as_of: date | None = None) -> Decimal:
    """Contributions to the pool net of contribution refunds (R1, R33)."""
    return pool_summary(programme=programme, as_of=as_of).contributed_capital


@dataclass(frozen=True)
class PartnerContribution:
    payer_kind: str  # "treasury" | "bank" | "guarantor"
    bank: Bank | None
    guarantor: Guarantor | None
    contributed: Decimal
    refunded: Decimal

    @property
    def name(self) -> str:
        if self.bank is not None:
            return self.bank.name
        if self.guarantor is not None:
            return self.guarantor.name
        return "财政"

    @property
    def net(self) -> Decimal:
        return self.contributed - self.refunded


_PAYER_ORDER = {"treasury": 0, "bank": 1, "guarantor": 2}


def _payer_kind(account: Account) -> str:
    if account.bank_id:
        return "bank"
    if account.guarantor_id:
        return "guarantor"
    return "treasury"


def contributions_by_partner(*, programme: Programme, as_of: date | None = None) -> list[PartnerContribution]:
    """Each payer's contributions and refunds (R1): the treasury first, then banks, then guarantors."""
    rows: dict[tuple[str, int | None], dict] = {}
    for item in account_balances(programme=programme, as_of=as_of):
        account = item.account
        if account.kind not in CONTRIBUTION_KINDS and account.kind != AccountKind.CONTRIBUTION_REFUNDS:
            continue
        kind = _payer_kind(account)
        row = rows.setdefault(
            (kind, account.bank_id or account.guarantor_id),
            {"payer_kind": kind, "bank": account.bank, "guarantor": account.guarantor,
             "contributed": ZERO, "refunded": ZERO},
        )
        row["refunded" if account.kind == AccountKind.CONTRIBUTION_REFUNDS else "contributed"] += item.balance
    result = [PartnerContribution(**row) for row in rows.values()]
    return sorted(result, key=lambda p: (_PAYER_ORDER[p.payer_kind], (p.bank or p.guarantor).code
                                         if (p.bank or p.guarantor) else ""))


def journal_lines_total(lines: Iterable[JournalLine]) -> tuple[Decimal, Decimal]:
    """(Σ debit, Σ credit) of some lines, in Python (the admin's inline footer, tests)."""
    debit = sum((line.amount for line in lines if line.side == "D"), ZERO)
    credit = sum((line.amount for line in lines if line.side == "C"), ZERO)
    return debit, credit
