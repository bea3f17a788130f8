"""Staff forms of the fund app (admin pages)."""

from __future__ import annotations

import uuid
from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _

from fund.models import GuarantorPartnership, Partnership, Programme

ENTRY_CHOICES = [
    ("contribution", _("出资入池")),
    ("interest", _("利息入池")),
    ("subsidy_budget", _("贴息补贴预算拨款（财政）")),
]


class ContributionForm(forms.Form):
    """Record money received: a contribution, interest, or the subsidy budget (calls the ledger services)."""

    entry = forms.ChoiceField(label=_("业务类型"), choices=ENTRY_CHOICES)
    payer = forms.ChoiceField(label=_("出资方"), help_text=_("利息与预算拨款无需选择（选“财政”即可）"))
    amount = forms.DecimalField(label=_("金额(元)"), max_digits=18, decimal_places=2, min_value=Decimal("0.01"))
    on = forms.DateField(label=_("到账日期"), widget=forms.DateInput(attrs={"type": "date"}))
    memo = forms.CharField(label=_("摘要"), max_length=300, required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput)

    def __init__(self, *args, programme: Programme, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        choices = [("treasury", "财政")]
        choices += [
            (f"bank:{p.bank_id}", p.bank.name)
            for p in Partnership.objects.filter(programme=programme).select_related("bank").order_by("bank__code")
        ]
        choices += [
            (f"guarantor:{g.guarantor_id}", g.guarantor.name)
            for g in GuarantorPartnership.objects.filter(programme=programme).select_related("guarantor")
            .order_by("guarantor__code")
        ]
        self.fields["payer"].choices = choices
        if not self.is_bound:
            # one key per form shown: a double submit posts once
            self.initial["idempotency_key"] = f"admin:{programme.code}:{uuid.uuid4()}"
