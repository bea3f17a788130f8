"""Leverage (R4): selector with worked numbers, the API (strings, scope) and the admin dashboard."""

import json
from datetime import date
from decimal import Decimal

import pytest
from django.urls import reverse

from fund.models import Journal
from fund.selectors import leverage_by_bank, leverage_overall
from registry import roles
from tests.fund.factories import (
    EnterpriseFactory,
    LoanFactory,
    PartnershipFactory,
    ProgrammeFactory,
    UserFactory,
    fund_pool,
)

pytestmark = pytest.mark.django_db
D = Decimal
AS_OF = date(2021, 11, 26)  # 182 of the 364 days from 2021-05-28 to 2022-05-27


@pytest.fixture
def setup():
    programme = ProgrammeFactory(code="FBD")  # treasury 150,000,000 × 10 (defaults)
    icbc = PartnershipFactory(programme=programme, bank__code="B01", bank__name="工行", committed_lending=D("300000000"),
                              pool_allocation=D("30000000"))
    abc = PartnershipFactory(programme=programme, bank__code="B02", bank__name="农行", committed_lending=D("100000000"),
                             pool_allocation=D("10000000"))
    enterprise = EnterpriseFactory()
    LoanFactory(programme=programme, bank=icbc.bank, enterprise=enterprise, principal=D("120000000"),
                outstanding_principal=D("0"), status="settled", settled_on=date(2021, 10, 1),
                disbursed_on=date(2021, 6, 3))
    LoanFactory(programme=programme, bank=icbc.bank, enterprise=enterprise, principal=D("60000000"),
                disbursed_on=date(2021, 9, 1))
    LoanFactory(programme=programme, bank=abc.bank, enterprise=enterprise, principal=D("20000000"),
                disbursed_on=date(2021, 9, 1))
    LoanFactory(programme=programme, bank=abc.bank, enterprise=enterprise, principal=D("5000000"),
                signed_on=date(2021, 12, 1), disbursed_on=date(2021, 12, 1))  # after AS_OF
    return programme, icbc, abc


def test_overall_leverage_worked_example_r4(setup):
    programme, _, _ = setup
    figures = leverage_overall(programme=programme, as_of=AS_OF)
    assert figures.disbursed == D("200000000.00")  # settled loans count: cumulative disbursed
    assert figures.multiple == D("1.33")
    assert figures.target_amount == D("1500000000.00")
    assert figures.expected_to_date == D("750000000.00")
    assert figures.shortfall == D("550000000.00")


def test_bank_leverage_worked_example_r4(setup):
    programme, _, _ = setup
    icbc, abc = leverage_by_bank(programme=programme, as_of=AS_OF)
    assert (icbc.figures.disbursed, icbc.figures.multiple, icbc.figures.target_multiple) == (
        D("180000000.00"), D("6.00"), D("10.00"))
    assert (icbc.figures.expected_to_date, icbc.figures.shortfall) == (D("150000000.00"), D("0.00"))
    assert (abc.figures.multiple, abc.figures.expected_to_date, abc.figures.shortfall) == (
        D("2.00"), D("50000000.00"), D("30000000.00"))


def _leverage(client, **params):
    return client.get(reverse("fund:leverage"), {"programme": "FBD", "as_of": AS_OF.isoformat(), **params})


def test_staff_see_every_bank_and_money_is_a_two_decimal_string(client, setup):
    client.force_login(UserFactory(role=roles.AUDITOR))
    response = _leverage(client)
    assert response.status_code == 200
    data = json.loads(response.content)
    assert data["overall"]["disbursed"] == "200000000.00"
    assert data["overall"]["multiple"] == "1.33"
    assert [b["bank_code"] for b in data["banks"]] == ["B01", "B02"]
    assert data["banks"][1]["shortfall"] == "30000000.00"

    def walk(value):
        if isinstance(value, dict):
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)
        else:
            assert not isinstance(value, float)

    walk(data)


def test_a_bank_user_sees_only_its_own_bank(client, setup):
    _, _, abc = setup
    client.force_login(UserFactory(role=roles.BANK_USER, bank=abc.bank))
    data = _leverage(client).json()
    assert [b["bank_code"] for b in data["banks"]] == ["B02"]
    assert data["overall"]["disbursed"] == "200000000.00"


def test_enterprise_users_and_anonymous_callers_may_not_read_leverage(client, setup):
    assert _leverage(client).status_code in (401, 403)
    client.force_login(UserFactory(role=roles.ENTERPRISE_USER, enterprise=EnterpriseFactory()))
    assert _leverage(client).status_code == 403


def test_an_unknown_programme_or_bad_date_is_a_clear_error(client, setup):
    client.force_login(UserFactory(role=roles.AUDITOR))
    assert client.get(reverse("fund:leverage"), {"programme": "NOPE"}).status_code == 404
    assert _leverage(client, as_of="2021-13-01").status_code == 400


# --- admin pages -------------------------------------------------------------------------


def test_the_pool_dashboard_shows_balance_contributions_leverage_and_suspensions(client, setup):
    programme, icbc, _ = setup
    fund_pool(programme, "150000000.00")
    icbc.state, icbc.state_reason = "suspended", "R31 逾期率 6.00% 超过暂停线 5.00%"
    icbc.save()
    client.force_login(UserFactory(role=roles.AUDITOR))
    response = client.get(reverse("admin:fund_programme_dashboard", args=[programme.pk]),
                          {"as_of": AS_OF.isoformat()})
    assert response.status_code == 200
    page = response.content.decode()
    for text in ("资金池余额", "150,000,000.00", "财政", "放大倍数", "工行", "R31 逾期率 6.00%"):
        assert text in page
    assert "登记资金到账" not in page  # the auditor reads only


def test_the_contribution_form_records_through_the_ledger_once(client, setup):
    programme, icbc, _ = setup
    client.force_login(UserFactory(role=roles.HANDLER))
    url = reverse("admin:fund_programme_contribution", args=[programme.pk])
    form = client.get(url)
    assert form.status_code == 200
    key = form.context["form"].initial["idempotency_key"]
    data = {"entry": "contribution", "payer": f"bank:{icbc.bank_id}", "amount": "3000000.00", "on": "2021-06-15",
            "memo": "配套出资", "idempotency_key": key}
    assert client.post(url, data).status_code == 302
    assert client.post(url, data).status_code == 302  # a double submit posts once
    journal = Journal.objects.get()
    assert journal.actor.username.startswith("user")
    assert journal.lines.count() == 2


def test_the_auditor_may_not_record_contributions(client, setup):
    programme, _, _ = setup
    client.force_login(UserFactory(role=roles.AUDITOR))
    assert client.get(reverse("admin:fund_programme_contribution", args=[programme.pk])).status_code == 403
