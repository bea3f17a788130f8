"""Forms of the enterprise portal (Chinese labels; the services do the checking)."""

from __future__ import annotations

from decimal import Decimal

from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.core.validators import RegexValidator

from fund.models import Partnership
from registry.rules import normalize_text

from .selectors import partner_banks

CREDIT_CODE_WIDGET = forms.TextInput(attrs={
    "autocomplete": "username", "autocapitalize": "characters", "spellcheck": "false", "maxlength": "18",
    "placeholder": "18 位统一社会信用代码",
})


class CreditCodeField(forms.CharField):
    def __init__(self, **kwargs):
        kwargs.setdefault("label", "统一社会信用代码")
        kwargs.setdefault("max_length", 30)
        kwargs.setdefault("widget", CREDIT_CODE_WIDGET)
        super().__init__(**kwargs)

    def to_python(self, value):
        return normalize_text(super().to_python(value) or "")


class EnterpriseLoginForm(AuthenticationForm):
    """Django's login form, with the username labelled and normalised as a credit code."""

    username = CreditCodeField()
    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "统一社会信用代码或密码不正确。首次使用请先激活账户。",
        "not_enterprise": "该账号不是企业账号，请从对应的入口登录。",
    }

    def confirm_login_allowed(self, user):
        super().confirm_login_allowed(user)
        if not user.enterprise_id:
            raise forms.ValidationError(self.error_messages["not_enterprise"], code="not_enterprise")


class ActivationForm(forms.Form):
    credit_code = CreditCodeField()
    code = forms.CharField(label="激活码", max_length=20, widget=forms.TextInput(attrs={
        "autocomplete": "one-time-code", "autocapitalize": "characters", "placeholder": "如 ABCD-EFGH"}))
    password1 = forms.CharField(label="设置登录密码", strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}), help_text="至少 8 位，不能全是数字，不要与信用代码相似")
    password2 = forms.CharField(label="再次输入密码", strip=False, widget=forms.PasswordInput(
        attrs={"autocomplete": "new-password"}))

    def clean(self):
        data = super().clean()
        if data.get("password1") and data.get("password1") != data.get("password2"):
            self.add_error("password2", "两次输入的密码不一致")
        return data


class SubsidyApplyForm(forms.Form):
    payee_name = forms.CharField(label="收款户名", max_length=200)
    payee_bank = forms.CharField(label="收款开户行", max_length=100)
    payee_account = forms.CharField(label="收款账号", max_length=40, validators=[
        RegexValidator(r"^[\d\s]{8,40}$", "请填写 8 至 32 位数字的银行账号")],
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}))
    confirm = forms.BooleanField(label="我确认以上贷款与结清信息真实无误，并同意按规定申请补贴", required=True)

    def __init__(self, *args, needs: tuple[str, ...] = (), **kwargs):
        super().__init__(*args, **kwargs)
        labels = {"guarantee_contract": "担保合同（PDF 或照片）", "fee_invoice": "担保费发票（PDF 或照片）"}
        for doc_type in needs:
            self.fields[doc_type] = forms.FileField(
                label=labels[doc_type], widget=forms.ClearableFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png"}),
            )
        self.order_fields([name for name in self.fields if name != "confirm"] + ["confirm"])

    def documents(self) -> dict:
        return {name: self.cleaned_data[name] for name in ("guarantee_contract", "fee_invoice")
                if self.cleaned_data.get(name)}


class LoanApplicationForm(forms.Form):
    partnership = forms.ModelChoiceField(label="意向银行", queryset=Partnership.objects.none(), empty_label="请选择合作银行")
    amount = forms.DecimalField(label="申请金额（元）", min_value=Decimal("0.01"), max_digits=18, decimal_places=2,
                                widget=forms.NumberInput(attrs={"inputmode": "decimal", "step": "0.01"}))
    purpose = forms.CharField(label="贷款用途", max_length=200, widget=forms.TextInput(
        attrs={"placeholder": "如：采购原材料、支付房租和工资"}))
    contact_name = forms.CharField(label="联系人", max_length=40, required=False)
    contact_phone = forms.CharField(label="联系电话", max_length=20, required=False, validators=[
        RegexValidator(r"^[\d\-+ ]{7,20}$", "请填写正确的电话号码")],
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["partnership"].queryset = partner_banks()
        self.fields["partnership"].label_from_instance = lambda p: f"{p.bank.name}（{p.programme.name}）"


class LookupForm(forms.Form):
    credit_code = CreditCodeField()
    contract_no = forms.CharField(label="借款合同编号", max_length=64)

    def clean_contract_no(self):
        return self.cleaned_data["contract_no"].strip()
