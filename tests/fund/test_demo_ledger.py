"""The demo's contributions step: plausible money in the pool, and reruns change nothing."""

from decimal import Decimal
from io import StringIO

import pytest

from banks.demo import foundation, ledger
from fund.models import Journal
from fund.selectors import contributions_by_partner, pool_balance, subsidy_budget_balance

pytestmark = pytest.mark.django_db


def test_demo_contributions_are_idempotent():
    out = StringIO()
    foundation.load_programme(out)
    foundation.load_partners(out)
    ledger.load_contributions(out)
    programme = foundation.programme()
    journals, balance = Journal.objects.count(), pool_balance(programme=programme)
    ledger.load_contributions(out)
    assert (Journal.objects.count(), pool_balance(programme=programme)) == (journals, balance)
    payers = contributions_by_partner(programme=programme)
    assert payers[0].name == "财政"
    assert payers[0].net == Decimal("150000000.00")
    assert sum(1 for p in payers if p.payer_kind == "bank") == 9
    assert sum(1 for p in payers if p.payer_kind == "guarantor") == 2
    assert balance > sum((p.net for p in payers), Decimal("0"))  # interest credited
    assert subsidy_budget_balance(programme=programme) == Decimal("20000000.00")
