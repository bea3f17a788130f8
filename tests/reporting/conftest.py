"""A small data set whose every figure is computed by hand (see ``small``'s docstring)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from banks.models import BatchKind, BatchStatus, IntakeBatch, StatusReport
from fund.models import Classification, Loan, LoanMode, LoanStatus, Programme
from fund.models.claims import Claim, ClaimStatus
from fund.services import contribution_record, pool_pay
from registry import roles
from registry.models import Bank, Enterprise, IndustryDivision, Region, SizeClass
from subsidies.models import LoanApplication
from tests.factories import (
    BankFactory,
    EnterpriseFactory,
    GuarantorFactory,
    LoanFactory,
    PartnershipFactory,
    ProgrammeFactory,
    UserFactory,
)

AS_OF = date(2022, 3, 31)


@dataclass
class Small:
    programme: Programme
    b1: Bank
    b2: Bank
    e1: Enterprise
    e2: Enterprise
    e3: Enterprise
    e4: Enterprise
    loans: dict[str, Loan]


def _enterprise(n: int, region: str, division: str, size: str, private: bool) -> Enterprise:
    return EnterpriseFactory(
        name=f"测试企业{n}", region=Region.objects.get(code=region),
        industry=IndustryDivision.objects.get(code=division), industry_code=f"X{division}00", size_class=size,
        is_private=private,
    )


def _report(loan: Loan, month: date, **fields) -> StatusReport:
    batch = IntakeBatch.objects.create(bank=loan.bank, programme=loan.programme, kind=BatchKind.STATUS,
                                       status=BatchStatus.APPLIED, filename=f"{loan.contract_no}-{month}.xlsx")
    values = {"outstanding_principal": loan.principal, "classification": Classification.NORMAL,
              "status": LoanStatus.CURRENT} | fields
    return StatusReport.objects.create(loan=loan, month=month, batch=batch, **values)


@pytest.fixture
def small(db) -> Small:
    """As of 2022-03-31 (LPR 3.70 since 2022-01-20; subsidy 30 %):

    E1 成都 51 small private, E2 成都 65 micro private, E3 乐山 51 small public, E4 泸州 applicant only.
    L1 E1 B1 政银   2021-06-01 1,000,000 @4.35 settled 2022-01-31, never overdue → eff 4.35 − 1.11 = 3.24
    L2 E1 B2 政银担 2021-07-15 2,000,000 @4.00 current                          → eff 4.00 − 1.11 = 2.89
    L3 E2 B1 政银   2021-08-01   500,000 @4.35 overdue 40 days (关注), claim paid 300,000 → eff 4.35
    L4 E3 B1 政银   2021-09-01 1,500,000 @4.20 current in March; reported 次级 in May (after the cut-off)
                                                                               → eff 4.20 − 1.11 = 3.09
    L5 E2 B2 政银   2022-04-10 signed after the cut-off: not counted.
    """
    programme = ProgrammeFactory(code="SMALL", name="小样本项目")
    b1, b2 = BankFactory(code="B1", name="甲银行"), BankFactory(code="B2", name="乙银行")
    PartnershipFactory(programme=programme, bank=b1, committed_lending=Decimal("30000000"),
                       pool_allocation=Decimal("3000000"))
    PartnershipFactory(programme=programme, bank=b2, committed_lending=Decimal("20000000"),
                       pool_allocation=Decimal("2000000"))
    guarantor = GuarantorFactory()
    e1 = _enterprise(1, "510100", "51", SizeClass.SMALL, True)
    e2 = _enterprise(2, "510100", "65", SizeClass.MICRO, True)
    e3 = _enterprise(3, "511100", "51", SizeClass.SMALL, False)
    e4 = _enterprise(4, "510500", "72", SizeClass.SMALL, True)
    e5 = _enterprise(5, "510700", "72", SizeClass.SMALL, True)
    common = {"programme": programme, "mode": LoanMode.BANK}
    loans = {
        "L1": LoanFactory(**common, bank=b1, enterprise=e1, signed_on=date(2021, 6, 1), disbursed_on=date(2021, 6, 1),
                          matures_on=date(2022, 1, 31), principal=Decimal("1000000"), annual_rate=Decimal("4.35"),
                          outstanding_principal=0, status=LoanStatus.SETTLED, settled_on=date(2022, 1, 31),
                          last_report_month=date(2022, 1, 1)),
        "L2": LoanFactory(programme=programme, mode=LoanMode.BANK_GUARANTOR, guarantor=guarantor, bank=b2,
                          enterprise=e1, signed_on=date(2021, 7, 15), disbursed_on=date(2021, 7, 15),
                          matures_on=date(2022, 7, 14), principal=Decimal("2000000"), annual_rate=Decimal("4.00"),
                          last_report_month=date(2022, 3, 1)),
        "L3": LoanFactory(**common, bank=b1, enterprise=e2, signed_on=date(2021, 8, 1), disbursed_on=date(2021, 8, 1),
                          matures_on=date(2022, 2, 19), principal=Decimal("500000"), annual_rate=Decimal("4.35"),
                          status=LoanStatus.OVERDUE, overdue_days=40, classification=Classification.SPECIAL_MENTION,
                          ever_overdue=True, last_report_month=date(2022, 3, 1)),
        "L4": LoanFactory(**common, bank=b1, enterprise=e3, signed_on=date(2021, 9, 1), disbursed_on=date(2021, 9, 1),
                          matures_on=date(2022, 8, 31), principal=Decimal("1500000"), annual_rate=Decimal("4.20"),
                          status=LoanStatus.OVERDUE, overdue_days=100, classification=Classification.SUBSTANDARD,
                          ever_overdue=True, last_report_month=date(2022, 5, 1)),
        "L5": LoanFactory(**common, bank=b2, enterprise=e2, signed_on=date(2022, 4, 10), disbursed_on=date(2022, 4, 10),
                          matures_on=date(2023, 4, 9), principal=Decimal("900000"), annual_rate=Decimal("4.30")),
    }
    _report(loans["L4"], date(2022, 3, 1))
    _report(loans["L4"], date(2022, 4, 1), status=LoanStatus.OVERDUE, overdue_days=70,
            classification=Classification.SPECIAL_MENTION)
    _report(loans["L4"], date(2022, 5, 1), status=LoanStatus.OVERDUE, overdue_days=100,
            classification=Classification.SUBSTANDARD)
    for enterprise, day in ((e4, date(2022, 2, 1)), (e1, date(2021, 5, 20)), (e5, date(2022, 4, 2))):
        LoanApplication.objects.create(enterprise=enterprise, bank=b1, programme=programme,
                                       amount=Decimal("1000000"), purpose="流动资金",
                                       created_at=datetime(day.year, day.month, day.day, 3, tzinfo=UTC))
    staff = UserFactory(username="small_handler", role=roles.HANDLER)
    contribution_record(programme=programme, payer_kind="treasury", amount=Decimal("10000000"),
                        on=date(2021, 6, 1), idempotency_key="small-treasury", actor=staff)
    payment = pool_pay(programme=programme, amount=Decimal("300000"), reference="CL-L3", idempotency_key="small-pay",
                       actor=staff, on=date(2022, 3, 20))
    Claim.objects.create(
        programme=programme, loan=loans["L3"], status=ClaimStatus.PAID, unpaid_principal=Decimal("500000"),
        claim_date=date(2022, 3, 10), claim_amount=Decimal("300000"), pool_share_percent=Decimal("60"),
        paid_amount=Decimal("300000"), pool_payment=payment, paid_on=date(2022, 3, 20), created_by=staff,
        submitted_at=datetime(2022, 3, 10, 2, tzinfo=UTC), approved_at=datetime(2022, 3, 15, 2, tzinfo=UTC),
    )
    return Small(programme, b1, b2, e1, e2, e3, e4, loans)
