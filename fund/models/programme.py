"""Programmes and their effective-dated parameter sets (every ``P:`` of the rules)."""

from __future__ import annotations

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from fund.rules import parameter_errors
from registry.models import MONEY

PCT = {"max_digits": 6, "decimal_places": 2}


class Programme(models.Model):
    """A loan programme with one risk-compensation pool (R1), e.g. 服保贷."""

    code = models.CharField(_("项目代码"), max_length=20, unique=True)
    name = models.CharField(_("项目名称"), max_length=100, unique=True)
    start_date = models.DateField(_("开始日期"))
    end_date = models.DateField(_("结束日期"))
    description = models.TextField(_("说明"), blank=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("项目")
        verbose_name_plural = _("项目")
        ordering = ["code"]
        constraints = [
            models.CheckConstraint(condition=Q(end_date__gt=models.F("start_date")),
                                   name="programme_dates_ordered"),
        ]

    def __str__(self) -> str:
        return self.name


class ReferenceRate(models.TextChoices):
    LPR_AT_SETTLEMENT = "lpr_settlement", _("结清日适用的1年期LPR")
    LPR_AT_SIGNING = "lpr_signing", _("签约日适用的1年期LPR")
    CONTRACT = "contract", _("合同利率")


class CapBasis(models.TextChoices):
    PER_LOAN = "per_loan", _("每笔贷款")
    PER_ENTERPRISE_YEAR = "per_enterprise_year", _("每户企业每自然年")


class ParameterSet(models.Model):
    """The programme's parameters in force from ``effective_from`` on.

    A loan is judged by the set in force on its signing date, a claim on its
    claim date, a subsidy on its settlement date.  Sets are never edited once a
    decision has used them; a change is a new set with a later date.
    """

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="parameter_sets", verbose_name=_("项目")
    )
    effective_from = models.DateField(_("生效日期"))
    note = models.CharField(_("说明"), max_length=200, blank=True)
    # A. pool, partners, leverage
    treasury_contribution = models.DecimalField(_("财政出资(元) R1"), **MONEY, default=Decimal("150000000.00"))
    leverage_target = models.DecimalField(_("放大倍数目标 R4"), **PCT, default=Decimal("10.00"))
    # B. eligibility
    accept_individual_business = models.BooleanField(_("接受个体工商户 R6"), default=False)
    allow_medium = models.BooleanField(_("中型企业可参与 R7"), default=False)
    excluded_industries = models.CharField(
        _("排除行业 R8"), max_length=100, default="J,7010,S,T", help_text=_("逗号分隔：门类字母、大类或小类代码")
    )
    bad_record_years = models.PositiveSmallIntegerField(_("严重违法记录追溯年限 R9"), default=3)
    # C. loan terms
    enterprise_annual_cap = models.DecimalField(
        _("单户企业年度贷款上限(元) R11"), **MONEY, default=Decimal("10000000.00")
    )
    rate_cap_bp = models.PositiveSmallIntegerField(_("利率上限：LPR加点(基点) R12"), default=50)
    max_term_months = models.PositiveSmallIntegerField(_("最长期限(月) R13"), default=12)
    registration_days = models.PositiveSmallIntegerField(_("放款后备案期限(天) R15"), default=30)
    # D. loss sharing
    bank_mode_pool_share = models.DecimalField(_("政银模式资金池分担比例(%) R18"), **PCT, default=Decimal("60"))
    bank_mode_bank_share = models.DecimalField(_("政银模式银行分担比例(%) R18"), **PCT, default=Decimal("40"))
    guarantor_mode_pool_share = models.DecimalField(
        _("政银担模式资金池分担比例(%) R19"), **PCT, default=Decimal("40")
    )
    guarantor_mode_guarantor_share = models.DecimalField(
        _("政银担模式担保机构分担比例(%) R19"), **PCT, default=Decimal("40")
    )
    guarantor_mode_bank_share = models.DecimalField(
        _("政银担模式银行分担比例(%) R19"), **PCT, default=Decimal("20")
    )
    bank_cap_enabled = models.BooleanField(_("启用单家银行累计补偿上限 R22"), default=False)
    bank_cap_percent = models.DecimalField(_("单家银行累计补偿上限(占其损失%) R22"), **PCT, default=Decimal("80"))
    # E. claims
    claim_overdue_days = models.PositiveSmallIntegerField(_("申请补偿的逾期天数 R23"), default=90)
    claim_deadline_days = models.PositiveSmallIntegerField(_("不良后申请期限(天) R24"), default=180)
    require_court_notice = models.BooleanField(_("须提交法院或仲裁受理通知 R25"), default=False)
    review_sla_working_days = models.PositiveSmallIntegerField(_("审核时限(工作日) R29"), default=30)
    # F. recoveries
    refund_due_working_days = models.PositiveSmallIntegerField(_("追偿款返还期限(工作日) R30"), default=10)
    # G. suspension
    bank_overdue_suspend_percent = models.DecimalField(_("银行逾期率暂停线(%) R31"), **PCT, default=Decimal("5"))
    programme_overdue_stop_enabled = models.BooleanField(_("启用全项目逾期率停办 R32"), default=False)
    programme_overdue_stop_percent = models.DecimalField(_("全项目逾期率停办线(%) R32"), **PCT, default=Decimal("3"))
    guarantor_suspend_enabled = models.BooleanField(_("启用担保机构代偿率暂停 R32"), default=False)
    guarantor_compensation_suspend_percent = models.DecimalField(
        _("担保机构代偿率暂停线(%) R32"), **PCT, default=Decimal("5")
    )
    pool_floor_percent = models.DecimalField(_("资金池余额下限(占出资%) R33"), **PCT, default=Decimal("10"))
    # H. subsidies
    interest_subsidy_percent = models.DecimalField(_("贴息比例(%) R35"), **PCT, default=Decimal("30"))
    interest_reference_rate = models.CharField(
        _("贴息基准利率 R35"), max_length=20, choices=ReferenceRate.choices, default=ReferenceRate.LPR_AT_SETTLEMENT
    )
    day_count_basis = models.PositiveSmallIntegerField(_("计息天数基准 R35"), default=360)
    interest_subsidy_cap = models.DecimalField(_("贴息上限(元) R35"), **MONEY, default=Decimal("500000.00"))
    interest_subsidy_cap_basis = models.CharField(
        _("贴息上限口径 R35"), max_length=20, choices=CapBasis.choices, default=CapBasis.PER_LOAN
    )
    fee_subsidy_percent = models.DecimalField(_("担保费补贴比例(%) R36"), **PCT, default=Decimal("50"))
    fee_subsidy_cap = models.DecimalField(_("担保费补贴上限(元) R36"), **MONEY, default=Decimal("200000.00"))
    fee_subsidy_cap_basis = models.CharField(
        _("担保费补贴上限口径 R36"), max_length=20, choices=CapBasis.choices, default=CapBasis.PER_LOAN
    )
    fee_flag_percent = models.DecimalField(_("担保费率复核线(年化%) R36"), **PCT, default=Decimal("2"))
    application_opens = models.DateField(_("补贴申请开始日期 R37"), null=True, blank=True)
    application_closes = models.DateField(_("补贴申请截止日期 R37"), null=True, blank=True)
    # I. statistics and intake
    suppression_min_enterprises = models.PositiveSmallIntegerField(_("公开统计最少企业数 R41"), default=3)
    intake_row_cap = models.PositiveIntegerField(_("单个上传文件最大行数"), default=100_000)
    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("参数集")
        verbose_name_plural = _("参数集")
        ordering = ["programme", "-effective_from"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "effective_from"], name="parameter_set_unique_date"),
            models.CheckConstraint(condition=Q(bank_mode_bank_share__gte=20) & Q(guarantor_mode_bank_share__gte=20),
                                   name="parameter_set_bank_share_at_least_20"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} 自 {self.effective_from} 起"

    def save(self, *args, **kwargs) -> None:
        self.full_clean()
        super().save(*args, **kwargs)

    def clean(self) -> None:
        errors = parameter_errors(
            {f.name: getattr(self, f.name) for f in self._meta.concrete_fields},
            programme_start=self.programme.start_date if self.programme_id else None,
            programme_end=self.programme.end_date if self.programme_id else None,
        )
        if errors:
            raise ValidationError(errors)

