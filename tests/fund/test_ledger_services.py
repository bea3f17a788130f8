"""The ledger services (R1–R3, R30): double entry, idempotency, reversal, append-only."""

from datetime import date
from decimal import Decimal

import pytest
from django.db import transaction

from fund.models import (
    Account,
    AccountKind,
    AppendOnlyError,
    Journal,
    JournalKind,
    JournalLine,
    PoolPayment,
)
from fund.selectors import (
    account_balances,
    contributed_capital,
    contributions_by_partner,
    pool_balance,
    pool_summary,
    subsidy_budget_balance,
)
from fund.services import (
    contribution_record,
    contribution_refund,
    interest_credit,
    journal_reverse,
    pool_pay,
    recovery_refund_receive,
    subsidy_pay,
)
from registry.errors import BusinessError
from registry.models import DomainEvent
from tests.fund.factories import (
    BankFactory,
    GuarantorPartnershipFactory,
    PartnershipFactory,
    ProgrammeFactory,
    UserFactory,
    fund_pool,
    fund_subsidy_budget,
)

pytestmark = pytest.mark.django_db
D = Decimal
DAY = date(2021, 6, 1)


@pytest.fixture
def programme():
    return ProgrammeFactory()


def _lines(journal):
    return sorted((line.account.kind, line.side, line.amount) for line in journal.lines.select_related("account"))


# --- contributions (R1) --------------------------------------------------------------------


def test_treasury_contribution_debits_pool_cash_and_credits_the_treasury_r1(programme):
    actor = UserFactory()
    journal = contribution_record(programme=programme, payer_kind="treasury", amount=D("150000000.00"), on=DAY,
                                  idempotency_key="t1", actor=actor)
    assert journal.kind == JournalKind.CONTRIBUTION
    assert _lines(journal) == [("pool_cash", "D", D("150000000.00")), ("treasury_contribution", "C", D("150000000.00"))]
    assert pool_balance(programme=programme) == D("150000000.00")
    assert DomainEvent.objects.filter(event_type="ledger.journal_posted", object_id=str(journal.pk),
                                      actor=actor).exists()


def test_each_payer_has_its_own_contribution_entry_r1(programme):
    bank = PartnershipFactory(programme=programme).bank
    guarantor = GuarantorPartnershipFactory(programme=programme).guarantor
    fund_pool(programme, "1000.00")
    contribution_record(programme=programme, payer_kind="bank", bank=bank, amount=D("200.00"), on=DAY,
                        idempotency_key="b", actor=None)
    contribution_record(programme=programme, payer_kind="guarantor", guarantor=guarantor, amount=D("50.00"),
                        on=DAY, idempotency_key="g", actor=None)
    by_partner = contributions_by_partner(programme=programme)
    assert [(p.payer_kind, p.name, p.net) for p in by_partner] == [
        ("treasury", "财政", D("1000.00")), ("bank", bank.name, D("200.00")), ("guarantor", guarantor.name, D("50.00")),
    ]
    assert contributed_capital(programme=programme) == D("1250.00")


def test_a_bank_that_is_not_a_partner_cannot_contribute(programme):
    with pytest.raises(BusinessError, match="不是项目"):
        contribution_record(programme=programme, payer_kind="bank", bank=BankFactory(), amount=D("1.00"), on=DAY,
                            idempotency_key="x", actor=None)
    assert not Journal.objects.exists()


@pytest.mark.parametrize("amount", [0.1, D("0"), D("-5.00"), D("1.005"), "abc", D("NaN")])
def test_amounts_must_be_positive_decimals_with_two_places(programme, amount):
    with pytest.raises(BusinessError, match="金额"):
        contribution_record(programme=programme, payer_kind="treasury", amount=amount, on=DAY,
                            idempotency_key="bad", actor=None)
    assert not JournalLine.objects.exists()


# --- idempotency -----------------------------------------------------------------------------


def test_the_same_key_twice_posts_once_and_returns_the_first_journal(programme):
    first = fund_pool(programme, "100.00", key="same")
    again = fund_pool(programme, "100.00", key="same")
    assert again.pk == first.pk
    assert Journal.objects.count() == 1
    assert pool_balance(programme=programme) == D("100.00")


def test_the_same_key_with_different_content_is_refused(programme):
    fund_pool(programme, "100.00", key="same")
    with pytest.raises(BusinessError, match="幂等键") as info:
        fund_pool(programme, "101.00", key="same")
    assert info.value.code == "idempotency_conflict"
    with pytest.raises(BusinessError, match="幂等键"):
        interest_credit(programme=programme, amount=D("100.00"), on=DAY, idempotency_key="same", actor=None)
    with pytest.raises(BusinessError, match="幂等键"):
        pool_pay(programme=programme, amount=D("1.00"), reference="C1", idempotency_key="same", actor=None, on=DAY)
    assert Journal.objects.count() == 1
    assert not PoolPayment.objects.exists()


def test_pool_pay_replays_its_first_result(programme):
    fund_pool(programme, "100.00")
    first = pool_pay(programme=programme, amount=D("30.00"), reference="C1", idempotency_key="p", actor=None, on=DAY)
    again = pool_pay(programme=programme, amount=D("30.00"), reference="C1", idempotency_key="p", actor=None, on=DAY)
    assert again.pk == first.pk
    assert pool_balance(programme=programme) == D("70.00")
    with pytest.raises(BusinessError, match="幂等键"):
        pool_pay(programme=programme, amount=D("31.00"), reference="C1", idempotency_key="p", actor=None, on=DAY)


# --- pool payments (R3) ----------------------------------------------------------------------


def test_pool_pays_only_up_to_its_balance_and_records_the_rest_unpaid_r3(programme):
    fund_pool(programme, "600.00")
    payment = pool_pay(programme=programme, amount=D("1000.00"), reference="C1", idempotency_key="p1", actor=None,
                       on=DAY)
    assert (payment.requested_amount, payment.paid_amount, payment.unpaid_amount) == (D("1000.00"), D("600.00"),
                                                                                      D("400.00"))
    assert _lines(payment.journal) == [("compensation_paid", "D", D("600.00")), ("pool_cash", "C", D("600.00"))]
    assert pool_balance(programme=programme) == D("0.00")


def test_an_empty_pool_returns_paid_zero_and_records_the_whole_amount_unpaid_r3(programme):
    payment = pool_pay(programme=programme, amount=D("50.00"), reference="C1", idempotency_key="p1", actor=None,
                       on=DAY)
    assert (payment.paid_amount, payment.unpaid_amount, payment.journal) == (D("0.00"), D("50.00"), None)
    assert PoolPayment.objects.get().pk == payment.pk
    assert not Journal.objects.exists()


def test_strict_pool_pay_refuses_to_part_pay_and_records_nothing_r3(programme):
    fund_pool(programme, "100.00")
    with pytest.raises(BusinessError, match="资金池余额不足") as info:
        pool_pay(programme=programme, amount=D("100.01"), reference="C1", idempotency_key="p1", actor=None, on=DAY,
                 strict=True)
    assert info.value.rule == "R3"
    assert not PoolPayment.objects.exists()
    assert pool_balance(programme=programme) == D("100.00")
    paid = pool_pay(programme=programme, amount=D("100.00"), reference="C1", idempotency_key="p2", actor=None,
                    on=DAY, strict=True)
    assert paid.paid_amount == D("100.00")


def test_a_back_dated_payment_cannot_overdraw_a_later_day_r3(programme):
    # given: 100 on 1 June, 80 paid on 10 June
    fund_pool(programme, "100.00", on=date(2021, 6, 1))
    pool_pay(programme=programme, amount=D("80.00"), reference="C1", idempotency_key="p1", actor=None,
             on=date(2021, 6, 10))
    fund_pool(programme, "500.00", on=date(2021, 6, 20))
    # when: 50 is requested dated 5 June
    payment = pool_pay(programme=programme, amount=D("50.00"), reference="C2", idempotency_key="p2", actor=None,
                       on=date(2021, 6, 5))
    # then: only 20 could be paid then without the 10 June balance going negative
    assert payment.paid_amount == D("20.00")
    assert pool_balance(programme=programme, as_of=date(2021, 6, 10)) == D("0.00")


def test_pool_pay_joins_the_callers_transaction(programme):
    fund_pool(programme, "100.00")

    def claim_pay_that_fails_after_paying():
        with transaction.atomic():
            pool_pay(programme=programme, amount=D("40.00"), reference="C1", idempotency_key="p1", actor=None, on=DAY)
            raise RuntimeError("the caller fails after paying")

    with pytest.raises(RuntimeError):
        claim_pay_that_fails_after_paying()
    assert pool_balance(programme=programme) == D("100.00")
    assert not PoolPayment.objects.exists()


# --- interest, recoveries, refunds (R2, R30) ---------------------------------------------------


def test_pool_balance_is_contributions_plus_interest_plus_recoveries_less_payouts_and_refunds_r2(programme):
    bank = PartnershipFactory(programme=programme).bank
    fund_pool(programme, "1000.00")
    contribution_record(programme=programme, payer_kind="bank", bank=bank, amount=D("100.00"), on=DAY,
                        idempotency_key="b", actor=None)
    interest_credit(programme=programme, amount=D("12.34"), on=DAY, idempotency_key="i", actor=None)
    pool_pay(programme=programme, amount=D("600.00"), reference="C1", idempotency_key="p", actor=None, on=DAY)
    recovery_refund_receive(programme=programme, amount=D("120.00"), reference="R1", idempotency_key="r",
                            actor=None, on=DAY)
    contribution_refund(programme=programme, payer_kind="bank", bank=bank, amount=D("40.00"), on=DAY,
                        idempotency_key="f", actor=None)
    summary = pool_summary(programme=programme)
    assert (summary.contributions, summary.interest, summary.recoveries, summary.compensation, summary.refunds) == (
        D("1100.00"), D("12.34"), D("120.00"), D("600.00"), D("40.00"))
    assert summary.balance == D("592.34") == pool_balance(programme=programme)
    assert summary.identity_holds


def test_recoveries_cannot_exceed_what_the_pool_paid_r30(programme):
    fund_pool(programme, "1000.00")
    pool_pay(programme=programme, amount=D("100.00"), reference="C1", idempotency_key="p", actor=None, on=DAY)
    with pytest.raises(BusinessError, match="R30"):
        recovery_refund_receive(programme=programme, amount=D("100.01"), reference="R1", idempotency_key="r",
                                actor=None, on=DAY)
    assert pool_balance(programme=programme) == D("900.00")


def test_a_refund_cannot_exceed_the_payers_net_contribution(programme):
    bank = PartnershipFactory(programme=programme).bank
    fund_pool(programme, "1000.00")
    contribution_record(programme=programme, payer_kind="bank", bank=bank, amount=D("100.00"), on=DAY,
                        idempotency_key="b", actor=None)
    with pytest.raises(BusinessError, match="累计净出资"):
        contribution_refund(programme=programme, payer_kind="bank", bank=bank, amount=D("100.01"), on=DAY,
                            idempotency_key="f", actor=None)


def test_a_refund_cannot_drive_the_pool_below_zero_r3(programme):
    fund_pool(programme, "100.00")
    pool_pay(programme=programme, amount=D("90.00"), reference="C1", idempotency_key="p", actor=None, on=DAY)
    with pytest.raises(BusinessError, match="资金池余额不足"):
        contribution_refund(programme=programme, payer_kind="treasury", amount=D("50.00"), on=DAY,
                            idempotency_key="f", actor=None)


# --- the subsidy budget ----------------------------------------------------------------------


def test_subsidies_are_paid_from_the_budget_not_the_pool(programme):
    fund_pool(programme, "1000.00")
    fund_subsidy_budget(programme, "300.00")
    journal = subsidy_pay(programme=programme, amount=D("120.00"), reference="S1", idempotency_key="s",
                          actor=None, on=DAY)
    assert _lines(journal) == [("subsidies_paid", "D", D("120.00")), ("subsidy_budget_cash", "C", D("120.00"))]
    assert subsidy_budget_balance(programme=programme) == D("180.00")
    assert pool_balance(programme=programme) == D("1000.00")


def test_a_subsidy_larger_than_the_budget_is_refused(programme):
    fund_subsidy_budget(programme, "100.00")
    with pytest.raises(BusinessError, match="贴息补贴预算余额不足"):
        subsidy_pay(programme=programme, amount=D("100.01"), reference="S1", idempotency_key="s", actor=None, on=DAY)
    assert subsidy_budget_balance(programme=programme) == D("100.00")


# --- reversal ----------------------------------------------------------------------------------


def test_a_reversal_mirrors_the_original_and_leaves_it_untouched(programme):
    original = fund_pool(programme, "100.00")
    before = (_lines(original), original.posted_on, original.memo)
    reversal = journal_reverse(journal=original, reason="金额录错", actor=None, idempotency_key="rev",
                               on=date(2021, 7, 1))
    original.refresh_from_db()
    assert (_lines(original), original.posted_on, original.memo) == before
    assert reversal.reverses_id == original.pk
    assert reversal.kind == JournalKind.REVERSAL
    assert _lines(reversal) == [("pool_cash", "C", D("100.00")), ("treasury_contribution", "D", D("100.00"))]
    assert pool_balance(programme=programme) == D("0.00")
    assert pool_balance(programme=programme, as_of=date(2021, 6, 30)) == D("100.00")


def test_a_journal_is_reversed_once_and_a_reversal_is_not_reversed(programme):
    original = fund_pool(programme, "100.00")
    reversal = journal_reverse(journal=original, reason="录错", actor=None, idempotency_key="rev", on=DAY)
    assert journal_reverse(journal=original, reason="录错", actor=None, idempotency_key="rev", on=DAY).pk == reversal.pk
    with pytest.raises(BusinessError, match="已被冲销"):
        journal_reverse(journal=original, reason="录错", actor=None, idempotency_key="rev2", on=DAY)
    with pytest.raises(BusinessError, match="不能再被冲销"):
        journal_reverse(journal=reversal, reason="录错", actor=None, idempotency_key="rev3", on=DAY)


def test_reversing_a_contribution_that_was_already_spent_is_refused_r3(programme):
    original = fund_pool(programme, "100.00")
    pool_pay(programme=programme, amount=D("60.00"), reference="C1", idempotency_key="p", actor=None, on=DAY)
    with pytest.raises(BusinessError, match="资金池余额不足"):
        journal_reverse(journal=original, reason="录错", actor=None, idempotency_key="rev", on=DAY)


def test_a_reversal_needs_a_reason(programme):
    original = fund_pool(programme, "100.00")
    with pytest.raises(BusinessError, match="原因"):
        journal_reverse(journal=original, reason=" ", actor=None, idempotency_key="rev", on=DAY)


# --- append-only -------------------------------------------------------------------------------


def test_the_orm_refuses_to_change_or_delete_posted_journals_and_lines(programme):
    journal = fund_pool(programme, "100.00")
    line = journal.lines.first()
    line.amount = D("1.00")
    with pytest.raises(AppendOnlyError):
        line.save()
    with pytest.raises(AppendOnlyError):
        line.delete()
    with pytest.raises(AppendOnlyError):
        JournalLine.objects.filter(pk=line.pk).update(amount=D("1.00"))
    with pytest.raises(AppendOnlyError):
        JournalLine.objects.filter(pk=line.pk).delete()
    with pytest.raises(AppendOnlyError):
        Journal.objects.all().delete()
    with pytest.raises(AppendOnlyError):
        journal.delete()
    journal.memo = "改"
    with pytest.raises(AppendOnlyError):
        journal.save()
    assert JournalLine.objects.get(pk=line.pk).amount == D("100.00")


def test_every_account_balance_is_the_sum_of_its_lines(programme):
    fund_pool(programme, "1000.00")
    pool_pay(programme=programme, amount=D("250.00"), reference="C1", idempotency_key="p", actor=None, on=DAY)
    for item in account_balances(programme=programme):
        lines = JournalLine.objects.filter(account=item.account)
        assert item.debit == sum((ln.amount for ln in lines if ln.side == "D"), D("0"))
        assert item.credit == sum((ln.amount for ln in lines if ln.side == "C"), D("0"))
    assert {a.kind for a in Account.objects.all()} == {
        AccountKind.POOL_CASH, AccountKind.TREASURY_CONTRIBUTION, AccountKind.COMPENSATION_PAID}
