"""Interest and guarantee-fee subsidies (R35–R39), their payment batches, and the
enterprise portal's own records: loan applications (意向申请) and activation codes.

Subsidies are paid from the treasury's subsidy budget (fund ledger), never from the pool.
A subsidy changes state only through ``subsidies.services.subsidy_transition``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from fund.models import Loan, Programme
from registry.models import MONEY, RATE, Bank, Enterprise


class SubsidyKind(models.TextChoices):
    INTEREST = "interest", _("贷款贴息")
    GUARANTEE_FEE = "guarantee_fee", _("担保费补贴")


class SubsidyStatus(models.TextChoices):
    COMPUTED = "computed", _("已测算待申请")
    APPLIED = "applied", _("已申请")
    UNDER_REVIEW = "under_review", _("审核中")
    APPROVED = "approved", _("已核准")
    IN_BATCH = "in_batch", _("已纳入支付批次")
    PAID = "paid", _("已支付")
    REJECTED = "rejected", _("未通过")


class Subsidy(models.Model):
    """One kind of subsidy for one settled loan (R39: at most one per loan and kind)."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="subsidies", verbose_name=_("贷款"))
    kind = models.CharField(_("补贴类型"), max_length=16, choices=SubsidyKind.choices)
    # Denormalised from the loan: scoping (enterprise portal) and per-enterprise-year caps.
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="subsidies", verbose_name=_("项目")
    )
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="subsidies", verbose_name=_("企业")
    )
    parameter_set = models.ForeignKey(
        "fund.ParameterSet", on_delete=models.PROTECT, related_name="+", verbose_name=_("适用参数集")
    )
    settled_on = models.DateField(_("结清日期"))
    amount = models.DecimalField(_("补贴金额(元)"), **MONEY)
    reference_rate = models.DecimalField(_("基准利率(%)"), **RATE, null=True, blank=True)
    reference_rate_source = models.CharField(_("基准利率来源"), max_length=120, blank=True)
    calculation = models.JSONField(_("计算过程"), default=dict)
    flagged = models.BooleanField(_("需重点复核"), default=False)
    flag_reason = models.CharField(_("复核提示"), max_length=300, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=SubsidyStatus.choices, default=SubsidyStatus.COMPUTED, db_index=True
    )
    status_reason = models.CharField(_("不予补贴的理由"), max_length=500, blank=True)
    computed_at = models.DateTimeField(_("测算时间"), default=timezone.now)
    # the enterprise's application (R37)
    applied_at = models.DateTimeField(_("申请时间"), null=True, blank=True)
    applied_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("申请人"),
    )
    payee_name = models.CharField(_("收款户名"), max_length=200, blank=True)
    payee_bank = models.CharField(_("收款开户行"), max_length=100, blank=True)
    payee_account = models.CharField(_("收款账号"), max_length=40, blank=True)
    # maker-checker (R38, as R27)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("审核人(经办)"),
    )
    reviewed_at = models.DateTimeField(_("审核时间"), null=True, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("核准人(复核)"),
    )
    approved_at = models.DateTimeField(_("核准时间"), null=True, blank=True)
    batch = models.ForeignKey(
        "PaymentBatch", on_delete=models.PROTECT, null=True, blank=True, related_name="subsidies",
        verbose_name=_("支付批次"),
    )
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("确认支付人"),
    )
    paid_at = models.DateTimeField(_("支付确认时间"), null=True, blank=True)
    paid_on = models.DateField(_("支付日期"), null=True, blank=True)
    payment_reference = models.CharField(_("支付凭证号"), max_length=64, blank=True)
    journal_id = models.PositiveBigIntegerField(_("总账凭证号"), null=True, blank=True)

    class Meta:
        verbose_name = _("补贴")
        verbose_name_plural = _("补贴")
        ordering = ["-settled_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["loan", "kind"], name="subsidy_once_per_loan_and_kind"),  # R39
            models.CheckConstraint(condition=Q(amount__gte=0), name="subsidy_amount_non_negative"),
            models.CheckConstraint(
                condition=~Q(status="paid") | Q(paid_at__isnull=False, batch__isnull=False),
                name="subsidy_paid_has_batch_and_time",
            ),
        ]
        indexes = [models.Index(fields=["enterprise", "kind", "settled_on"])]
        permissions = [
            ("handle_subsidy_review", _("审核补贴申请、编制支付批次（经办）")),
            ("approve_subsidy", _("核准补贴（复核）")),
            ("pay_subsidy", _("确认补贴支付（复核）")),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} · {self.loan.contract_no}"


class DocumentType(models.TextChoices):
    GUARANTEE_CONTRACT = "guarantee_contract", _("担保合同")
    FEE_INVOICE = "fee_invoice", _("担保费发票")
    OTHER = "other", _("其他材料")


def _document_path(instance: SubsidyDocument, filename: str) -> str:
    # Private: under MEDIA_ROOT/subsidies/, never served by URL; the name is random.
    return f"subsidies/{instance.subsidy_id}/{instance.token}{instance.extension}"


class SubsidyDocument(models.Model):
    """A document the enterprise uploaded with its application (R37)."""

    subsidy = models.ForeignKey(Subsidy, on_delete=models.PROTECT, related_name="documents", verbose_name=_("补贴"))
    doc_type = models.CharField(_("材料类型"), max_length=24, choices=DocumentType.choices)
    file = models.FileField(_("文件"), upload_to=_document_path, max_length=200)
    token = models.CharField(_("存储名"), max_length=32, editable=False)
    extension = models.CharField(_("扩展名"), max_length=8, editable=False)
    original_name = models.CharField(_("原文件名"), max_length=200)
    content_type = models.CharField(_("文件类型"), max_length=60)
    size = models.PositiveIntegerField(_("大小(字节)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("上传人")
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("补贴申请材料")
        verbose_name_plural = _("补贴申请材料")
        ordering = ["subsidy", "doc_type", "id"]

    def __str__(self) -> str:
        return f"{self.get_doc_type_display()}：{self.original_name}"


class OtherSubsidy(models.Model):
    """A subsidy the loan receives from another source (R39), recorded by bureau staff."""

    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="other_subsidies", verbose_name=_("贷款"))
    kind = models.CharField(_("补贴类型"), max_length=16, choices=SubsidyKind.choices, default=SubsidyKind.INTEREST)
    source = models.CharField(_("补贴来源"), max_length=200)
    amount = models.DecimalField(_("补贴金额(元)"), **MONEY)
    rate = models.DecimalField(_("补贴利率(%)"), max_digits=6, decimal_places=2, null=True, blank=True)
    note = models.CharField(_("说明"), max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("登记人"),
    )
    recorded_at = models.DateTimeField(_("登记时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("其他来源补贴")
        verbose_name_plural = _("其他来源补贴")
        ordering = ["loan", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="other_subsidy_amount_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.source} {self.amount}"


class BatchStatus(models.TextChoices):
    OPEN = "open", _("待支付")
    PAID = "paid", _("已支付")


class PaymentBatch(models.Model):
    """Approved subsidies gathered for one payment by the treasury (R38)."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="subsidy_batches", verbose_name=_("项目")
    )
    reference = models.CharField(_("批次编号"), max_length=32, unique=True)
    status = models.CharField(_("状态"), max_length=8, choices=BatchStatus.choices, default=BatchStatus.OPEN)
    total = models.DecimalField(_("合计金额(元)"), **MONEY, default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("编制人")
    )
    created_at = models.DateTimeField(_("编制时间"), auto_now_add=True)
    exported_at = models.DateTimeField(_("最近导出时间"), null=True, blank=True)
    voucher_reference = models.CharField(_("支付凭证号"), max_length=64, blank=True)
    paid_on = models.DateField(_("支付日期"), null=True, blank=True)
    paid_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("确认支付人"),
    )
    paid_at = models.DateTimeField(_("支付确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("补贴支付批次")
        verbose_name_plural = _("补贴支付批次")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(total__gte=0), name="payment_batch_total_non_negative"),
            models.CheckConstraint(
                condition=Q(status="open") | ~Q(voucher_reference="") & Q(paid_at__isnull=False),
                name="payment_batch_paid_has_voucher",
            ),
        ]

    def __str__(self) -> str:
        return self.reference


class LoanApplicationStatus(models.TextChoices):
    SUBMITTED = "submitted", _("已提交")
    ACCEPTED = "accepted", _("银行已受理")
    DECLINED = "declined", _("银行未受理")


class LoanApplication(models.Model):
    """An enterprise's loan application (意向申请) to a partner bank; feeds "enterprises that applied" (R40)."""

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="loan_applications", verbose_name=_("企业")
    )
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="loan_applications", verbose_name=_("意向银行"))
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="loan_applications", verbose_name=_("项目")
    )
    amount = models.DecimalField(_("申请金额(元)"), **MONEY)
    purpose = models.CharField(_("贷款用途"), max_length=200)
    contact_name = models.CharField(_("联系人"), max_length=40, blank=True)
    contact_phone = models.CharField(_("联系电话"), max_length=20, blank=True)
    status = models.CharField(
        _("状态"), max_length=10, choices=LoanApplicationStatus.choices, default=LoanApplicationStatus.SUBMITTED
    )
    reason = models.CharField(_("银行答复"), max_length=300, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("答复人"),
    )
    decided_at = models.DateTimeField(_("答复时间"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("提交人"),
    )
    created_at = models.DateTimeField(_("提交时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("贷款意向申请")
        verbose_name_plural = _("贷款意向申请")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="loan_application_amount_positive"),
        ]
        indexes = [models.Index(fields=["programme", "created_at"]), models.Index(fields=["bank", "status"])]

    def __str__(self) -> str:
        return f"{self.enterprise.name} → {self.bank.short_name} {self.amount}"


class ActivationCode(models.Model):
    """A one-time code that activates (or resets) an enterprise's portal account.

    Only the hash is stored; the code is shown once to whoever issued it.
    """

    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="activation_codes", verbose_name=_("企业")
    )
    code_hash = models.CharField(_("激活码摘要"), max_length=128)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("签发人")
    )
    issued_at = models.DateTimeField(_("签发时间"), default=timezone.now)
    expires_at = models.DateTimeField(_("失效时间"))
    used_at = models.DateTimeField(_("使用时间"), null=True, blank=True)
    revoked_at = models.DateTimeField(_("作废时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("企业账户激活码")
        verbose_name_plural = _("企业账户激活码")
        ordering = ["-issued_at", "-id"]

    def __str__(self) -> str:
        return f"{self.enterprise.credit_code} {self.issued_at:%Y-%m-%d %H:%M}"

    @property
    def state_label(self) -> str:
        if self.used_at:
            return "已使用"
        if self.revoked_at:
            return "已作废"
        if self.expires_at <= timezone.now():
            return "已过期"
        return "有效"


class BorrowerAccount(Enterprise):
    """Proxy of Enterprise for the admin page that issues portal activation codes."""

    class Meta:
        proxy = True
        verbose_name = _("企业门户账户")
        verbose_name_plural = _("企业门户账户")
