"""Subsidy services: computation on settlement (R35, R36, R39), application (R37),
review and payment (R38), with every refusal changing nothing."""

from datetime import date, timedelta
from decimal import Decimal
from io import BytesIO

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from openpyxl import load_workbook

from fund.models import CapBasis, Journal, LoanStatus, ParameterSet, ReferenceRate
from fund.selectors import subsidy_budget_balance
from fund.services import subsidy_budget_fund
from registry.errors import BusinessError
from registry.models import DomainEvent
from subsidies import services
from subsidies.models import (
    BatchStatus,
    DocumentType,
    OtherSubsidy,
    PaymentBatch,
    Subsidy,
    SubsidyKind,
    SubsidyStatus,
)
from tests.factories import EnterpriseFactory, LoanFactory

from .factories import (
    OPEN_WINDOW,
    EnterpriseUserFactory,
    GuaranteedLoanFactory,
    ProgrammeFactory,
    SettledLoanFactory,
)

pytestmark = pytest.mark.django_db
D = Decimal
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def pdf(name="contract.pdf", content=PDF):
    return SimpleUploadedFile(name, content, content_type="application/pdf")


def compute(loan):
    return services.subsidy_compute_for_settlements(loans=[loan])


@pytest.fixture
def programme():
    return ProgrammeFactory(**OPEN_WINDOW)


@pytest.fixture
def loan(programme):
    return SettledLoanFactory(programme=programme, principal=D("10000000.00"))


@pytest.fixture
def subsidy(loan):
    (s,) = compute(loan)
    return s


@pytest.fixture
def owner(loan):
    return EnterpriseUserFactory(enterprise=loan.enterprise)


def apply(subsidy, owner, **kw):
    return services.subsidy_apply(subsidy=subsidy, actor=owner, payee_name="成都测试商贸有限公司",
                                  payee_bank="测试银行成都分行", payee_account="6222 0000 1111 2222", **kw)


def approved(subsidy, owner, handler, approver):
    apply(subsidy, owner)
    services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.UNDER_REVIEW, actor=handler)
    return services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.APPROVED, actor=approver)


# --- computation on settlement ------------------------------------------------------------


def test_settlement_computes_the_interest_subsidy_with_its_calculation_stored(loan):
    # when
    created = compute(loan)

    # then: 10,000,000 for 365 days at 4.35 %, LPR 3.70 % at settlement (2022-06-03)
    (s,) = created
    assert (s.kind, s.status, s.amount) == (SubsidyKind.INTEREST, SubsidyStatus.COMPUTED, D("112541.67"))
    assert s.reference_rate == D("3.70")
    calc = s.calculation
    assert calc["base"] == "375138.89"
    assert calc["inputs"]["interest_paid"] == str(loan.interest_paid_total)
    assert calc["parameter_set"]["id"] == s.parameter_set_id
    assert "结清日 2022-06-03" in calc["reference_rate"]["source"]
    assert calc["formula"]
    assert calc["cap_applied"] == ""
    assert DomainEvent.objects.filter(event_type="subsidy.computed", object_id=str(s.pk)).exists()


def test_guaranteed_loan_gets_interest_and_fee_subsidies(programme):
    loan = GuaranteedLoanFactory(programme=programme, principal=D("2000000.00"))
    kinds = {s.kind: s.amount for s in compute(loan)}
    assert kinds[SubsidyKind.GUARANTEE_FEE] == D("15000.00")  # 50 % of 30,000 (1.5 %)
    assert SubsidyKind.INTEREST in kinds


def test_bank_mode_loan_gets_no_fee_subsidy(loan):
    assert [s.kind for s in compute(loan)] == [SubsidyKind.INTEREST]


@pytest.mark.parametrize("change", [
    {"ever_overdue": True},
    {"status": LoanStatus.CURRENT, "settled_on": None},
])
def test_no_subsidy_for_a_loan_ever_overdue_or_not_settled(programme, change):
    loan = SettledLoanFactory(programme=programme, **change)
    assert compute(loan) == []
    assert not Subsidy.objects.exists()


def test_no_subsidy_for_a_compensated_loan(loan, monkeypatch):
    import fund.selectors

    monkeypatch.setattr(fund.selectors, "compensated_loan_ids", lambda *, loan_ids: set(loan_ids))
    assert compute(loan) == []


def test_computing_twice_creates_each_kind_once(loan):
    compute(loan)
    assert compute(loan) == []
    assert Subsidy.objects.filter(loan=loan).count() == 1


def test_database_refuses_a_second_subsidy_of_the_same_kind(subsidy):
    with pytest.raises(IntegrityError), transaction.atomic():
        Subsidy.objects.create(loan=subsidy.loan, kind=subsidy.kind, programme=subsidy.programme,
                               enterprise=subsidy.enterprise, parameter_set=subsidy.parameter_set,
                               settled_on=subsidy.settled_on, amount=D("1.00"))


def test_per_enterprise_year_cap_counts_earlier_subsidies_of_the_same_year():
    # given: the cap is 500,000 per enterprise per calendar year
    programme = ProgrammeFactory(**OPEN_WINDOW, parameters__interest_subsidy_cap_basis=CapBasis.PER_ENTERPRISE_YEAR)
    enterprise = EnterpriseFactory()
    first = SettledLoanFactory(programme=programme, enterprise=enterprise, principal=D("10000000"), annual_rate=D("4.35"),
                               disbursed_on=date(2021, 6, 3), signed_on=date(2021, 6, 1))
    second = SettledLoanFactory(programme=programme, enterprise=enterprise, principal=D("10000000"),
                                disbursed_on=date(2021, 7, 3), signed_on=date(2021, 7, 1))
    # make the first big: 4,000,000 interest → 30 % × base 3,402,298.85 capped at 500,000
    first.interest_paid_total = D("4000000.00")
    first.save()

    # when
    created = services.subsidy_compute_for_settlements(loans=[second, first])

    # then: settlement order — the first used the whole year's cap
    amounts = {s.loan_id: s.amount for s in created}
    assert amounts[first.pk] == D("500000.00")
    assert amounts[second.pk] == D("0.00")
    assert Subsidy.objects.get(loan=second).calculation["cap_applied"] == CapBasis.PER_ENTERPRISE_YEAR


def test_reference_rate_basis_comes_from_the_parameter_set_in_force_at_settlement(programme, loan):
    ParameterSet.objects.create(programme=programme, effective_from=date(2022, 5, 1),
                                interest_reference_rate=ReferenceRate.CONTRACT,
                                application_opens=date(2021, 1, 1), application_closes=date(2099, 1, 1))
    (s,) = compute(loan)  # settled 2022-06-03: the new set applies
    assert s.reference_rate == D("4.35")
    assert s.parameter_set.effective_from == date(2022, 5, 1)


def test_a_loan_that_cannot_be_computed_does_not_stop_the_others(programme, loan):
    orphan = SettledLoanFactory(programme=ProgrammeFactory(parameters=None))
    ParameterSet.objects.filter(programme=orphan.programme).delete()
    created = services.subsidy_compute_for_settlements(loans=[orphan, loan])
    assert [s.loan_id for s in created] == [loan.pk]
    assert DomainEvent.objects.filter(event_type="subsidy.compute_failed", object_id=str(orphan.pk)).exists()


def test_other_subsidy_lowers_an_unpaid_subsidy_so_interest_cost_stays_non_negative(subsidy, handler):
    loan = subsidy.loan
    services.other_subsidy_record(loan=loan, source="市级贴息", amount=loan.interest_paid_total - D("100000"),
                                  rate=D("1.00"), actor=handler)
    subsidy.refresh_from_db()
    assert subsidy.amount == D("100000.00")
    assert subsidy.flagged
    assert subsidy.calculation["adjustments"]
    assert OtherSubsidy.objects.count() == 1


def test_other_subsidy_needs_a_bureau_handler(subsidy, owner):
    with pytest.raises(BusinessError):
        services.other_subsidy_record(loan=subsidy.loan, source="x", amount=D("1"), actor=owner)
    assert not OtherSubsidy.objects.exists()


# --- application (R37) ---------------------------------------------------------------------


def test_enterprise_applies_with_its_payee_account(subsidy, owner):
    s = apply(subsidy, owner)
    assert s.status == SubsidyStatus.APPLIED
    assert (s.applied_by, s.payee_account) == (owner, "6222000011112222")
    assert DomainEvent.objects.filter(event_type="subsidy.applied", object_id=str(s.pk)).exists()


def _unchanged(subsidy):
    subsidy.refresh_from_db()
    return subsidy.status == SubsidyStatus.COMPUTED and subsidy.applied_at is None


def test_applying_after_the_window_closed_is_refused_and_changes_nothing(subsidy, owner):
    with pytest.raises(BusinessError, match="已于 2099年12月31日 截止"):
        apply(subsidy, owner, on=date(2100, 1, 1))
    assert _unchanged(subsidy)


def test_applying_before_the_window_opens_is_refused(subsidy, owner):
    with pytest.raises(BusinessError, match="尚未开始"):
        apply(subsidy, owner, on=date(2020, 12, 31))
    assert _unchanged(subsidy)


def test_applying_twice_is_refused(subsidy, owner):
    apply(subsidy, owner)
    with pytest.raises(BusinessError, match="不能重复申请"):
        apply(subsidy, owner)
    assert DomainEvent.objects.filter(event_type="subsidy.applied").count() == 1


def test_applying_for_another_enterprises_loan_is_refused(subsidy):
    stranger = EnterpriseUserFactory()
    with pytest.raises(BusinessError) as exc:
        apply(subsidy, stranger)
    assert exc.value.code == "not_found"
    assert _unchanged(subsidy)


def test_applying_for_a_loan_compensated_since_is_refused(subsidy, owner, monkeypatch):
    import fund.selectors

    monkeypatch.setattr(fund.selectors, "loan_is_compensated", lambda loan: True)
    with pytest.raises(BusinessError, match="代偿"):
        apply(subsidy, owner)
    assert _unchanged(subsidy)


def test_fee_subsidy_needs_the_guarantee_contract_and_fee_invoice(programme, settings):
    loan = GuaranteedLoanFactory(programme=programme)
    owner = EnterpriseUserFactory(enterprise=loan.enterprise)
    fee = next(s for s in compute(loan) if s.kind == SubsidyKind.GUARANTEE_FEE)

    with pytest.raises(BusinessError, match="担保费发票"):
        apply(fee, owner, documents={DocumentType.GUARANTEE_CONTRACT: pdf()})
    assert _unchanged(fee)
    assert not fee.documents.exists()

    s = apply(fee, owner, documents={DocumentType.GUARANTEE_CONTRACT: pdf(),
                                     DocumentType.FEE_INVOICE: SimpleUploadedFile("fp.png", PNG)})
    assert s.status == SubsidyStatus.APPLIED
    paths = sorted(d.file.path for d in s.documents.all())
    assert all(p.startswith(str(settings.MEDIA_ROOT / "subsidies")) for p in paths)
    assert {d.content_type for d in s.documents.all()} == {"application/pdf", "image/png"}


@pytest.mark.parametrize(("name", "content", "message"), [
    ("contract.exe", PDF, "格式不支持"),
    ("contract.pdf", b"MZ\x90\x00 not a pdf", "内容与扩展名不符"),
    ("contract.pdf", b"", "空文件"),
])
def test_uploads_are_checked_for_type(programme, name, content, message):
    loan = GuaranteedLoanFactory(programme=programme)
    owner = EnterpriseUserFactory(enterprise=loan.enterprise)
    fee = next(s for s in compute(loan) if s.kind == SubsidyKind.GUARANTEE_FEE)
    with pytest.raises(BusinessError, match=message):
        apply(fee, owner, documents={DocumentType.GUARANTEE_CONTRACT: SimpleUploadedFile(name, content),
                                     DocumentType.FEE_INVOICE: pdf()})
    assert _unchanged(fee)


def test_uploads_over_10_mb_are_refused(programme, monkeypatch):
    from subsidies.services import workflow

    monkeypatch.setattr(workflow, "MAX_UPLOAD_BYTES", 10)
    loan = GuaranteedLoanFactory(programme=programme)
    owner = EnterpriseUserFactory(enterprise=loan.enterprise)
    fee = next(s for s in compute(loan) if s.kind == SubsidyKind.GUARANTEE_FEE)
    with pytest.raises(BusinessError, match="10 MB"):
        services.subsidy_document_add(subsidy=fee, doc_type=DocumentType.FEE_INVOICE, upload=pdf(), actor=owner)


# --- review (R38) --------------------------------------------------------------------------


def test_review_and_approval_by_two_people(subsidy, owner, handler, approver):
    s = approved(subsidy, owner, handler, approver)
    assert (s.status, s.reviewed_by, s.approved_by) == (SubsidyStatus.APPROVED, handler, approver)
    assert list(DomainEvent.objects.filter(object_type="subsidies.subsidy", object_id=str(s.pk))
                .order_by("id").values_list("event_type", flat=True)) == [
        "subsidy.computed", "subsidy.applied", "subsidy.under_review", "subsidy.approved"]


def test_the_reviewer_cannot_approve_what_they_reviewed(subsidy, owner, administrator):
    apply(subsidy, owner)
    services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.UNDER_REVIEW, actor=administrator)
    with pytest.raises(BusinessError, match="不能核准自己审核"):
        services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.APPROVED, actor=administrator)
    subsidy.refresh_from_db()
    assert subsidy.status == SubsidyStatus.UNDER_REVIEW
    assert subsidy.approved_by is None


def test_a_handler_cannot_approve_and_the_enterprise_cannot_review(subsidy, owner, handler, handler2):
    apply(subsidy, owner)
    with pytest.raises(BusinessError, match="权限"):
        services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.UNDER_REVIEW, actor=owner)
    services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.UNDER_REVIEW, actor=handler)
    with pytest.raises(BusinessError, match="权限"):
        services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.APPROVED, actor=handler2)


def test_moves_outside_the_table_are_refused(subsidy, approver):
    with pytest.raises(BusinessError, match="不能变更为") as exc:
        services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.APPROVED, actor=approver)
    assert exc.value.rule == "R38"


def test_rejection_needs_a_reason_and_is_final(subsidy, owner, handler):
    apply(subsidy, owner)
    with pytest.raises(BusinessError, match="理由"):
        services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.REJECTED, actor=handler, reason=" ")
    s = services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.REJECTED, actor=handler, reason="收款账户与企业名称不符")
    assert (s.status, s.status_reason) == (SubsidyStatus.REJECTED, "收款账户与企业名称不符")
    with pytest.raises(BusinessError):
        services.subsidy_transition(subsidy=subsidy, to=SubsidyStatus.UNDER_REVIEW, actor=handler)


def test_rejected_subsidies_do_not_use_the_enterprise_year_cap(owner, handler):
    from subsidies.selectors import subsidies_received_in_year

    programme = ProgrammeFactory(**OPEN_WINDOW)
    loan = SettledLoanFactory(programme=programme, enterprise=owner.enterprise)
    (s,) = compute(loan)
    apply(s, owner)
    services.subsidy_transition(subsidy=s, to=SubsidyStatus.REJECTED, actor=handler, reason="材料不实")
    assert subsidies_received_in_year(enterprise_id=owner.enterprise_id, kind=SubsidyKind.INTEREST, year=2022) == 0


# --- payment (R38) -------------------------------------------------------------------------


@pytest.fixture
def funded(programme, administrator):
    subsidy_budget_fund(programme=programme, amount=D("10000000.00"), on=date(2022, 1, 4),
                        idempotency_key="test-budget", actor=administrator)
    return programme


def test_batch_export_and_payment_post_each_subsidy_once_through_the_ledger(
    funded, subsidy, owner, handler, approver, administrator,
):
    # given
    approved(subsidy, owner, handler, approver)
    batch = services.payment_batch_create(programme=funded, actor=handler)
    subsidy.refresh_from_db()
    assert (subsidy.status, subsidy.batch, batch.total) == (SubsidyStatus.IN_BATCH, batch, D("112541.67"))
    budget_before = subsidy_budget_balance(programme=funded)

    # when
    paid = services.payment_batch_mark_paid(batch=batch, voucher_reference="GK2022-0001", paid_on=date(2022, 7, 1),
                                            actor=administrator)

    # then
    subsidy.refresh_from_db()
    assert paid.status == BatchStatus.PAID
    assert (subsidy.status, subsidy.payment_reference, subsidy.paid_on) == (SubsidyStatus.PAID, "GK2022-0001",
                                                                             date(2022, 7, 1))
    journal = Journal.objects.get(pk=subsidy.journal_id)
    assert journal.idempotency_key == f"subsidy:{subsidy.pk}"
    assert subsidy_budget_balance(programme=funded) == budget_before - D("112541.67")


def test_paying_a_batch_twice_is_refused_and_changes_nothing(funded, subsidy, owner, handler, approver, administrator):
    approved(subsidy, owner, handler, approver)
    batch = services.payment_batch_create(programme=funded, actor=handler)
    services.payment_batch_mark_paid(batch=batch, voucher_reference="GK-1", paid_on=date(2022, 7, 1), actor=administrator)
    journals, events = Journal.objects.count(), DomainEvent.objects.count()

    with pytest.raises(BusinessError, match="不能重复支付"):
        services.payment_batch_mark_paid(batch=batch, voucher_reference="GK-2", paid_on=date(2022, 7, 2),
                                         actor=administrator)

    batch.refresh_from_db()
    subsidy.refresh_from_db()
    assert (batch.voucher_reference, subsidy.payment_reference) == ("GK-1", "GK-1")
    assert (Journal.objects.count(), DomainEvent.objects.count()) == (journals, events)


def test_the_approver_cannot_confirm_the_payment(funded, subsidy, owner, handler, approver):
    approved(subsidy, owner, handler, approver)
    batch = services.payment_batch_create(programme=funded, actor=handler)
    with pytest.raises(BusinessError, match="核准人不能确认"):
        services.payment_batch_mark_paid(batch=batch, voucher_reference="GK-1", paid_on=date(2022, 7, 1), actor=approver)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.OPEN
    assert not Journal.objects.filter(idempotency_key=f"subsidy:{subsidy.pk}").exists()


def test_payment_is_refused_when_the_subsidy_budget_is_short(programme, subsidy, owner, handler, approver, administrator):
    approved(subsidy, owner, handler, approver)
    batch = services.payment_batch_create(programme=programme, actor=handler)
    with pytest.raises(BusinessError, match="预算余额不足"):
        services.payment_batch_mark_paid(batch=batch, voucher_reference="GK-1", paid_on=date(2022, 7, 1),
                                         actor=administrator)
    subsidy.refresh_from_db()
    assert subsidy.status == SubsidyStatus.IN_BATCH
    assert PaymentBatch.objects.get().status == BatchStatus.OPEN


def test_only_approved_subsidies_go_into_a_batch(programme, subsidy, handler):
    with pytest.raises(BusinessError, match="已核准"):
        services.payment_batch_create(programme=programme, actor=handler, subsidies=[subsidy])
    assert not PaymentBatch.objects.exists()


def test_removing_a_subsidy_from_an_open_batch_returns_it_to_approved(programme, subsidy, owner, handler, approver):
    approved(subsidy, owner, handler, approver)
    batch = services.payment_batch_create(programme=programme, actor=handler)
    services.payment_batch_remove(batch=batch, subsidy=subsidy, actor=handler)
    subsidy.refresh_from_db()
    batch.refresh_from_db()
    assert (subsidy.status, subsidy.batch, batch.total) == (SubsidyStatus.APPROVED, None, D("0.00"))


def test_payment_list_is_formula_injection_safe(programme, handler, approver, administrator):
    # given: an enterprise whose name and payee look like formulas
    enterprise = EnterpriseFactory(name="=HYPERLINK(\"http://evil\",\"点我\")")
    loan = SettledLoanFactory(programme=programme, enterprise=enterprise)
    owner = EnterpriseUserFactory(enterprise=enterprise)
    (s,) = compute(loan)
    services.subsidy_apply(subsidy=s, actor=owner, payee_name="@SUM(A1:A2)", payee_bank="-银行", payee_account="62220000")
    services.subsidy_transition(subsidy=s, to=SubsidyStatus.UNDER_REVIEW, actor=handler)
    services.subsidy_transition(subsidy=s, to=SubsidyStatus.APPROVED, actor=approver)
    batch = services.payment_batch_create(programme=programme, actor=handler)

    # when
    content = services.payment_batch_export(batch=batch, actor=administrator)

    # then
    ws = load_workbook(BytesIO(content)).active
    row = [c.value for c in ws[3]]
    assert row[1] == "'=HYPERLINK(\"http://evil\",\"点我\")"
    assert row[3] == "'@SUM(A1:A2)"
    assert row[4] == "'-银行"
    assert row[2] == enterprise.credit_code
    assert D(str(row[9])) == s.amount
    assert row[10] == f"subsidy:{s.pk}"
    assert all(not (isinstance(v, str) and v.startswith(("=", "+", "-", "@"))) for r in ws.iter_rows(values_only=True)
               for v in r)


# --- compute_for_settlements is what the intake calls ------------------------------------------


def test_intake_hook_inside_an_outer_transaction(loan):
    with transaction.atomic():
        created = services.subsidy_compute_for_settlements(loans=[loan])
    assert len(created) == 1


def test_unsettled_loans_passed_to_the_hook_are_ignored(programme):
    current = LoanFactory(programme=programme)
    assert services.subsidy_compute_for_settlements(loans=[current]) == []


def test_unsettled_loan_facts_never_get_a_subsidy_even_when_the_window_is_open(programme):
    loan = SettledLoanFactory(programme=programme, ever_overdue=True, settled_on=date(2022, 1, 1) + timedelta(days=1))
    assert compute(loan) == []


def test_subsidy_totals_count_approved_and_paid_amounts(funded, subsidy, owner, handler, approver, administrator):
    from django.utils import timezone

    from subsidies.selectors import subsidy_totals

    approved(subsidy, owner, handler, approver)
    batch = services.payment_batch_create(programme=funded, actor=handler)
    services.payment_batch_mark_paid(batch=batch, voucher_reference="GK-1", paid_on=date(2022, 7, 1), actor=administrator)
    today = timezone.localdate()
    assert subsidy_totals(programme=funded, as_of=today) == {"approved": D("112541.67"), "paid": D("112541.67")}
    assert subsidy_totals(programme=funded, as_of=date(2022, 6, 30))["paid"] == D("0.00")
