"""Shared factory_boy factories for the foundation models.

Reference data (regions, industries, LPR) comes from the data migration, so
factories look it up rather than create it.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import factory
from django.contrib.auth.models import Group

from fund.models import GuarantorPartnership, Loan, LoanMode, ParameterSet, Partnership, Programme
from registry import roles
from registry.models import Bank, Enterprise, Guarantor, IndustryDivision, Region, SizeClass, User
from registry.rules import make_uscc


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        django_get_or_create = ("code",)
        skip_postgeneration_save = True

    code = factory.Sequence(lambda n: f"P{n:03d}")
    name = factory.Sequence(lambda n: f"测试项目{n}")
    start_date = date(2021, 5, 28)
    end_date = date(2022, 5, 27)

    @factory.post_generation
    def parameters(self, create, extracted, **kwargs):
        if create and not self.parameter_sets.exists():
            ParameterSetFactory(programme=self, **kwargs)


class ParameterSetFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ParameterSet

    programme = factory.SubFactory(ProgrammeFactory, parameters=None)
    effective_from = date(2020, 1, 1)
    application_opens = date(2021, 5, 28)
    application_closes = date(2022, 12, 31)


class BankFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Bank
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TB{n:03d}")
    name = factory.Sequence(lambda n: f"测试银行{n}")
    short_name = factory.Sequence(lambda n: f"测{n}")


class GuarantorFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Guarantor
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"TG{n:03d}")
    name = factory.Sequence(lambda n: f"测试担保{n}")
    short_name = factory.Sequence(lambda n: f"担{n}")


class PartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Partnership

    programme = factory.SubFactory(ProgrammeFactory)
    bank = factory.SubFactory(BankFactory)
    committed_lending = Decimal("300000000.00")
    pool_allocation = Decimal("30000000.00")
    joined_on = date(2021, 5, 28)


class GuarantorPartnershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = GuarantorPartnership

    programme = factory.SubFactory(ProgrammeFactory)
    guarantor = factory.SubFactory(GuarantorFactory)
    joined_on = date(2021, 5, 28)


class EnterpriseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Enterprise
        django_get_or_create = ("credit_code",)

    credit_code = factory.Sequence(lambda n: make_uscc(f"91510100MA{n:07d}"))
    name = factory.Sequence(lambda n: f"成都测试商贸有限公司{n}")
    region = factory.LazyFunction(lambda: Region.objects.get(code="510100"))
    industry_code = "F5123"
    industry = factory.LazyFunction(lambda: IndustryDivision.objects.get(code="51"))
    employees = 12
    revenue_10k = Decimal("1200.00")
    assets_10k = Decimal("500.00")
    size_class = SizeClass.SMALL
    is_private = True


class LoanFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Loan

    programme = factory.SubFactory(ProgrammeFactory)
    bank = factory.SubFactory(BankFactory)
    contract_no = factory.Sequence(lambda n: f"HT-{n:06d}")
    enterprise = factory.SubFactory(EnterpriseFactory)
    enterprise_name = factory.SelfAttribute("enterprise.name")
    mode = LoanMode.BANK
    signed_on = date(2021, 6, 1)
    disbursed_on = date(2021, 6, 3)
    matures_on = factory.LazyAttribute(lambda o: o.disbursed_on + timedelta(days=364))
    principal = Decimal("1000000.00")
    outstanding_principal = factory.SelfAttribute("principal")
    annual_rate = Decimal("4.35")
    purpose = "流动资金周转"
    credit_attested = True


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "Passw0rd!x")

    @factory.post_generation
    def role(self, create, extracted, **kwargs):
        if create and extracted:
            self.groups.add(Group.objects.get(name=extracted))
            if extracted in roles.BUREAU_ROLES:
                self.is_staff = True
                self.is_superuser = extracted == roles.ADMINISTRATOR
        if create:
            self.save()
