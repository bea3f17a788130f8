"""Demo step: subsidies in every stage, and enterprise portal logins.

Uses the settled loans the pilot-loans step loaded (subsidies are computed by the intake when a
status report settles a loan; this step computes any that are missing).  Seven borrowers, taken in
a fixed order (settlement date, loan id; one loan each), have their interest subsidy moved through
the real services to one stage each — computed, applied, under review, approved, in a payment
batch, paid, rejected — and, when the loan is 政银担, the guarantee-fee subsidy along with it (with
small generated PDF documents).  Those seven enterprises get portal logins: username = credit code,
password = the demo password.  Idempotent: a subsidy is only ever moved forward to its target stage.

If no loan is settled yet, nothing is created.

``load_pilot_applications`` (not in STEPS here: it belongs before the statistics snapshot) loads
the pilot's applicants without a loan and their loan applications.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from typing import TextIO
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile

from fund.models import Loan, LoanStatus
from fund.selectors import subsidy_budget_balance
from fund.services import subsidy_budget_fund
from registry import roles
from registry.errors import BusinessError
from registry.models import Bank, Enterprise, User
from subsidies.models import (
    DocumentType,
    LoanApplication,
    LoanApplicationStatus,
    Subsidy,
    SubsidyKind,
    SubsidyStatus,
)
from subsidies.services import (
    payment_batch_create,
    payment_batch_mark_paid,
    subsidy_apply,
    subsidy_compute_for_settlements,
    subsidy_transition,
)

from . import foundation

S = SubsidyStatus
TARGETS = [S.COMPUTED, S.APPLIED, S.UNDER_REVIEW, S.APPROVED, S.IN_BATCH, S.PAID, S.REJECTED]
ORDER = [S.COMPUTED, S.APPLIED, S.UNDER_REVIEW, S.APPROVED, S.IN_BATCH, S.PAID]
REJECTION = "收款账户户名与企业名称不一致，请核对后重新联系财政部门"
DEMO_PDF = b"%PDF-1.4\n% demo document\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def _demo_enterprises() -> list[tuple[Enterprise, str]]:
    """The demo borrowers and the stage each one's subsidies are taken to (fixed order)."""
    chosen: list[tuple[Enterprise, str]] = []
    seen: set[int] = set()
    subsidies = (Subsidy.objects.filter(programme=foundation.programme(), kind=SubsidyKind.INTEREST, amount__gt=0)
                 .select_related("enterprise").order_by("settled_on", "loan_id"))
    for s in subsidies:
        if s.enterprise_id in seen:
            continue
        seen.add(s.enterprise_id)
        chosen.append((s.enterprise, TARGETS[len(chosen)]))
        if len(chosen) == len(TARGETS):
            break
    return chosen


def extra_accounts() -> list[tuple[str, str]]:
    """(username, description) of the demo enterprise logins, for load_demo to print."""
    out = []
    for enterprise, target in _demo_enterprises():
        if User.objects.filter(username=enterprise.credit_code, enterprise=enterprise).exists():
            out.append((enterprise.credit_code, f"企业 · {enterprise.name}（补贴{S(target).label}）"))
    return out


def _enterprise_user(enterprise: Enterprise) -> User:
    user, _ = User.objects.get_or_create(username=enterprise.credit_code,
                                         defaults={"first_name": enterprise.name[:150], "enterprise": enterprise})
    user.set_password(foundation.demo_password())
    user.is_active = True
    user.save()
    user.groups.set([Group.objects.get(name=roles.ENTERPRISE_USER)])
    return user


def _staff(out: TextIO) -> dict[str, User]:
    names = ("bureau_handler", "bureau_approver", "bureau_admin")
    if User.objects.filter(username__in=names).count() < len(names):
        foundation.load_users(out)
    return {u.username: u for u in User.objects.filter(username__in=names)}


def _apply_on(subsidy: Subsidy) -> date:
    ps = subsidy.parameter_set
    day = subsidy.settled_on + timedelta(days=7)
    return min(max(day, ps.application_opens), ps.application_closes)


def _account_no(enterprise: Enterprise) -> str:
    return "6222" + str(int(hashlib.sha256(enterprise.credit_code.encode()).hexdigest()[:12], 16))[:15].zfill(15)


def _advance(subsidy: Subsidy, target: str, *, owner: User, staff: dict[str, User]) -> None:
    """Move one subsidy forward to ``target`` (never backwards) through the services."""
    if subsidy.status in (target, S.IN_BATCH, S.PAID, S.REJECTED):
        return  # there already, or past where this step moves it (batches are made afterwards)
    if subsidy.status == S.COMPUTED and target != S.COMPUTED:
        docs = None
        if subsidy.kind == SubsidyKind.GUARANTEE_FEE:
            docs = {DocumentType.GUARANTEE_CONTRACT: SimpleUploadedFile("担保合同（演示）.pdf", DEMO_PDF),
                    DocumentType.FEE_INVOICE: SimpleUploadedFile("担保费发票（演示）.pdf", DEMO_PDF)}
        subsidy_apply(subsidy=subsidy, actor=owner, payee_name=subsidy.enterprise.name,
                      payee_bank=subsidy.loan.bank.name, payee_account=_account_no(subsidy.enterprise), documents=docs,
                      on=_apply_on(subsidy))
    if target == S.REJECTED:
        subsidy.refresh_from_db()
        if subsidy.status == S.APPLIED:
            subsidy_transition(subsidy=subsidy, to=S.UNDER_REVIEW, actor=staff["bureau_handler"])
        subsidy_transition(subsidy=subsidy, to=S.REJECTED, actor=staff["bureau_handler"], reason=REJECTION)
        return
    for step, actor in ((S.UNDER_REVIEW, "bureau_handler"), (S.APPROVED, "bureau_approver")):
        subsidy.refresh_from_db()
        if ORDER.index(target) >= ORDER.index(step) and ORDER.index(subsidy.status) < ORDER.index(step):
            subsidy_transition(subsidy=subsidy, to=step, actor=staff[actor])


def _batch_and_pay(subsidies: list[Subsidy], *, pay: bool, staff: dict[str, User], out: TextIO) -> None:
    """Put the approved ones into a new batch; when ``pay``, pay every open batch they are in."""
    batches = {s.batch for s in subsidies if s.status == S.IN_BATCH}
    ready = [s for s in subsidies if s.status == S.APPROVED]
    if ready:
        batch = payment_batch_create(programme=ready[0].programme, actor=staff["bureau_handler"], subsidies=ready)
        batches.add(batch)
        out.write(f"  支付批次 {batch.reference}：{len(ready)} 笔\n")
    if not pay:
        return
    for batch in sorted(batches, key=lambda b: b.pk):
        paid_on = max(s.settled_on for s in batch.subsidies.all()) + timedelta(days=30)
        short = batch.total - subsidy_budget_balance(programme=batch.programme)
        if short > 0:
            subsidy_budget_fund(programme=batch.programme, amount=short, on=foundation.PROGRAMME_START,
                                idempotency_key=f"demo:FBD:subsidy-budget-topup:{batch.reference}", actor=None,
                                memo="演示：补足贴息补贴预算")
        payment_batch_mark_paid(batch=batch, voucher_reference=f"GK{paid_on:%Y%m%d}-{batch.pk:04d}", paid_on=paid_on,
                                actor=staff["bureau_admin"])
        out.write(f"  支付批次 {batch.reference} 已确认支付（确认人与核准人不同）\n")


def load_subsidies(out: TextIO) -> None:
    prog = foundation.programme()
    settled = list(Loan.objects.filter(programme=prog, status=LoanStatus.SETTLED).order_by("settled_on", "pk"))
    if not settled:
        out.write("  尚无结清的贷款：未生成补贴演示数据\n")
        return
    created = subsidy_compute_for_settlements(loans=settled)
    out.write(f"  结清贷款 {len(settled)} 笔，本次补算补贴 {len(created)} 笔\n")
    staff = _staff(out)
    by_target: dict[str, list[Subsidy]] = {}
    for enterprise, target in _demo_enterprises():
        owner = _enterprise_user(enterprise)
        loan_id = Subsidy.objects.filter(enterprise=enterprise, kind=SubsidyKind.INTEREST, amount__gt=0).order_by(
            "settled_on", "loan_id").values_list("loan_id", flat=True).first()
        for subsidy in Subsidy.objects.filter(loan_id=loan_id).select_related("loan__bank", "enterprise",
                                                                               "parameter_set").order_by("kind"):
            try:
                _advance(subsidy, target, owner=owner, staff=staff)
            except BusinessError as exc:
                out.write(f"  {enterprise.credit_code} {subsidy.get_kind_display()}：{exc.message}\n")
            subsidy.refresh_from_db()
            by_target.setdefault(target, []).append(subsidy)
    try:
        _batch_and_pay(by_target.get(S.PAID, []), pay=True, staff=staff, out=out)
        _batch_and_pay(by_target.get(S.IN_BATCH, []), pay=False, staff=staff, out=out)
    except BusinessError as exc:
        out.write(f"  支付批次未完成：{exc.message}\n")
    counts = {S(k).label: v for k, v in _stage_counts(prog).items()}
    out.write("  补贴各阶段笔数：" + "，".join(f"{k} {v}" for k, v in counts.items()) + "\n")


def _stage_counts(prog) -> dict[str, int]:
    counts = dict.fromkeys(S.values, 0)
    for status in Subsidy.objects.filter(programme=prog).values_list("status", flat=True):
        counts[status] += 1
    return counts


# --------------------------------------------------------------------------- the pilot's applicants


def load_pilot_applications(out: TextIO) -> None:
    """The pilot's applicants without a loan (168) and their loan applications (意向申请).

    R40 "enterprises that applied" = enterprises with an application or a loan signed by the
    cut-off (``subsidies.selectors.applicant_enterprise_ids``), so this must run before the
    statistics snapshot for the snapshot to count 372.  Applications made before May 2022 were
    declined by the bank (the firm got no loan); later ones are still open.  Idempotent.
    """
    from registry.services import enterprise_save

    from . import pilot

    data = pilot.build()
    prog = foundation.programme()
    banks = {b.code: b for b in Bank.objects.all()}
    done = set(LoanApplication.objects.filter(programme=prog).values_list("enterprise__credit_code", flat=True))
    made = 0
    for app in data.applications:
        if app.uscc in done:
            continue
        enterprise = Enterprise.objects.filter(credit_code=app.uscc).first()
        if enterprise is None:
            e = data.enterprise(app.uscc)
            enterprise = enterprise_save(enterprise=Enterprise(
                credit_code=e.uscc, name=e.name, region_id=e.region_code, industry_code=e.industry_code,
                employees=e.employees, revenue_10k=e.revenue_10k, assets_10k=e.assets_10k, is_private=e.is_private,
            ), actor=None)
        applied_at = datetime.combine(app.applied_on, time(10), tzinfo=ZoneInfo(settings.TIME_ZONE))
        declined = app.applied_on < DECLINED_BEFORE
        LoanApplication.objects.create(
            enterprise=enterprise, programme=prog, bank=banks[app.bank_code], amount=app.amount, purpose=app.purpose,
            created_at=applied_at,
            status=LoanApplicationStatus.DECLINED if declined else LoanApplicationStatus.SUBMITTED,
            reason=DECLINE_REASON if declined else "",
            decided_at=applied_at + timedelta(days=5) if declined else None,
        )
        made += 1
    out.write(f"  意向申请：新增 {made} 笔，共 {LoanApplication.objects.filter(programme=prog).count()} 笔\n")


DECLINED_BEFORE = date(2022, 5, 1)
DECLINE_REASON = "经审核，企业经营流水暂不满足授信条件"

__all__ = ["extra_accounts", "load_pilot_applications", "load_subsidies"]
