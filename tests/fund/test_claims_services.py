"""Claim services (R20–R29): worked numbers through the ledger, refusals that change nothing, maker-checker."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from fund.models import (
    Claim,
    ClaimDocument,
    ClaimStatus,
    ClaimStatusChange,
    CooperationState,
    LoanMode,
    PoolPayment,
)
from fund.selectors import compensated_loan_ids, loan_is_compensated, pool_balance
from fund.selectors.claims import claims_review_overdue
from fund.services import (
    claim_approve,
    claim_create,
    claim_document_add,
    claim_pay,
    claim_reject,
    claim_return,
    claim_start_review,
    claim_submit,
    claim_transition,
    claims_flag_review_overdue,
    partnership_set_state,
)
from fund.services.claims import ALLOWED_TRANSITIONS
from registry import roles
from registry.errors import BusinessError
from registry.models import DomainEvent
from tests.factories import BankFactory, ParameterSetFactory, ProgrammeFactory

from .claims_factories import (
    attach_all_documents,
    bank_user,
    bureau_team,
    claimable_loan,
    fund_pool,
    paid_claim,
    pdf,
    record_guarantor_share,
    staff,
    submitted_claim,
    today,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db
D = Decimal


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def _under_review(claim, reviewer):
    return claim_start_review(claim=claim, actor=reviewer)


# --- worked numbers ------------------------------------------------------------------------------


def test_a_1_000_000_loss_pays_600_000_in_bank_mode_r18():
    # given / when
    claim = paid_claim(mode=LoanMode.BANK, principal=D("1000000.00"))
    # then
    assert (claim.status, claim.claim_amount, claim.paid_amount, claim.unpaid_by_pool) == (
        ClaimStatus.PAID, D("600000.00"), D("600000.00"), D("0.00"))
    assert pool_balance(programme=claim.programme) == D("9400000.00")
    assert claim.calculation["result"] == "600000.00"
    assert claim.calculation["parameter_set_id"] == claim.parameter_set_id


def test_a_1_000_000_loss_pays_400_000_in_bank_guarantor_mode_r19():
    claim = paid_claim(mode=LoanMode.BANK_GUARANTOR, principal=D("1000000.00"))
    assert (claim.claim_amount, claim.paid_amount) == (D("400000.00"), D("400000.00"))
    assert claim.calculation["steps"][0]["code"] == "R19"


def test_interest_never_counts_r20():
    loan = claimable_loan(principal=D("1000000.00"))
    user = bank_user(loan.bank)
    claim = claim_create(loan=loan, actor=user, unpaid_interest=D("55555.55"))
    assert claim.claim_amount == D("600000.00")
    assert claim.calculation["inputs"]["unpaid_interest"] == "55555.55"


def test_only_unpaid_principal_counts_when_part_was_repaid_r20():
    claim = paid_claim(principal=D("1000000.00"), outstanding=D("500000.00"))
    assert claim.paid_amount == D("300000.00")


def test_bank_cap_limits_cumulative_compensation_when_enabled_r22():
    # given: a 50 % cap and a first paid claim of 600,000 on a 1,000,000 loss
    programme = ProgrammeFactory(parameters__bank_cap_enabled=True, parameters__bank_cap_percent=D("50"))
    bank = BankFactory()
    team = bureau_team()
    fund_pool(programme)
    first = claimable_loan(programme=programme, bank=bank)
    # the first alone is capped at 50 % of 1,000,000
    assert paid_claim(first, team=team, fund=False).paid_amount == D("500000.00")
    # when: a second 1,000,000 loss
    second = claimable_loan(programme=programme, bank=bank)
    claim = paid_claim(second, team=team, fund=False)
    # then: 50 % × 2,000,000 − 500,000 already paid
    assert claim.paid_amount == D("500000.00")


def test_bank_cap_off_pays_the_full_share_r22():
    programme = ProgrammeFactory(parameters__bank_cap_enabled=False, parameters__bank_cap_percent=D("50"))
    claim = paid_claim(claimable_loan(programme=programme))
    assert claim.paid_amount == D("600000.00")


def test_pool_pays_only_up_to_its_balance_and_records_the_rest_r3():
    # given: a pool holding 250,000
    loan = claimable_loan()
    fund_pool(loan.programme, amount=D("250000.00"))
    # when
    claim = paid_claim(loan, fund=False)
    # then
    assert (claim.claim_amount, claim.paid_amount, claim.unpaid_by_pool) == (
        D("600000.00"), D("250000.00"), D("350000.00"))
    assert pool_balance(programme=claim.programme) == D("0.00")
    assert claim.calculation["payment"]["unpaid_by_pool"] == "350000.00"


def test_an_empty_pool_refuses_payment_and_changes_nothing_r3():
    claim = submitted_claim()
    reviewer, approver, payer = bureau_team()
    claim_start_review(claim=claim, actor=reviewer)
    claim_approve(claim=claim, actor=approver)
    with pytest.raises(BusinessError, match="资金池当前没有可用余额"):
        claim_pay(claim=claim, actor=payer)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.APPROVED
    assert not PoolPayment.objects.exists()


def test_parameters_in_force_on_the_claim_date_decide_r26():
    programme = ProgrammeFactory(end_date=today() + timedelta(days=365))
    ParameterSetFactory(programme=programme, effective_from=today() + timedelta(days=30),
                        bank_mode_pool_share=D("70"), bank_mode_bank_share=D("30"))
    claim = paid_claim(claimable_loan(programme=programme))
    assert claim.paid_amount == D("600000.00")


# --- refusals that change nothing ------------------------------------------------------------------


def _nothing_written():
    assert not Claim.objects.exists()
    assert not DomainEvent.objects.filter(event_type__startswith="claim.").exists()


def test_claim_before_90_days_overdue_is_refused_r23():
    loan = claimable_loan(overdue_days=90)
    with pytest.raises(BusinessError, match="须逾期超过 90 天") as caught:
        claim_create(loan=loan, actor=bank_user(loan.bank))
    assert caught.value.rule == "R23"
    _nothing_written()


def test_claim_after_the_deadline_is_refused_r24():
    loan = claimable_loan(np_days_ago=181)
    with pytest.raises(BusinessError, match="已超过申请期限") as caught:
        claim_create(loan=loan, actor=bank_user(loan.bank))
    assert caught.value.rule == "R24"
    _nothing_written()


def test_claim_by_another_bank_is_refused():
    loan = claimable_loan()
    with pytest.raises(BusinessError, match="只有贷款所属银行"):
        claim_create(loan=loan, actor=bank_user(BankFactory()))
    _nothing_written()


def test_suspension_never_blocks_a_claim_r34():
    loan = claimable_loan()
    partnership = loan.bank.partnerships.get()
    partnership_set_state(partnership=partnership, state=CooperationState.SUSPENDED, reason="逾期率高", rule="R31")
    assert submitted_claim(loan).status == ClaimStatus.SUBMITTED


def test_submission_with_a_missing_document_is_refused_r25():
    loan = claimable_loan()
    user = bank_user(loan.bank)
    claim = claim_create(loan=loan, actor=user)
    claim_document_add(claim=claim, kind="claim_form", file=pdf(), actor=user)
    with pytest.raises(BusinessError, match="申请材料不全") as caught:
        claim_submit(claim=claim, actor=user)
    assert "loan_contract" in caught.value.detail["missing"]
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DRAFT
    assert not ClaimStatusChange.objects.exists()


def test_court_notice_is_required_when_the_parameter_says_so_r25():
    loan = claimable_loan(programme=ProgrammeFactory(parameters__require_court_notice=True))
    user = bank_user(loan.bank)
    claim = claim_create(loan=loan, actor=user)
    attach_all_documents(claim, user)
    with pytest.raises(BusinessError, match="法院或仲裁受理通知"):
        claim_submit(claim=claim, actor=user)
    claim_document_add(claim=claim, kind="court_notice", file=pdf(), actor=user)
    assert claim_submit(claim=claim, actor=user).status == ClaimStatus.SUBMITTED


def test_bank_guarantor_claim_needs_the_guarantors_payment_first_r19():
    loan = claimable_loan(mode=LoanMode.BANK_GUARANTOR)
    user = bank_user(loan.bank)
    claim = claim_create(loan=loan, actor=user)
    attach_all_documents(claim, user)
    with pytest.raises(BusinessError, match="担保机构代偿凭证"):
        claim_submit(claim=claim, actor=user)
    record_guarantor_share(loan, amount=D("100000.00"))
    with pytest.raises(BusinessError, match=r"应代偿 400,000\.00 元，已登记 100,000\.00 元"):
        claim_submit(claim=claim, actor=user)
    record_guarantor_share(loan, amount=D("300000.00"))
    assert claim_submit(claim=claim, actor=user).status == ClaimStatus.SUBMITTED


def test_a_second_claim_on_a_paid_loss_is_refused_r28():
    claim = paid_claim()
    with pytest.raises(BusinessError, match="同一损失不能再次申请") as caught:
        claim_create(loan=claim.loan, actor=bank_user(claim.loan.bank))
    assert caught.value.rule == "R28"
    assert Claim.objects.count() == 1


def test_a_loan_has_at_most_one_open_claim_r28():
    claim = submitted_claim()
    with pytest.raises(BusinessError, match="已有未办结的补偿申请"):
        claim_create(loan=claim.loan, actor=bank_user(claim.loan.bank))
    assert Claim.objects.count() == 1


def test_a_rejected_claim_may_be_filed_again_r28():
    claim = submitted_claim()
    reviewer, _, _ = bureau_team()
    claim_reject(claim=claim, actor=reviewer, reason="材料不实")
    again = claim_create(loan=claim.loan, actor=bank_user(claim.loan.bank))
    assert again.status == ClaimStatus.DRAFT


def test_the_database_refuses_two_live_claims_on_one_loan_r28():
    from django.db import IntegrityError, transaction

    claim = submitted_claim()
    with pytest.raises(IntegrityError), transaction.atomic():
        Claim.objects.create(programme=claim.programme, loan=claim.loan, unpaid_principal=D("1"),
                             claim_date=today(), created_by=claim.created_by)


def test_a_wrong_file_type_is_refused_r25():
    loan = claimable_loan()
    user = bank_user(loan.bank)
    claim = claim_create(loan=loan, actor=user)
    fake = SimpleUploadedFile("合同.pdf", b"MZ\x90\x00 this is an exe", content_type="application/pdf")
    with pytest.raises(BusinessError, match="文件类型不符"):
        claim_document_add(claim=claim, kind="loan_contract", file=fake, actor=user)
    assert not ClaimDocument.objects.exists()


def test_an_xlsx_loss_calculation_is_accepted_r25():
    loan = claimable_loan()
    user = bank_user(loan.bank)
    claim = claim_create(loan=loan, actor=user)
    document = claim_document_add(claim=claim, kind="loss_calculation", actor=user,
                                  file=SimpleUploadedFile("损失.xlsx", xlsx_bytes()))
    assert document.content_type.endswith("spreadsheetml.sheet")
    assert document.file.name.startswith("claims/")


def test_documents_are_private_without_a_url_r25():
    loan = claimable_loan()
    user = bank_user(loan.bank)
    claim = claim_create(loan=loan, actor=user)
    document = claim_document_add(claim=claim, kind="claim_form", file=pdf(), actor=user)
    with pytest.raises(ValueError, match="私有文件"):
        document.file.url  # noqa: B018


# --- maker-checker (R27) -----------------------------------------------------------------------------


def test_approval_by_the_reviewer_is_refused_r27():
    claim = submitted_claim()
    boss = staff(roles.ADMINISTRATOR, "boss")  # holds every permission
    claim_start_review(claim=claim, actor=boss)
    with pytest.raises(BusinessError, match="您是本申请的审核人") as caught:
        claim_approve(claim=claim, actor=boss)
    assert caught.value.code == "separation_of_duties"
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.UNDER_REVIEW


def test_approval_by_the_submitter_is_refused_r27():
    claim = submitted_claim()
    reviewer, _, _ = bureau_team()
    claim_start_review(claim=claim, actor=reviewer)
    with pytest.raises(BusinessError, match="没有批准"):
        claim_approve(claim=claim, actor=claim.submitted_by)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.UNDER_REVIEW


def test_a_handler_cannot_approve_and_an_approver_cannot_start_review_r27():
    claim = submitted_claim()
    reviewer, approver, _ = bureau_team()
    with pytest.raises(BusinessError, match="没有开始审核"):
        claim_start_review(claim=claim, actor=approver)
    claim_start_review(claim=claim, actor=reviewer)
    with pytest.raises(BusinessError, match="没有批准"):
        claim_approve(claim=claim, actor=staff(roles.HANDLER, "handler2"))


def test_payment_by_the_approver_is_refused_r27():
    claim = submitted_claim()
    fund_pool(claim.programme)
    reviewer, approver, _ = bureau_team()
    claim_start_review(claim=claim, actor=reviewer)
    claim_approve(claim=claim, actor=approver)
    with pytest.raises(BusinessError, match="您是本申请的批准人"):
        claim_pay(claim=claim, actor=approver)
    assert not PoolPayment.objects.exists()


def test_an_auditor_cannot_move_a_claim_r27():
    claim = submitted_claim()
    with pytest.raises(BusinessError, match="没有"):
        claim_start_review(claim=claim, actor=staff(roles.AUDITOR, "auditor"))


def test_transitions_outside_the_table_are_refused_r27():
    claim = submitted_claim()
    _, approver, _ = bureau_team()
    assert ClaimStatus.APPROVED not in ALLOWED_TRANSITIONS[ClaimStatus.SUBMITTED]
    with pytest.raises(BusinessError, match="当前状态为“已提交”，不能批准"):
        claim_approve(claim=claim, actor=approver)


def test_return_for_correction_goes_back_to_draft_with_the_comment_r27():
    claim = submitted_claim()
    reviewer, _, _ = bureau_team()
    _under_review(claim, reviewer)
    with pytest.raises(BusinessError, match="须写明意见"):
        claim_return(claim=claim, actor=reviewer, comment=" ")
    claim = claim_return(claim=claim, actor=reviewer, comment="催收记录不完整，请补充")
    assert (claim.status, claim.return_comment, claim.reviewed_by) == (ClaimStatus.DRAFT, "催收记录不完整，请补充", None)
    # the bank corrects and submits again
    claim = claim_submit(claim=claim, actor=claim.submitted_by)
    assert claim.status == ClaimStatus.SUBMITTED
    assert claim.return_comment == ""


def test_rejection_needs_a_reason_and_is_final_r27():
    claim = submitted_claim()
    reviewer, _, _ = bureau_team()
    with pytest.raises(BusinessError, match="须写明理由"):
        claim_reject(claim=claim, actor=reviewer, reason="")
    claim = claim_reject(claim=claim, actor=reviewer, reason="非本项目贷款")
    assert (claim.status, claim.rejection_reason) == (ClaimStatus.REJECTED, "非本项目贷款")
    assert ALLOWED_TRANSITIONS[ClaimStatus.REJECTED] == frozenset()


def test_every_transition_is_an_audit_event_and_a_status_change():
    claim = paid_claim()
    events = list(DomainEvent.objects.filter(object_type="fund.claim", object_id=str(claim.pk))
                  .order_by("id").values_list("event_type", flat=True))
    assert events[-4:] == ["claim.submitted", "claim.review_started", "claim.approved", "claim.paid"]
    assert list(claim.status_changes.values_list("to_status", flat=True)) == [
        "submitted", "under_review", "approved", "paid"]


def test_paying_twice_pays_once():
    claim = paid_claim()
    _, _, payer = (None, None, claim.paid_by)
    with pytest.raises(BusinessError, match="不能支付"):
        claim_pay(claim=claim, actor=payer)
    assert PoolPayment.objects.count() == 1
    assert pool_balance(programme=claim.programme) == D("9400000.00")


def test_a_repeated_call_with_the_same_key_returns_the_claim_unchanged():
    claim = submitted_claim()
    reviewer, approver, _ = bureau_team()
    claim_start_review(claim=claim, actor=reviewer)
    first = claim_approve(claim=claim, actor=approver, idempotency_key="k-1")
    again = claim_approve(claim=claim, actor=approver, idempotency_key="k-1")
    assert first.pk == again.pk
    assert again.status == ClaimStatus.APPROVED
    assert claim.status_changes.filter(to_status="approved").count() == 1
    with pytest.raises(BusinessError, match="已用于另一操作"):
        claim_transition(claim=claim, to=ClaimStatus.PAID, actor=approver, idempotency_key="k-1")


# --- R28 bar for subsidies, R29 service level ----------------------------------------------------------


def test_a_compensated_loan_is_reported_for_the_subsidy_bar_r28():
    claim = paid_claim()
    other = claimable_loan()
    assert loan_is_compensated(claim.loan) is True
    assert loan_is_compensated(other) is False
    assert compensated_loan_ids() == {claim.loan_id}
    assert compensated_loan_ids(loan_ids=[other.pk]) == set()


def test_review_past_30_working_days_is_flagged_r29():
    claim = submitted_claim()
    due = claim.review_due_on
    assert due > today()
    assert not claim.is_review_overdue(as_of=due)
    assert claim.is_review_overdue(as_of=due + timedelta(days=1))
    assert list(claims_review_overdue(as_of=due + timedelta(days=1))) == [claim]
    assert claims_flag_review_overdue(as_of=due + timedelta(days=1)) == 1
    assert claims_flag_review_overdue(as_of=due + timedelta(days=1)) == 0  # once
    assert DomainEvent.objects.filter(event_type="claim.review_overdue").count() == 1
