"""The enterprise portal's own writes: account activation codes and loan applications (意向申请)."""

from __future__ import annotations

import secrets
from datetime import timedelta
from decimal import Decimal

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from fund.models import CooperationState, Loan, Partnership, Programme
from fund.selectors import parameters_in_force
from registry import roles
from registry.audit import record_event
from registry.errors import BusinessError
from registry.models import Bank, Enterprise, User
from registry.rules import normalize_text

from ..models import ActivationCode, LoanApplication, LoanApplicationStatus
from ._common import require_enterprise, require_perm

CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"  # no 0/O, 1/I/L
CODE_LENGTH = 8
CODE_VALID_FOR = timedelta(days=7)
ACTIVATION_REFUSED = "统一社会信用代码或激活码不正确，或激活码已失效。请向贷款银行或财政部门重新申请激活码。"


def normalize_code(code: str) -> str:
    return normalize_text(code).replace("-", "")


def activation_code_issue(*, enterprise: Enterprise, actor: User) -> str:
    """A new one-time activation code for a registered borrower's portal account (shown once).

    A bank user may issue codes only for its own borrowers; bureau staff need the
    ``add_activationcode`` permission.  Earlier unused codes of the enterprise stop working.
    """
    if actor is not None and actor.is_authenticated and actor.bank_id:
        if not Loan.objects.filter(enterprise=enterprise, bank_id=actor.bank_id).exists():
            raise BusinessError("只能为在本行有备案贷款的企业签发激活码", code="forbidden")
    else:
        require_perm(actor, "add_activationcode", what="签发企业账户激活码")
        if not Loan.objects.filter(enterprise=enterprise).exists():
            raise BusinessError("该企业没有备案贷款，不能开通企业账户", code="not_a_borrower")
    raw = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    now = timezone.now()
    with transaction.atomic():
        ActivationCode.objects.filter(enterprise=enterprise, used_at__isnull=True, revoked_at__isnull=True).update(
            revoked_at=now
        )
        issued = ActivationCode.objects.create(
            enterprise=enterprise, code_hash=make_password(raw), issued_by=actor, issued_at=now,
            expires_at=now + CODE_VALID_FOR,
        )
        record_event(actor=actor, event_type="enterprise.activation_code_issued", obj=enterprise, code=issued.pk,
                     expires_at=issued.expires_at)
    return f"{raw[:4]}-{raw[4:]}"


def _valid_code(enterprise: Enterprise | None, raw: str) -> ActivationCode | None:
    if enterprise is None:
        make_password(raw)  # about the same work as a real check
        return None
    live = ActivationCode.objects.filter(
        enterprise=enterprise, used_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
    )
    for candidate in live:
        if check_password(raw, candidate.code_hash):
            return candidate
    if not live:
        make_password(raw)
    return None


def enterprise_account_activate(*, credit_code: str, code: str, password: str) -> User:
    """Activate (or reset) the enterprise's portal login: username = credit code, group 企业用户.

    One message for every failure of code or credit code (no probing).  The password goes
    through Django's validators; a code works once.
    """
    credit_code, raw = normalize_text(credit_code), normalize_code(code)
    enterprise = Enterprise.objects.filter(credit_code=credit_code).first()
    issued = _valid_code(enterprise, raw)
    if issued is None:
        raise BusinessError(ACTIVATION_REFUSED, code="activation_refused")
    user = User.objects.filter(username=credit_code).first()
    if user is not None and user.enterprise_id != enterprise.pk:
        raise BusinessError("该信用代码已被其他账号占用，请联系财政部门", code="username_taken")
    candidate = user or User(username=credit_code, first_name=enterprise.name[:150], enterprise=enterprise)
    try:
        validate_password(password, user=candidate)
    except ValidationError as exc:
        raise BusinessError("；".join(exc.messages), code="weak_password") from exc
    with transaction.atomic(durable=True):
        claimed = ActivationCode.objects.filter(pk=issued.pk, used_at__isnull=True, revoked_at__isnull=True).update(
            used_at=timezone.now()
        )
        if claimed != 1:
            raise BusinessError(ACTIVATION_REFUSED, code="activation_refused")
        candidate.is_active = True
        candidate.set_password(password)
        candidate.save()
        candidate.groups.add(Group.objects.get(name=roles.ENTERPRISE_USER))
        record_event(actor=candidate, event_type="enterprise.account_activated", obj=enterprise, user=candidate.pk,
                     reset=user is not None)
    return candidate


# --------------------------------------------------------------------------- loan applications (意向申请)


def loan_application_submit(
    *, enterprise: Enterprise, programme: Programme, bank: Bank, amount: Decimal, purpose: str, actor: User,
    contact_name: str = "", contact_phone: str = "",
) -> LoanApplication:
    """The enterprise asks a partner bank of the programme for a loan."""
    require_enterprise(actor, enterprise.pk)
    partnership = Partnership.objects.filter(programme=programme, bank=bank).first()
    if partnership is None:
        raise BusinessError("请选择本项目的合作银行", code="not_a_partner")
    if partnership.state != CooperationState.ACTIVE:
        raise BusinessError(f"{bank.name}目前暂停办理本项目新业务，请选择其他合作银行", code="bank_suspended", rule="R5")
    amount = Decimal(amount).quantize(Decimal("0.01"))
    cap = parameters_in_force(programme=programme, on=timezone.localdate()).enterprise_annual_cap
    if amount <= 0 or amount > cap:
        raise BusinessError(f"申请金额应大于 0 且不超过 {cap:,.2f} 元", code="invalid_amount", rule="R11")
    if not purpose.strip():
        raise BusinessError("请填写贷款用途", code="purpose_required", rule="R14")
    with transaction.atomic():
        Enterprise.objects.select_for_update().filter(pk=enterprise.pk).first()
        if LoanApplication.objects.filter(enterprise=enterprise, programme=programme, bank=bank,
                                          status=LoanApplicationStatus.SUBMITTED).exists():
            raise BusinessError("您已向该银行提交过申请，请等待银行答复", code="duplicate_application")
        application = LoanApplication.objects.create(
            enterprise=enterprise, programme=programme, bank=bank, amount=amount, purpose=purpose.strip()[:200],
            contact_name=contact_name.strip()[:40], contact_phone=contact_phone.strip()[:20], created_by=actor,
        )
        record_event(actor=actor, event_type="loan_application.submitted", obj=application, bank=bank.pk,
                     amount=amount)
    return application


def loan_application_decide(*, application: LoanApplication, accept: bool, reason: str, actor: User) -> LoanApplication:
    """The chosen bank accepts or declines an application (a reason is required to decline)."""
    if actor is None or not actor.is_authenticated or actor.bank_id != application.bank_id:
        raise BusinessError("只能答复本行收到的申请", code="forbidden")
    if not accept and not reason.strip():
        raise BusinessError("婉拒申请时必须填写理由", code="reason_required")
    with transaction.atomic():
        locked = LoanApplication.objects.select_for_update().get(pk=application.pk)
        if locked.status != LoanApplicationStatus.SUBMITTED:
            raise BusinessError("该申请已答复，不能重复答复", code="already_decided")
        locked.status = LoanApplicationStatus.ACCEPTED if accept else LoanApplicationStatus.DECLINED
        locked.reason, locked.decided_by, locked.decided_at = reason.strip()[:300], actor, timezone.now()
        locked.save(update_fields=["status", "reason", "decided_by", "decided_at"])
        record_event(actor=actor, event_type=f"loan_application.{locked.status}", obj=locked, reason=locked.reason)
    application.refresh_from_db()
    return locked
