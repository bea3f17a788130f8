"""Forms of the bank portal: upload, loan filters, the month picker, application decisions."""

from __future__ import annotations

from pathlib import Path

from django import forms

from banks.models import BatchKind
from banks.portal_selectors import PortalScope, parse_month
from fund.models import LoanMode, LoanStatus
from registry.models import Region

ACCEPTED_EXTENSIONS = (".xlsx", ".xls", ".csv")


class MonthInput(forms.TextInput):
    input_type = "month"


class UploadForm(forms.Form):
    """A workbook for the intake pipeline; the R15 override reason only for bureau staff."""

    kind = forms.ChoiceField(label="报送类型", choices=BatchKind.choices, widget=forms.RadioSelect,
                             initial=BatchKind.REGISTRATION)
    file = forms.FileField(
        label="文件", help_text="使用系统模板填写的 .xlsx、.xls 或 .csv（UTF-8 或 GBK）文件",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ACCEPTED_EXTENSIONS)}),
    )
    is_correction = forms.BooleanField(
        label="更正上传", required=False,
        help_text="月度状态报告：本文件更正已报送月份的数据（同一月份数据不同且未勾选时会报错）",
    )
    override_reason = forms.CharField(
        label="逾期备案特批理由（R15）", required=False, max_length=300,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="仅财政工作人员填写：放款超过 30 天后备案的贷款，须写明特批理由",
    )

    def __init__(self, *args, scope: PortalScope, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.scope = scope
        if not scope.can_override:
            del self.fields["override_reason"]

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if Path(upload.name or "").suffix.lower() not in ACCEPTED_EXTENSIONS:
            raise forms.ValidationError("只接受 .xlsx、.xls 或 .csv 文件，请使用系统提供的模板")
        return upload

    def clean_override_reason(self) -> str:
        return (self.cleaned_data.get("override_reason") or "").strip()


def _region_choices() -> list[tuple[str, str]]:
    return [("", "全部市(州)"), *Region.objects.order_by("code").values_list("code", "name")]


class LoanFilterForm(forms.Form):
    q = forms.CharField(label="搜索", required=False, max_length=100,
                        widget=forms.TextInput(attrs={"placeholder": "合同编号、信用代码或企业名称"}))
    status = forms.ChoiceField(label="贷款状态", required=False, choices=[("", "全部状态"), *LoanStatus.choices])
    mode = forms.ChoiceField(label="担保模式", required=False, choices=[("", "全部模式"), *LoanMode.choices])
    month = forms.CharField(label="放款月份", required=False, widget=MonthInput)
    region = forms.ChoiceField(label="所在市(州)", required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["region"].choices = _region_choices()

    def clean_month(self):
        text = self.cleaned_data.get("month") or ""
        if text and parse_month(text) is None:
            raise forms.ValidationError("月份格式应为 YYYY-MM")
        return parse_month(text)

    def filters(self) -> dict[str, object]:
        """The valid filters (invalid ones are dropped, the form shows why)."""
        if not self.is_bound:
            return {}
        self.is_valid()
        data = getattr(self, "cleaned_data", {})
        return {k: data.get(k) or "" for k in ("q", "status", "mode", "region")} | {"month": data.get("month")}


class MonthForm(forms.Form):
    month = forms.CharField(label="报告月份", required=False, widget=MonthInput)

    def clean_month(self):
        text = self.cleaned_data.get("month") or ""
        month = parse_month(text)
        if text and month is None:
            raise forms.ValidationError("月份格式应为 YYYY-MM")
        return month


class ApplicationDecisionForm(forms.Form):
    """A bank's answer to an enterprise's loan application (意向申请)."""

    decision = forms.ChoiceField(label="答复", choices=[("accept", "受理"), ("decline", "不受理")])
    reason = forms.CharField(label="说明", required=False, max_length=300)

    def clean(self):
        data = super().clean()
        if data.get("decision") == "decline" and not (data.get("reason") or "").strip():
            self.add_error("reason", "不受理时请写明理由")
        return data

    @property
    def accept(self) -> bool:
        return self.cleaned_data["decision"] == "accept"
