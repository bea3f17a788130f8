"""A month's settlements computed at once give exactly what one loan at a time gives (R35, R36, R39)."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fund.models import CapBasis
from registry.audit import audit_chain_verify
from registry.models import DomainEvent
from subsidies import services
from subsidies.models import Subsidy
from subsidies.services import compute
from tests.factories import EnterpriseFactory

from .factories import OPEN_WINDOW, GuaranteedLoanFactory, ProgrammeFactory, SettledLoanFactory

pytestmark = pytest.mark.django_db
D = Decimal

# (enterprise 0–2, guaranteed?, principal in 10,000 元, days after 2021-06-03 to settlement, interest paid ‰ of principal)
loan_specs = st.lists(
    st.tuples(st.integers(0, 2), st.booleans(), st.integers(1, 500), st.integers(30, 400), st.integers(1, 80)),
    min_size=1, max_size=7,
)


def _loans(specs, programme):
    enterprises = [EnterpriseFactory() for _ in range(3)]
    loans = []
    for who, guaranteed, tens_of_thousands, days, permille in specs:
        principal = D(tens_of_thousands) * 10_000
        factory = GuaranteedLoanFactory if guaranteed else SettledLoanFactory
        loans.append(factory(programme=programme, enterprise=enterprises[who], principal=principal,
                             matures_on=date(2021, 6, 3) + timedelta(days=days),
                             interest_paid_total=principal * permille / 1000))
    return loans


def _amounts(subsidies):
    return {(s.loan_id, s.kind): s.amount for s in subsidies}


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=loan_specs)
def test_bulk_computation_grants_what_one_loan_at_a_time_in_settlement_order_would(monkeypatch, specs):
    monkeypatch.setattr(compute, "CHUNK", 3)  # several chunks: caps carry across them
    with transaction.atomic():
        programme = ProgrammeFactory(
            **OPEN_WINDOW, parameters__interest_subsidy_cap_basis=CapBasis.PER_ENTERPRISE_YEAR,
            parameters__interest_subsidy_cap=D("60000.00"), parameters__fee_subsidy_cap_basis=CapBasis.PER_ENTERPRISE_YEAR,
            parameters__fee_subsidy_cap=D("20000.00"),
        )
        loans = _loans(specs, programme)
        savepoint = transaction.savepoint()
        one_by_one = {}
        for loan in sorted(loans, key=lambda loan: (loan.settled_on, loan.pk)):
            one_by_one |= _amounts(services.subsidy_compute_for_settlements(loans=[loan]))
        transaction.savepoint_rollback(savepoint)

        bulk = _amounts(services.subsidy_compute_for_settlements(loans=list(reversed(loans))))

        assert bulk == one_by_one
        assert _amounts(Subsidy.objects.all()) == bulk
        transaction.set_rollback(True)


def test_each_computed_subsidy_is_audited_in_an_unbroken_chain(monkeypatch):
    monkeypatch.setattr(compute, "CHUNK", 2)
    programme = ProgrammeFactory(**OPEN_WINDOW)
    loans = [SettledLoanFactory(programme=programme) for _ in range(3)] + [GuaranteedLoanFactory(programme=programme)]
    created = services.subsidy_compute_for_settlements(loans=loans)
    events = DomainEvent.objects.filter(event_type="subsidy.computed")
    assert sorted(int(e.object_id) for e in events) == sorted(s.pk for s in created)
    assert len(created) == 5  # four interest subsidies and one guarantee-fee subsidy
    assert audit_chain_verify().ok


def test_queries_do_not_grow_with_the_number_of_settlements():
    programme = ProgrammeFactory(**OPEN_WINDOW)
    few = [SettledLoanFactory(programme=programme) for _ in range(2)]
    many = [SettledLoanFactory(programme=programme) for _ in range(20)]
    with CaptureQueriesContext(connection) as small:
        services.subsidy_compute_for_settlements(loans=few)
    with CaptureQueriesContext(connection) as large:
        services.subsidy_compute_for_settlements(loans=many)
    assert len(large) <= len(small) + 2  # a bulk insert may take another statement
    assert Subsidy.objects.count() == 22
