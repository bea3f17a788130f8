"""The programme's register of loans (bank-workbooks.md §1) and their latest monthly state (§2)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from registry.models import MONEY, Bank, Enterprise, Guarantor

from .programme import Programme


class LoanMode(models.TextChoices):
    BANK = "bank", _("政银")
    BANK_GUARANTOR = "bank_guarantor", _("政银担")


class Classification(models.TextChoices):
    NORMAL = "normal", _("正常")
    SPECIAL_MENTION = "special", _("关注")
    SUBSTANDARD = "substandard", _("次级")
    DOUBTFUL = "doubtful", _("可疑")
    LOSS = "loss", _("损失")


class LoanStatus(models.TextChoices):
    CURRENT = "current", _("正常")
    OVERDUE = "overdue", _("逾期")
    SETTLED = "settled", _("结清")
    WRITTEN_OFF = "written_off", _("核销")


NON_PERFORMING = (Classification.SUBSTANDARD, Classification.DOUBTFUL, Classification.LOSS)


class Loan(models.Model):
    """A loan registered (备案) under a programme, identified by (bank, contract number) (R16)."""

    # No single-column indexes where a composite one leads with the column (programme+bank,
    # bank+contract_no, enterprise+signed_on): every one costs each of the intake's inserts.
    # db_constraint=False: these keys are checked once per statement by triggers (registry.setfk,
    # migration fund/0007; also the enterprise), not once per row; the guarantees are the same.
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="loans", verbose_name=_("项目"), db_index=False,
        db_constraint=False,
    )
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="loans", verbose_name=_("银行"), db_index=False,
                             db_constraint=False)
    contract_no = models.CharField(_("借款合同编号"), max_length=64)
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, related_name="loans", verbose_name=_("借款企业"), db_index=False,
        db_constraint=False,
    )
    enterprise_name = models.CharField(_("备案时企业名称"), max_length=200)
    mode = models.CharField(_("担保模式"), max_length=16, choices=LoanMode.choices)
    guarantor = models.ForeignKey(
        Guarantor, on_delete=models.PROTECT, null=True, blank=True, related_name="loans",
        verbose_name=_("担保机构"), db_constraint=False,
    )
    guarantee_contract_no = models.CharField(_("担保合同编号"), max_length=64, blank=True)
    guarantee_fee_rate = models.DecimalField(
        _("担保费率(%)"), max_digits=6, decimal_places=2, null=True, blank=True
    )
    signed_on = models.DateField(_("合同签订日期"))
    disbursed_on = models.DateField(_("放款日期"))
    matures_on = models.DateField(_("到期日期"))
    principal = models.DecimalField(_("贷款金额(元)"), **MONEY)
    annual_rate = models.DecimalField(_("年利率(%)"), max_digits=6, decimal_places=2)
    purpose = models.CharField(_("贷款用途"), max_length=200)
    credit_attested = models.BooleanField(_("信用承诺 R9"), default=False)
    registered_at = models.DateTimeField(_("备案时间"), auto_now_add=True)
    registered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("备案人"), db_constraint=False,
    )
    late_override_reason = models.CharField(_("逾期备案特批理由 R15"), max_length=300, blank=True)
    source_batch = models.CharField(_("来源批次"), max_length=40, blank=True)
    # latest monthly state (bank-workbooks.md §2)
    outstanding_principal = models.DecimalField(_("贷款余额(元)"), **MONEY)
    overdue_days = models.PositiveIntegerField(_("逾期天数"), default=0)
    classification = models.CharField(
        _("五级分类"), max_length=12, choices=Classification.choices, default=Classification.NORMAL
    )
    status = models.CharField(_("贷款状态"), max_length=12, choices=LoanStatus.choices, default=LoanStatus.CURRENT)
    settled_on = models.DateField(_("结清日期"), null=True, blank=True)
    interest_paid_total = models.DecimalField(_("累计实付利息(元)"), **MONEY, default=0)
    guarantee_fee_paid_total = models.DecimalField(_("累计实付担保费(元)"), **MONEY, default=0)
    last_report_month = models.DateField(_("最近报告月份"), null=True, blank=True)
    ever_overdue = models.BooleanField(_("曾经逾期"), default=False)
    nonperforming_since = models.DateField(
        _("首次不良日期"), null=True, blank=True, help_text=_("逾期超过申请补偿天数的首日 (R23, R24)")
    )
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("备案贷款")
        verbose_name_plural = _("备案贷款")
        ordering = ["-disbursed_on", "id"]
        constraints = [
            models.UniqueConstraint(fields=["bank", "contract_no"], name="loan_unique_bank_contract"),
            models.CheckConstraint(condition=Q(principal__gt=0), name="loan_principal_positive"),
            models.CheckConstraint(condition=Q(outstanding_principal__gte=0), name="loan_outstanding_non_negative"),
            models.CheckConstraint(condition=Q(signed_on__lte=F("disbursed_on")), name="loan_signed_before_disbursed"),
            models.CheckConstraint(condition=Q(disbursed_on__lt=F("matures_on")), name="loan_disbursed_before_maturity"),
            models.CheckConstraint(condition=Q(annual_rate__gt=0), name="loan_rate_positive"),
            models.CheckConstraint(
                condition=Q(mode="bank", guarantor__isnull=True) | Q(mode="bank_guarantor", guarantor__isnull=False),
                name="loan_guarantor_matches_mode",
            ),
            models.CheckConstraint(
                condition=Q(settled_on__isnull=True) | Q(settled_on__gte=F("disbursed_on")),
                name="loan_settled_after_disbursed",
            ),
        ]
        indexes = [
            models.Index(fields=["programme", "bank"]),
            models.Index(fields=["programme", "signed_on"]),
            models.Index(fields=["enterprise", "signed_on"]),
        ]

    def __str__(self) -> str:
        return f"{self.bank.short_name} {self.contract_no}"

    @property
    def is_nonperforming(self) -> bool:
        return self.classification in NON_PERFORMING
