"""On PostgreSQL the loan figures come from GROUPING SETS and bit masks (reporting/selectors/grouping.py);
they must equal the portable path's, query for query."""

from datetime import date
from decimal import Decimal

import pytest

from reporting.selectors import stats
from tests.reporting.conftest import AS_OF
from tests.reporting.pilot_loader import load_pilot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _both(programme, as_of, filters=stats.NO_FILTERS):
    labels = stats.Labels.load()
    portable = stats._loan_figures(stats.loans_as_of(programme=programme, as_of=as_of, filters=filters), labels)
    grouped, _ = stats._loan_figures_grouped(programme=programme, as_of=as_of, filters=filters, labels=labels)
    return portable, grouped


@pytest.mark.parametrize("as_of", [AS_OF, date(2022, 5, 31), date(2021, 8, 15)])
def test_grouped_path_equals_the_portable_path_on_the_small_set(small, as_of):
    portable, grouped = _both(small.programme, as_of)
    assert portable == grouped


def test_grouped_path_equals_the_portable_path_with_filters(small):
    portable, grouped = _both(small.programme, AS_OF, stats.Filters(region="510100", mode="bank"))
    assert portable == grouped


def test_grouped_path_equals_the_portable_path_on_the_pilot():
    programme = load_pilot()
    for as_of in (date(2022, 5, 28), date(2022, 1, 31)):
        portable, grouped = _both(programme, as_of)
        assert portable == grouped


def test_masks_spread_over_several_words_give_the_same_counts(small, monkeypatch):
    """Banks, modes and months that do not fit one bigint are spread over several mask words."""
    from reporting.selectors import grouping

    monkeypatch.setattr(grouping, "WORD_BITS", 3)
    for as_of in (AS_OF, date(2022, 5, 31)):
        portable, grouped = _both(small.programme, as_of)
        assert portable == grouped
    monkeypatch.setattr(grouping, "DENSE_BANK_IDS", 0)  # banks by CASE instead of an array
    portable, grouped = _both(small.programme, AS_OF)
    assert portable == grouped


def test_the_sums_tell_whether_a_loan_was_reported_after_the_cut_off(small):
    """L4 was reported in April and May: stale for a March cut-off, not for a May one (as
    ``has_stale_loans``); the grouped figures then look the older report up (equal to the portable
    path's, above)."""
    from reporting.rules import month_start
    from reporting.selectors import grouping
    from reporting.selectors.asof import has_stale_loans

    for as_of, stale in ((AS_OF, True), (date(2022, 5, 31), False)):
        qs = stats.loans_as_of(programme=small.programme, as_of=as_of, stale=False)
        st = grouping.sums_statement(qs, first=date(2021, 6, 1), last=as_of, as_of=as_of,
                                     cutoff_month=month_start(as_of))
        rows = grouping.run_together({"sums": st})["sums"]
        assert any(r["stale"] for r in rows) is stale
        assert has_stale_loans(programme=small.programme, as_of=as_of) is stale


def test_principal_disbursed_per_bank_equals_the_leverage_selector(small):
    """The leverage (R4) counts principal disbursed by the cut-off: a loan signed but not yet
    disbursed counts in the loan figures, not in the leverage."""
    from fund.selectors.leverage import disbursed_by_bank

    stats.Loan.objects.filter(pk=small.loans["L5"].pk).update(signed_on=date(2022, 3, 30))
    labels = stats.Labels.load()
    _, disbursed = stats._loan_figures_grouped(programme=small.programme, as_of=AS_OF, filters=stats.NO_FILTERS,
                                               labels=labels)
    assert disbursed == disbursed_by_bank(programme=small.programme, as_of=AS_OF)
    assert disbursed[small.b2.pk] == Decimal("2000000.00")  # L5's 900,000 is signed, not disbursed


@pytest.mark.django_db(transaction=True)
def test_indicators_read_one_snapshot_when_not_inside_a_transaction(small):
    """Outside a transaction every query of the indicators runs in one REPEATABLE READ
    transaction (the loan statements, claims, subsidies, pool all see the same data)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        figures = stats.indicators(programme=small.programme, as_of=AS_OF)
    assert figures.overall()["loans"] == 4
    statements = [q["sql"] for q in ctx.captured_queries if q["sql"] != "BEGIN"]
    assert statements[0] == "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ"
