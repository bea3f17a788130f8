"""Frozen statistics snapshots (R41): every published figure is read from one of these.

A snapshot freezes every indicator of R40 for a cut-off date, overall and by each
dimension, as one JSON table per dimension (``SnapshotBreakdown``), plus the public JSON
document precomputed with small cells suppressed.  Draft → published; once published
neither the snapshot nor its tables can be changed or deleted through the ORM (model
``save``/``delete`` and the querysets' bulk writes refuse).  A correction is a new snapshot.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from fund.models import Loan, Programme

FROZEN_MESSAGE = "已发布的统计快照不可修改或删除；如需更正，请生成新的快照"


class FrozenSnapshotError(RuntimeError):
    """Raised when code tries to change a published snapshot or its tables."""


class SnapshotStatus(models.TextChoices):
    DRAFT = "draft", _("草稿")
    PUBLISHED = "published", _("已发布")


class Dimension(models.TextChoices):
    OVERALL = "overall", _("总体")
    REGION = "region", _("市(州)")
    SECTION = "section", _("行业门类")
    DIVISION = "division", _("行业大类")
    BANK = "bank", _("合作银行")
    MODE = "mode", _("担保模式")
    MONTH = "month", _("签约月份")
    SIZE = "size", _("企业规模")


class SnapshotQuerySet(models.QuerySet):
    def published(self):
        return self.filter(status=SnapshotStatus.PUBLISHED)

    def update(self, **kwargs):
        if self.filter(status=SnapshotStatus.PUBLISHED).exists():
            raise FrozenSnapshotError(FROZEN_MESSAGE)
        return super().update(**kwargs)

    def delete(self):
        if self.filter(status=SnapshotStatus.PUBLISHED).exists():
            raise FrozenSnapshotError(FROZEN_MESSAGE)
        return super().delete()

    update.alters_data = True
    delete.alters_data = True
    delete.queryset_only = True


class Snapshot(models.Model):
    """All R40 indicators of one programme as of one cut-off date."""

    programme = models.ForeignKey(
        Programme, on_delete=models.PROTECT, related_name="snapshots", verbose_name=_("项目")
    )
    as_of = models.DateField(_("统计截止日"))
    status = models.CharField(
        _("状态"), max_length=10, choices=SnapshotStatus.choices, default=SnapshotStatus.DRAFT
    )
    source = models.CharField(_("生成方式"), max_length=20, blank=True, help_text=_("定时任务、工作人员、命令或演示"))
    created_at = models.DateTimeField(_("生成时间"), auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("生成人"),
    )
    build_ms = models.PositiveIntegerField(_("生成耗时(毫秒)"), default=0)
    published_at = models.DateTimeField(_("发布时间"), null=True, blank=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+",
        verbose_name=_("发布人"),
    )
    suppression_min = models.PositiveSmallIntegerField(_("公开统计最少企业数 R41"), default=3)
    public_json = models.TextField(_("公开数据(JSON)"), blank=True, help_text=_("已按 R41 隐藏小单元格"))

    objects = SnapshotQuerySet.as_manager()

    class Meta:
        verbose_name = _("统计快照")
        verbose_name_plural = _("统计快照")
        ordering = ["-as_of", "-id"]
        indexes = [
            models.Index(fields=["status", "-as_of", "-id"], name="snapshot_latest"),
            models.Index(fields=["programme", "status", "-as_of", "-id"], name="snapshot_latest_programme"),
        ]
        permissions = [("approve_snapshot", _("可发布统计快照（复核）"))]

    def __str__(self) -> str:
        return f"#{self.pk} {self.programme} 截至 {self.as_of:%Y-%m-%d}（{self.get_status_display()}）"

    def save(self, *args, **kwargs) -> None:
        if self.pk is not None and not self._state.adding:
            stored = Snapshot.objects.filter(pk=self.pk).values_list("status", flat=True).first()
            if stored == SnapshotStatus.PUBLISHED:
                raise FrozenSnapshotError(FROZEN_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if Snapshot.objects.filter(pk=self.pk, status=SnapshotStatus.PUBLISHED).exists():
            raise FrozenSnapshotError(FROZEN_MESSAGE)
        return super().delete(*args, **kwargs)

    @property
    def is_published(self) -> bool:
        return self.status == SnapshotStatus.PUBLISHED


class BreakdownQuerySet(models.QuerySet):
    def _touches_published(self) -> bool:
        return self.filter(snapshot__status=SnapshotStatus.PUBLISHED).exists()

    def update(self, **kwargs):
        if self._touches_published():
            raise FrozenSnapshotError(FROZEN_MESSAGE)
        return super().update(**kwargs)

    def delete(self):
        if self._touches_published():
            raise FrozenSnapshotError(FROZEN_MESSAGE)
        return super().delete()

    update.alters_data = True
    delete.alters_data = True
    delete.queryset_only = True


class SnapshotBreakdown(models.Model):
    """One dimension of a snapshot: ``rows`` is a list of ``{"key", "name", "parent", "metrics": {…}}``,
    every metric a string (money "1246000000.00", rates "4.35") or null where undefined."""

    snapshot = models.ForeignKey(
        Snapshot, on_delete=models.CASCADE, related_name="breakdowns", verbose_name=_("快照")
    )
    dimension = models.CharField(_("维度"), max_length=10, choices=Dimension.choices)
    rows = models.JSONField(_("数据"), default=list)

    objects = BreakdownQuerySet.as_manager()

    class Meta:
        verbose_name = _("快照分项数据")
        verbose_name_plural = _("快照分项数据")
        ordering = ["snapshot", "dimension"]
        constraints = [
            models.UniqueConstraint(fields=["snapshot", "dimension"], name="snapshot_breakdown_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.snapshot_id} · {self.get_dimension_display()}"

    def save(self, *args, **kwargs) -> None:
        if Snapshot.objects.filter(pk=self.snapshot_id, status=SnapshotStatus.PUBLISHED).exists():
            raise FrozenSnapshotError(FROZEN_MESSAGE)
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if Snapshot.objects.filter(pk=self.snapshot_id, status=SnapshotStatus.PUBLISHED).exists():
            raise FrozenSnapshotError(FROZEN_MESSAGE)
        return super().delete(*args, **kwargs)


class Dashboard(Snapshot):
    """Admin entry for the staff statistics dashboard (no table of its own)."""

    class Meta:
        proxy = True
        verbose_name = _("统计看板")
        verbose_name_plural = _("统计看板")


class DataQuality(Snapshot):
    """Admin entry for the banks' data quality (R42)."""

    class Meta:
        proxy = True
        verbose_name = _("银行报送质量")
        verbose_name_plural = _("银行报送质量")


class LoanDrilldown(Loan):
    """Read-only admin list of the loans behind a statistics figure (drill-down)."""

    class Meta:
        proxy = True
        verbose_name = _("统计穿透贷款")
        verbose_name_plural = _("统计穿透贷款")
