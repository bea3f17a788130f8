"""The pool's double-entry ledger (R1–R3): accounts, journals and their lines.

Journals and lines are append-only: the ORM refuses to update or delete them
(model ``save``/``delete`` and the queryset's ``update``/``delete``), and on
PostgreSQL triggers refuse it too and check at commit that every journal
balances (migration ``0004_ledger_triggers``).  A mistake is corrected by a
reversing journal pointing at the original.  Balances are always derived from
lines; nothing caches them.  See docs/ledger.md.
"""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from registry.models import MONEY, Bank, Guarantor

from .programme import Programme

HALF_CENT = Decimal("0.005")
APPEND_ONLY_MESSAGE = "总账凭证与分录只能追加，不能修改或删除；更正请做冲销凭证"


class AppendOnlyError(RuntimeError):
    """Raised when code tries to change or delete a posted ledger row."""


class AppendOnlyQuerySet(models.QuerySet):
    """A queryset whose bulk writes are refused (journals, lines, pool payments)."""

    def update(self, **kwargs):
        raise AppendOnlyError(APPEND_ONLY_MESSAGE)

    def delete(self):
        raise AppendOnlyError(APPEND_ONLY_MESSAGE)

    def bulk_update(self, objs, fields, batch_size=None):
        raise AppendOnlyError(APPEND_ONLY_MESSAGE)

    def update_or_create(self, defaults=None, create_defaults=None, **kwargs):
        raise AppendOnlyError(APPEND_ONLY_MESSAGE)

    delete.alters_data = True
    delete.queryset_only = True
    update.alters_data = True


AppendOnlyManager = models.Manager.from_queryset(AppendOnlyQuerySet)


class AppendOnlyModel(models.Model):
    objects = AppendOnlyManager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs) -> None:
        if not self._state.adding:
            raise AppendOnlyError(APPEND_ONLY_MESSAGE)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(APPEND_ONLY_MESSAGE)


class Side(models.TextChoices):
    DEBIT = "D", _("借")
    CREDIT = "C", _("贷")


class AccountKind(models.TextChoices):
    # the pool (R1, R2)
    POOL_CASH = "pool_cash", _("资金池存款")
    TREASURY_CONTRIBUTION = "treasury_contribution", _("财政出资")
    BANK_CONTRIBUTION = "bank_contribution", _("合作银行出资")
    GUARANTOR_CONTRIBUTION = "guarantor_contribution", _("担保机构出资")
    INTEREST_EARNED = "interest_earned", _("资金池利息收入")
    RECOVERIES_RETURNED = "recoveries_returned", _("追偿返还")
    COMPENSATION_PAID = "compensation_paid", _("已付风险补偿")
    CONTRIBUTION_REFUNDS = "contribution_refunds", _("出资退还")
    # the treasury's subsidy budget (R35–R38; not the pool)
    SUBSIDY_BUDGET_CASH = "subsidy_budget_cash", _("贴息补贴预算资金")
    SUBSIDY_BUDGET_FUNDING = "subsidy_budget_funding", _("财政贴息补贴拨款")
    SUBSIDIES_PAID = "subsidies_paid", _("已付贴息与担保费补贴")


# Accounts whose balance is debits − credits (assets and uses of money); all
# others are credits − debits (sources of money).
DEBIT_NORMAL = frozenset({
    AccountKind.POOL_CASH, AccountKind.COMPENSATION_PAID, AccountKind.CONTRIBUTION_REFUNDS,
    AccountKind.SUBSIDY_BUDGET_CASH, AccountKind.SUBSIDIES_PAID,
})
# Cash accounts: their balance may never fall below zero (R3).
CASH_ACCOUNTS = frozenset({AccountKind.POOL_CASH, AccountKind.SUBSIDY_BUDGET_CASH})
# Accounts that make up the pool's contributed capital (R1, R33), net of refunds.
CONTRIBUTION_KINDS = frozenset({
    AccountKind.TREASURY_CONTRIBUTION, AccountKind.BANK_CONTRIBUTION, AccountKind.GUARANTOR_CONTRIBUTION,
})
POOL_KINDS = frozenset({
    AccountKind.POOL_CASH, *CONTRIBUTION_KINDS, AccountKind.INTEREST_EARNED, AccountKind.RECOVERIES_RETURNED,
    AccountKind.COMPENSATION_PAID, AccountKind.CONTRIBUTION_REFUNDS,
})


class Account(models.Model):
    """One ledger account of a programme; contribution and refund accounts carry their payer."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="accounts", verbose_name=_("项目")
    )
    kind = models.CharField(_("科目"), max_length=30, choices=AccountKind.choices)
    bank = models.ForeignKey(
        Bank, on_delete=models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("出资银行")
    )
    guarantor = models.ForeignKey(
        Guarantor, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("出资担保机构"),
    )
    opened_at = models.DateTimeField(_("开立时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("总账科目")
        verbose_name_plural = _("总账科目")
        ordering = ["programme", "kind", "bank__code", "guarantor__code"]
        constraints = [
            models.UniqueConstraint(
                fields=["programme", "kind"], condition=Q(bank__isnull=True, guarantor__isnull=True),
                name="account_unique_kind",
            ),
            models.UniqueConstraint(
                fields=["programme", "kind", "bank"], condition=Q(bank__isnull=False), name="account_unique_bank",
            ),
            models.UniqueConstraint(
                fields=["programme", "kind", "guarantor"], condition=Q(guarantor__isnull=False),
                name="account_unique_guarantor",
            ),
            models.CheckConstraint(
                condition=Q(bank__isnull=True) | Q(guarantor__isnull=True), name="account_one_payer",
            ),
            models.CheckConstraint(
                condition=(
                    (Q(kind="bank_contribution") & Q(bank__isnull=False))
                    | (Q(kind="guarantor_contribution") & Q(guarantor__isnull=False))
                    | Q(kind="contribution_refunds")
                    | (Q(bank__isnull=True) & Q(guarantor__isnull=True)
                       & ~Q(kind__in=["bank_contribution", "guarantor_contribution"]))
                ),
                name="account_payer_matches_kind",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_kind_display()
        if self.bank_id:
            return f"{label}·{self.bank.short_name}"
        if self.guarantor_id:
            return f"{label}·{self.guarantor.short_name}"
        if self.kind == AccountKind.CONTRIBUTION_REFUNDS:
            return f"{label}·财政"
        return str(label)

    @property
    def debit_normal(self) -> bool:
        return self.kind in DEBIT_NORMAL


class JournalKind(models.TextChoices):
    CONTRIBUTION = "contribution", _("出资入池")
    INTEREST = "interest", _("利息入池")
    POOL_PAYMENT = "pool_payment", _("资金池支付(风险补偿)")
    RECOVERY_REFUND = "recovery_refund", _("追偿款返还入池")
    CONTRIBUTION_REFUND = "contribution_refund", _("出资退还")
    SUBSIDY_BUDGET_FUNDING = "subsidy_funding", _("贴息补贴预算拨款")
    SUBSIDY_PAYMENT = "subsidy_payment", _("贴息补贴支付")
    REVERSAL = "reversal", _("冲销")


class Journal(AppendOnlyModel):
    """One business event with its lines; Σ debit = Σ credit (checked in the service and at commit)."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="journals", verbose_name=_("项目")
    )
    kind = models.CharField(_("凭证类型"), max_length=30, choices=JournalKind.choices)
    posted_on = models.DateField(_("记账日期"), db_index=True)
    reference = models.CharField(_("业务编号"), max_length=100, blank=True)
    memo = models.CharField(_("摘要"), max_length=300, blank=True)
    idempotency_key = models.CharField(_("幂等键"), max_length=150, unique=True)
    fingerprint = models.CharField(_("请求指纹"), max_length=64)
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by",
        verbose_name=_("冲销的原凭证"),
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("记账时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("记账凭证")
        verbose_name_plural = _("记账凭证")
        ordering = ["-posted_on", "-id"]
        permissions = [("handle_contribution", _("可登记出资、利息与预算拨款"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="reversal", reverses__isnull=False) | (~Q(kind="reversal") & Q(reverses__isnull=True)),
                name="journal_reversal_points_at_original",
            ),
        ]

    def __str__(self) -> str:
        return f"凭证#{self.pk} {self.get_kind_display()} {self.posted_on}"


class JournalLine(AppendOnlyModel):
    journal = models.ForeignKey(Journal, on_delete=models.PROTECT, related_name="lines", verbose_name=_("凭证"))
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="lines", verbose_name=_("科目"))
    side = models.CharField(_("借贷方向"), max_length=1, choices=Side.choices)
    amount = models.DecimalField(_("金额(元)"), **MONEY)

    class Meta:
        verbose_name = _("分录")
        verbose_name_plural = _("分录")
        ordering = ["journal", "id"]
        indexes = [models.Index(fields=["account", "journal"])]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="journal_line_amount_positive"),
            models.CheckConstraint(condition=Q(side__in=["D", "C"]), name="journal_line_side_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_side_display()} {self.account} {self.amount}"


class PoolPayment(AppendOnlyModel):
    """A request to pay from the pool and what R3 let it pay; backed by its journal when anything was paid."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="pool_payments", verbose_name=_("项目")
    )
    reference = models.CharField(_("业务编号"), max_length=100)
    requested_on = models.DateField(_("支付日期"))
    requested_amount = models.DecimalField(_("申请支付(元)"), **MONEY)
    paid_amount = models.DecimalField(_("实际支付(元)"), **MONEY)
    unpaid_amount = models.DecimalField(_("资金池未付(元) R3"), **MONEY)
    journal = models.OneToOneField(
        Journal, on_delete=models.PROTECT, null=True, blank=True, related_name="pool_payment",
        verbose_name=_("凭证"),
    )
    idempotency_key = models.CharField(_("幂等键"), max_length=150, unique=True)
    fingerprint = models.CharField(_("请求指纹"), max_length=64)
    memo = models.CharField(_("摘要"), max_length=300, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("操作人"),
    )
    created_at = models.DateTimeField(_("记录时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("资金池支付")
        verbose_name_plural = _("资金池支付")
        ordering = ["-requested_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(requested_amount__gt=0), name="pool_payment_requested_positive"),
            models.CheckConstraint(
                condition=Q(paid_amount__gte=0) & Q(unpaid_amount__gte=0), name="pool_payment_parts_non_negative"
            ),
            # requested = paid + unpaid; SQLite stores decimals as floating point, hence the half-cent band
            models.CheckConstraint(
                condition=Q(requested_amount__lte=models.F("paid_amount") + models.F("unpaid_amount") + HALF_CENT)
                & Q(requested_amount__gte=models.F("paid_amount") + models.F("unpaid_amount") - HALF_CENT),
                name="pool_payment_parts_sum",
            ),
            models.CheckConstraint(
                condition=Q(paid_amount=0, journal__isnull=True) | Q(paid_amount__gt=0, journal__isnull=False),
                name="pool_payment_journal_iff_paid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.reference} 付 {self.paid_amount} / {self.requested_amount}"


class ReconciliationRun(models.Model):
    """One reconciliation of the ledger and its findings, shown to staff in the admin."""

    started_at = models.DateTimeField(_("开始时间"), auto_now_add=True)
    as_of = models.DateField(_("核对截止日"))
    triggered_by = models.CharField(_("触发方式"), max_length=20)
    ok = models.BooleanField(_("账实相符"), default=True)
    mismatch_count = models.PositiveIntegerField(_("不符项"), default=0)
    warning_count = models.PositiveIntegerField(_("提示项"), default=0)
    journals_checked = models.PositiveIntegerField(_("核对凭证数"), default=0)
    accounts_checked = models.PositiveIntegerField(_("核对科目数"), default=0)
    findings = models.JSONField(_("核对结果"), default=list)

    class Meta:
        verbose_name = _("对账记录")
        verbose_name_plural = _("对账记录")
        ordering = ["-started_at", "-id"]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {'相符' if self.ok else '不符'}"
