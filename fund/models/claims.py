"""Compensation claims on non-performing loans, their documents and recoveries (R23–R30).

Every change of a claim's status goes through ``fund.services.claim_transition``; the
models only hold state and the database-level guarantees (one live claim per loan,
maker-checker, non-negative money).  Documents are stored privately under
MEDIA_ROOT/claims/ and have no public URL: they are downloaded through views that
check who is asking.
"""

from __future__ import annotations

import uuid
from datetime import date

from django.conf import settings
from django.core.files.storage import FileSystemStorage
from django.db import models
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fund.rules import claims as claim_rules
from registry.models import MONEY, Guarantor

from .ledger import Journal, PoolPayment
from .loans import Loan
from .programme import PCT, ParameterSet, Programme


class PrivateStorage(FileSystemStorage):
    """MEDIA_ROOT on disk, but with no URL: files leave only through access-checked views."""

    def url(self, name: str | None) -> str:
        raise ValueError("私有文件没有公开地址，请通过下载视图访问")


_private_storage = PrivateStorage()


def private_storage() -> PrivateStorage:
    return _private_storage


def _stored_name(folder: str, filename: str) -> str:
    suffix = filename.rsplit(".", 1)[-1].lower() if "." in filename else "bin"
    return f"claims/{folder}/{uuid.uuid4().hex}.{suffix[:5]}"


def claim_document_path(instance: ClaimDocument, filename: str) -> str:
    return _stored_name(f"{instance.claim_id}", filename)


def guarantor_voucher_path(instance: GuarantorPayment, filename: str) -> str:
    return _stored_name(f"guarantor-payments/{instance.loan_id}", filename)


def recovery_evidence_path(instance: Recovery, filename: str) -> str:
    return _stored_name(f"{instance.claim_id}/recoveries", filename)


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    SUBMITTED = "submitted", _("已提交")
    UNDER_REVIEW = "under_review", _("审核中")
    APPROVED = "approved", _("已批准")
    PAID = "paid", _("已支付")
    REJECTED = "rejected", _("已驳回")


OPEN_STATUSES = (ClaimStatus.DRAFT, ClaimStatus.SUBMITTED, ClaimStatus.UNDER_REVIEW, ClaimStatus.APPROVED)
REVIEW_STATUSES = (ClaimStatus.SUBMITTED, ClaimStatus.UNDER_REVIEW)
COMPENSATED_STATUSES = (ClaimStatus.APPROVED, ClaimStatus.PAID)


class DocumentKind(models.TextChoices):
    CLAIM_FORM = claim_rules.CLAIM_FORM, _("补偿申请表")
    LOAN_CONTRACT = claim_rules.LOAN_CONTRACT, _("借款合同")
    DISBURSEMENT_VOUCHER = claim_rules.DISBURSEMENT_VOUCHER, _("放款凭证")
    OVERDUE_PROOF = claim_rules.OVERDUE_PROOF, _("逾期及五级分类证明")
    COLLECTION_RECORD = claim_rules.COLLECTION_RECORD, _("催收记录")
    LOSS_CALCULATION = claim_rules.LOSS_CALCULATION, _("银行损失计算表")
    GUARANTEE_CONTRACT = claim_rules.GUARANTEE_CONTRACT, _("担保合同")
    GUARANTOR_PAYMENT_VOUCHER = claim_rules.GUARANTOR_PAYMENT_VOUCHER, _("担保机构代偿凭证")
    COURT_NOTICE = claim_rules.COURT_NOTICE, _("法院或仲裁受理通知")


class Claim(models.Model):
    """A bank's claim on the pool for a non-performing loan (R23–R29)."""

    programme = models.ForeignKey(Programme, on_delete=models.PROTECT, related_name="claims", verbose_name=_("项目"))
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="claims", verbose_name=_("贷款"))
    status = models.CharField(
        _("状态"), max_length=16, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT, db_index=True
    )
    unpaid_principal = models.DecimalField(_("未偿本金(元) R20"), **MONEY)
    unpaid_interest = models.DecimalField(
        _("欠息(元)，不予补偿 R20"), **MONEY, default=0, help_text=_("仅作记录；利息、罚息和费用不予补偿")
    )
    note = models.TextField(_("说明"), blank=True)
    claim_date = models.DateField(_("申请日期"), help_text=_("提交之日；据此确定适用的参数集 (R26)"))
    parameter_set = models.ForeignKey(
        ParameterSet, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("适用参数集"),
    )
    pool_share_percent = models.DecimalField(_("资金池分担比例(%)"), **PCT, null=True, blank=True)
    claim_amount = models.DecimalField(
        _("应补偿金额(元) R18–R22"), **MONEY, null=True, blank=True,
        help_text=_("未偿本金 × 资金池分担比例，经 R22 限额；支付时资金池按当日可用余额实付 (R3)"),
    )
    calculation = models.JSONField(_("计算过程"), default=dict, blank=True)
    paid_amount = models.DecimalField(_("资金池实付(元)"), **MONEY, null=True, blank=True)
    unpaid_by_pool = models.DecimalField(_("资金池未付(元) R3"), **MONEY, default=0)
    pool_payment = models.OneToOneField(
        PoolPayment, on_delete=models.PROTECT, null=True, blank=True, related_name="claim",
        verbose_name=_("资金池支付"),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("创建人")
    )
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("提交人"),
    )
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    review_due_on = models.DateField(_("审核时限 R29"), null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("审核人(经办)"),
    )
    review_started_at = models.DateTimeField(_("开始审核时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("批准人(复核)"),
    )
    approved_at = models.DateTimeField(_("批准时间"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("支付人"),
    )
    paid_at = models.DateTimeField(_("支付时间"), null=True, blank=True)
    paid_on = models.DateField(_("支付日期"), null=True, blank=True)
    rejected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("驳回人"),
    )
    rejected_at = models.DateTimeField(_("驳回时间"), null=True, blank=True)
    rejection_reason = models.TextField(_("驳回理由"), blank=True)
    return_comment = models.TextField(_("退回补正意见"), blank=True)
    pursuit_closed_on = models.DateField(
        _("核销日期"), null=True, blank=True, help_text=_("核销后不再追偿，但此后收回的款项仍须按比例返还 (R30)")
    )
    pursuit_closed_reason = models.CharField(_("核销说明"), max_length=300, blank=True)
    review_overdue_flagged_at = models.DateTimeField(_("审核超时标记时间 R29"), null=True, blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("风险补偿申请")
        verbose_name_plural = _("风险补偿申请")
        ordering = ["-created_at", "-id"]
        permissions = [
            ("handle_claim_review", _("可审核风险补偿申请（经办）")),
            ("approve_claim", _("可批准风险补偿申请（复核）")),
            ("pay_claim", _("可支付风险补偿（复核）")),
        ]
        constraints = [
            # R28: at most one open claim per loan, and a paid claim is never filed again.
            models.UniqueConstraint(fields=["loan"], condition=~Q(status="rejected"), name="claim_one_live_per_loan"),
            models.CheckConstraint(condition=Q(unpaid_principal__gt=0), name="claim_unpaid_principal_positive"),
            models.CheckConstraint(condition=Q(unpaid_interest__gte=0), name="claim_unpaid_interest_non_negative"),
            models.CheckConstraint(
                condition=Q(claim_amount__isnull=True) | Q(claim_amount__gte=0), name="claim_amount_non_negative"
            ),
            models.CheckConstraint(
                condition=Q(paid_amount__isnull=True) | Q(paid_amount__gte=0), name="claim_paid_non_negative"
            ),
            models.CheckConstraint(condition=Q(unpaid_by_pool__gte=0), name="claim_unpaid_by_pool_non_negative"),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_amount=0) | Q(paid_amount__gt=0, pool_payment__isnull=False),
                name="claim_paid_through_ledger",
            ),
            # R27 maker-checker, also at the database level.
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True) | ~Q(approved_by=F("reviewed_by")),
                name="claim_approver_not_reviewer",
            ),
            models.CheckConstraint(
                condition=Q(paid_by__isnull=True) | (~Q(paid_by=F("approved_by")) & ~Q(paid_by=F("reviewed_by"))),
                name="claim_payer_not_approver_or_reviewer",
            ),
        ]
        indexes = [models.Index(fields=["status", "review_due_on"])]

    def __str__(self) -> str:
        return f"{self.number} {self.loan.contract_no}"

    @property
    def number(self) -> str:
        return f"CL{self.pk:06d}" if self.pk else "CL（未保存）"

    @property
    def mode(self) -> str:
        return self.loan.mode

    def is_review_overdue(self, as_of: date | None = None) -> bool:
        """R29: still in review after its service-level date."""
        as_of = as_of or timezone.localdate()
        return self.status in REVIEW_STATUSES and self.review_due_on is not None and as_of > self.review_due_on

    @property
    def review_overdue(self) -> bool:
        return self.is_review_overdue()

    @property
    def has_decision(self) -> bool:
        return self.status in (ClaimStatus.APPROVED, ClaimStatus.PAID, ClaimStatus.REJECTED)


class ClaimDocument(models.Model):
    """One typed attachment of a claim (R25), stored privately."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="documents", verbose_name=_("申请"))
    kind = models.CharField(_("材料类型"), max_length=30, choices=DocumentKind.choices)
    file = models.FileField(_("文件"), upload_to=claim_document_path, storage=private_storage, max_length=200)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=100)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人")
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("申请材料")
        verbose_name_plural = _("申请材料")
        ordering = ["claim", "kind", "id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}：{self.original_name}"


class ClaimStatusChange(models.Model):
    """The claim's status history with comments; also the service-level idempotency record."""

    claim = models.ForeignKey(Claim, on_delete=models.CASCADE, related_name="status_changes", verbose_name=_("申请"))
    from_status = models.CharField(_("原状态"), max_length=16, choices=ClaimStatus.choices)
    to_status = models.CharField(_("新状态"), max_length=16, choices=ClaimStatus.choices)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("操作人")
    )
    comment = models.TextField(_("意见"), blank=True)
    idempotency_key = models.CharField(_("幂等键"), max_length=150, blank=True)
    changed_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("申请状态变更")
        verbose_name_plural = _("申请状态变更")
        ordering = ["claim", "changed_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["claim", "idempotency_key"], condition=~Q(idempotency_key=""),
                name="claim_status_change_unique_key",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_from_status_display()} → {self.get_to_status_display()}"


class GuarantorPayment(models.Model):
    """In 政银担 mode, the guarantor's payment of its share to the bank, with its voucher (R19)."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="guarantor_payments", verbose_name=_("贷款"))
    guarantor = models.ForeignKey(
        Guarantor, on_delete=models.PROTECT, related_name="payments", verbose_name=_("担保机构")
    )
    amount = models.DecimalField(_("代偿金额(元)"), **MONEY)
    paid_on = models.DateField(_("代偿日期"))
    voucher = models.FileField(_("代偿凭证"), upload_to=guarantor_voucher_path, storage=private_storage, max_length=200)
    voucher_name = models.CharField(_("凭证原文件名"), max_length=200)
    voucher_content_type = models.CharField(_("凭证文件类型"), max_length=100)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("登记人")
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("担保机构代偿")
        verbose_name_plural = _("担保机构代偿")
        ordering = ["-paid_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="guarantor_payment_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.guarantor.short_name} 代偿 {self.amount} 元（{self.paid_on}）"


class RefundStatus(models.TextChoices):
    NONE = "none", _("无需返还")
    DUE = "due", _("待返还")
    RECEIVED = "received", _("已返还入池")


class Recovery(models.Model):
    """A recovery after compensation and the refund it owes the pool (R30)."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="recoveries", verbose_name=_("补偿申请"))
    recovered_on = models.DateField(_("收回日期"))
    gross_amount = models.DecimalField(_("收回金额(元)"), **MONEY)
    costs = models.DecimalField(_("追偿费用(元)"), **MONEY, default=0)
    net_amount = models.DecimalField(_("净收回(元)"), **MONEY)
    refund_due = models.DecimalField(_("应返还资金池(元)"), **MONEY)
    refund_due_on = models.DateField(_("返还期限 R30"))
    refund_status = models.CharField(_("返还状态"), max_length=10, choices=RefundStatus.choices)
    refund_received_on = models.DateField(_("返还到账日期"), null=True, blank=True)
    refund_journal = models.OneToOneField(
        Journal, on_delete=models.PROTECT, null=True, blank=True, related_name="recovery",
        verbose_name=_("返还凭证"),
    )
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("确认到账人"),
    )
    calculation = models.JSONField(_("返还计算"), default=dict, blank=True)
    evidence = models.FileField(
        _("追偿凭证"), upload_to=recovery_evidence_path, storage=private_storage, max_length=200
    )
    evidence_name = models.CharField(_("凭证原文件名"), max_length=200)
    evidence_content_type = models.CharField(_("凭证文件类型"), max_length=100)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("登记人")
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    refund_overdue_flagged_at = models.DateTimeField(_("返还逾期标记时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("追偿收回")
        verbose_name_plural = _("追偿收回")
        ordering = ["-recovered_on", "-id"]
        permissions = [("handle_recovery_refund", _("可确认追偿返还款到账"))]
        constraints = [
            models.CheckConstraint(condition=Q(gross_amount__gte=0), name="recovery_gross_non_negative"),
            models.CheckConstraint(condition=Q(costs__gte=0), name="recovery_costs_non_negative"),
            models.CheckConstraint(condition=Q(net_amount__gte=0), name="recovery_net_non_negative"),
            models.CheckConstraint(condition=Q(refund_due__gte=0), name="recovery_refund_non_negative"),
            models.CheckConstraint(
                condition=~Q(refund_status="received") | Q(refund_journal__isnull=False),
                name="recovery_received_through_ledger",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.claim.number} 收回 {self.gross_amount} 元（{self.recovered_on}）"

    def is_refund_overdue(self, as_of: date | None = None) -> bool:
        as_of = as_of or timezone.localdate()
        return self.refund_status == RefundStatus.DUE and as_of > self.refund_due_on

    @property
    def refund_overdue(self) -> bool:
        return self.is_refund_overdue()


class IdempotencyRecord(models.Model):
    """An API request made with an ``Idempotency-Key``: a replay gets the first answer back."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", verbose_name=_("用户")
    )
    key = models.CharField(_("幂等键"), max_length=150)
    request_hash = models.CharField(_("请求摘要"), max_length=64)
    response_status = models.PositiveSmallIntegerField(_("响应状态"), default=0, help_text=_("0 表示处理中"))
    response_body = models.JSONField(_("响应内容"), null=True, blank=True)
    created_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("接口幂等记录")
        verbose_name_plural = _("接口幂等记录")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="idempotency_unique_user_key")]

    def __str__(self) -> str:
        return f"{self.user_id}:{self.key}"
