"""On PostgreSQL the loan figures come from GROUPING SETS and bit masks (reporting/selectors/grouping.py);
they must equal the portable path's, query for query."""

from datetime import date

import pytest

from reporting.selectors import stats
from tests.reporting.conftest import AS_OF
from tests.reporting.pilot_loader import load_pilot

pytestmark = [pytest.mark.postgres, pytest.mark.django_db]


def _both(programme, as_of, filters=stats.NO_FILTERS):
    labels = stats.Labels.load()
    qs = stats.loans_as_of(programme=programme, as_of=as_of, filters=filters)
    light = stats.Loan.objects.filter(programme=programme, signed_on__lte=as_of).filter(filters.q())
    portable = stats._loan_figures(qs, labels)
    grouped = stats._loan_figures_grouped(qs, light, labels, as_of=as_of)
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
