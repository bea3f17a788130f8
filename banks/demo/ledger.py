"""Demo: the pool's money — contributions, interest and the subsidy budget — through the ledger services.

The treasury's 150,000,000 元 is the pilot's published figure. The banks' and guarantors'
co-contributions were not published: the demo assumes each bank puts in 2 % of its committed
lending (e.g. 工行 6,000,000 元 on 300,000,000 元) and the two guarantors 5,000,000 and 3,000,000
元; interest is credited quarterly (the 21st of the last month of each quarter) at an assumed 1.50 %
a year on the capital contributed by then (actual/360), and the treasury's subsidy budget receives
an assumed 20,000,000 元. Every entry has a fixed idempotency key, so rerunning the step is a no-op.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TextIO

from fund.models import GuarantorPartnership, Partnership
from fund.selectors import pool_balance, subsidy_budget_balance
from fund.services import contribution_record, interest_credit, subsidy_budget_fund

from .foundation import PROGRAMME_START, TREASURY, programme

BANK_SHARE_OF_COMMITMENT = Decimal("0.02")
BANKS_PAY_ON = date(2021, 6, 15)
GUARANTOR_CONTRIBUTIONS = {"G01": Decimal("5000000.00"), "G02": Decimal("3000000.00")}
GUARANTORS_PAY_ON = date(2021, 6, 30)
INTEREST_RATE = Decimal("0.015")
INTEREST_DATES = [date(2021, 6, 21), date(2021, 9, 21), date(2021, 12, 21), date(2022, 3, 21)]
SUBSIDY_BUDGET = Decimal("20000000.00")


def _key(*parts: object) -> str:
    return ":".join(["demo", "FBD", *map(str, parts)])


def load_contributions(out: TextIO) -> None:
    prog = programme()
    contributions: list[tuple[date, Decimal]] = []
    contribution_record(programme=prog, payer_kind="treasury", amount=TREASURY, on=PROGRAMME_START,
                        idempotency_key=_key("contribution", "treasury"), actor=None, memo="财政出资（试点公布数）")
    contributions.append((PROGRAMME_START, TREASURY))
    for p in Partnership.objects.filter(programme=prog).select_related("bank").order_by("bank__code"):
        amount = (p.committed_lending * BANK_SHARE_OF_COMMITMENT).quantize(Decimal("0.01"))
        contribution_record(programme=prog, payer_kind="bank", bank=p.bank, amount=amount, on=BANKS_PAY_ON,
                            idempotency_key=_key("contribution", p.bank.code), actor=None,
                            memo="合作银行配套出资（演示假设：承诺放款额的 2%）")
        contributions.append((BANKS_PAY_ON, amount))
    for gp in GuarantorPartnership.objects.filter(programme=prog).select_related("guarantor"):
        amount = GUARANTOR_CONTRIBUTIONS.get(gp.guarantor.code)
        if amount:
            contribution_record(programme=prog, payer_kind="guarantor", guarantor=gp.guarantor, amount=amount,
                                on=GUARANTORS_PAY_ON, idempotency_key=_key("contribution", gp.guarantor.code),
                                actor=None, memo="担保机构出资（演示假设）")
            contributions.append((GUARANTORS_PAY_ON, amount))
    previous = PROGRAMME_START
    for day in INTEREST_DATES:
        capital = sum((amount for paid_on, amount in contributions if paid_on <= previous), Decimal("0"))
        interest = (capital * INTEREST_RATE * (day - previous).days / 360).quantize(Decimal("0.01"), ROUND_HALF_UP)
        interest_credit(programme=prog, amount=interest, on=day, idempotency_key=_key("interest", day.isoformat()),
                        actor=None, memo="资金池专户结息（演示假设年利率 1.50%）")
        previous = day
    subsidy_budget_fund(programme=prog, amount=SUBSIDY_BUDGET, on=PROGRAMME_START,
                        idempotency_key=_key("subsidy-budget", "2021"), actor=None, memo="贴息补贴预算（演示假设）")
    out.write(f"  资金池余额 {pool_balance(programme=prog):,.2f} 元，"
              f"贴息补贴预算 {subsidy_budget_balance(programme=prog):,.2f} 元\n")
