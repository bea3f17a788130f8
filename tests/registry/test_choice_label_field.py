"""ChoiceLabelField gives what ``get_FOO_display`` gives, for every value of every choice set it serves."""

import pytest

from banks.models import BatchStatus
from fund.models import ClaimStatus, Classification, DocumentKind, Loan, LoanMode, LoanStatus, RefundStatus
from registry.api import ChoiceLabelField


@pytest.mark.parametrize("choices", [BatchStatus, Classification, ClaimStatus, DocumentKind, LoanMode, LoanStatus,
                                     RefundStatus])
def test_label_field_shows_the_chinese_label_of_each_value(choices):
    field = ChoiceLabelField(choices, source="x")
    assert {v: field.to_representation(v) for v in choices.values} == {v: str(label) for v, label in choices.choices}


@pytest.mark.parametrize("status", LoanStatus.values)
def test_label_field_matches_the_model_display_method(status):
    assert ChoiceLabelField(LoanStatus, source="status").to_representation(status) == Loan(status=status).get_status_display()
