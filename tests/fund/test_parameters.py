"""Programme parameter sets: validation on save and the set in force on a date."""

from datetime import date
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from hypothesis import given
from hypothesis import strategies as st

from fund.rules import parameter_errors
from fund.selectors import parameters_in_force
from registry.errors import BusinessError
from tests.factories import ParameterSetFactory, ProgrammeFactory

pytestmark = pytest.mark.django_db


def test_default_parameter_set_carries_the_fubaodai_defaults():
    params = ProgrammeFactory().parameter_sets.get()
    assert params.treasury_contribution == Decimal("150000000.00")
    assert (params.bank_mode_pool_share, params.bank_mode_bank_share) == (60, 40)
    assert (params.guarantor_mode_pool_share, params.guarantor_mode_guarantor_share,
            params.guarantor_mode_bank_share) == (40, 40, 20)
    assert params.interest_subsidy_percent == 30
    assert params.interest_subsidy_cap == Decimal("500000.00")
    assert params.fee_subsidy_cap == Decimal("200000.00")
    assert params.enterprise_annual_cap == Decimal("10000000.00")
    assert params.rate_cap_bp == 50
    assert params.claim_overdue_days == 90
    assert params.excluded_industries == "J,7010,S,T"


def test_shares_that_do_not_sum_to_100_are_refused_on_save():
    programme = ProgrammeFactory()
    with pytest.raises(ValidationError) as err:
        ParameterSetFactory(programme=programme, effective_from=date(2022, 1, 1), bank_mode_pool_share=Decimal("70"))
    assert "100%" in str(err.value)


def test_bank_share_below_20_percent_is_refused_r19():
    programme = ProgrammeFactory()
    with pytest.raises(ValidationError) as err:
        ParameterSetFactory(
            programme=programme, effective_from=date(2022, 1, 1),
            guarantor_mode_pool_share=Decimal("50"), guarantor_mode_bank_share=Decimal("10"),
        )
    assert "20%" in str(err.value)


def test_non_positive_cap_is_refused():
    programme = ProgrammeFactory()
    with pytest.raises(ValidationError) as err:
        ParameterSetFactory(programme=programme, effective_from=date(2022, 1, 1), interest_subsidy_cap=Decimal("0"))
    assert "正数" in str(err.value)


def test_application_window_dates_must_be_ordered():
    programme = ProgrammeFactory()
    with pytest.raises(ValidationError) as err:
        ParameterSetFactory(
            programme=programme, effective_from=date(2022, 1, 1),
            application_opens=date(2022, 6, 1), application_closes=date(2022, 1, 1),
        )
    assert "早于" in str(err.value)


def test_parameters_in_force_is_the_latest_set_effective_on_the_date():
    programme = ProgrammeFactory()
    later = ParameterSetFactory(programme=programme, effective_from=date(2022, 1, 1),
                                interest_subsidy_percent=Decimal("25"))
    assert parameters_in_force(programme=programme, on=date(2021, 12, 31)).interest_subsidy_percent == 30
    assert parameters_in_force(programme=programme, on=date(2022, 1, 1)) == later


def test_no_parameters_before_the_first_set_is_a_clear_error():
    programme = ProgrammeFactory()
    with pytest.raises(BusinessError, match="没有生效的参数集"):
        parameters_in_force(programme=programme, on=date(2019, 12, 31))


percent = st.decimals(min_value=0, max_value=100, places=2)


@given(pool=percent, guarantor=percent)
def test_guarantor_mode_shares_validate_exactly_when_they_sum_to_100_with_bank_at_least_20(pool, guarantor):
    bank = Decimal(100) - pool - guarantor
    errors = parameter_errors({
        "guarantor_mode_pool_share": pool, "guarantor_mode_guarantor_share": guarantor,
        "guarantor_mode_bank_share": bank,
    })
    assert ("guarantor_mode_bank_share" in errors) == (bank < 20)
