"""A bank's or guarantor's part in a programme, and its cooperation state (R5)."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from registry.models import MONEY, Bank, Guarantor

from .programme import Programme


class CooperationState(models.TextChoices):
    ACTIVE = "active", _("正常合作")
    SUSPENDED = "suspended", _("暂停新增备案")
    ENDED = "ended", _("终止合作")


class Partnership(models.Model):
    """A partner bank in a programme: committed lending and cooperation state (R4, R5)."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="partnerships", verbose_name=_("项目")
    )
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="partnerships", verbose_name=_("银行"))
    committed_lending = models.DecimalField(_("承诺放款额(元) R4"), **MONEY)
    pool_allocation = models.DecimalField(
        _("分配的资金池份额(元) R4"), **MONEY, help_text=_("用于计算该行放大倍数：累计放款 ÷ 本数")
    )
    state = models.CharField(
        _("合作状态"), max_length=10, choices=CooperationState.choices, default=CooperationState.ACTIVE
    )
    state_reason = models.CharField(_("状态原因"), max_length=200, blank=True)
    joined_on = models.DateField(_("加入日期"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("合作银行协议")
        verbose_name_plural = _("合作银行协议")
        ordering = ["programme", "bank__code"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "bank"], name="partnership_unique_bank"),
            models.CheckConstraint(condition=Q(committed_lending__gt=0), name="partnership_commitment_positive"),
            models.CheckConstraint(condition=Q(pool_allocation__gt=0), name="partnership_allocation_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {self.bank}"


class GuarantorPartnership(models.Model):
    """A partner guarantor in a programme (R19, R21, R32)."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="guarantor_partnerships", verbose_name=_("项目")
    )
    guarantor = models.ForeignKey(
        Guarantor, on_delete=models.PROTECT, related_name="partnerships", verbose_name=_("担保机构")
    )
    state = models.CharField(
        _("合作状态"), max_length=10, choices=CooperationState.choices, default=CooperationState.ACTIVE
    )
    state_reason = models.CharField(_("状态原因"), max_length=200, blank=True)
    joined_on = models.DateField(_("加入日期"))
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("合作担保机构协议")
        verbose_name_plural = _("合作担保机构协议")
        ordering = ["programme", "guarantor__code"]
        constraints = [
            models.UniqueConstraint(fields=["programme", "guarantor"], name="guarantor_partnership_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.programme} · {self.guarantor}"


class CooperationChange(models.Model):
    """Every change of a partner's cooperation state: who, when, why (R5)."""

    partnership = models.ForeignKey(
        Partnership, on_delete=models.PROTECT, null=True, blank=True, related_name="changes",
        verbose_name=_("合作银行协议"),
    )
    guarantor_partnership = models.ForeignKey(
        GuarantorPartnership, on_delete=models.PROTECT, null=True, blank=True, related_name="changes",
        verbose_name=_("合作担保机构协议"),
    )
    from_state = models.CharField(_("原状态"), max_length=10, choices=CooperationState.choices)
    to_state = models.CharField(_("新状态"), max_length=10, choices=CooperationState.choices)
    rule = models.CharField(_("依据规则"), max_length=10, blank=True)
    reason = models.CharField(_("原因"), max_length=300)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作人"),
        help_text=_("自动评估时为空"),
    )
    changed_at = models.DateTimeField(_("时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("合作状态变更")
        verbose_name_plural = _("合作状态变更")
        ordering = ["-changed_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(partnership__isnull=False, guarantor_partnership__isnull=True)
                | Q(partnership__isnull=True, guarantor_partnership__isnull=False),
                name="cooperation_change_one_partner",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_from_state_display()} → {self.get_to_state_display()}"
