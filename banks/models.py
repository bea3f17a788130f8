"""What banks send: intake batches (a workbook upload or a set of API records) and the
monthly status reports they carry (bank-workbooks.md §1, §2; R43).

A batch is stored whatever its outcome, with every row-level issue, so the bank can see
what was wrong and the bureau can see who sent what (R42).  Status reports are kept one
row per loan and month; a correction keeps the previous row (``is_current=False``) and
points at it (``supersedes``).
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.utils.translation import gettext_lazy as _

from fund.models import Classification, Loan, LoanStatus, Programme
from registry.models import MONEY, Bank


class BatchKind(models.TextChoices):
    REGISTRATION = "registration", _("贷款备案")
    STATUS = "status", _("月度状态报告")


class BatchSource(models.TextChoices):
    WORKBOOK = "workbook", _("Excel 工作簿")
    API = "api", _("接口")


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("已接收")
    PROCESSING = "processing", _("处理中")
    APPLIED = "applied", _("已导入")
    REJECTED = "rejected", _("已拒绝")
    FAILED = "failed", _("失败")
    DUPLICATE = "duplicate", _("重复上传")


FINISHED_STATUSES = (BatchStatus.APPLIED, BatchStatus.REJECTED, BatchStatus.FAILED, BatchStatus.DUPLICATE)


class IssueLevel(models.TextChoices):
    ERROR = "error", _("错误")
    WARNING = "warning", _("提示")
    INFO = "info", _("说明")


class IntakeBatch(models.Model):
    """One upload (workbook) or one API submission, and its outcome.

    ``issues`` holds every finding as ``{"sheet","row","column","value","rule","message","level"}``
    (``row`` is the Excel row number, or the 1-based record index for API records; ``None`` for
    findings about the whole file).  The stored file lives under ``MEDIA_ROOT/intake/<bank>/``
    and is never served by URL.
    """

    id = models.UUIDField(_("批次号"), primary_key=True, default=uuid.uuid4, editable=False)
    bank = models.ForeignKey(Bank, on_delete=models.PROTECT, related_name="intake_batches", verbose_name=_("银行"))
    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="intake_batches", verbose_name=_("项目")
    )
    kind = models.CharField(_("报送类型"), max_length=16, choices=BatchKind.choices)
    source = models.CharField(_("来源"), max_length=10, choices=BatchSource.choices, default=BatchSource.WORKBOOK)
    filename = models.CharField(_("文件名"), max_length=255, blank=True)
    file_format = models.CharField(_("文件格式"), max_length=8, blank=True)
    size_bytes = models.PositiveBigIntegerField(_("文件大小(字节)"), default=0)
    sha256 = models.CharField(_("SHA-256"), max_length=64, blank=True, db_index=True)
    stored_path = models.CharField(
        _("存储路径"), max_length=300, blank=True, help_text=_("相对于 MEDIA_ROOT，不对外提供下载链接")
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("上传人"),
    )
    uploaded_at = models.DateTimeField(_("上传时间"), auto_now_add=True, db_index=True)
    status = models.CharField(_("状态"), max_length=12, choices=BatchStatus.choices, default=BatchStatus.QUEUED)
    is_correction = models.BooleanField(_("更正报送"), default=False, help_text=_("月度状态报告：明确声明为更正"))
    override_reason = models.CharField(
        _("逾期备案特批理由 R15"), max_length=300, blank=True, help_text=_("仅财政经办人员可填写")
    )
    rows_total = models.PositiveIntegerField(_("数据行数"), default=0)
    rows_done = models.PositiveIntegerField(_("已检查行数"), default=0)
    error_count = models.PositiveIntegerField(_("错误数"), default=0)
    warning_count = models.PositiveIntegerField(_("提示数"), default=0)
    info_count = models.PositiveIntegerField(_("说明数"), default=0)
    issues = models.JSONField(_("问题清单"), default=list, blank=True)
    summary = models.JSONField(_("处理结果摘要"), default=dict, blank=True)
    started_at = models.DateTimeField(_("开始处理时间"), null=True, blank=True)
    heartbeat_at = models.DateTimeField(_("最近进度时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("处理完成时间"), null=True, blank=True)
    applied_at = models.DateTimeField(_("导入时间"), null=True, blank=True)
    duplicate_of = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates",
        verbose_name=_("与此批次文件相同"),
    )

    class Meta:
        verbose_name = _("报送批次")
        verbose_name_plural = _("报送批次")
        ordering = ["-uploaded_at"]
        indexes = [
            models.Index(fields=["bank", "sha256"], name="intake_bank_sha"),
            models.Index(fields=["bank", "-uploaded_at"], name="intake_bank_recent"),
            models.Index(fields=["status"], name="intake_status"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(rows_done__lte=F("rows_total")) | Q(rows_total=0),
                                   name="intake_progress_within_total"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.filename or self.get_source_display()} ({self.get_status_display()})"

    @property
    def is_finished(self) -> bool:
        return self.status in FINISHED_STATUSES

    @property
    def progress_percent(self) -> int:
        if self.is_finished:
            return 100
        if not self.rows_total:
            return 0
        return min(99, self.rows_done * 100 // self.rows_total)


class StatusReport(models.Model):
    """One loan's figures for one month, as the bank reported them (bank-workbooks.md §2)."""

    # Checked once per statement by triggers (registry.setfk): a status batch writes 100,000
    # reports, and a declared key looked each loan up (and locked it) once per row at commit.
    loan = models.ForeignKey(Loan, on_delete=models.PROTECT, related_name="status_reports", verbose_name=_("贷款"),
                             db_constraint=False)
    month = models.DateField(_("报告月份"), help_text=_("当月第一天"))
    outstanding_principal = models.DecimalField(_("贷款余额(元)"), **MONEY)
    principal_repaid = models.DecimalField(_("本月归还本金(元)"), **MONEY, default=0)
    interest_paid = models.DecimalField(_("本月支付利息(元)"), **MONEY, default=0)
    overdue_days = models.PositiveIntegerField(_("逾期天数"), default=0)
    classification = models.CharField(_("五级分类"), max_length=12, choices=Classification.choices)
    status = models.CharField(_("贷款状态"), max_length=12, choices=LoanStatus.choices)
    settled_on = models.DateField(_("结清日期"), null=True, blank=True)
    interest_paid_total = models.DecimalField(_("累计实付利息(元)"), **MONEY, default=0)
    guarantee_fee_paid_total = models.DecimalField(_("累计实付担保费(元)"), **MONEY, default=0)
    batch = models.ForeignKey(
        IntakeBatch, on_delete=models.PROTECT, related_name="status_reports", verbose_name=_("报送批次"),
        # Checked once per statement (registry.setfk): up to 100,000 reports point at one batch.
        db_constraint=False,
    )
    is_correction = models.BooleanField(_("更正"), default=False)
    is_current = models.BooleanField(_("当前有效"), default=True)
    supersedes = models.ForeignKey(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="superseded_by",
        verbose_name=_("更正前记录"), db_index=False,  # rarely looked up; one index less per report written
    )
    created_at = models.DateTimeField(_("报送时间"), auto_now_add=True)

    class Meta:
        verbose_name = _("月度状态报告")
        verbose_name_plural = _("月度状态报告")
        ordering = ["loan_id", "-month", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["loan", "month"], condition=Q(is_current=True), name="status_report_one_current_per_month"
            ),
            models.CheckConstraint(
                condition=Q(outstanding_principal__gte=0) & Q(principal_repaid__gte=0) & Q(interest_paid__gte=0)
                & Q(interest_paid_total__gte=0) & Q(guarantee_fee_paid_total__gte=0),
                name="status_report_amounts_non_negative",
            ),
            models.CheckConstraint(
                condition=~Q(status=LoanStatus.SETTLED) | (Q(settled_on__isnull=False) & Q(outstanding_principal=0)),
                name="status_report_settlement_complete",
            ),
        ]
        indexes = [models.Index(fields=["month", "is_current"], name="status_report_month")]

    def __str__(self) -> str:
        return f"{self.loan_id} {self.month:%Y-%m} {self.get_status_display()}"
