"""Reference data, institutions, enterprises, users and the domain-event log.

This app is the bottom layer: it imports no other project app.
"""

from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from registry.security import pii

MONEY = {"max_digits": 18, "decimal_places": 2}
RATE = {"max_digits": 7, "decimal_places": 4}


class Region(models.Model):
    """One of the province's 21 市(州) (reference/sichuan_regions.csv)."""

    code = models.CharField(_("代码"), max_length=6, primary_key=True)
    name = models.CharField(_("名称"), max_length=30, unique=True)
    short_name = models.CharField(_("简称"), max_length=10)
    kind = models.CharField(_("类别"), max_length=4)

    class Meta:
        verbose_name = _("市(州)")
        verbose_name_plural = _("市(州)")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class IndustrySection(models.Model):
    """GB/T 4754-2017 门类."""

    code = models.CharField(_("门类代码"), max_length=1, primary_key=True)
    name = models.CharField(_("名称"), max_length=40)
    three_sector = models.PositiveSmallIntegerField(_("三次产业"))

    class Meta:
        verbose_name = _("行业门类")
        verbose_name_plural = _("行业门类")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class IndustryDivision(models.Model):
    """GB/T 4754-2017 大类 with the R8 service-industry flag."""

    code = models.CharField(_("大类代码"), max_length=2, primary_key=True)
    section = models.ForeignKey(
        IndustrySection, on_delete=models.PROTECT, related_name="divisions", verbose_name=_("门类")
    )
    name = models.CharField(_("名称"), max_length=60)
    is_service = models.BooleanField(_("属于服务业(R8)"), default=False)

    class Meta:
        verbose_name = _("行业大类")
        verbose_name_plural = _("行业大类")
        ordering = ["code"]

    def __str__(self) -> str:
        return f"{self.section_id}{self.code} {self.name}"


class LprRate(models.Model):
    """1-year LPR, effective-dated; staff add new rates as they are published."""

    effective_from = models.DateField(_("生效日期"), unique=True)
    rate_percent = models.DecimalField(_("1年期LPR(%)"), max_digits=5, decimal_places=2)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("贷款市场报价利率(1年期)")
        verbose_name_plural = _("贷款市场报价利率(1年期)")
        ordering = ["-effective_from"]
        constraints = [
            models.CheckConstraint(condition=Q(rate_percent__gt=0), name="lpr_rate_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.effective_from} {self.rate_percent}%"


class SmeThreshold(models.Model):
    """A row of the 2011 SME size standard (reference/sme_size_thresholds.csv)."""

    group = models.CharField(_("行业"), max_length=30, unique=True)
    codes = models.CharField(_("国标行业代码"), max_length=60)
    indicator_1 = models.CharField(_("指标一"), max_length=20)
    indicator_2 = models.CharField(_("指标二"), max_length=20, blank=True)
    medium_min_1 = models.DecimalField(_("中型下限一"), max_digits=14, decimal_places=2)
    medium_min_2 = models.DecimalField(_("中型下限二"), max_digits=14, decimal_places=2, null=True, blank=True)
    small_min_1 = models.DecimalField(_("小型下限一"), max_digits=14, decimal_places=2)
    small_min_2 = models.DecimalField(_("小型下限二"), max_digits=14, decimal_places=2, null=True, blank=True)
    large_min_1 = models.DecimalField(_("大型下限一"), max_digits=14, decimal_places=2)
    large_min_2 = models.DecimalField(_("大型下限二"), max_digits=14, decimal_places=2, null=True, blank=True)
    position = models.PositiveSmallIntegerField(_("顺序"), default=0)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("中小企业划型标准")
        verbose_name_plural = _("中小企业划型标准")
        ordering = ["position"]

    def __str__(self) -> str:
        return self.group


class Bank(models.Model):
    """A bank (institution). Its part in a programme is fund.Partnership."""

    code = models.CharField(_("机构代码"), max_length=20, unique=True)
    name = models.CharField(_("银行名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=30)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("合作银行")
        verbose_name_plural = _("合作银行")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class Guarantor(models.Model):
    """A guarantee company (政银担 mode)."""

    code = models.CharField(_("机构代码"), max_length=20, unique=True)
    name = models.CharField(_("担保机构名称"), max_length=100, unique=True)
    short_name = models.CharField(_("简称"), max_length=30)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("担保机构")
        verbose_name_plural = _("担保机构")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name


class SizeClass(models.TextChoices):
    LARGE = "large", _("大型")
    MEDIUM = "medium", _("中型")
    SMALL = "small", _("小型")
    MICRO = "micro", _("微型")
    UNKNOWN = "unknown", _("无法划型")


class Enterprise(models.Model):
    """A borrower (or applicant), identified by its 统一社会信用代码 (R6)."""

    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    name = models.CharField(_("企业名称"), max_length=200)
    # db_constraint=False: checked once per statement by triggers (registry.setfk, migration 0006);
    # db_index=False: plain indexes in Meta, without the pattern-ops (LIKE) twins Django adds to
    # indexed text columns on PostgreSQL, which no query uses and every inserted row pays for.
    region = models.ForeignKey(Region, on_delete=models.PROTECT, verbose_name=_("所在市(州)"), db_constraint=False,
                               db_index=False)
    industry_code = models.CharField(_("行业代码"), max_length=5, help_text=_("如 F5123、I65"))
    industry = models.ForeignKey(IndustryDivision, on_delete=models.PROTECT, verbose_name=_("行业大类"),
                                 db_constraint=False, db_index=False)
    employees = models.PositiveIntegerField(_("从业人员(人)"), null=True, blank=True)
    revenue_10k = models.DecimalField(_("上年营业收入(万元)"), **MONEY, null=True, blank=True)
    assets_10k = models.DecimalField(_("资产总额(万元)"), **MONEY, null=True, blank=True)
    size_class = models.CharField(
        _("企业规模"), max_length=8, choices=SizeClass.choices, default=SizeClass.UNKNOWN
    )
    is_private = models.BooleanField(_("民营企业"), default=True)
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    # Personal information of the legal representative (PIPL): the ID number and phone are kept
    # only encrypted (key outside the database, registry.security.pii); the ID number also as a
    # keyed HMAC for lookup. Shown masked; the plain text only through an audited reveal.
    legal_rep_name = models.CharField(_("法定代表人姓名"), max_length=50, blank=True)
    legal_rep_id_encrypted = models.TextField(_("法定代表人身份证号(密文)"), blank=True, editable=False)
    legal_rep_id_hash = models.CharField(
        _("法定代表人身份证号(检索摘要)"), max_length=64, blank=True, editable=False  # indexed in Meta
    )
    legal_rep_phone_encrypted = models.TextField(_("法定代表人手机号(密文)"), blank=True, editable=False)
    history = HistoricalRecords()

    class Meta:
        verbose_name = _("企业")
        verbose_name_plural = _("企业")
        ordering = ["credit_code"]
        permissions = [("view_pii", _("可查看法定代表人个人信息明文"))]
        indexes = [
            models.Index(fields=["region"], name="enterprise_region"),
            models.Index(fields=["industry"], name="enterprise_industry"),
            models.Index(fields=["legal_rep_id_hash"], name="enterprise_legal_rep_id_hash"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(revenue_10k__gte=0) | Q(revenue_10k__isnull=True),
                                   name="enterprise_revenue_non_negative"),
            models.CheckConstraint(condition=Q(assets_10k__gte=0) | Q(assets_10k__isnull=True),
                                   name="enterprise_assets_non_negative"),
        ]

    def __str__(self) -> str:
        return f"{self.name}（{self.credit_code}）"

    def set_legal_rep_id(self, value: str) -> None:
        """Store an ID number encrypted plus its lookup hash; empty clears both."""
        number = pii.normalize_id_number(value) if value else ""
        self.legal_rep_id_encrypted = pii.encrypt(number) if number else ""
        self.legal_rep_id_hash = pii.id_lookup_hash(number) if number else ""

    def set_legal_rep_phone(self, value: str) -> None:
        """Store a phone number encrypted; empty clears it."""
        phone = pii.normalize_phone(value) if value else ""
        self.legal_rep_phone_encrypted = pii.encrypt(phone) if phone else ""

    @property
    def legal_rep_id_masked(self) -> str:
        return pii.mask_id(pii.decrypt_or_placeholder(self.legal_rep_id_encrypted))

    @property
    def legal_rep_phone_masked(self) -> str:
        return pii.mask_phone(pii.decrypt_or_placeholder(self.legal_rep_phone_encrypted))


class User(AbstractUser):
    """A login. Bank, guarantor and enterprise users are bound to exactly one
    organisation; bureau staff to none (their role is their group)."""

    bank = models.ForeignKey(
        Bank, on_delete=models.PROTECT, null=True, blank=True, related_name="users", verbose_name=_("所属银行")
    )
    guarantor = models.ForeignKey(
        Guarantor, on_delete=models.PROTECT, null=True, blank=True, related_name="users",
        verbose_name=_("所属担保机构"),
    )
    enterprise = models.ForeignKey(
        Enterprise, on_delete=models.PROTECT, null=True, blank=True, related_name="users",
        verbose_name=_("所属企业"),
    )

    class Meta(AbstractUser.Meta):
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(bank__isnull=True, guarantor__isnull=True)
                    | Q(bank__isnull=True, enterprise__isnull=True)
                    | Q(guarantor__isnull=True, enterprise__isnull=True)
                ),
                name="user_bound_to_at_most_one_organisation",
            ),
        ]

    @property
    def is_bureau(self) -> bool:
        return self.is_staff and not (self.bank_id or self.guarantor_id or self.enterprise_id)


class DomainEvent(models.Model):
    """What happened, who did it, when: one row per state change that matters.

    Written only through ``registry.audit.record_event`` inside the same
    transaction as the change it records.  Append-only.
    """

    # Set by record_event before the insert (it is part of the row's hash).
    occurred_at = models.DateTimeField(_("时间"), default=timezone.now, editable=False, db_index=True)
    actor = models.ForeignKey(
        User, on_delete=models.PROTECT, null=True, blank=True, verbose_name=_("操作人"),
        related_name="+",
    )
    event_type = models.CharField(_("事件类型"), max_length=60, db_index=True)
    object_type = models.CharField(_("对象类型"), max_length=60)
    object_id = models.CharField(_("对象编号"), max_length=64)
    params = models.JSONField(_("参数"), default=dict)
    # Hash chain (registry.audit): hash = SHA-256 over the canonical JSON of this row and prev_hash.
    prev_hash = models.CharField(_("前一事件摘要"), max_length=64, blank=True, editable=False)
    hash = models.CharField(_("事件摘要"), max_length=64, blank=True, editable=False)

    class Meta:
        verbose_name = _("审计事件")
        verbose_name_plural = _("审计事件")
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.event_type} {self.object_type}#{self.object_id}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("审计事件只能追加，不能修改")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise RuntimeError("审计事件只能追加，不能删除")


class AuditChainAnchor(models.Model):
    """Where the audit hash chain starts after old events were pruned: the first remaining
    event must carry ``prev_hash`` (the hash of the last pruned event).  Append-only."""

    created_at = models.DateTimeField(_("时间"), default=timezone.now, editable=False)
    first_event_id = models.BigIntegerField(_("首个保留事件编号"), null=True, blank=True)
    prev_hash = models.CharField(_("链锚摘要"), max_length=64)
    pruned_count = models.PositiveIntegerField(_("清理事件数"))
    pruned_before = models.DateTimeField(_("清理截止时间"))

    class Meta:
        verbose_name = _("审计链锚点")
        verbose_name_plural = _("审计链锚点")
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} #{self.first_event_id} {self.prev_hash[:12]}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise RuntimeError("审计链锚点只能追加，不能修改")
        super().save(*args, **kwargs)


class PasswordHistory(models.Model):
    """The hashes of a user's recent passwords (等保: no reuse of the last 5; staff expiry)."""

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="password_history", verbose_name=_("用户")
    )
    password = models.CharField(_("密码摘要"), max_length=128)
    created_at = models.DateTimeField(_("设置时间"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("历史密码")
        verbose_name_plural = _("历史密码")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.user_id} {self.created_at:%Y-%m-%d %H:%M}"
