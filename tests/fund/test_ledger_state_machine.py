"""A model of the pool's money run against the ledger services (R1–R3, R30).

Random sequences of contributions, interest, payouts (lenient and strict), recoveries,
refunds, reversals and idempotent replays, on dates within one month. After every step:
every journal balances, the pool was never negative on any day, every account balance
equals the sum of its lines, and the money is conserved (the pool holds exactly what the
model says came in less what went out).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from fund.models import AccountKind, Journal, JournalLine
from fund.rules import lowest_balance_from
from fund.selectors import account_balances, pool_balance
from fund.services import (
    contribution_record,
    contribution_refund,
    interest_credit,
    journal_reverse,
    pool_pay,
    recovery_refund_receive,
)
from registry.errors import BusinessError
from tests.fund.factories import PartnershipFactory, ProgrammeFactory

D = Decimal
ZERO = D("0.00")
START = date(2021, 6, 1)
amounts = st.decimals(min_value=D("0.01"), max_value=D("500.00"), places=2)
days = st.integers(min_value=0, max_value=30)
payers = st.sampled_from(["treasury", "bank"])
_counter = itertools.count()


@dataclass
class Posted:
    """What the model knows about a journal it posted."""

    pk: int
    on: date
    cash: Decimal  # change of pool cash
    totals: dict[str, Decimal]  # change of each R2 sum
    payer: str = ""
    reversed: bool = False
    reversible: bool = True


@dataclass
class Model:
    events: list[tuple[date, Decimal]] = field(default_factory=list)
    totals: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(
        ("contributions", "interest", "recoveries", "compensation", "refunds"), ZERO))
    payer_net: dict[str, Decimal] = field(default_factory=lambda: {"treasury": ZERO, "bank": ZERO})

    def available(self, on: date) -> Decimal:
        opening = sum((d for day, d in self.events if day <= on), ZERO)
        later: dict[date, Decimal] = {}
        for day, d in self.events:
            if day > on:
                later[day] = later.get(day, ZERO) + d
        return lowest_balance_from(opening=opening, changes=[later[d] for d in sorted(later)])

    def apply(self, posted: Posted, sign: int = 1, on: date | None = None) -> None:
        self.events.append((on or posted.on, sign * posted.cash))
        for key, value in posted.totals.items():
            self.totals[key] += sign * value
        if posted.payer:
            self.payer_net[posted.payer] += sign * (posted.totals.get("contributions", ZERO)
                                                    - posted.totals.get("refunds", ZERO))

    @property
    def balance(self) -> Decimal:
        t = self.totals
        return t["contributions"] + t["interest"] + t["recoveries"] - t["compensation"] - t["refunds"]


class LedgerMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        n = next(_counter)
        self.programme = ProgrammeFactory(code=f"SM{n:04d}")
        self.bank = PartnershipFactory(programme=self.programme).bank
        self.model = Model()
        self.posted: list[Posted] = []
        self.calls: list[tuple[object, dict, int]] = []  # (service, kwargs, pk) for replays
        self.keys = (f"{self.programme.code}:{i}" for i in itertools.count())

    def _payer_kwargs(self, payer: str) -> dict:
        return {"payer_kind": payer, "bank": self.bank} if payer == "bank" else {"payer_kind": "treasury"}

    def _remember(self, service, kwargs: dict, result) -> None:
        self.calls.append((service, kwargs, result.pk))

    @rule(payer=payers, amount=amounts, day=days)
    def contribute(self, payer, amount, day):
        on = START + timedelta(days=day)
        kwargs = {"programme": self.programme, **self._payer_kwargs(payer), "amount": amount, "on": on,
                  "idempotency_key": next(self.keys), "actor": None}
        journal = contribution_record(**kwargs)
        posted = Posted(journal.pk, on, amount, {"contributions": amount}, payer=payer)
        self.model.apply(posted)
        self.posted.append(posted)
        self._remember(contribution_record, kwargs, journal)

    @rule(amount=amounts, day=days)
    def interest(self, amount, day):
        on = START + timedelta(days=day)
        kwargs = {"programme": self.programme, "amount": amount, "on": on, "idempotency_key": next(self.keys),
                  "actor": None}
        journal = interest_credit(**kwargs)
        posted = Posted(journal.pk, on, amount, {"interest": amount})
        self.model.apply(posted)
        self.posted.append(posted)
        self._remember(interest_credit, kwargs, journal)

    @rule(amount=amounts, day=days, strict=st.booleans())
    def pay(self, amount, day, strict):
        on = START + timedelta(days=day)
        available = self.model.available(on)
        kwargs = {"programme": self.programme, "amount": amount, "reference": "C", "on": on,
                  "idempotency_key": next(self.keys), "actor": None, "strict": strict}
        if strict and amount > available:
            with pytest.raises(BusinessError, match="资金池余额不足"):
                pool_pay(**kwargs)
            return
        payment = pool_pay(**kwargs)
        expected_paid = min(amount, max(available, ZERO))
        assert payment.paid_amount == expected_paid
        assert payment.unpaid_amount == amount - expected_paid
        self._remember(pool_pay, kwargs, payment)
        if payment.journal_id:
            posted = Posted(payment.journal_id, on, -expected_paid, {"compensation": expected_paid})
            self.model.apply(posted)
            self.posted.append(posted)

    @rule(amount=amounts, day=days)
    def recover(self, amount, day):
        on = START + timedelta(days=day)
        kwargs = {"programme": self.programme, "amount": amount, "reference": "R", "on": on,
                  "idempotency_key": next(self.keys), "actor": None}
        if self.model.totals["recoveries"] + amount > self.model.totals["compensation"]:
            with pytest.raises(BusinessError, match="R30"):
                recovery_refund_receive(**kwargs)
            return
        journal = recovery_refund_receive(**kwargs)
        posted = Posted(journal.pk, on, amount, {"recoveries": amount})
        self.model.apply(posted)
        self.posted.append(posted)

    @rule(payer=payers, amount=amounts, day=days)
    def refund(self, payer, amount, day):
        on = START + timedelta(days=day)
        kwargs = {"programme": self.programme, **self._payer_kwargs(payer), "amount": amount, "on": on,
                  "idempotency_key": next(self.keys), "actor": None}
        if amount > self.model.payer_net[payer] or amount > self.model.available(on):
            with pytest.raises(BusinessError):
                contribution_refund(**kwargs)
            return
        journal = contribution_refund(**kwargs)
        posted = Posted(journal.pk, on, -amount, {"refunds": amount}, payer=payer)
        self.model.apply(posted)
        self.posted.append(posted)

    @precondition(lambda self: any(p.reversible and not p.reversed for p in self.posted))
    @rule(data=st.data(), later=st.integers(min_value=0, max_value=10))
    def reverse(self, data, later):
        candidates = [p for p in self.posted if p.reversible and not p.reversed]
        original = data.draw(st.sampled_from(candidates))
        on = original.on + timedelta(days=later)
        after = dict(self.model.totals)
        for key, value in original.totals.items():
            after[key] -= value
        payer_after = dict(self.model.payer_net)
        if original.payer:
            payer_after[original.payer] -= original.totals.get("contributions", ZERO) - original.totals.get(
                "refunds", ZERO)
        refused = (
            (original.cash > 0 and original.cash > self.model.available(on))
            or after["recoveries"] > after["compensation"]
            or any(v < 0 for v in payer_after.values())
        )
        kwargs = {"journal": Journal.objects.get(pk=original.pk), "reason": "更正", "actor": None,
                  "idempotency_key": next(self.keys), "on": on}
        if refused:
            with pytest.raises(BusinessError):
                journal_reverse(**kwargs)
            return
        reversal = journal_reverse(**kwargs)
        assert reversal.reverses_id == original.pk
        original.reversed = True
        self.model.apply(original, sign=-1, on=on)
        self.posted.append(Posted(reversal.pk, on, -original.cash, {}, reversible=False))

    @precondition(lambda self: bool(self.calls))
    @rule(data=st.data())
    def replay(self, data):
        service, kwargs, pk = data.draw(st.sampled_from(self.calls))
        assert service(**kwargs).pk == pk
        with pytest.raises(BusinessError, match="幂等键"):
            service(**{**kwargs, "amount": kwargs["amount"] + D("0.01")})

    # --- invariants ------------------------------------------------------------------------

    @invariant()
    def every_journal_balances(self):
        sums: dict[int, list[Decimal]] = {}
        for line in JournalLine.objects.filter(journal__programme=self.programme):
            pair = sums.setdefault(line.journal_id, [ZERO, ZERO])
            pair[0 if line.side == "D" else 1] += line.amount
        assert all(d == c and d > 0 for d, c in sums.values())

    @invariant()
    def the_pool_is_never_negative_on_any_day(self):
        running = ZERO
        by_day: dict[date, Decimal] = {}
        for line in JournalLine.objects.filter(journal__programme=self.programme, account__kind=AccountKind.POOL_CASH
                                               ).select_related("journal"):
            change = line.amount if line.side == "D" else -line.amount
            by_day[line.journal.posted_on] = by_day.get(line.journal.posted_on, ZERO) + change
        for day in sorted(by_day):
            running += by_day[day]
            assert running >= 0, f"资金池在 {day} 为负：{running}"
            assert pool_balance(programme=self.programme, as_of=day) == running

    @invariant()
    def each_balance_is_the_sum_of_its_lines(self):
        for item in account_balances(programme=self.programme):
            lines = list(JournalLine.objects.filter(account=item.account))
            assert item.debit == sum((ln.amount for ln in lines if ln.side == "D"), ZERO)
            assert item.credit == sum((ln.amount for ln in lines if ln.side == "C"), ZERO)

    @invariant()
    def money_is_conserved(self):
        assert pool_balance(programme=self.programme) == self.model.balance == sum(
            (d for _, d in self.model.events), ZERO)


@pytest.mark.django_db
def test_ledger_state_machine_keeps_every_invariant():
    run_state_machine_as_test(
        LedgerMachine,
        settings=settings(max_examples=30, stateful_step_count=12, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much]),
    )
