"""Builders for intake tests: a programme running today, a partner bank with its user, a partner
guarantor, and valid registration / status rows (dicts keyed by ``banks.intake.fields`` names)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import factory
from django.utils import timezone

from banks.models import BatchKind, BatchSource, BatchStatus, IntakeBatch
from fund.models import Programme
from registry import roles
from registry.models import Bank, Guarantor, User
from registry.rules import lpr_in_force, make_uscc
from tests.factories import (
    BankFactory,
    GuarantorFactory,
    GuarantorPartnershipFactory,
    PartnershipFactory,
    ProgrammeFactory,
    UserFactory,
)

_serial = itertools.count(1)


def today() -> date:
    return timezone.localdate()


@dataclass
class IntakeWorld:
    programme: Programme
    bank: Bank
    user: User
    guarantor: Guarantor


def make_world(*, code: str = "IB", guarantor_code: str = "IG") -> IntakeWorld:
    """A programme in force today, a partner bank with a bank user, a partner guarantor."""
    start = today() - timedelta(days=400)
    programme = ProgrammeFactory(code=f"{code}P", start_date=start, end_date=today() + timedelta(days=400))
    bank = BankFactory(code=f"{code}B", name=f"{code}测试银行", short_name=f"{code}行")
    PartnershipFactory(programme=programme, bank=bank, joined_on=start)
    guarantor = GuarantorFactory(code=f"{guarantor_code}G", name=f"{guarantor_code}融资担保有限公司",
                                 short_name=f"{guarantor_code}担保")
    GuarantorPartnershipFactory(programme=programme, guarantor=guarantor, joined_on=start)
    user = UserFactory(username=f"{code.lower()}_bank_user", bank=bank, role=roles.BANK_USER)
    return IntakeWorld(programme=programme, bank=bank, user=user, guarantor=guarantor)


def credit_code(n: int | None = None) -> str:
    n = next(_serial) if n is None else n
    return make_uscc(f"91510100MA{n:07d}")


def valid_rate(on: date) -> Decimal:
    return lpr_in_force(on) + Decimal("0.25")


def registration_row(**overrides: Any) -> dict[str, Any]:
    """A row that passes every registration rule today (政银 mode)."""
    n = next(_serial)
    disbursed = today() - timedelta(days=5)
    signed = disbursed - timedelta(days=2)
    row: dict[str, Any] = {
        "contract_no": f"HT{n:08d}",
        "credit_code": credit_code(n),
        "enterprise_name": f"成都测试商贸有限公司{n}",
        "region": "成都市",
        "industry_code": "F5123",
        "employees": 12,
        "revenue_10k": 1200,
        "assets_10k": 500,
        "is_private": "是",
        "mode": "政银",
        "guarantor": None,
        "guarantee_contract_no": None,
        "guarantee_fee_rate": None,
        "signed_on": signed,
        "disbursed_on": disbursed,
        "matures_on": disbursed + timedelta(days=300),
        "principal": 1_000_000,
        "annual_rate": float(valid_rate(signed)),
        "purpose": "流动资金周转",
        "credit_attested": "是",
    }
    row.update(overrides)
    return row


def guaranteed_row(partner: Guarantor, /, **overrides: Any) -> dict[str, Any]:
    n = next(_serial)
    values = {"mode": "政银担", "guarantor": partner.name, "guarantee_contract_no": f"DB{n:08d}",
              "guarantee_fee_rate": 1.2}
    return registration_row(**{**values, **overrides})


def status_row(contract_no: str, month: date, **overrides: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        "contract_no": contract_no,
        "report_month": month.strftime("%Y-%m"),
        "outstanding_principal": 1_000_000,
        "principal_repaid": 0,
        "interest_paid": 2_875,
        "overdue_days": 0,
        "classification": "正常",
        "status": "正常",
        "settled_on": None,
        "interest_paid_total": 2_875,
        "guarantee_fee_paid_total": 0,
    }
    row.update(overrides)
    return row


class IntakeBatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = IntakeBatch

    programme = factory.SubFactory(ProgrammeFactory)
    bank = factory.SubFactory(BankFactory)
    kind = BatchKind.REGISTRATION
    source = BatchSource.WORKBOOK
    filename = "贷款备案.xlsx"
    status = BatchStatus.APPLIED
