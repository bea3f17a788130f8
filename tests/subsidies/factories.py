"""Factories for the subsidies tests (shared ones live in tests/factories.py)."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

import factory
from django.contrib.auth.models import Group

from fund.models import LoanMode, LoanStatus
from registry import roles
from registry.models import User
from tests.factories import EnterpriseFactory, GuarantorFactory, LoanFactory, ProgrammeFactory

OPEN_WINDOW = {"parameters__application_opens": date(2021, 1, 1), "parameters__application_closes": date(2099, 12, 31)}


def one_sum_interest(principal: Decimal, days: int, rate: Decimal, basis: int = 360) -> Decimal:
    return (principal * days * rate / 100 / basis).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


class SettledLoanFactory(LoanFactory):
    """A loan repaid in one sum at maturity, never overdue: interest paid = principal × days × rate ÷ 360."""

    signed_on = date(2021, 6, 1)
    disbursed_on = date(2021, 6, 3)
    matures_on = factory.LazyAttribute(lambda o: o.disbursed_on + timedelta(days=365))
    settled_on = factory.SelfAttribute("matures_on")
    status = LoanStatus.SETTLED
    outstanding_principal = Decimal("0.00")
    interest_paid_total = factory.LazyAttribute(
        lambda o: one_sum_interest(o.principal, ((o.settled_on or o.matures_on) - o.disbursed_on).days, o.annual_rate)
    )


class GuaranteedLoanFactory(SettledLoanFactory):
    mode = LoanMode.BANK_GUARANTOR
    guarantor = factory.SubFactory(GuarantorFactory)
    guarantee_contract_no = factory.Sequence(lambda n: f"DB-{n:05d}")
    guarantee_fee_rate = Decimal("1.50")
    guarantee_fee_paid_total = factory.LazyAttribute(lambda o: (o.principal * Decimal("0.015")).quantize(Decimal("0.01")))


class EnterpriseUserFactory(factory.django.DjangoModelFactory):
    """A portal login: username = credit code, group 企业用户."""

    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    enterprise = factory.SubFactory(EnterpriseFactory)
    username = factory.SelfAttribute("enterprise.credit_code")
    password = factory.PostGenerationMethodCall("set_password", "Qiye-Passw0rd!")

    @factory.post_generation
    def group(self, create, extracted, **kwargs):
        if create:
            self.groups.add(Group.objects.get(name=roles.ENTERPRISE_USER))
            self.save()


__all__ = ["OPEN_WINDOW", "EnterpriseUserFactory", "GuaranteedLoanFactory", "ProgrammeFactory", "SettledLoanFactory",
           "one_sum_interest"]
