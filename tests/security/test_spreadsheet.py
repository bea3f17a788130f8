"""Spreadsheet exports: text that a spreadsheet would run as a formula is written as text."""

from datetime import date
from decimal import Decimal

import pytest

from registry.security import safe_cell
from registry.security.spreadsheet import safe_row


@pytest.mark.parametrize("value", ["=1+1", "+86 138", "-2+3", "@SUM(A1)", "\tx", "\rx", '=HYPERLINK("http://x")'])
def test_formula_like_text_gets_an_apostrophe(value):
    assert safe_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["成都商贸", "a=b", "", Decimal("-12.50"), -3, 1.5, None, date(2024, 1, 1), True])
def test_everything_else_is_unchanged(value):
    assert safe_cell(value) == value


def test_a_row():
    assert safe_row(["=cmd", 1, "ok"]) == ["'=cmd", 1, "ok"]
